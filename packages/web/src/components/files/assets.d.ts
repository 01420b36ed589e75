/* Vite turns `import url from 'x?url'` into the bundled asset's URL (used for the pdf.js worker). */
declare module '*?url' {
  const url: string;
  export default url;
}

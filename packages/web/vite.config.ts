import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/* The web client is served by the Enclave server itself from dist/ (no CDN, no web font). */
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    // Inline nothing: the server's Content-Security-Policy allows only same-origin scripts and styles.
    assetsInlineLimit: 0,
  },
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } } },
});

import { pastedImageName } from '../../state/file-format.ts';

/**
 * The files a paste carries (a screenshot, an image copied from a page, files copied in the file
 * manager), or none when the clipboard also has text — copying from Word or Excel brings a picture
 * of the text too, and people mean the text. Pasted images get a name with the time.
 */
export function filesFromPaste(data: DataTransfer): File[] {
  const files = [...data.files];
  if (files.length === 0) return [];
  if (data.types.includes('text/plain') && files.every((f) => f.type.startsWith('image/'))) return [];
  const now = new Date();
  return files.map((f) =>
    f.type.startsWith('image/') && /^image\.\w+$/i.test(f.name)
      ? new File([f], pastedImageName(f.type, now), { type: f.type, lastModified: f.lastModified })
      : f,
  );
}

import type { SearchDoc } from './port.ts';
import { DocFlag, textFlags } from './text.ts';

/**
 * The index document of a message, built on the message path from the plain text (before the codec
 * encodes it). A file message also indexes the file's name — so `message.search` finds files by
 * name — and sets has:file / has:image.
 */
export function searchDocOf(
  conversationId: number,
  seq: number,
  senderId: number,
  ts: number,
  text: string,
  signoff: boolean,
  file?: { name: string; kind: 'file' | 'image' | 'folder' } | null,
): SearchDoc {
  let flags = textFlags(text) | (signoff ? DocFlag.signoff : 0);
  if (file) flags |= file.kind === 'image' ? DocFlag.image | DocFlag.file : DocFlag.file;
  return { conversationId, seq, senderId, ts, text: file ? `${text}\n${file.name}` : text, flags };
}

import { useRef, useState, type DragEvent } from 'react';
import { fileLimits } from '@enclave/protocol';
import { droppedEntries, type PickedFolder } from '../../state/folders.ts';

/** Whether a drag carries files (not text or a link being dragged around the page). */
const hasFiles = (e: DragEvent) => e.dataTransfer.types.includes('Files');

/**
 * Drag-and-drop of files onto an area: `dragging` while files hover over it (for an overlay), and
 * the dropped files handed to `onFiles`. Enter/leave are counted, so child elements do not flicker it.
 * Dropped folders (where the browser gives directory entries) are read and handed to `onFolder`.
 */
export function useFileDrop(
  onFiles: (files: File[]) => void,
  enabled = true,
  onFolder?: (folder: PickedFolder) => void,
) {
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0);
  const handlers = {
    onDragEnter: (e: DragEvent) => {
      if (!enabled || !hasFiles(e)) return;
      e.preventDefault();
      depth.current++;
      setDragging(true);
    },
    onDragOver: (e: DragEvent) => {
      if (!enabled || !hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    },
    onDragLeave: (e: DragEvent) => {
      if (!enabled || !hasFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    },
    onDrop: (e: DragEvent) => {
      if (!enabled || !hasFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setDragging(false);
      const withFolders = onFolder ? droppedEntries(e.dataTransfer, fileLimits.maxFolderEntries) : null;
      if (withFolders) {
        if (withFolders.files.length) onFiles(withFolders.files);
        // A folder the browser cannot read (permissions) is left out; the others are sent.
        void withFolders.folders.then((list) => list.forEach(onFolder!)).catch(() => undefined);
        return;
      }
      const files = [...e.dataTransfer.files];
      if (files.length) onFiles(files);
    },
  };
  return { dragging, handlers };
}

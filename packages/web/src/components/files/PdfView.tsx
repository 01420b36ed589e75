import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { GlobalWorkerOptions, getDocument, type PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import workerUrl from 'pdfjs-dist/legacy/build/pdf.worker.min.mjs?url';
import { Icon } from '../Icons.tsx';

// The worker is a bundled asset served by Enclave itself (no CDN).
GlobalWorkerOptions.workerSrc = workerUrl;

/**
 * A PDF page by page on a canvas, fitted to the dialog's width (pdf.js, loaded only when a PDF is
 * opened). Office documents arrive here as the server's converted preview.pdf.
 */
export default function PdfView({ url, onError }: { url: string; onError: (message: string) => void }) {
  const { t } = useTranslation();
  const [doc, setDoc] = useState<PDFDocumentProxy | null>(null);
  const [page, setPage] = useState(1);
  const [rendered, setRendered] = useState(0);
  const canvas = useRef<HTMLCanvasElement>(null);
  const box = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const task = getDocument({ url, withCredentials: true });
    let live = true;
    task.promise.then(
      (d) => live && setDoc(d),
      (e: unknown) => live && onError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      live = false;
      void task.destroy();
    };
  }, [url, onError]);

  useEffect(() => {
    if (!doc || !canvas.current) return;
    let cancelled = false;
    let render: { cancel(): void } | null = null;
    void doc.getPage(page).then((p) => {
      if (cancelled || !canvas.current) return;
      const width = Math.max(200, (box.current?.clientWidth ?? 800) - 2);
      const base = p.getViewport({ scale: 1 });
      const scale = width / base.width;
      const dpr = window.devicePixelRatio || 1;
      const viewport = p.getViewport({ scale: scale * dpr });
      const c = canvas.current;
      c.width = Math.floor(viewport.width);
      c.height = Math.floor(viewport.height);
      c.style.width = `${Math.floor(viewport.width / dpr)}px`;
      c.style.height = `${Math.floor(viewport.height / dpr)}px`;
      const task = p.render({ canvas: c, viewport });
      render = task;
      task.promise.then(
        () => !cancelled && setRendered(page),
        () => undefined,
      );
    });
    return () => {
      cancelled = true;
      render?.cancel();
    };
  }, [doc, page]);

  const total = doc?.numPages ?? 0;
  return (
    <div className="pdf-view" ref={box}>
      {!doc && <div className="preview-loading skeleton">{t('files.previewLoading')}</div>}
      <canvas ref={canvas} className="pdf-canvas" data-testid="pdf-canvas" data-rendered={rendered} />
      {total > 0 && (
        <div className="pdf-pager">
          <button
            className="icon-btn small"
            disabled={page <= 1}
            onClick={() => setPage((n) => n - 1)}
            aria-label={t('files.prevPage')}
            title={t('files.prevPage')}
          >
            <Icon name="back" size={16} />
          </button>
          <span className="small" data-testid="pdf-page">
            {t('files.page', { page, total })}
          </span>
          <button
            className="icon-btn small"
            disabled={page >= total}
            onClick={() => setPage((n) => n + 1)}
            aria-label={t('files.nextPage')}
            title={t('files.nextPage')}
          >
            <Icon name="chevron" size={16} />
          </button>
        </div>
      )}
    </div>
  );
}

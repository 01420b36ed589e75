import { Suspense, lazy, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import hljs from 'highlight.js/lib/core';
import type { FileAttachment, PreviewInfo } from '@enclave/protocol';
import { errorKey } from '../../state/errors.ts';
import { codeLanguage, formatSize } from '../../state/file-format.ts';
import type { Session } from '../../state/session.ts';
import '../../markdown.ts'; // registers the highlight.js languages the client bundles
import { Dialog } from '../Dialog.tsx';
import { Icon } from '../Icons.tsx';

// pdf.js is large: it loads only when a PDF (or converted Office document) is opened.
const PdfView = lazy(() => import('./PdfView.tsx'));

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** How much of a text file the preview shows. */
const TEXT_PREVIEW_BYTES = 512 * 1024;

/**
 * Preview of a file: images (fitted, or at actual size), PDF and Office documents (through the
 * server's PDF conversion) page by page, text and code highlighted, audio and video with the
 * browser's own players. When there is no preview, it says why, and the file can be downloaded.
 */
export function PreviewDialog({
  session,
  file: f,
  onClose,
}: {
  session: Session;
  file: FileAttachment;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const [info, setInfo] = useState<PreviewInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const urls = session.client.fileUrls(f.id);

  useEffect(() => {
    let live = true;
    session.client.call('file.preview', { fileId: f.id }).then(
      (p) => live && setInfo(p),
      (e: unknown) => {
        if (!live) return;
        const { key, params } = errorKey(e);
        setError(t(key, params ?? {}));
      },
    );
    return () => {
      live = false;
    };
  }, [session, f.id, t]);

  const failed = useCallback((message: string) => setError(t('files.previewFailed', { message })), [t]);

  let body;
  if (error) body = <p className="preview-note error">{error}</p>;
  else if (!info) body = <div className="preview-loading skeleton">{t('files.previewLoading')}</div>;
  else if (!info.available || !info.url)
    body = (
      <div className="preview-note" data-testid="preview-unavailable">
        <p>{info.kind === 'office' ? t('files.noConverter') : t('files.noPreview')}</p>
      </div>
    );
  else if (info.kind === 'image') body = <ImageView url={info.url} name={f.name} />;
  else if (info.kind === 'pdf' || info.kind === 'office')
    body = (
      <Suspense fallback={<div className="preview-loading skeleton">{t('files.previewLoading')}</div>}>
        <PdfView url={info.url} onError={failed} />
      </Suspense>
    );
  else if (info.kind === 'text') body = <TextView url={info.url} name={f.name} size={f.size} onError={failed} />;
  else if (info.kind === 'audio')
    body = <audio className="preview-audio" controls src={info.url} data-testid="preview-audio" />;
  else if (info.kind === 'video')
    body = <video className="preview-video" controls src={info.url} data-testid="preview-video" />;
  else body = <p className="preview-note">{t('files.noPreview')}</p>;

  return (
    <Dialog title={t('files.previewTitle', { name: f.name })} onClose={onClose} wide>
      <div className="preview" data-testid="preview" data-kind={info?.kind ?? ''}>
        {body}
        <div className="preview-footer">
          <span className="muted small">
            {f.name} · {formatSize(f.size)}
          </span>
          <a className="btn small" href={urls.download} download={f.name} data-testid="preview-download">
            <Icon name="download" size={16} /> {t('files.download')}
          </a>
        </div>
      </div>
    </Dialog>
  );
}

/** The original image, fitted to the dialog; click or the button toggles actual size. */
function ImageView({ url, name }: { url: string; name: string }) {
  const { t } = useTranslation();
  const [actual, setActual] = useState(false);
  return (
    <>
      <div className={`preview-image${actual ? ' actual' : ''}`}>
        <img src={url} alt={name} data-testid="preview-image" onClick={() => setActual((v) => !v)} draggable={false} />
      </div>
      <div className="preview-tools">
        <button className="btn small" aria-pressed={!actual} onClick={() => setActual(false)}>
          {t('files.zoomFit')}
        </button>
        <button className="btn small" aria-pressed={actual} onClick={() => setActual(true)}>
          {t('files.zoomActual')}
        </button>
      </div>
    </>
  );
}

/** The start of a text file, highlighted by its extension (or by a guess for short unknown text). */
function TextView({
  url,
  name,
  size,
  onError,
}: {
  url: string;
  name: string;
  size: number;
  onError: (message: string) => void;
}) {
  const { t } = useTranslation();
  const [html, setHtml] = useState<string | null>(null);
  useEffect(() => {
    const abort = new AbortController();
    fetch(url, {
      signal: abort.signal,
      credentials: 'same-origin',
      headers: size > TEXT_PREVIEW_BYTES ? { Range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` } : {},
    })
      .then(async (res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const bytes = new Uint8Array(await res.arrayBuffer()).subarray(0, TEXT_PREVIEW_BYTES);
        const text = new TextDecoder('utf-8').decode(bytes);
        const lang = codeLanguage(name);
        const out =
          lang && hljs.getLanguage(lang)
            ? hljs.highlight(text, { language: lang, ignoreIllegals: true }).value
            : text.length <= 20_000
              ? hljs.highlightAuto(text).value
              : escapeHtml(text);
        setHtml(out);
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) onError(e instanceof Error ? e.message : String(e));
      });
    return () => abort.abort();
  }, [url, name, size, onError]);
  if (html === null) return <div className="preview-loading skeleton">{t('files.previewLoading')}</div>;
  return (
    <>
      <div className="msg-text">
        <pre className="preview-text code" data-testid="preview-text">
          {/* highlight.js escapes the text; its output holds only <span class="hljs-…"> */}
          <code className="hljs" dangerouslySetInnerHTML={{ __html: html }} />
        </pre>
      </div>
      {size > TEXT_PREVIEW_BYTES && (
        <p className="muted small">{t('files.truncated', { size: formatSize(TEXT_PREVIEW_BYTES) })}</p>
      )}
    </>
  );
}

/**
 * A file in a bubble: an image's encrypted thumbnail as a preview (the full image opens on
 * click, after download and verification), or a file card; a "Download" button for both.
 */
import type { MessageView } from '@vaultex/client/browser';
import { useEffect, useState } from 'react';
import { humanError } from '../lib/errors.js';
import { downloadAttachment, saveBlob, thumbnailType } from '../state/chat-actions.js';
import { useApp } from '../state/store.js';

/** An object URL for some bytes, revoked when they change or the component goes. */
function useObjectUrl(bytes: Uint8Array | undefined, type: string): string | undefined {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    if (!bytes) return;
    const made = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
    setUrl(made);
    return () => {
      URL.revokeObjectURL(made);
      setUrl(undefined);
    };
  }, [bytes, type]);
  return url;
}

/** `1.2 MB`. */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The full image, over the page; its object URL is revoked when it closes. */
function FullImage({ blob, name, onClose }: { blob: Blob; name: string; onClose: () => void }) {
  const [url] = useState(() => URL.createObjectURL(blob));
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  return (
    <div
      className="image-viewer"
      role="dialog"
      aria-modal="true"
      aria-label={name || 'Image'}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onClose();
        }
      }}
    >
      <img src={url} alt={name || 'Image'} data-testid="attachment-full" />
      <button
        type="button"
        className="primary"
        // biome-ignore lint/a11y/noAutofocus: the dialog's only control takes focus so Escape and Enter work at once
        autoFocus
        onClick={onClose}
      >
        Close
      </button>
    </div>
  );
}

/** The attachment of a message of kind 'attachment'. */
export function AttachmentView({ m }: { m: MessageView }) {
  const file = m.attachment;
  const thumb = file?.thumbnail;
  const preview = useObjectUrl(thumb, thumb ? thumbnailType(thumb) : '');
  const [busy, setBusy] = useState(false);
  const [full, setFull] = useState<Blob>();
  if (!file) return null;
  const name = file.name || 'file';
  const fetchFile = async (): Promise<Blob | undefined> => {
    setBusy(true);
    try {
      return await downloadAttachment(m);
    } catch (e) {
      useApp.setState({ notice: humanError(e) });
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="attachment">
      {preview ? (
        <button
          type="button"
          className="attachment-thumb"
          aria-label={`Open image ${name}`}
          disabled={busy}
          onClick={() => void fetchFile().then((b) => b && setFull(b))}
        >
          <img src={preview} alt="" data-testid="attachment-preview" />
        </button>
      ) : null}
      <div className="attachment-card">
        <span className="attachment-name">{name}</span>
        <span className="attachment-size">{fileSize(file.size)}</span>
        <button
          type="button"
          className="small-button"
          aria-label={`Download ${name}`}
          disabled={busy}
          onClick={() => void fetchFile().then((b) => b && saveBlob(b, name))}
        >
          {busy ? 'Downloading…' : 'Download'}
        </button>
      </div>
      {full && <FullImage blob={full} name={name} onClose={() => setFull(undefined)} />}
    </div>
  );
}

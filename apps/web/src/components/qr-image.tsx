/** A QR code image. */
import { useEffect, useState } from 'react';
import { qrDataUrl } from '../lib/qr.js';

/** Renders `text` as a QR code with an accessible name. */
export function QrImage({ text, label, size = 200 }: { text: string; label: string; size?: number }) {
  const [url, setUrl] = useState<string>();
  useEffect(() => {
    let live = true;
    qrDataUrl(text).then(
      (u) => live && setUrl(u),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [text]);
  return url ? (
    <img className="qr" src={url} alt={label} width={size} height={size} />
  ) : (
    <div className="qr" aria-busy="true" />
  );
}

/** "Scan QR": opens the lazily loaded camera scanner in place and hands back the decoded text. */
import { lazy, Suspense, useState } from 'react';

const QrScanner = lazy(() => import('./qr-scanner.js'));

/** A toggle button and, when on, the scanner; `onResult` gets the QR text once. */
export function ScanButton(props: { label: string; onResult: (text: string) => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      {!open && (
        <button type="button" onClick={() => setOpen(true)}>
          Scan QR
        </button>
      )}
      {open && (
        <Suspense fallback={<p className="hint">Starting the camera…</p>}>
          <QrScanner
            label={props.label}
            onClose={() => setOpen(false)}
            onResult={(text) => {
              setOpen(false);
              props.onResult(text);
            }}
          />
        </Suspense>
      )}
    </>
  );
}

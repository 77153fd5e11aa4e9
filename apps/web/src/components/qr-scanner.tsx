/**
 * Camera QR scanner: the rear camera (getUserMedia) in a video element, each frame drawn to
 * a canvas and decoded with jsqr. Loaded on demand (React.lazy; jsqr is its own chunk), and
 * the camera is released as soon as a code is read, the scanner closes or it unmounts.
 */
import { useEffect, useRef, useState } from 'react';

/** Props: what to do with the decoded text, and how to close. */
export interface QrScannerProps {
  readonly onResult: (text: string) => void;
  readonly onClose: () => void;
  /** Accessible name of the video. */
  readonly label: string;
}

/** The scanner (default export for React.lazy). */
export default function QrScanner({ onResult, onClose, label }: QrScannerProps) {
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<string>();
  const done = useRef(onResult);
  done.current = onResult;
  useEffect(() => {
    let stream: MediaStream | undefined;
    let frame = 0;
    let stopped = false;
    const stop = () => {
      stopped = true;
      cancelAnimationFrame(frame);
      for (const track of stream?.getTracks() ?? []) track.stop();
      stream = undefined;
    };
    (async () => {
      const { default: jsQR } = await import('jsqr');
      if (!navigator.mediaDevices?.getUserMedia) throw new Error('no camera API');
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      const el = video.current;
      if (stopped || !el) return stop();
      el.srcObject = stream;
      await el.play();
      const canvas = document.createElement('canvas');
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      if (!ctx) throw new Error('no canvas');
      const tick = () => {
        if (stopped) return;
        if (el.readyState >= el.HAVE_CURRENT_DATA && el.videoWidth > 0) {
          canvas.width = el.videoWidth;
          canvas.height = el.videoHeight;
          ctx.drawImage(el, 0, 0);
          const image = ctx.getImageData(0, 0, canvas.width, canvas.height);
          const code = jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' });
          if (code?.data) {
            stop();
            done.current(code.data);
            return;
          }
        }
        frame = requestAnimationFrame(tick);
      };
      tick();
    })().catch((e: unknown) => {
      stop();
      const name = (e as { name?: string }).name;
      setProblem(
        name === 'NotAllowedError'
          ? 'Camera access was refused. Allow it in the browser, or paste the code instead.'
          : 'No camera is available here. Paste the code instead.',
      );
    });
    return stop;
  }, []);
  return (
    <div className="qr-scanner">
      {problem ? (
        <p className="error" role="alert">
          {problem}
        </p>
      ) : (
        <>
          <video ref={video} className="qr-video" muted playsInline aria-label={label} data-testid="qr-video" />
          <p className="hint" role="status">
            Point the camera at the QR code.
          </p>
        </>
      )}
      <div className="actions">
        <button type="button" onClick={onClose}>
          Stop scanning
        </button>
      </div>
    </div>
  );
}

/** QR codes as SVG data URLs (allowed by the CSP's `img-src data:`). */
import QRCode from 'qrcode';

/** An SVG data URL of `text` as a QR code. */
export async function qrDataUrl(text: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

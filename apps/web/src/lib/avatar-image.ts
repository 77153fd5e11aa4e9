/**
 * Turn a picked image file into a profile picture: centre-cropped to a square, drawn at
 * 128 x 128 px on a canvas and encoded as WebP (JPEG where the browser cannot encode WebP),
 * lowering the quality until it fits the client's 32 KiB limit. Drawing on a canvas also
 * drops the file's metadata (EXIF location, camera).
 */
import { type Avatar, MAX_AVATAR_BYTES } from '@vaultex/client/browser';

/** Side of the square avatar, in pixels. */
export const AVATAR_SIZE = 128;

const QUALITIES = [0.85, 0.7, 0.55, 0.4, 0.25] as const;

function encode(canvas: HTMLCanvasElement, type: string, quality: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

/**
 * Resize an image file into an avatar.
 * @throws Error when the file is not an image the browser can decode, or does not fit.
 */
export async function resizeAvatar(file: Blob): Promise<Avatar> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new Error('That file is not an image this browser can read.');
  }
  const canvas = document.createElement('canvas');
  canvas.width = AVATAR_SIZE;
  canvas.height = AVATAR_SIZE;
  const g = canvas.getContext('2d');
  if (!g) throw new Error('This browser cannot resize images.');
  const side = Math.min(bitmap.width, bitmap.height);
  g.drawImage(
    bitmap,
    (bitmap.width - side) / 2,
    (bitmap.height - side) / 2,
    side,
    side,
    0,
    0,
    AVATAR_SIZE,
    AVATAR_SIZE,
  );
  bitmap.close();
  for (const type of ['image/webp', 'image/jpeg'] as const) {
    for (const quality of QUALITIES) {
      const blob = await encode(canvas, type, quality);
      // A browser without a WebP encoder silently returns PNG: try JPEG then.
      if (!blob || blob.type !== type) break;
      if (blob.size <= MAX_AVATAR_BYTES) return { mime: type, bytes: new Uint8Array(await blob.arrayBuffer()) };
    }
  }
  throw new Error('The picture could not be made small enough.');
}

/**
 * Profile pictures: small images (the application resizes them) that travel end-to-end
 * encrypted inside 'profile' contents and are kept on the profile and contact records.
 * Only three raster formats are accepted, and the bytes must start like the format they
 * claim, so a receiver never hands an SVG (scripts) or an unknown format to an image decoder.
 */
import { ClientError } from './errors.js';

/** Largest avatar, in bytes. */
export const MAX_AVATAR_BYTES = 32 * 1024;

/** The accepted avatar formats. */
export const AVATAR_MIME_TYPES = ['image/webp', 'image/jpeg', 'image/png'] as const;

/** An accepted avatar format. */
export type AvatarMime = (typeof AVATAR_MIME_TYPES)[number];

/** A profile picture. */
export interface Avatar {
  readonly mime: AvatarMime;
  readonly bytes: Uint8Array;
}

const startsWith = (b: Uint8Array, prefix: readonly number[], at = 0): boolean =>
  prefix.every((x, i) => b[at + i] === x);

/** Whether `bytes` begin with the signature of `mime`. */
export function hasAvatarSignature(mime: AvatarMime, bytes: Uint8Array): boolean {
  switch (mime) {
    case 'image/png':
      return startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    case 'image/jpeg':
      return startsWith(bytes, [0xff, 0xd8, 0xff]);
    case 'image/webp':
      // 'RIFF' size 'WEBP'
      return startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8);
  }
}

/** Whether `mime` is an accepted avatar format. */
export function isAvatarMime(mime: unknown): mime is AvatarMime {
  return typeof mime === 'string' && (AVATAR_MIME_TYPES as readonly string[]).includes(mime);
}

/**
 * Check an avatar argument and return a canonical copy.
 * @throws ClientError INVALID_ARGUMENT for another format, an empty or over-long image, or
 *   bytes that do not start like the format they claim.
 */
export function checkAvatar(value: unknown, field = 'avatar'): Avatar {
  if (typeof value !== 'object' || value === null) {
    throw new ClientError('INVALID_ARGUMENT', `${field}: expected { mime, bytes } or null`);
  }
  const { mime, bytes } = value as { mime?: unknown; bytes?: unknown };
  if (!isAvatarMime(mime)) {
    throw new ClientError('INVALID_ARGUMENT', `${field}.mime: one of ${AVATAR_MIME_TYPES.join(', ')}`);
  }
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > MAX_AVATAR_BYTES) {
    throw new ClientError('INVALID_ARGUMENT', `${field}.bytes: 1..${MAX_AVATAR_BYTES} bytes`);
  }
  if (!hasAvatarSignature(mime, bytes)) {
    throw new ClientError('INVALID_ARGUMENT', `${field}.bytes: not a ${mime} image`);
  }
  return { mime, bytes: new Uint8Array(bytes) };
}

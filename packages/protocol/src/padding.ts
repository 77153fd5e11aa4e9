/**
 * Length-hiding padding of message plaintext before encryption (docs/PROTOCOL.md,
 * "Padding"). A padded plaintext is one of a few bucket sizes, so a ciphertext's length
 * reveals only the bucket, not the message length. The padding itself is ISO/IEC 7816-4
 * (one 0x80 byte, then zeros), as Signal uses.
 */
import { assertBytes, assertInteger } from './assert.js';
import { InvalidPaddingError } from './errors.js';

/** The small buckets; above the last one, lengths are multiples of {@link PADDING_BLOCK}. */
const SMALL_BUCKETS = [256, 512, 1024, 2048, 4096] as const;

/** Above 4096 bytes, padded lengths are multiples of this. */
export const PADDING_BLOCK = 4096;

/**
 * Largest padded length (4 MiB). It keeps a padded message, once encrypted and wrapped,
 * well inside the 16 MiB wire limit; attachments travel as separate encrypted blobs.
 */
export const MAX_PADDED_LENGTH = 4 * 1024 * 1024;

/** Largest plaintext {@link pad} accepts: one byte less than {@link MAX_PADDED_LENGTH}, for the marker. */
export const MAX_PADDING_INPUT = MAX_PADDED_LENGTH - 1;

const MARKER = 0x80;

/**
 * The padded length of an `n`-byte plaintext: the smallest bucket that holds `n + 1`
 * bytes (the plaintext and the 0x80 marker).
 * @throws InvalidArgumentError when `n` is not an integer in [0, {@link MAX_PADDING_INPUT}].
 * @example paddedLength(0) === 256; paddedLength(255) === 512; paddedLength(5000) === 8192
 */
export function paddedLength(n: number): number {
  assertInteger(n, 'n', 0, MAX_PADDING_INPUT);
  const needed = n + 1;
  for (const bucket of SMALL_BUCKETS) if (needed <= bucket) return bucket;
  return Math.ceil(needed / PADDING_BLOCK) * PADDING_BLOCK;
}

/** True when `length` is a bucket size that {@link pad} can produce. */
function isBucket(length: number): boolean {
  if (length <= 0 || length > MAX_PADDED_LENGTH) return false;
  if (length < PADDING_BLOCK) return (SMALL_BUCKETS as readonly number[]).includes(length);
  return length % PADDING_BLOCK === 0;
}

/**
 * Pad `plaintext` to its bucket: plaintext || 0x80 || zeros. Returns a new array.
 * @throws InvalidArgumentError when `plaintext` is not a Uint8Array or is longer than
 * {@link MAX_PADDING_INPUT}.
 * @example pad(utf8ToBytes('hi')).length === 256
 */
export function pad(plaintext: Uint8Array): Uint8Array {
  assertBytes(plaintext, 'plaintext', { max: MAX_PADDING_INPUT });
  const out = new Uint8Array(paddedLength(plaintext.length));
  out.set(plaintext, 0);
  out[plaintext.length] = MARKER;
  return out;
}

/**
 * Remove the padding added by {@link pad}. Returns a new array.
 * @throws InvalidArgumentError when `padded` is not a Uint8Array.
 * @throws InvalidPaddingError when the length is not a bucket size or no 0x80 marker
 * follows the trailing zeros.
 */
export function unpad(padded: Uint8Array): Uint8Array {
  assertBytes(padded, 'padded');
  if (!isBucket(padded.length)) throw new InvalidPaddingError(`padded length ${padded.length} is not a bucket size`);
  let i = padded.length - 1;
  while (i >= 0 && padded[i] === 0) i--;
  if (i < 0 || padded[i] !== MARKER) throw new InvalidPaddingError('padding marker 0x80 not found');
  return padded.slice(0, i);
}

/**
 * Attachment encryption: a fresh 32-byte key per file, the plaintext cut into 64 KiB
 * segments, each sealed with AES-256-GCM under a key derived from the file key. The nonce
 * is the segment index and the associated data says whether the segment is the last, so a
 * reader verifies each segment on its own, and reordering, dropping or truncating segments
 * fails. The ciphertext is deterministic for a (key, plaintext) pair, which is what lets an
 * interrupted upload be resumed by encrypting the file again.
 */
import { type CryptoProvider, equalBytes } from '@vaultex/protocol';
import { ClientError } from './errors.js';

/** Plaintext bytes per segment. */
export const ATTACHMENT_SEGMENT_BYTES = 64 * 1024;
/** Bytes an AES-GCM tag adds to each segment. */
export const ATTACHMENT_TAG_BYTES = 16;
/** Length of an attachment file key. */
export const ATTACHMENT_KEY_BYTES = 32;

const INFO = new TextEncoder().encode('VAULTEX attachment v1');
const SEALED_SEGMENT = ATTACHMENT_SEGMENT_BYTES + ATTACHMENT_TAG_BYTES;

/** How many segments a plaintext of `size` bytes has (an empty file has one empty segment). */
export function attachmentSegments(size: number): number {
  return Math.max(1, Math.ceil(size / ATTACHMENT_SEGMENT_BYTES));
}

/** The ciphertext length of a plaintext of `size` bytes. */
export function attachmentCiphertextSize(size: number): number {
  return size + attachmentSegments(size) * ATTACHMENT_TAG_BYTES;
}

function segmentKey(provider: CryptoProvider, fileKey: Uint8Array): Uint8Array {
  if (!(fileKey instanceof Uint8Array) || fileKey.length !== ATTACHMENT_KEY_BYTES) {
    throw new ClientError('INVALID_ARGUMENT', `key: ${ATTACHMENT_KEY_BYTES} bytes`);
  }
  return provider.hkdfSha256(fileKey, new Uint8Array(32), INFO, 32);
}

function nonce(index: number): Uint8Array {
  const out = new Uint8Array(12);
  new DataView(out.buffer).setUint32(0, index, false);
  return out;
}

function aad(index: number, final: boolean): Uint8Array {
  const out = new Uint8Array(5);
  new DataView(out.buffer).setUint32(0, index, false);
  out[4] = final ? 1 : 0;
  return out;
}

/**
 * Encrypt a file.
 * @returns the ciphertext ({@link attachmentCiphertextSize} bytes).
 * @throws ClientError INVALID_ARGUMENT for a key that is not 32 bytes.
 */
export function encryptAttachment(provider: CryptoProvider, fileKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const key = segmentKey(provider, fileKey);
  const count = attachmentSegments(plaintext.length);
  const out = new Uint8Array(attachmentCiphertextSize(plaintext.length));
  for (let i = 0; i < count; i++) {
    const part = plaintext.subarray(i * ATTACHMENT_SEGMENT_BYTES, (i + 1) * ATTACHMENT_SEGMENT_BYTES);
    out.set(provider.aesGcmEncrypt(key, nonce(i), part, aad(i, i === count - 1)), i * SEALED_SEGMENT);
  }
  return out;
}

/**
 * Verify and decrypt a downloaded file: its length, its SHA-256 and every segment's tag.
 * @returns the plaintext, only when everything verified.
 * @throws ClientError ATTACHMENT_CORRUPT when any check fails; INVALID_ARGUMENT for a bad key.
 */
export function decryptAttachment(
  provider: CryptoProvider,
  fileKey: Uint8Array,
  ciphertext: Uint8Array,
  expected: { readonly size: number; readonly sha256: Uint8Array },
): Uint8Array {
  const key = segmentKey(provider, fileKey);
  if (ciphertext.length !== attachmentCiphertextSize(expected.size)) {
    throw new ClientError('ATTACHMENT_CORRUPT', 'attachment: wrong length');
  }
  if (!equalBytes(provider.sha256(ciphertext), expected.sha256)) {
    throw new ClientError('ATTACHMENT_CORRUPT', 'attachment: hash mismatch');
  }
  const count = attachmentSegments(expected.size);
  const out = new Uint8Array(expected.size);
  for (let i = 0; i < count; i++) {
    const sealed = ciphertext.subarray(i * SEALED_SEGMENT, (i + 1) * SEALED_SEGMENT);
    let plain: Uint8Array;
    try {
      plain = provider.aesGcmDecrypt(key, nonce(i), sealed, aad(i, i === count - 1));
    } catch (e) {
      throw new ClientError('ATTACHMENT_CORRUPT', `attachment: segment ${i} failed authentication`, { cause: e });
    }
    out.set(plain, i * ATTACHMENT_SEGMENT_BYTES);
  }
  return out;
}

/**
 * Building blocks shared by every schema: the one byte codec of the JSON API (base64url
 * strings without padding), hex identifiers, integer ranges and the byte lengths of the
 * keys and tokens that cross the wire. @vaultex/api imports nothing of ours, so the
 * lengths are restated here rather than taken from @vaultex/protocol.
 */
import * as z from 'zod';

/** Length of a user ID (the account id on the wire, as 32 hex digits). */
export const USER_ID_BYTES = 16;
/** Ed25519 public keys: account identity keys and device keys. */
export const ED25519_PUBLIC_KEY_BYTES = 32;
/** Ed25519 signatures. */
export const SIGNATURE_BYTES = 64;
/** X25519 prekeys (signed and one-time). */
export const X25519_PUBLIC_KEY_BYTES = 32;
/** ML-KEM-1024 public keys (KEM prekeys). */
export const ML_KEM_1024_PUBLIC_KEY_BYTES = 1568;
/** Server challenges (nonces) signed by clients. */
export const NONCE_BYTES = 32;
/** Opaque session tokens. */
export const TOKEN_BYTES = 32;
/** Sealed-sender access keys. */
export const ACCESS_KEY_BYTES = 16;
/** Message ids (random, stable across redeliveries). */
export const MESSAGE_ID_BYTES = 16;
/** Attachment ids (random, unguessable). */
export const ATTACHMENT_ID_BYTES = 32;
/** Largest device id (device ids are uint32, 0 excluded). */
export const MAX_DEVICE_ID = 0xffff_ffff;
/** Largest prekey id (uint32). */
export const MAX_PREKEY_ID = 0xffff_ffff;
/** Largest encoded device certificate accepted. */
export const MAX_DEVICE_CERTIFICATE_BYTES = 512;
/** Largest encoded signed device list accepted (64 devices with names fit). */
export const MAX_DEVICE_LIST_BYTES = 16 * 1024;
/** Hard ceiling of one message blob; servers configure a lower limit (64 KiB by default). */
export const MAX_BLOB_BYTES = 256 * 1024;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

/** Encode bytes as base64url without padding (RFC 4648 section 5). */
export function toBase64Url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Decode strict base64url without padding. Returns undefined for any other input:
 * padding, characters outside the alphabet, an impossible length or non-zero trailing
 * bits (so every byte string has exactly one accepted encoding).
 */
export function fromBase64Url(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c]! : -1;
    if (v < 0) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}

/** Bytes of a lower-case or upper-case hex string; undefined when it is not hex of even length. */
export function fromHex(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/u.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A byte-length constraint: an exact length or a range. */
export type ByteLength = number | { readonly min?: number; readonly max: number };

function lengthIssue(bytes: Uint8Array, length: ByteLength): string | undefined {
  if (typeof length === 'number') return bytes.length === length ? undefined : `must be ${length} bytes`;
  if (length.min !== undefined && bytes.length < length.min) return `must be at least ${length.min} bytes`;
  return bytes.length > length.max ? `must be at most ${length.max} bytes` : undefined;
}

/** Any Uint8Array (subclasses included), typed without pinning its buffer kind. */
const Bytes = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected bytes');

/** Longest base64url text of `bytes` bytes. */
function encodedLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

/**
 * A byte field of the JSON API: base64url text on the wire, `Uint8Array` after
 * `safeParse`/`decode`, and back to text with `z.encode`.
 * @example const Key = base64url(32); Key.parse('AAAA...') // Uint8Array(32)
 */
export function base64url(length: ByteLength) {
  const max = typeof length === 'number' ? length : length.max;
  return z.codec(z.string().max(encodedLength(max)), Bytes, {
    decode: (text, ctx) => {
      const bytes = fromBase64Url(text);
      if (bytes === undefined) {
        ctx.issues.push({ code: 'custom', message: 'not base64url without padding', input: text });
        return z.NEVER;
      }
      const issue = lengthIssue(bytes, length);
      if (issue !== undefined) {
        ctx.issues.push({ code: 'custom', message: issue, input: text });
        return z.NEVER;
      }
      return bytes;
    },
    encode: (bytes) => toBase64Url(bytes),
  });
}

/**
 * A byte field of a MessagePack frame: a `bin` value, already a `Uint8Array` after decoding.
 */
export function binary(length: ByteLength) {
  return Bytes.superRefine((bytes, ctx) => {
    const issue = lengthIssue(bytes, length);
    if (issue !== undefined) ctx.addIssue({ code: 'custom', message: issue });
  });
}

/** An account id: the 16-byte user ID as 32 lower-case hex digits. */
export const AccountId = z.string().regex(/^[0-9a-f]{32}$/u, 'must be 32 lower-case hex digits');
/** A message id: 16 random bytes as 32 lower-case hex digits. */
export const MessageId = z.string().regex(/^[0-9a-f]{32}$/u, 'must be 32 lower-case hex digits');
/** A device id (uint32, 0 excluded), chosen by the client and listed in the signed device list. */
export const DeviceId = z.number().int().min(1).max(MAX_DEVICE_ID);
/** A prekey id (uint32). */
export const PreKeyId = z.number().int().min(0).max(MAX_PREKEY_ID);
/** Milliseconds since the Unix epoch. */
export const Timestamp = z.number().int().min(0);
/** A base64url session token (32 random bytes). */
export const Token = z.string().regex(/^[A-Za-z0-9_-]{43}$/u, 'must be a 43-character base64url token');

/**
 * A short description of validation issues naming the fields, never echoing values
 * (so an error message cannot carry a key or a blob back into logs).
 */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'value'}: ${issue.message}`)
    .join('; ');
}

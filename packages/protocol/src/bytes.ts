/** Byte helpers shared by every module. Pure, allocation-conscious, no secrets in errors. */
import {
  bytesToHex as nobleBytesToHex,
  concatBytes as nobleConcatBytes,
  hexToBytes as nobleHexToBytes,
  utf8ToBytes as nobleUtf8ToBytes,
} from '@noble/hashes/utils.js';
import { assertBytes, assertString } from './assert.js';
import { InvalidArgumentError } from './errors.js';

// The noble helpers throw generic TypeErrors; these wrappers check first so that misuse
// surfaces as InvalidArgumentError like everywhere else in the package.

/** Lower-case hex of `bytes`. */
export function bytesToHex(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  return nobleBytesToHex(bytes);
}

/**
 * Bytes of an even-length hex string.
 * @throws InvalidArgumentError for a non-string or non-hex input.
 */
export function hexToBytes(hex: string): Uint8Array {
  assertString(hex, 'hex');
  try {
    return nobleHexToBytes(hex);
  } catch {
    throw new InvalidArgumentError('hex: not an even-length hex string');
  }
}

/** UTF-8 encoding of a string. */
export function utf8ToBytes(text: string): Uint8Array {
  assertString(text, 'text');
  return nobleUtf8ToBytes(text);
}

/** Concatenate byte arrays into a fresh one. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  for (let i = 0; i < parts.length; i++) assertBytes(parts[i], `parts[${i}]`);
  return nobleConcatBytes(...parts);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decode UTF-8, throwing on malformed input (callers wrap it into their typed error). */
export function bytesToUtf8(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  try {
    return decoder.decode(bytes);
  } catch {
    throw new InvalidArgumentError('bytes: not valid UTF-8');
  }
}

/** Constant-time equality for equal-length inputs; false when lengths differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, 'a');
  assertBytes(b, 'b');
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Big-endian 32-bit unsigned integer. */
export function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, false);
  return out;
}

/** Big-endian 64-bit unsigned integer from a safe integer. */
export function u64be(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false);
  return out;
}

/** Overwrite a secret with zeros. Best effort: JS cannot promise no other copy exists. */
export function wipe(bytes: Uint8Array | undefined): void {
  if (bytes !== undefined) assertBytes(bytes, 'bytes');
  bytes?.fill(0);
}

/** Copy into a fresh, exactly-sized plain Uint8Array (never a Buffer, never a view of a larger buffer). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  assertBytes(bytes, 'bytes');
  return new Uint8Array(bytes);
}

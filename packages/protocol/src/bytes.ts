/** Byte helpers shared by every module. Pure, allocation-conscious, no secrets in errors. */
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';

export { bytesToHex, concatBytes, hexToBytes, utf8ToBytes };

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Decode UTF-8, throwing on malformed input (callers wrap it into their typed error). */
export function bytesToUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Constant-time equality for equal-length inputs; false when lengths differ. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
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
  bytes?.fill(0);
}

/** Copy into a fresh, exactly-sized Uint8Array (detaches from Buffer pools and larger views). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes);
}

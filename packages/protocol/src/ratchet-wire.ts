/**
 * A fast encoder for the one message format on the hot path: the ratchet message
 * [version, kind, dh, pn, n, ciphertext]. The generic MessagePack codec (msgpackr plus
 * the validating WireReader) costs as much per message as the symmetric crypto.
 *
 * The encoder writes exactly the bytes `encodeWire` writes for the same array (smallest
 * integer and bin encodings, as msgpackr does), and a test checks that it does. Decoding
 * stays with the generic `decodeWire`: untrusted bytes have one parser.
 */
import type { RatchetMessage } from './ratchet.js';

/** Size of the MessagePack encoding of a non-negative integer below 2^32. */
function uintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x100) return 2;
  if (value < 0x1_0000) return 3;
  return 5;
}

/** Writes `value` big-endian in `bytes` bytes at `at`. */
function writeBE(out: Uint8Array, at: number, value: number, bytes: number): void {
  for (let i = bytes - 1; i >= 0; i--) {
    out[at + i] = value & 0xff;
    value = Math.floor(value / 256);
  }
}

function writeUint(out: Uint8Array, at: number, value: number): number {
  if (value < 0x80) {
    out[at] = value;
    return at + 1;
  }
  if (value < 0x100) {
    out[at] = 0xcc;
    out[at + 1] = value;
    return at + 2;
  }
  if (value < 0x1_0000) {
    out[at] = 0xcd;
    writeBE(out, at + 1, value, 2);
    return at + 3;
  }
  out[at] = 0xce;
  writeBE(out, at + 1, value, 4);
  return at + 5;
}

/** Size of a bin header for `length` bytes. */
function binHeaderSize(length: number): number {
  if (length < 0x100) return 2;
  if (length < 0x1_0000) return 3;
  return 5;
}

function writeBinHeader(out: Uint8Array, at: number, length: number): number {
  if (length < 0x100) {
    out[at] = 0xc4;
    out[at + 1] = length;
    return at + 2;
  }
  if (length < 0x1_0000) {
    out[at] = 0xc5;
    writeBE(out, at + 1, length, 2);
    return at + 3;
  }
  out[at] = 0xc6;
  writeBE(out, at + 1, length, 4);
  return at + 5;
}

/**
 * The bytes of `encodeWire([version, kind, dh, pn, n, ciphertext])` for a ratchet message
 * whose fields are already valid (pn and n below 2^32, dh of 32 bytes): the sender's own
 * output, never untrusted input.
 */
export function encodeRatchetMessage(version: number, kind: number, m: RatchetMessage): Uint8Array {
  const { dh, pn, n, ciphertext } = m;
  const size =
    1 + 1 + 1 + binHeaderSize(dh.length) + dh.length + uintSize(pn) + uintSize(n) + binHeaderSize(ciphertext.length);
  const out = new Uint8Array(size + ciphertext.length);
  out[0] = 0x96; // fixarray of 6
  out[1] = version;
  out[2] = kind;
  let at = writeBinHeader(out, 3, dh.length);
  out.set(dh, at);
  at = writeUint(out, at + dh.length, pn);
  at = writeUint(out, at, n);
  at = writeBinHeader(out, at, ciphertext.length);
  out.set(ciphertext, at);
  return out;
}

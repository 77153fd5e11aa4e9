/**
 * Safety numbers: the 60 digits two people compare to rule out a man in the middle.
 * Computed exactly as libsignal's `NumericFingerprint` (hash version 0, 5200 iterations
 * of SHA-512) so the same identifiers and keys give the same digits as libsignal; the
 * scannable (QR) form is our own versioned MessagePack. See docs/PROTOCOL.md
 * "Safety numbers".
 *
 * In VAULTEX the identifier is the 16-byte user ID and the key is
 * `encodePublicKey(KeyType.Ed25519, accountKey)`; the functions accept any bytes so that
 * libsignal's own 33-byte serialized keys can be fed in by the differential test.
 */
import { assertBytes, assertInteger, assertObject, isBytes } from './assert.js';
import { bytesToHex, equalBytes, hexToBytes } from './bytes.js';
import { InvalidArgumentError, InvalidMessageError } from './errors.js';
import type { CryptoProvider } from './provider/provider.js';
import { decodeWire, encodeWire } from './wire.js';

/** Iterations of SHA-512 per fingerprint half (libsignal's value). */
export const SAFETY_NUMBER_ITERATIONS = 5200;
/** The only NumericFingerprint hash version defined (libsignal hard-codes 0). */
export const SAFETY_NUMBER_VERSION = 0;
/** Version of the scannable payload produced by {@link computeSafetyNumber}. */
export const SAFETY_NUMBER_QR_VERSION = 1;
/** Prefix of the text form of the QR payload (see {@link safetyNumberQrText}). */
export const SAFETY_NUMBER_QR_TEXT_PREFIX = 'VAULTEX-SN:';

/** Bytes of each half's hash that the scannable form carries. */
const SCANNABLE_LENGTH = 32;
/** libsignal refuses fewer than 2 and more than a million iterations; so do we. */
const MAX_ITERATIONS = 1_000_000;
/** Generous bounds: identifiers and keys are short; ML-KEM keys (1569 bytes) still fit. */
const MAX_IDENTIFIER_BYTES = 1024;
const MAX_KEY_BYTES = 2048;
/** A payload is ~70 bytes; the bounds leave room for later versions and refuse garbage early. */
const MAX_QR_PAYLOAD_BYTES = 200;
const MAX_QR_TEXT_LENGTH = SAFETY_NUMBER_QR_TEXT_PREFIX.length + 2 * MAX_QR_PAYLOAD_BYTES;

/** Inputs of {@link computeSafetyNumber}, from the point of view of the device showing it. */
export interface SafetyNumberInput {
  /** Our stable identifier (VAULTEX: our 16-byte user ID). */
  readonly localIdentifier: Uint8Array;
  /** Our identity key (VAULTEX: `encodePublicKey(KeyType.Ed25519, accountKey)`, 33 bytes). */
  readonly localKey: Uint8Array;
  /** The peer's stable identifier. */
  readonly remoteIdentifier: Uint8Array;
  /** The peer's identity key, encoded like `localKey`. */
  readonly remoteKey: Uint8Array;
  /** SHA-512 iterations, 2..1,000,000; default {@link SAFETY_NUMBER_ITERATIONS}. */
  readonly iterations?: number;
  /** NumericFingerprint hash version; only {@link SAFETY_NUMBER_VERSION} (0) is defined. */
  readonly version?: number;
}

/** A computed safety number. */
export interface SafetyNumber {
  /** The 60 digits: both parties' 30-digit halves, the lexicographically smaller first. */
  readonly digits: string;
  /** `digits` as 12 groups of 5, the way they are shown. */
  readonly groups: readonly string[];
  /** Scannable form `[1, localFingerprint(32), remoteFingerprint(32)]` (MessagePack) for a QR code. */
  readonly qrPayload: Uint8Array;
}

/** One party's half: SHA-512 iterated over `u16be(version) || key || identifier || key`. */
function fingerprintHalf(
  identifier: Uint8Array,
  key: Uint8Array,
  iterations: number,
  version: number,
  provider: CryptoProvider,
): Uint8Array {
  const first = new Uint8Array(2 + key.length * 2 + identifier.length);
  first[0] = version >>> 8;
  first[1] = version & 0xff;
  first.set(key, 2);
  first.set(identifier, 2 + key.length);
  first.set(key, 2 + key.length + identifier.length);
  let hash = provider.sha512(first);
  // One buffer `hash || key` reused across iterations: 5200 rounds would otherwise
  // allocate 5200 concatenations per half.
  const round = new Uint8Array(64 + key.length);
  round.set(key, 64);
  for (let i = 1; i < iterations; i++) {
    round.set(hash, 0);
    hash = provider.sha512(round);
  }
  return hash;
}

/** 30 digits from the first 30 bytes: six 40-bit big-endian chunks, each mod 100000. */
function displayDigits(hash: Uint8Array): string {
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    // 40 bits stay exact in a double (< 2^53), so plain arithmetic is safe.
    for (let i = 0; i < 5; i++) value = value * 256 + hash[chunk * 5 + i]!;
    out += String(value % 100_000).padStart(5, '0');
  }
  return out;
}

/**
 * Compute the safety number shown on our side of a conversation. Both parties get the
 * same `digits`; their `qrPayload`s mirror each other (local and remote swapped).
 * @example
 * const sn = computeSafetyNumber({ localIdentifier: me.userId, localKey: encodePublicKey(KeyType.Ed25519, me.publicKey),
 *   remoteIdentifier: peerId, remoteKey: encodePublicKey(KeyType.Ed25519, peerKey) }, nobleProvider);
 * @throws InvalidArgumentError for non-byte or over-long identifiers and keys, an empty key,
 *   iterations outside 2..1,000,000 or a version other than 0.
 */
export function computeSafetyNumber(input: SafetyNumberInput, provider: CryptoProvider): SafetyNumber {
  assertObject(input, 'input');
  assertBytes(input.localIdentifier, 'localIdentifier', { max: MAX_IDENTIFIER_BYTES });
  assertBytes(input.localKey, 'localKey', { min: 1, max: MAX_KEY_BYTES });
  assertBytes(input.remoteIdentifier, 'remoteIdentifier', { max: MAX_IDENTIFIER_BYTES });
  assertBytes(input.remoteKey, 'remoteKey', { min: 1, max: MAX_KEY_BYTES });
  const iterations = input.iterations ?? SAFETY_NUMBER_ITERATIONS;
  assertInteger(iterations, 'iterations', 2, MAX_ITERATIONS);
  const version = input.version ?? SAFETY_NUMBER_VERSION;
  assertInteger(version, 'version', 0, 0xffff);
  if (version !== SAFETY_NUMBER_VERSION) {
    throw new InvalidArgumentError(`version: only NumericFingerprint version ${SAFETY_NUMBER_VERSION} is defined`);
  }

  const local = fingerprintHalf(input.localIdentifier, input.localKey, iterations, version, provider);
  const remote = fingerprintHalf(input.remoteIdentifier, input.remoteKey, iterations, version, provider);
  const localDigits = displayDigits(local);
  const remoteDigits = displayDigits(remote);
  const digits = localDigits < remoteDigits ? localDigits + remoteDigits : remoteDigits + localDigits;
  const groups = digits.match(/\d{5}/gu) ?? [];
  const qrPayload = encodeWire([
    SAFETY_NUMBER_QR_VERSION,
    local.subarray(0, SCANNABLE_LENGTH),
    remote.subarray(0, SCANNABLE_LENGTH),
  ]);
  return { digits, groups, qrPayload };
}

/** The two halves carried by a scannable payload. */
interface Scannable {
  readonly local: Uint8Array;
  readonly remote: Uint8Array;
}

function decodeScannable(bytes: Uint8Array): Scannable {
  return decodeWire(bytes, {
    what: 'safety number QR payload',
    versions: [SAFETY_NUMBER_QR_VERSION],
    read: (r) => {
      const local = r.bytes('localFingerprint', SCANNABLE_LENGTH);
      const remote = r.bytes('remoteFingerprint', SCANNABLE_LENGTH);
      r.end();
      return { local, remote };
    },
  });
}

/**
 * Text form of a QR payload, `VAULTEX-SN:` + upper-case hex. Every character is in the QR
 * alphanumeric set, and scanners that return text (the browser `BarcodeDetector`) cannot
 * mangle it the way they can mangle raw binary.
 * @throws InvalidArgumentError when `qrPayload` is not bytes.
 */
export function safetyNumberQrText(qrPayload: Uint8Array): string {
  assertBytes(qrPayload, 'qrPayload', { min: 1, max: MAX_QR_PAYLOAD_BYTES });
  return SAFETY_NUMBER_QR_TEXT_PREFIX + bytesToHex(qrPayload).toUpperCase();
}

function payloadFromText(text: string): Uint8Array {
  if (text.length > MAX_QR_TEXT_LENGTH || !text.startsWith(SAFETY_NUMBER_QR_TEXT_PREFIX)) {
    throw new InvalidMessageError('safety number QR text: not a VAULTEX safety number');
  }
  const hex = text.slice(SAFETY_NUMBER_QR_TEXT_PREFIX.length);
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/u.test(hex)) {
    throw new InvalidMessageError('safety number QR text: payload is not hex');
  }
  return hexToBytes(hex.toLowerCase());
}

/**
 * Compare a scanned QR payload (bytes, or its {@link safetyNumberQrText} form) with the
 * safety number we computed. The scanned side's local half must equal our remote half and
 * vice versa; both halves are compared in constant time.
 * @returns true when the peer's keys and ours are the ones each side sees; false for a
 *   well-formed payload that does not match (a third party, a changed key, our own code).
 * @throws InvalidMessageError for a payload that is not a safety-number QR code;
 *   UnsupportedVersionError for a payload version this library does not know;
 *   InvalidArgumentError when `own` is not a result of {@link computeSafetyNumber}.
 */
export function compareScannedSafetyNumber(own: SafetyNumber, scanned: Uint8Array | string): boolean {
  assertObject(own, 'own');
  assertBytes(own.qrPayload, 'own.qrPayload');
  let mine: Scannable;
  try {
    mine = decodeScannable(own.qrPayload);
  } catch {
    throw new InvalidArgumentError('own.qrPayload: not a payload produced by computeSafetyNumber');
  }
  let bytes: Uint8Array;
  if (typeof scanned === 'string') {
    bytes = payloadFromText(scanned);
  } else if (isBytes(scanned)) {
    bytes = scanned;
  } else {
    throw new InvalidArgumentError('scanned: expected Uint8Array or string');
  }
  const theirs = decodeScannable(bytes);
  // Evaluate both comparisons: no early exit on the first mismatch.
  const sameRemote = equalBytes(theirs.local, mine.remote);
  const sameLocal = equalBytes(theirs.remote, mine.local);
  return sameRemote && sameLocal;
}

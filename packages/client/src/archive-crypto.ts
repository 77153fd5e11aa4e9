/**
 * Cryptography of the history archive (docs/CLIENT.md, "History archive"): a random 32-byte
 * archive key K encrypts the archive blob; K is stored on the relay only inside key
 * envelopes, one wrapped under a key derived from the account secret key (slot 0: every
 * device of the account, and the seed phrase, can open it) and one per backup code (slots
 * 1..8). Backup codes carry 100 random bits and are stretched with Argon2id, so a relay that
 * holds the envelopes cannot guess them offline. Everything here is pure: provider and
 * randomness are parameters.
 */
import { type CryptoProvider, concatBytes, type RandomSource, utf8ToBytes } from '@vaultex/protocol';
import { ClientError } from './errors.js';

/** Length of the archive key K. */
export const ARCHIVE_KEY_BYTES = 32;
/** How many backup codes `archive.setup()` issues (slots 1..8). */
export const BACKUP_CODE_COUNT = 8;
/** Argon2id cost of backup-code envelopes: 100-bit codes need no more than OWASP's minimum. */
export const DEFAULT_CODE_KDF = Object.freeze({ t: 2, m: 19456, p: 1 });
/** Bounds on envelope KDF costs read back from the relay (untrusted). */
const MAX_CODE_KDF = { t: 10, m: 262144, p: 4 };

function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** Crockford base32 alphabet (no I, L, O, U). */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 20;
const ENVELOPE_VERSION = 1;
const ARCHIVE_MAGIC = Uint8Array.of(0x56, 0x58, 0x41, 0x52); // "VXAR"
const ARCHIVE_FORMAT_VERSION = 1;
const NONCE = 12;
const SALT = 16;
const ACCOUNT_INFO = utf8ToBytes('VAULTEX archive key wrap v1');

/** The Argon2id cost of a code envelope. */
export interface CodeKdfParams {
  readonly t: number;
  readonly m: number;
  readonly p: number;
}

/**
 * Eight fresh backup codes, each 20 Crockford base32 characters (100 bits) shown as four
 * groups of five: `7K3QD-M2X9P-...`.
 */
export function generateBackupCodes(random: RandomSource, count = BACKUP_CODE_COUNT): string[] {
  const codes: string[] = [];
  for (let i = 0; i < count; i++) {
    // 13 bytes = 104 bits; the first 100 make the 20 characters.
    const bytes = random(13);
    let bits = 0n;
    for (const b of bytes) bits = (bits << 8n) | BigInt(b);
    bits >>= 4n;
    let text = '';
    for (let c = CODE_CHARS - 1; c >= 0; c--) text += CROCKFORD[Number((bits >> BigInt(c * 5)) & 31n)];
    codes.push(text.match(/.{5}/gu)?.join('-') ?? text);
  }
  return codes;
}

/**
 * The canonical form of a typed code: upper case, separators removed, Crockford's look-alikes
 * mapped (O -> 0, I/L -> 1).
 * @throws ClientError INVALID_ARGUMENT unless it is 20 base32 characters.
 */
export function normalizeBackupCode(code: string): string {
  if (typeof code !== 'string' || code.length > 64) throw new ClientError('INVALID_ARGUMENT', 'backupCode: a string');
  const text = code.toUpperCase().replace(/[\s-]/gu, '').replace(/O/gu, '0').replace(/[IL]/gu, '1');
  if (text.length !== CODE_CHARS || [...text].some((ch) => !CROCKFORD.includes(ch))) {
    throw new ClientError(
      'INVALID_ARGUMENT',
      'backupCode: 20 characters of Crockford base32 (e.g. XXXXX-XXXXX-XXXXX-XXXXX)',
    );
  }
  return text;
}

/** A decoded key envelope. */
interface Envelope {
  /** 0: under the account key; 1: under a backup code. */
  readonly kind: 0 | 1;
  readonly params: CodeKdfParams;
  readonly salt: Uint8Array;
  readonly nonce: Uint8Array;
  readonly sealed: Uint8Array;
}

function envelopeHeader(kind: number, params: CodeKdfParams, salt: Uint8Array, nonce: Uint8Array): Uint8Array {
  return concatBytes(
    Uint8Array.of(ENVELOPE_VERSION, kind),
    u32be(params.t),
    u32be(params.m),
    Uint8Array.of(params.p),
    salt,
    nonce,
  );
}

/** `version 1 || kind 1 || t 4 || m 4 || p 1 || salt 16 || nonce 12` (39 bytes). */
const HEADER_BYTES = 39;

function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (bytes.length !== HEADER_BYTES + ARCHIVE_KEY_BYTES + 16 || bytes[0] !== ENVELOPE_VERSION) {
    throw new ClientError('ARCHIVE_CORRUPT', 'archive key envelope is malformed or of an unknown version');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = bytes[1];
  if (kind !== 0 && kind !== 1) throw new ClientError('ARCHIVE_CORRUPT', 'archive key envelope has an unknown kind');
  return {
    kind,
    params: { t: view.getUint32(2), m: view.getUint32(6), p: bytes[10] ?? 0 },
    salt: bytes.slice(11, 11 + SALT),
    nonce: bytes.slice(11 + SALT, HEADER_BYTES),
    sealed: bytes.slice(HEADER_BYTES),
  };
}

/** The slot-0 wrapping key: HKDF-SHA256 of the account secret key (the seed phrase gives the same). */
function accountWrapKey(provider: CryptoProvider, accountSecretKey: Uint8Array, salt: Uint8Array): Uint8Array {
  return provider.hkdfSha256(accountSecretKey, salt, ACCOUNT_INFO, 32);
}

/** The code wrapping key: Argon2id of the normalised code. */
export function codeWrapKey(
  provider: CryptoProvider,
  code: string,
  salt: Uint8Array,
  params: CodeKdfParams,
): Uint8Array {
  return provider.argon2id(utf8ToBytes(normalizeBackupCode(code)), salt, { ...params, dkLen: 32 });
}

function seal(
  provider: CryptoProvider,
  random: RandomSource,
  kind: 0 | 1,
  wrapKey: Uint8Array,
  params: CodeKdfParams,
  salt: Uint8Array,
  slot: number,
  archiveKey: Uint8Array,
): Uint8Array {
  const nonce = random(NONCE);
  const header = envelopeHeader(kind, params, salt, nonce);
  // The slot is authenticated too, so the relay cannot move an envelope to another slot.
  const sealed = provider.aesGcmEncrypt(wrapKey, nonce, archiveKey, concatBytes(header, Uint8Array.of(slot)));
  return concatBytes(header, sealed);
}

/** Slot 0: K under the account key. */
export function wrapForAccount(
  provider: CryptoProvider,
  random: RandomSource,
  accountSecretKey: Uint8Array,
  archiveKey: Uint8Array,
): Uint8Array {
  const salt = random(SALT);
  const kek = accountWrapKey(provider, accountSecretKey, salt);
  try {
    return seal(provider, random, 0, kek, { t: 0, m: 0, p: 0 }, salt, 0, archiveKey);
  } finally {
    kek.fill(0);
  }
}

/**
 * Slots 1..n: K under each code. One salt serves every code of a setup (each code is an
 * independent 100-bit secret), so opening with a code costs one Argon2id run, not eight.
 */
export function wrapForCodes(
  provider: CryptoProvider,
  random: RandomSource,
  codes: readonly string[],
  archiveKey: Uint8Array,
  params: CodeKdfParams = DEFAULT_CODE_KDF,
): Uint8Array[] {
  const salt = random(SALT);
  return codes.map((code, i) => {
    const kek = codeWrapKey(provider, code, salt, params);
    try {
      return seal(provider, random, 1, kek, params, salt, i + 1, archiveKey);
    } finally {
      kek.fill(0);
    }
  });
}

function tryOpen(provider: CryptoProvider, kek: Uint8Array, env: Envelope, slot: number, bytes: Uint8Array) {
  try {
    const aad = concatBytes(bytes.subarray(0, HEADER_BYTES), Uint8Array.of(slot));
    return provider.aesGcmDecrypt(kek, env.nonce, env.sealed, aad);
  } catch {
    return undefined;
  }
}

/**
 * Open the slot-0 envelope with the account secret key.
 * @throws ClientError ARCHIVE_CORRUPT when it does not open (another account's, or altered).
 */
export function unwrapWithAccount(
  provider: CryptoProvider,
  accountSecretKey: Uint8Array,
  bytes: Uint8Array,
): Uint8Array {
  const env = decodeEnvelope(bytes);
  if (env.kind !== 0) throw new ClientError('ARCHIVE_CORRUPT', 'slot 0 does not hold an account envelope');
  const kek = accountWrapKey(provider, accountSecretKey, env.salt);
  const key = tryOpen(provider, kek, env, 0, bytes);
  kek.fill(0);
  if (!key) throw new ClientError('ARCHIVE_CORRUPT', 'the archive key envelope does not open with this account');
  return key;
}

/**
 * Find the code envelope a backup code opens (one Argon2id run per distinct salt).
 * @returns the slot and K, or undefined when no envelope opens.
 * @throws ClientError INVALID_ARGUMENT for a malformed code.
 */
export function unwrapWithCode(
  provider: CryptoProvider,
  code: string,
  envelopes: readonly { readonly slot: number; readonly envelope: Uint8Array }[],
): { slot: number; key: Uint8Array } | undefined {
  normalizeBackupCode(code);
  const keks = new Map<string, Uint8Array>();
  try {
    for (const { slot, envelope } of envelopes) {
      if (slot < 1) continue;
      let env: Envelope;
      try {
        env = decodeEnvelope(envelope);
      } catch {
        continue;
      }
      const { t, m, p } = env.params;
      if (env.kind !== 1 || t < 1 || t > MAX_CODE_KDF.t || p < 1 || p > MAX_CODE_KDF.p || m < 8 * p) continue;
      if (m > MAX_CODE_KDF.m) continue;
      const id = `${[...env.salt].join(',')}/${t}/${m}/${p}`;
      let kek = keks.get(id);
      if (!kek) {
        kek = codeWrapKey(provider, code, env.salt, env.params);
        keks.set(id, kek);
      }
      const key = tryOpen(provider, kek, env, slot, envelope);
      if (key) return { slot, key };
    }
    return undefined;
  } finally {
    for (const k of keks.values()) k.fill(0);
  }
}

/** Padded length: the next multiple of 1/16 of the enclosing power of two (at least 256). */
function paddedLength(n: number): number {
  const step = Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(n, 1))) / 16);
  return Math.ceil(n / step) * step;
}

/**
 * Encrypt an archive payload (already encodeWire-encoded) under K:
 * `"VXAR" || version 1 || nonce 12 || AES-256-GCM(K, nonce, u32be(len) || payload || zeros, aad = first 5 bytes)`.
 * The padding hides the exact size of the history (at most 1/16 overhead).
 */
export function sealArchive(
  provider: CryptoProvider,
  random: RandomSource,
  key: Uint8Array,
  payload: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const plain = new Uint8Array(paddedLength(4 + payload.length));
  plain.set(u32be(payload.length), 0);
  plain.set(payload, 4);
  const head = concatBytes(ARCHIVE_MAGIC, Uint8Array.of(ARCHIVE_FORMAT_VERSION));
  const nonce = random(NONCE);
  const sealed = provider.aesGcmEncrypt(key, nonce, plain, head);
  const out = new Uint8Array(head.length + NONCE + sealed.length);
  out.set(head, 0);
  out.set(nonce, head.length);
  out.set(sealed, head.length + NONCE);
  return out;
}

/**
 * Decrypt an archive blob.
 * @throws ClientError ARCHIVE_CORRUPT when it is not an archive of a known version, does not
 *   authenticate under K, or its padding is malformed.
 */
export function openArchive(provider: CryptoProvider, key: Uint8Array, blob: Uint8Array): Uint8Array {
  const head = blob.subarray(0, 5);
  if (blob.length < 5 + NONCE + 16 + 4 || !ARCHIVE_MAGIC.every((b, i) => head[i] === b)) {
    throw new ClientError('ARCHIVE_CORRUPT', 'not a VAULTEX history archive');
  }
  if (head[4] !== ARCHIVE_FORMAT_VERSION) throw new ClientError('ARCHIVE_CORRUPT', 'archive format version unknown');
  let plain: Uint8Array;
  try {
    plain = provider.aesGcmDecrypt(key, blob.subarray(5, 5 + NONCE), blob.subarray(5 + NONCE), head);
  } catch {
    throw new ClientError('ARCHIVE_CORRUPT', 'the archive does not decrypt with its key');
  }
  const length = new DataView(plain.buffer, plain.byteOffset, plain.byteLength).getUint32(0);
  if (length > plain.length - 4) throw new ClientError('ARCHIVE_CORRUPT', 'archive padding is malformed');
  return plain.slice(4, 4 + length);
}

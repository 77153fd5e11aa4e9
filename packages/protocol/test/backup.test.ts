import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BACKUP_HEADER_LENGTH,
  BACKUP_KDF_LIMITS,
  BackupDecryptionError,
  type CryptoProvider,
  DEFAULT_BACKUP_KDF_PARAMS,
  decryptBackup,
  encryptBackup,
  InvalidArgumentError,
  isProtocolError,
  ProtocolError,
  type RandomSource,
  readBackupHeader,
  seededRandom,
  UnsupportedVersionError,
  utf8ToBytes,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { hex, providers, rng, toHex } from './support.js';

interface BackupVector {
  password: string;
  passwordNfkc: string;
  passwordNfkcUtf8: string;
  seed: string;
  t: number;
  m: number;
  p: number;
  salt: string;
  nonce: string;
  header: string;
  key: string;
  plaintext: string;
  backup: string;
}

const { vectors } = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'backup.json'), 'utf8')) as {
  vectors: BackupVector[];
};
const vector = vectors[0]!;

// Cheap Argon2id parameters: the tests exercise the format, not the cost.
const SMALL = { t: 1, m: 64, p: 1 } as const;
const PASSWORD = 'correct horse battery staple';
const DATA = utf8ToBytes('contacts, sessions and settings');
// Tampered headers may name up to this much memory and still be derived; more is refused.
const LIMIT = { maxMemoryKiB: 1024 } as const;

function flip(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[index]! ^= mask;
  return out;
}

function withU32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  new DataView(out.buffer).setUint32(offset, value, false);
  return out;
}

function withByte(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[offset] = value;
  return out;
}

/** What decrypting threw (or 'ok'). */
function attempt(fn: () => unknown): unknown {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e;
  }
}

describe.each(providers)('encrypted backups ($name)', (provider: CryptoProvider) => {
  const make = (data: Uint8Array = DATA, password = PASSWORD, random: RandomSource = rng(1)) =>
    encryptBackup(data, password, { provider, random, params: SMALL });

  it('round trips', () => {
    for (const data of [new Uint8Array(0), DATA, rng(2)(5000)]) {
      const file = make(data);
      expect(file.length).toBe(BACKUP_HEADER_LENGTH + data.length + 16);
      expect(toHex(decryptBackup(file, PASSWORD, { provider }))).toBe(toHex(data));
    }
  });

  it('uses fresh salt and nonce: the same input encrypts differently', () => {
    const a = make(DATA, PASSWORD, rng(3));
    const b = make(DATA, PASSWORD, rng(4));
    expect(toHex(a)).not.toBe(toHex(b));
    expect(toHex(decryptBackup(b, PASSWORD, { provider }))).toBe(toHex(DATA));
  });

  it('reproduces the published vector (docs/PROTOCOL.md) and opens it', () => {
    const file = encryptBackup(hex(vector.plaintext), vector.password, {
      provider,
      random: seededRandom(hex(vector.seed)),
      params: { t: vector.t, m: vector.m, p: vector.p },
    });
    expect(toHex(file)).toBe(vector.backup);
    expect(toHex(file.subarray(0, BACKUP_HEADER_LENGTH))).toBe(vector.header);
    expect(toHex(provider.argon2id(hex(vector.passwordNfkcUtf8), hex(vector.salt), { ...vector, dkLen: 32 }))).toBe(
      vector.key,
    );
    // The password is NFKC-normalised: the full-width / ligature / decomposed form and its
    // normal form open the same backup.
    expect(vector.password.normalize('NFKC')).toBe(vector.passwordNfkc);
    expect(toHex(utf8ToBytes(vector.passwordNfkc))).toBe(vector.passwordNfkcUtf8);
    expect(toHex(decryptBackup(hex(vector.backup), vector.password, { provider }))).toBe(vector.plaintext);
    expect(toHex(decryptBackup(hex(vector.backup), vector.passwordNfkc, { provider }))).toBe(vector.plaintext);
    const header = readBackupHeader(hex(vector.backup));
    expect(header).toMatchObject({ version: 1, kdf: 'argon2id', params: { t: 2, m: 64, p: 1 } });
    expect(toHex(header.salt)).toBe(vector.salt);
    expect(toHex(header.nonce)).toBe(vector.nonce);
  });

  it('refuses a wrong password with BackupDecryptionError', () => {
    const file = make();
    for (const wrong of ['', 'correct horse battery stapl', 'Correct horse battery staple', `${PASSWORD} `]) {
      expect(() => decryptBackup(file, wrong, { provider })).toThrow(BackupDecryptionError);
    }
  });

  it('refuses every flipped byte, header or ciphertext, with a typed error', () => {
    const file = make(utf8ToBytes('short'));
    for (let i = 0; i < file.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const error = attempt(() => decryptBackup(flip(file, i, mask), PASSWORD, { provider, ...LIMIT }));
        expect(error, `byte ${i} mask ${mask}`).toBeInstanceOf(ProtocolError);
        // Only the version and KDF bytes may say "unsupported"; everything else is "cannot open".
        const allowed = i === 4 || i === 5 ? ['UNSUPPORTED_VERSION'] : ['BACKUP_DECRYPTION_FAILED'];
        expect(allowed, `byte ${i} mask ${mask}`).toContain((error as ProtocolError).code);
      }
    }
  });

  it('refuses each header field tampered', () => {
    const file = make();
    const open = (bytes: Uint8Array) => () => decryptBackup(bytes, PASSWORD, { provider, ...LIMIT });
    // magic
    expect(open(withByte(file, 0, 0x57))).toThrow(BackupDecryptionError);
    expect(open(withByte(file, 3, 0x00))).toThrow(BackupDecryptionError);
    // format version and KDF id
    for (const v of [0, 2, 255]) {
      expect(open(withByte(file, 4, v))).toThrow(UnsupportedVersionError);
      expect(open(withByte(file, 5, v))).toThrow(UnsupportedVersionError);
    }
    // t, m, p within the limits: derived, then the tag (header is AAD) fails
    expect(open(withU32(file, 6, 2))).toThrow(BackupDecryptionError);
    expect(open(withU32(file, 10, 72))).toThrow(BackupDecryptionError);
    expect(open(withByte(file, 14, 2))).toThrow(BackupDecryptionError);
    // salt and nonce
    expect(open(flip(file, 15))).toThrow(BackupDecryptionError);
    expect(open(flip(file, 30))).toThrow(BackupDecryptionError);
    expect(open(flip(file, 31))).toThrow(BackupDecryptionError);
    expect(open(flip(file, 42))).toThrow(BackupDecryptionError);
  });

  it('refuses absurd KDF parameters before deriving anything', () => {
    const file = make();
    let derived = 0;
    const counting: CryptoProvider = {
      ...provider,
      argon2id: (...args) => {
        derived++;
        return provider.argon2id(...args);
      },
    };
    const absurd = [
      withU32(file, 6, 0), // t = 0
      withU32(file, 6, 21), // t > 20
      withU32(file, 6, 0xffffffff),
      withU32(file, 10, 0), // m = 0
      withU32(file, 10, 7), // m < 8p
      withU32(withByte(file, 14, 4), 10, 31), // m < 8p with p = 4
      withU32(file, 10, BACKUP_KDF_LIMITS.maxM + 1), // m > 1 GiB
      withU32(file, 10, 0xffffffff),
      withByte(file, 14, 0), // p = 0
      withByte(file, 14, 17), // p > 16
      withByte(file, 14, 255),
    ];
    for (const bytes of absurd) {
      expect(() => readBackupHeader(bytes)).toThrow(BackupDecryptionError);
      expect(() => decryptBackup(bytes, PASSWORD, { provider: counting })).toThrow(BackupDecryptionError);
    }
    // Within the hard limits but above the caller's own limit: also refused up front.
    expect(() => decryptBackup(withU32(file, 10, 2048), PASSWORD, { provider: counting, ...LIMIT })).toThrow(
      BackupDecryptionError,
    );
    expect(derived).toBe(0);
    expect(toHex(decryptBackup(file, PASSWORD, { provider: counting }))).toBe(toHex(DATA));
    expect(derived).toBe(1);
  });

  it('refuses truncated input and garbage', () => {
    const file = make();
    for (let n = 0; n < file.length; n++) {
      const error = attempt(() => decryptBackup(file.subarray(0, n), PASSWORD, { provider }));
      expect(isProtocolError(error, 'BACKUP_DECRYPTION_FAILED'), `length ${n}`).toBe(true);
    }
    const garbage = [
      new Uint8Array(0),
      new Uint8Array(100),
      rng(5)(100),
      utf8ToBytes('VXBK'),
      utf8ToBytes('{"backup": "json"}'),
      Uint8Array.from([...utf8ToBytes('VXBK'), 1, 1, ...new Uint8Array(60)]), // t = 0
    ];
    for (const bytes of garbage) {
      expect(() => decryptBackup(bytes, PASSWORD, { provider })).toThrow(BackupDecryptionError);
    }
    // Appended bytes change the ciphertext, so the tag fails.
    expect(() => decryptBackup(Uint8Array.from([...file, 0]), PASSWORD, { provider })).toThrow(BackupDecryptionError);
  });

  it('refuses misuse with InvalidArgumentError', () => {
    const random = rng(6);
    const bad: [string, () => unknown][] = [
      ['plaintext string', () => encryptBackup('data' as unknown as Uint8Array, PASSWORD, { provider, random })],
      ['password bytes', () => encryptBackup(DATA, DATA as unknown as string, { provider, random, params: SMALL })],
      ['empty password', () => encryptBackup(DATA, '', { provider, random, params: SMALL })],
      ['huge password', () => encryptBackup(DATA, 'x'.repeat(5000), { provider, random, params: SMALL })],
      ['t = 0', () => encryptBackup(DATA, PASSWORD, { provider, random, params: { ...SMALL, t: 0 } })],
      ['t = 21', () => encryptBackup(DATA, PASSWORD, { provider, random, params: { ...SMALL, t: 21 } })],
      ['t = 1.5', () => encryptBackup(DATA, PASSWORD, { provider, random, params: { ...SMALL, t: 1.5 } })],
      ['m < 8p', () => encryptBackup(DATA, PASSWORD, { provider, random, params: { t: 1, m: 15, p: 2 } })],
      ['m > 1 GiB', () => encryptBackup(DATA, PASSWORD, { provider, random, params: { ...SMALL, m: 2 ** 20 + 1 } })],
      ['p = 0', () => encryptBackup(DATA, PASSWORD, { provider, random, params: { ...SMALL, p: 0 } })],
      ['p = 17', () => encryptBackup(DATA, PASSWORD, { provider, random, params: { t: 1, m: 1024, p: 17 } })],
      [
        'params null',
        () => encryptBackup(DATA, PASSWORD, { provider, random, params: null as unknown as { t: number } }),
      ],
      ['short random', () => encryptBackup(DATA, PASSWORD, { provider, random: () => new Uint8Array(4) })],
      ['no options', () => encryptBackup(DATA, PASSWORD, undefined as unknown as { provider: never; random: never })],
      ['decrypt string', () => decryptBackup('VXBK' as unknown as Uint8Array, PASSWORD, { provider })],
      ['decrypt password', () => decryptBackup(make(), 42 as unknown as string, { provider })],
      ['maxMemoryKiB 0', () => decryptBackup(make(), PASSWORD, { provider, maxMemoryKiB: 0 })],
      ['maxMemoryKiB > 1 GiB', () => decryptBackup(make(), PASSWORD, { provider, maxMemoryKiB: 2 ** 21 })],
      ['header of a string', () => readBackupHeader([1, 2] as unknown as Uint8Array)],
    ];
    for (const [label, fn] of bad) {
      expect(attempt(fn), label).toBeInstanceOf(InvalidArgumentError);
    }
  });

  it('uses the documented defaults when no params are given', () => {
    expect(DEFAULT_BACKUP_KDF_PARAMS).toEqual({ t: 3, m: 65536, p: 1 });
    // Only the header matters here, so a stub provider skips the 64 MiB derivation.
    const stub: CryptoProvider = { ...provider, argon2id: () => new Uint8Array(32) };
    const file = encryptBackup(DATA, PASSWORD, { provider: stub, random: rng(7) });
    expect(readBackupHeader(file).params).toEqual(DEFAULT_BACKUP_KDF_PARAMS);
    const partial = encryptBackup(DATA, PASSWORD, { provider: stub, random: rng(7), params: { t: 5 } });
    expect(readBackupHeader(partial).params).toEqual({ t: 5, m: 65536, p: 1 });
  });

  it('readBackupHeader reports what a UI needs and never derives', () => {
    const file = make(rng(8)(100));
    const header = readBackupHeader(file);
    expect(header).toMatchObject({ version: 1, kdf: 'argon2id', params: SMALL, ciphertextLength: 116 });
    expect(header.salt).toHaveLength(16);
    expect(header.nonce).toHaveLength(12);
    expect(toHex(file.subarray(15, 31))).toBe(toHex(header.salt));
    expect(toHex(file.subarray(31, 43))).toBe(toHex(header.nonce));
  });
});

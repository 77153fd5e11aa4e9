import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { mnemonicToSeedSync } from '@scure/bip39';
import {
  accountFromSeedPhrase,
  type CryptoProvider,
  certifyDevice,
  createDevice,
  type DeviceListEntry,
  decodeDeviceCertificate,
  decodeDeviceList,
  encodeDeviceCertificate,
  encodeDeviceList,
  formatUserId,
  generateEd25519KeyPair,
  generateSeedPhrase,
  InvalidArgumentError,
  InvalidCertificateError,
  InvalidSeedPhraseError,
  isProtocolError,
  isValidSeedPhrase,
  MAX_DEVICES,
  nobleProvider,
  ProtocolError,
  parseUserId,
  signDeviceList,
  UnsupportedVersionError,
  userIdFromIdentityKey,
  verifyDeviceCertificate,
  verifyDeviceList,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { providers, rng, toHex } from './support.js';

// 256 zero bits: "abandon" x 23 + "art" (valid checksum).
const ZERO_PHRASE = `${'abandon '.repeat(23)}art`;
const NOW = 1_750_000_000_000;

function flip(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const out = Uint8Array.from(bytes);
  out[index]! ^= mask;
  return out;
}

/**
 * Deep copy with every byte array as hex, so structures compare by content whatever
 * Uint8Array subclass a provider returned.
 */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** Run `fn` and return what it threw (undefined if nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe.each(providers)('seed phrase and account key ($name)', (provider: CryptoProvider) => {
  it('restoring from the seed phrase gives the same account key', () => {
    const phrase = generateSeedPhrase(rng(1));
    expect(phrase.split(' ')).toHaveLength(24);
    expect(isValidSeedPhrase(phrase)).toBe(true);
    const a = accountFromSeedPhrase(phrase, provider);
    const b = accountFromSeedPhrase(phrase, provider);
    expect(toHex(a.secretKey)).toBe(toHex(b.secretKey));
    expect(toHex(a.publicKey)).toBe(toHex(b.publicKey));
    expect(toHex(a.userId)).toBe(toHex(b.userId));
    expect(toHex(provider.ed25519PublicKey(a.secretKey))).toBe(toHex(a.publicKey));
    // A different phrase gives a different account.
    expect(toHex(accountFromSeedPhrase(generateSeedPhrase(rng(2)), provider).publicKey)).not.toBe(toHex(a.publicKey));
  });

  it('follows the documented derivation: HKDF(BIP39-Seed(phrase, ""), "", info, 32)', () => {
    const seed = mnemonicToSeedSync(ZERO_PHRASE, '');
    const expected = hkdf(sha256, seed, undefined, new TextEncoder().encode('VAULTEX account identity key v1'), 32);
    const account = accountFromSeedPhrase(ZERO_PHRASE, provider);
    expect(toHex(account.secretKey)).toBe(toHex(expected));
    expect(toHex(account.userId)).toBe(toHex(sha256(account.publicKey).slice(0, 16)));
  });

  it('gives the same key as the other provider', () => {
    const phrase = generateSeedPhrase(rng(3));
    expect(toHex(accountFromSeedPhrase(phrase, provider).publicKey)).toBe(
      toHex(accountFromSeedPhrase(phrase, nobleProvider).publicKey),
    );
  });

  it('accepts messy input: extra spaces, tabs, newlines, upper case', () => {
    const phrase = generateSeedPhrase(rng(4));
    const clean = accountFromSeedPhrase(phrase, provider);
    const words = phrase.split(' ');
    const messy = [
      `  ${phrase.toUpperCase()}  `,
      words.join('   '),
      words.join('\t'),
      `${words.slice(0, 12).join(' ')}\n${words.slice(12).join(' ')}\n`,
      words.map((w, i) => (i % 2 ? w.toUpperCase() : w)).join(' '),
    ];
    for (const input of messy) {
      expect(isValidSeedPhrase(input)).toBe(true);
      expect(toHex(accountFromSeedPhrase(input, provider).publicKey)).toBe(toHex(clean.publicKey));
    }
  });

  it('refuses a wrong checksum, 12 words, an unknown word and a non-string', () => {
    const words = ZERO_PHRASE.split(' ');
    const wrongChecksum = [...words.slice(0, 23), 'abandon'].join(' ');
    const twelve = `${'abandon '.repeat(11)}about`; // a valid 12-word BIP-39 phrase
    const unknown = [...words.slice(0, 23), 'vaultex'].join(' ');
    const twentyFive = `${ZERO_PHRASE} abandon`;
    for (const bad of [wrongChecksum, twelve, unknown, twentyFive, '', '   ']) {
      expect(isValidSeedPhrase(bad)).toBe(false);
      expect(() => accountFromSeedPhrase(bad, provider)).toThrow(InvalidSeedPhraseError);
    }
    for (const bad of [undefined, null, 42, ['abandon'], new Uint8Array(32), {}]) {
      expect(isValidSeedPhrase(bad)).toBe(false);
      expect(() => accountFromSeedPhrase(bad as unknown as string, provider)).toThrow(InvalidArgumentError);
    }
    expect(() => accountFromSeedPhrase('abandon '.repeat(300), provider)).toThrow(InvalidArgumentError);
  });
});

describe('user ID', () => {
  const provider = nobleProvider;

  it('is the first 16 bytes of SHA-256 of the identity key', () => {
    const key = rng(10)(32);
    expect(toHex(userIdFromIdentityKey(key, provider))).toBe(toHex(sha256(key).slice(0, 16)));
    expect(() => userIdFromIdentityKey(new Uint8Array(31), provider)).toThrow(InvalidArgumentError);
  });

  it('formats as 8 groups of 4 upper-case hex digits joined by U+00B7 and parses back', () => {
    for (let label = 0; label < 20; label++) {
      const id = userIdFromIdentityKey(rng(100 + label)(32), provider);
      const text = formatUserId(id);
      expect(text).toMatch(/^[0-9A-F]{4}(\u00b7[0-9A-F]{4}){7}$/u);
      expect(text.replaceAll('\u00b7', '')).toBe(toHex(id).toUpperCase());
      expect(toHex(parseUserId(text)!)).toBe(toHex(id));
      expect(toHex(parseUserId(text.toLowerCase())!)).toBe(toHex(id));
      expect(toHex(parseUserId(toHex(id))!)).toBe(toHex(id));
      expect(toHex(parseUserId(text.replaceAll('\u00b7', ' '))!)).toBe(toHex(id));
      expect(toHex(parseUserId(text.replaceAll('\u00b7', '-'))!)).toBe(toHex(id));
    }
    expect(formatUserId(Uint8Array.from({ length: 16 }, (_, i) => i * 17))).toBe(
      '0011\u00b72233\u00b74455\u00b76677\u00b78899\u00b7AABB\u00b7CCDD\u00b7EEFF',
    );
  });

  it('parseUserId returns undefined for anything that is not 32 hex digits', () => {
    for (const bad of ['', 'abc', '0'.repeat(31), '0'.repeat(33), `${'0'.repeat(31)}g`, 'x'.repeat(65), 7, null, {}]) {
      expect(parseUserId(bad)).toBeUndefined();
    }
  });

  it('formatUserId refuses a wrong length', () => {
    expect(() => formatUserId(new Uint8Array(15))).toThrow(InvalidArgumentError);
    expect(() => formatUserId('00' as unknown as Uint8Array)).toThrow(InvalidArgumentError);
  });
});

describe.each(providers)('device certificates ($name)', (provider: CryptoProvider) => {
  const account = accountFromSeedPhrase(generateSeedPhrase(rng(20)), provider);
  const other = accountFromSeedPhrase(generateSeedPhrase(rng(21)), provider);

  it('sign, verify, encode, decode', () => {
    const device = createDevice(account, 1, NOW, provider, rng(22));
    const cert = device.certificate;
    expect(cert.deviceId).toBe(1);
    expect(toHex(cert.deviceKey)).toBe(toHex(device.publicKey));
    expect(toHex(cert.accountKey)).toBe(toHex(account.publicKey));
    expect(() => verifyDeviceCertificate(cert, provider)).not.toThrow();
    expect(() => verifyDeviceCertificate(cert, provider, account.publicKey)).not.toThrow();
    const decoded = decodeDeviceCertificate(encodeDeviceCertificate(cert));
    expect(plain(decoded)).toEqual(plain(cert));
    expect(() => verifyDeviceCertificate(decoded, provider, account.publicKey)).not.toThrow();
  });

  it('refuses a certificate of another account, or one forged with another account key', () => {
    const cert = createDevice(other, 2, NOW, provider, rng(23)).certificate;
    expect(() => verifyDeviceCertificate(cert, provider, account.publicKey)).toThrow(InvalidCertificateError);
    // Claiming to be `account` while signed by `other`.
    const forged = { ...cert, accountKey: account.publicKey };
    expect(() => verifyDeviceCertificate(forged, provider)).toThrow(InvalidCertificateError);
    expect(() => verifyDeviceCertificate(forged, provider, account.publicKey)).toThrow(InvalidCertificateError);
    // Any changed field breaks the signature.
    const genuine = createDevice(account, 3, NOW, provider, rng(24)).certificate;
    for (const changed of [
      { ...genuine, deviceId: 4 },
      { ...genuine, createdAt: NOW + 1 },
      { ...genuine, deviceKey: flip(genuine.deviceKey, 0) },
      { ...genuine, signature: flip(genuine.signature, 63) },
    ]) {
      expect(() => verifyDeviceCertificate(changed, provider, account.publicKey)).toThrow(InvalidCertificateError);
    }
  });

  it('any byte flipped in the encoded certificate is refused with a typed error', () => {
    const encoded = encodeDeviceCertificate(createDevice(account, 5, NOW, provider, rng(25)).certificate);
    for (let i = 0; i < encoded.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const error = thrown(() => {
          const cert = decodeDeviceCertificate(flip(encoded, i, mask));
          verifyDeviceCertificate(cert, provider, account.publicKey);
        });
        expect(error, `byte ${i} mask ${mask}`).toBeInstanceOf(ProtocolError);
        expect(
          isProtocolError(error, 'INVALID_CERTIFICATE') || isProtocolError(error, 'UNSUPPORTED_VERSION'),
          `byte ${i} mask ${mask}: ${(error as Error).message}`,
        ).toBe(true);
      }
    }
  });

  it('decoding refuses an unknown version and malformed input', () => {
    const encoded = encodeDeviceCertificate(createDevice(account, 6, NOW, provider, rng(26)).certificate);
    const v2 = Uint8Array.from(encoded);
    v2[1] = 2; // fixarray header, then the version as a positive fixint
    expect(() => decodeDeviceCertificate(v2)).toThrow(UnsupportedVersionError);
    expect(() => decodeDeviceCertificate(encoded.subarray(0, encoded.length - 1))).toThrow(InvalidCertificateError);
    expect(() => decodeDeviceCertificate(new Uint8Array(0))).toThrow(InvalidCertificateError);
  });

  it('certifyDevice refuses bad arguments', () => {
    const key = generateEd25519KeyPair(provider, rng(27)).publicKey;
    expect(() => certifyDevice(account, 0, key, NOW, provider)).toThrow(InvalidArgumentError);
    expect(() => certifyDevice(account, 2 ** 32, key, NOW, provider)).toThrow(InvalidArgumentError);
    expect(() => certifyDevice(account, 1, key.subarray(1), NOW, provider)).toThrow(InvalidArgumentError);
    expect(() => certifyDevice(account, 1, key, -1, provider)).toThrow(InvalidArgumentError);
  });
});

describe.each(providers)('device lists ($name)', (provider: CryptoProvider) => {
  const account = accountFromSeedPhrase(generateSeedPhrase(rng(30)), provider);
  const other = accountFromSeedPhrase(generateSeedPhrase(rng(31)), provider);
  const random = rng(32);
  const entries = (count: number, firstId = 1): DeviceListEntry[] =>
    Array.from({ length: count }, (_, i) => ({
      deviceId: firstId + i,
      deviceKey: random(32),
      name: `device ${firstId + i}`,
    }));

  it('sign, verify, encode, decode; entries sorted; counter kept', () => {
    const devices = [...entries(3, 10)].reverse();
    const list = signDeviceList(account, 41, devices, NOW, provider);
    expect(list.devices.map((d) => d.deviceId)).toEqual([10, 11, 12]);
    expect(() => verifyDeviceList(list, provider, account.publicKey)).not.toThrow();
    const decoded = decodeDeviceList(encodeDeviceList(list));
    expect(plain(decoded)).toEqual(plain(list));
    expect(decoded.counter).toBe(41);
    expect(decoded.signedAt).toBe(NOW);
    expect(() => verifyDeviceList(decoded, provider, account.publicKey)).not.toThrow();
  });

  it('refuses duplicate device ids, when signing and when verifying', () => {
    const [a, b] = entries(2);
    const dup = [a!, { ...b!, deviceId: a!.deviceId }];
    expect(() => signDeviceList(account, 1, dup, NOW, provider)).toThrow(InvalidCertificateError);
    const list = signDeviceList(account, 1, [a!, b!], NOW, provider);
    expect(() => verifyDeviceList({ ...list, devices: dup }, provider)).toThrow(InvalidCertificateError);
    // A duplicate smuggled into the wire form is refused at verification.
    const smuggled = decodeDeviceList(encodeDeviceList({ ...list, devices: dup }));
    expect(() => verifyDeviceList(smuggled, provider)).toThrow(InvalidCertificateError);
  });

  it(`refuses more than ${MAX_DEVICES} devices and an empty list`, () => {
    expect(() => signDeviceList(account, 1, entries(MAX_DEVICES), NOW, provider)).not.toThrow();
    expect(() => signDeviceList(account, 1, entries(MAX_DEVICES + 1), NOW, provider)).toThrow(InvalidCertificateError);
    expect(() => signDeviceList(account, 1, [], NOW, provider)).toThrow(InvalidCertificateError);
    const list = signDeviceList(account, 1, entries(MAX_DEVICES), NOW, provider);
    const oversized = encodeDeviceList({ ...list, devices: [...list.devices, ...entries(1, 1000)] });
    expect(() => decodeDeviceList(oversized)).toThrow(InvalidCertificateError);
  });

  it('refuses another account, a changed counter, entry or signature', () => {
    const list = signDeviceList(account, 7, entries(2), NOW, provider);
    expect(() => verifyDeviceList(list, provider, other.publicKey)).toThrow(InvalidCertificateError);
    const forged = signDeviceList(other, 7, entries(2), NOW, provider);
    expect(() => verifyDeviceList({ ...forged, accountKey: account.publicKey }, provider)).toThrow(
      InvalidCertificateError,
    );
    for (const changed of [
      { ...list, counter: 8 },
      { ...list, signedAt: NOW + 1 },
      { ...list, devices: list.devices.slice(0, 1) },
      { ...list, devices: [{ ...list.devices[0]!, name: 'renamed' }, list.devices[1]!] },
      { ...list, signature: flip(list.signature, 0) },
    ]) {
      expect(() => verifyDeviceList(changed, provider, account.publicKey)).toThrow(InvalidCertificateError);
    }
  });

  it('any byte flipped in the encoded list is refused with a typed error', () => {
    const encoded = encodeDeviceList(signDeviceList(account, 3, entries(2), NOW, provider));
    for (let i = 0; i < encoded.length; i++) {
      const error = thrown(() => verifyDeviceList(decodeDeviceList(flip(encoded, i)), provider, account.publicKey));
      expect(error, `byte ${i}`).toBeInstanceOf(ProtocolError);
      expect(
        isProtocolError(error, 'INVALID_CERTIFICATE') || isProtocolError(error, 'UNSUPPORTED_VERSION'),
        `byte ${i}`,
      ).toBe(true);
    }
  });
});

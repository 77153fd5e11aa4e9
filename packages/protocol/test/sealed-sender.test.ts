import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  accountFromSeedPhrase,
  type CryptoProvider,
  certifyDevice,
  concatBytes,
  createDevice,
  type DeviceIdentity,
  decodeDeviceCertificate,
  encodeDeviceCertificate,
  encodeWire,
  equalBytes,
  generateEd25519KeyPair,
  generateSeedPhrase,
  InvalidArgumentError,
  InvalidCertificateError,
  InvalidKeyError,
  InvalidMessageError,
  isProtocolError,
  MAX_SEALED_CONTENT,
  type RandomSource,
  seal,
  UnsupportedVersionError,
  unseal,
  userIdFromIdentityKey,
  utf8ToBytes,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { hex, providers, rng, toHex } from './support.js';

interface SealedVector {
  description: string;
  accountSecretKey: string;
  accountPublicKey: string;
  deviceSecretKey: string;
  devicePublicKey: string;
  deviceId: number;
  createdAt: number;
  certificate: string;
  recipientSecretKey: string;
  recipientPublicKey: string;
  ephemeralPrivateKey: string;
  ephemeralPublicKey: string;
  content: string;
  contentType: number;
  groupId: string | null;
  intermediate: Record<
    'recipientX25519' | 'ephemeralDh' | 'chainKey' | 'layer1Key' | 'layer1Nonce' | 'staticDh',
    string
  >;
  sealed: string;
}
const { vectors } = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'sealed-sender.json'), 'utf8')) as {
  vectors: SealedVector[];
};

/** A RandomSource that hands out exactly the given bytes. */
function fixedRandom(bytes: Uint8Array): RandomSource {
  let offset = 0;
  return (n) => {
    const out = bytes.slice(offset, offset + n);
    offset += n;
    if (out.length !== n) throw new Error('fixed random source exhausted');
    return out;
  };
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0;
}

const LABEL = utf8ToBytes('VAULTEX_SealedSender_v1');
const x25519Encoded = (k: Uint8Array) => concatBytes(Uint8Array.of(0x05), k);
const ed25519Encoded = (k: Uint8Array) => concatBytes(Uint8Array.of(0x06), k);

/**
 * The construction of docs/PROTOCOL.md "Sealed sender", written again from the text with
 * provider primitives only. It checks the vectors independently and builds envelopes
 * that `seal` refuses to build (e.g. a certificate for another key).
 */
function specSeal(
  p: CryptoProvider,
  args: {
    ephemeralPrivate: Uint8Array;
    recipientKey: Uint8Array;
    /** Layer-1 plaintext: normally Encode(Ed25519 sender device key). */
    layer1Plaintext: Uint8Array;
    /** X25519 scalar used for the static DH: normally X(sender device secret). */
    staticSecret: Uint8Array;
    /** Layer-2 plaintext: normally [1, certificate, contentType, groupId | nil, content]. */
    inner: Uint8Array;
    version?: number;
  },
): Uint8Array {
  const ePub = p.x25519PublicKey(args.ephemeralPrivate);
  const rX = p.ed25519PublicToX25519(args.recipientKey);
  const okm1 = p.hkdfSha256(
    p.x25519(args.ephemeralPrivate, rX),
    concatBytes(LABEL, x25519Encoded(rX), x25519Encoded(ePub)),
    utf8ToBytes('VAULTEX_SealedSender_v1 ephemeral'),
    76,
  );
  const ad1 = concatBytes(LABEL, x25519Encoded(ePub), ed25519Encoded(args.recipientKey));
  const layer1 = p.aesGcmEncrypt(okm1.slice(32, 64), okm1.slice(64), args.layer1Plaintext, ad1);
  const okm2 = p.hkdfSha256(
    concatBytes(okm1.slice(0, 32), p.x25519(args.staticSecret, rX)),
    concatBytes(LABEL, layer1),
    utf8ToBytes('VAULTEX_SealedSender_v1 static'),
    44,
  );
  const layer2 = p.aesGcmEncrypt(okm2.slice(0, 32), okm2.slice(32), args.inner, concatBytes(ad1, layer1));
  return encodeWire([args.version ?? 1, ePub, layer1, layer2]);
}

function innerOf(cert: Uint8Array, content: Uint8Array, contentType = 1, groupId: Uint8Array | null = null) {
  return encodeWire([1, cert, contentType, groupId, content]);
}

function expectCode(fn: () => unknown, codes: string[]): void {
  try {
    fn();
  } catch (e) {
    expect(isProtocolError(e)).toBe(true);
    expect(codes).toContain((e as { code: string }).code);
    return;
  }
  expect.fail('expected a ProtocolError');
}

describe.each(providers)('sealed sender ($name)', (p) => {
  const random = rng(0x5ea1);
  const account = accountFromSeedPhrase(generateSeedPhrase(random), p);
  const alice: DeviceIdentity = createDevice(account, 3, 1_700_000_000_000, p, random);
  const bob = generateEd25519KeyPair(p, random);
  const carol = generateEd25519KeyPair(p, random);
  const content = utf8ToBytes('meet at noon');

  describe.each(vectors)('vector: $description', (v) => {
    it('seal reproduces the sealed bytes and unseal opens them', () => {
      const cert = decodeDeviceCertificate(hex(v.certificate));
      const sealed = seal(
        {
          sender: { secretKey: hex(v.deviceSecretKey), publicKey: hex(v.devicePublicKey), certificate: cert },
          recipientKey: hex(v.recipientPublicKey),
          content: hex(v.content),
          contentType: v.contentType,
          ...(v.groupId === null ? {} : { groupId: hex(v.groupId) }),
        },
        p,
        fixedRandom(hex(v.ephemeralPrivateKey)),
      );
      expect(toHex(sealed)).toBe(v.sealed);
      const opened = unseal(sealed, { secretKey: hex(v.recipientSecretKey), publicKey: hex(v.recipientPublicKey) }, p);
      expect(toHex(opened.content)).toBe(v.content);
      expect(opened.contentType).toBe(v.contentType);
      expect(opened.groupId === undefined ? null : toHex(opened.groupId)).toBe(v.groupId);
      expect(toHex(opened.senderAccountKey)).toBe(v.accountPublicKey);
      expect(toHex(opened.senderDeviceKey)).toBe(v.devicePublicKey);
      expect(opened.senderDeviceId).toBe(v.deviceId);
    });

    it('matches the specification recomputed from primitives', () => {
      const account = { secretKey: hex(v.accountSecretKey), publicKey: hex(v.accountPublicKey) };
      expect(toHex(p.ed25519PublicKey(account.secretKey))).toBe(v.accountPublicKey);
      const cert = certifyDevice(account, v.deviceId, hex(v.devicePublicKey), v.createdAt, p);
      expect(toHex(encodeDeviceCertificate(cert))).toBe(v.certificate);
      const ePriv = hex(v.ephemeralPrivateKey);
      const rX = p.ed25519PublicToX25519(hex(v.recipientPublicKey));
      expect(toHex(rX)).toBe(v.intermediate.recipientX25519);
      expect(toHex(p.x25519PublicKey(ePriv))).toBe(v.ephemeralPublicKey);
      const dh = p.x25519(ePriv, rX);
      expect(toHex(dh)).toBe(v.intermediate.ephemeralDh);
      const okm = p.hkdfSha256(
        dh,
        concatBytes(LABEL, x25519Encoded(rX), x25519Encoded(p.x25519PublicKey(ePriv))),
        utf8ToBytes('VAULTEX_SealedSender_v1 ephemeral'),
        76,
      );
      expect(toHex(okm)).toBe(v.intermediate.chainKey + v.intermediate.layer1Key + v.intermediate.layer1Nonce);
      const staticSecret = p.ed25519SecretToX25519(hex(v.deviceSecretKey));
      expect(toHex(p.x25519(staticSecret, rX))).toBe(v.intermediate.staticDh);
      // The recipient side of the static DH gives the same secret.
      const senderX = p.ed25519PublicToX25519(hex(v.devicePublicKey));
      expect(toHex(p.x25519(p.ed25519SecretToX25519(hex(v.recipientSecretKey)), senderX))).toBe(
        v.intermediate.staticDh,
      );
      const sealed = specSeal(p, {
        ephemeralPrivate: ePriv,
        recipientKey: hex(v.recipientPublicKey),
        layer1Plaintext: ed25519Encoded(hex(v.devicePublicKey)),
        staticSecret,
        inner: innerOf(hex(v.certificate), hex(v.content), v.contentType, v.groupId === null ? null : hex(v.groupId)),
      });
      expect(toHex(sealed)).toBe(v.sealed);
    });
  });

  it('round-trips and returns the authenticated sender', () => {
    const groupId = random(32);
    const sealed = seal({ sender: alice, recipientKey: bob.publicKey, content, contentType: 7, groupId }, p, random);
    const opened = unseal(sealed, bob, p);
    expect(toHex(opened.content)).toBe(toHex(content));
    expect(opened.contentType).toBe(7);
    expect(toHex(opened.groupId!)).toBe(toHex(groupId));
    expect(toHex(opened.senderAccountKey)).toBe(toHex(account.publicKey));
    expect(toHex(opened.senderUserId)).toBe(toHex(account.userId));
    expect(toHex(opened.senderUserId)).toBe(toHex(userIdFromIdentityKey(account.publicKey, p)));
    expect(opened.senderDeviceId).toBe(3);
    expect(toHex(opened.senderDeviceKey)).toBe(toHex(alice.publicKey));
    expect(toHex(encodeDeviceCertificate(opened.certificate))).toBe(toHex(encodeDeviceCertificate(alice.certificate)));
    expect(
      'groupId' in
        unseal(seal({ sender: alice, recipientKey: bob.publicKey, content, contentType: 1 }, p, random), bob, p),
    ).toBe(false);
  });

  it('seals empty and maximum-size content', () => {
    const empty = seal(
      { sender: alice, recipientKey: bob.publicKey, content: new Uint8Array(0), contentType: 0 },
      p,
      random,
    );
    expect(unseal(empty, bob, p).content.length).toBe(0);
    const big = new Uint8Array(MAX_SEALED_CONTENT).fill(0x42);
    const sealedBig = seal({ sender: alice, recipientKey: bob.publicKey, content: big, contentType: 255 }, p, random);
    // equalBytes, not toEqual: deep equality of 8 MiB arrays takes the test runner minutes.
    expect(equalBytes(unseal(sealedBig, bob, p).content, big)).toBe(true);
    expect(() =>
      seal(
        { sender: alice, recipientKey: bob.publicKey, content: new Uint8Array(MAX_SEALED_CONTENT + 1), contentType: 1 },
        p,
        random,
      ),
    ).toThrow(InvalidArgumentError);
  });

  it('uses a fresh ephemeral key for each envelope', () => {
    const a = seal({ sender: alice, recipientKey: bob.publicKey, content, contentType: 1 }, p, random);
    const b = seal({ sender: alice, recipientKey: bob.publicKey, content, contentType: 1 }, p, random);
    expect(toHex(a)).not.toBe(toHex(b));
    expect(toHex(a.slice(0, 36))).not.toBe(toHex(b.slice(0, 36)));
  });

  it('cannot be opened by another recipient', () => {
    const sealed = seal({ sender: alice, recipientKey: bob.publicKey, content, contentType: 1 }, p, random);
    expect(() => unseal(sealed, carol, p)).toThrow(InvalidMessageError);
    // Carol's secret with Bob's public key (a confused caller) opens nothing either.
    expect(() => unseal(sealed, { secretKey: carol.secretKey, publicKey: bob.publicKey }, p)).toThrow(
      InvalidMessageError,
    );
  });

  it('never opens with any byte altered', () => {
    const sealed = seal(
      { sender: alice, recipientKey: bob.publicKey, content, contentType: 1, groupId: random(16) },
      p,
      random,
    );
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i]! ^= 1 << (i % 8);
      expectCode(() => unseal(bad, bob, p), ['INVALID_MESSAGE', 'UNSUPPORTED_VERSION']);
    }
    for (const cut of [0, 1, 10, sealed.length - 1]) {
      expectCode(() => unseal(sealed.slice(0, cut), bob, p), ['INVALID_MESSAGE']);
    }
    expectCode(() => unseal(concatBytes(sealed, Uint8Array.of(0)), bob, p), ['INVALID_MESSAGE']);
    expect(toHex(unseal(sealed, bob, p).content)).toBe(toHex(content));
  });

  it('reveals no sender bytes and no plaintext to the relay', () => {
    const groupId = random(32);
    const ephemeralPrivate = random(32);
    const sealed = seal(
      { sender: alice, recipientKey: bob.publicKey, content, contentType: 1, groupId },
      p,
      fixedRandom(ephemeralPrivate),
    );
    const cert = encodeDeviceCertificate(alice.certificate);
    for (const hidden of [
      account.publicKey,
      account.userId,
      alice.publicKey,
      p.ed25519PublicToX25519(alice.publicKey),
      alice.certificate.signature,
      cert,
      cert.slice(0, 16),
      content,
      groupId,
    ]) {
      expect(contains(sealed, hidden)).toBe(false);
    }
    // The search does find what is sent in the clear: the ephemeral public key.
    expect(contains(sealed, p.x25519PublicKey(ephemeralPrivate))).toBe(true);
  });

  it('refuses a certificate forged for another account', () => {
    const mallory = generateEd25519KeyPair(p, random);
    // Mallory certifies her device as belonging to Alice's account, signing with her own key.
    const forged = certifyDevice(
      { publicKey: account.publicKey, secretKey: mallory.secretKey },
      9,
      mallory.publicKey,
      1_700_000_000_000,
      p,
    );
    const sealed = seal(
      { sender: { ...mallory, certificate: forged }, recipientKey: bob.publicKey, content, contentType: 1 },
      p,
      random,
    );
    expect(() => unseal(sealed, bob, p)).toThrow(InvalidCertificateError);
    // A certificate altered inside an otherwise valid envelope is refused the same way.
    const altered = { ...alice.certificate, deviceId: 4 };
    const sealed2 = seal(
      { sender: { ...alice, certificate: altered }, recipientKey: bob.publicKey, content, contentType: 1 },
      p,
      random,
    );
    expect(() => unseal(sealed2, bob, p)).toThrow(InvalidCertificateError);
  });

  it('refuses a swapped sender key', () => {
    const mallory = generateEd25519KeyPair(p, random);
    const aliceCert = encodeDeviceCertificate(alice.certificate);
    // Mallory seals with her own static key but presents Alice's certificate.
    const claimOwnKey = specSeal(p, {
      ephemeralPrivate: random(32),
      recipientKey: bob.publicKey,
      layer1Plaintext: ed25519Encoded(mallory.publicKey),
      staticSecret: p.ed25519SecretToX25519(mallory.secretKey),
      inner: innerOf(aliceCert, content),
    });
    expect(() => unseal(claimOwnKey, bob, p)).toThrow(InvalidCertificateError);
    // Mallory names Alice's key in layer 1 but cannot do Alice's static DH.
    const claimAliceKey = specSeal(p, {
      ephemeralPrivate: random(32),
      recipientKey: bob.publicKey,
      layer1Plaintext: ed25519Encoded(alice.publicKey),
      staticSecret: p.ed25519SecretToX25519(mallory.secretKey),
      inner: innerOf(aliceCert, content),
    });
    expect(() => unseal(claimAliceKey, bob, p)).toThrow(InvalidMessageError);
    // The honest construction with the same helper opens: the two refusals are not helper bugs.
    const honest = specSeal(p, {
      ephemeralPrivate: random(32),
      recipientKey: bob.publicKey,
      layer1Plaintext: ed25519Encoded(alice.publicKey),
      staticSecret: p.ed25519SecretToX25519(alice.secretKey),
      inner: innerOf(aliceCert, content),
    });
    expect(toHex(unseal(honest, bob, p).senderDeviceKey)).toBe(toHex(alice.publicKey));
  });

  it('types malformed content that authenticates', () => {
    const base = {
      recipientKey: bob.publicKey,
      layer1Plaintext: ed25519Encoded(alice.publicKey),
      staticSecret: p.ed25519SecretToX25519(alice.secretKey),
    };
    const cert = encodeDeviceCertificate(alice.certificate);
    const cases: [Uint8Array, new (...a: never[]) => Error][] = [
      [Uint8Array.of(1, 2, 3), InvalidMessageError],
      [encodeWire([1, cert, 1, null]), InvalidMessageError],
      [encodeWire([1, cert, 256, null, content]), InvalidMessageError],
      [encodeWire([1, cert, 1, new Uint8Array(0), content]), InvalidMessageError],
      [encodeWire([1, cert, 1, null, content, 0]), InvalidMessageError],
      [encodeWire([2, cert, 1, null, content]), UnsupportedVersionError],
      [encodeWire([1, cert.slice(0, 40), 1, null, content]), InvalidCertificateError],
    ];
    for (const [inner, error] of cases) {
      expect(() => unseal(specSeal(p, { ...base, ephemeralPrivate: random(32), inner }), bob, p)).toThrow(error);
    }
    // Layer 1 that authenticates but holds no Ed25519 key.
    const badKey = specSeal(p, {
      ...base,
      ephemeralPrivate: random(32),
      layer1Plaintext: x25519Encoded(alice.publicKey),
      inner: innerOf(cert, content),
    });
    expect(() => unseal(badKey, bob, p)).toThrow(InvalidMessageError);
    // An unknown envelope version is reported as such.
    const v2 = specSeal(p, { ...base, ephemeralPrivate: random(32), inner: innerOf(cert, content), version: 2 });
    expect(() => unseal(v2, bob, p)).toThrow(UnsupportedVersionError);
  });

  it('reports a low-order ephemeral key as a bad message, not a key error', () => {
    const sealed = seal({ sender: alice, recipientKey: bob.publicKey, content, contentType: 1 }, p, random);
    const bad = sealed.slice();
    // [0x94, 0x01, 0xc4, 0x20, e.pub...]: zero the ephemeral key (a low-order point).
    bad.fill(0, 4, 36);
    expect(() => unseal(bad, bob, p)).toThrow(InvalidMessageError);
  });

  it('refuses misuse with InvalidArgumentError', () => {
    const ok = { sender: alice, recipientKey: bob.publicKey, content, contentType: 1 };
    const bad: unknown[] = [
      null,
      { ...ok, sender: null },
      { ...ok, sender: { ...alice, certificate: carolCertificate() } },
      { ...ok, sender: { ...alice, certificate: { ...alice.certificate, signature: new Uint8Array(3) } } },
      { ...ok, sender: { ...alice, certificate: { ...alice.certificate, deviceId: 0 } } },
      { ...ok, sender: { ...alice, secretKey: carol.secretKey } },
      { ...ok, sender: { ...alice, publicKey: new Uint8Array(31) } },
      { ...ok, recipientKey: 'bob' },
      { ...ok, content: [1, 2, 3] },
      { ...ok, contentType: 256 },
      { ...ok, contentType: -1 },
      { ...ok, contentType: 1.5 },
      { ...ok, groupId: new Uint8Array(0) },
      { ...ok, groupId: new Uint8Array(65) },
    ];
    for (const input of bad) {
      expect(() => seal(input as Parameters<typeof seal>[0], p, random)).toThrow(InvalidArgumentError);
    }
    const sealed = seal(ok, p, random);
    expect(() => unseal('x' as unknown as Uint8Array, bob, p)).toThrow(InvalidArgumentError);
    expect(() => unseal(sealed, { secretKey: bob.secretKey } as never, p)).toThrow(InvalidArgumentError);
    expect(() => unseal(sealed, null as never, p)).toThrow(InvalidArgumentError);
  });

  it('refuses a recipient key that is not a curve point', () => {
    // y = 2 is not on edwards25519.
    const notAPoint = new Uint8Array(32);
    notAPoint[0] = 2;
    expect(() => seal({ sender: alice, recipientKey: notAPoint, content, contentType: 1 }, p, random)).toThrow(
      InvalidKeyError,
    );
  });

  function carolCertificate() {
    return certifyDevice(account, 5, carol.publicKey, 1, p);
  }
});

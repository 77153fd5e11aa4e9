import {
  type CryptoProvider,
  concatBytes,
  InvalidArgumentError,
  InvalidPrekeyError,
  InvalidSignatureError,
  initiatePqxdh,
  KeyType,
  PQXDH_INFO,
  type PqxdhInitialMessage,
  type PqxdhInitiation,
  respondPqxdh,
  utf8ToBytes,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { makeDevice } from './session-support.js';
import { providers, rng } from './support.js';

function initialMessage(alicePublic: Uint8Array, init: PqxdhInitiation): PqxdhInitialMessage {
  return {
    identityKey: alicePublic,
    baseKey: init.baseKey,
    signedPreKeyId: init.signedPreKeyId,
    oneTimePreKeyId: init.oneTimePreKeyId,
    kemPreKeyId: init.kemPreKeyId,
    kemCiphertext: init.kemCiphertext,
  };
}

/** A provider that counts the DH and KEM operations it is asked to do. */
function counting(provider: CryptoProvider): CryptoProvider & { calls: number } {
  const wrapped = {
    ...provider,
    calls: 0,
    x25519(priv: Uint8Array, pub: Uint8Array) {
      wrapped.calls++;
      return provider.x25519(priv, pub);
    },
    mlKem1024Encapsulate(pub: Uint8Array, m: Uint8Array) {
      wrapped.calls++;
      return provider.mlKem1024Encapsulate(pub, m);
    },
  };
  return wrapped;
}

describe.each(providers)('PQXDH ($name)', (provider) => {
  const alice = makeDevice(provider, 101);
  const bob = makeDevice(provider, 102);

  it.each([true, false])('both sides derive the same SK and AD (one-time prekey: %s)', (oneTime) => {
    const bundle = bob.bundle({ oneTime });
    const init = initiatePqxdh(alice.keys, bundle, provider, rng(1));
    expect(init.oneTimePreKeyId).toBe(oneTime ? bundle.oneTimePreKey!.id : undefined);
    const resp = respondPqxdh(bob.keys, initialMessage(alice.keys.publicKey, init), bob.lookup, provider);
    expect(init.sharedSecret.length).toBe(32);
    expect(resp.sharedSecret).toEqual(init.sharedSecret);
    expect(resp.associatedData).toEqual(init.associatedData);
    expect(init.associatedData).toEqual(
      concatBytes(
        Uint8Array.of(KeyType.Ed25519),
        alice.keys.publicKey,
        Uint8Array.of(KeyType.Ed25519),
        bob.keys.publicKey,
      ),
    );
    expect(resp.signedPreKey.id).toBe(bundle.signedPreKey.id);
    expect(resp.oneTimePreKey?.id).toBe(bundle.oneTimePreKey?.id);
    expect(resp.kemPreKey.id).toBe(bundle.kemPreKey.id);
  });

  it('matches the KDF definition: HKDF(F || DH1 || DH2 || DH3 || DH4 || SS)', () => {
    const bundle = bob.bundle();
    const random = rng(2);
    const init = initiatePqxdh(alice.keys, bundle, provider, random);
    const replay = rng(2);
    const ek = replay(32);
    const m = replay(32);
    const ika = provider.ed25519SecretToX25519(alice.keys.secretKey);
    const ikb = provider.ed25519PublicToX25519(bob.keys.publicKey);
    const spk = bundle.signedPreKey.publicKey;
    const { sharedSecret: ss, cipherText } = provider.mlKem1024Encapsulate(bundle.kemPreKey.publicKey, m);
    expect(cipherText).toEqual(init.kemCiphertext);
    const ikm = concatBytes(
      new Uint8Array(32).fill(0xff),
      provider.x25519(ika, spk),
      provider.x25519(ek, ikb),
      provider.x25519(ek, spk),
      provider.x25519(ek, bundle.oneTimePreKey!.publicKey),
      ss,
    );
    const expected = provider.hkdfSha256(ikm, new Uint8Array(32), utf8ToBytes(PQXDH_INFO), 32);
    expect(init.sharedSecret).toEqual(expected);
    expect(init.baseKey).toEqual(provider.x25519PublicKey(ek));
  });

  it('gives different secrets with and without the one-time prekey, and for another KEM ciphertext', () => {
    const withOpk = initiatePqxdh(alice.keys, bob.bundle(), provider, rng(3));
    const without = initiatePqxdh(alice.keys, bob.bundle({ oneTime: false }), provider, rng(3));
    expect(withOpk.baseKey).toEqual(without.baseKey);
    expect(withOpk.sharedSecret).not.toEqual(without.sharedSecret);
    const tampered = initialMessage(alice.keys.publicKey, withOpk);
    const ct = tampered.kemCiphertext.slice();
    ct[100]! ^= 1;
    const resp = respondPqxdh(bob.keys, { ...tampered, kemCiphertext: ct }, bob.lookup, provider);
    expect(resp.sharedSecret).not.toEqual(withOpk.sharedSecret);
  });

  it('refuses a bundle with a bad signature before doing any DH or KEM operation', () => {
    const bundle = bob.bundle();
    const sig = (s: Uint8Array) => {
      const out = s.slice();
      out[0]! ^= 0x80;
      return out;
    };
    const bad = [
      { ...bundle, signedPreKey: { ...bundle.signedPreKey, signature: sig(bundle.signedPreKey.signature) } },
      { ...bundle, kemPreKey: { ...bundle.kemPreKey, signature: sig(bundle.kemPreKey.signature) } },
      { ...bundle, kemPreKey: { ...bundle.kemPreKey, lastResort: !bundle.kemPreKey.lastResort } },
    ];
    for (const b of bad) {
      const spy = counting(provider);
      expect(() => initiatePqxdh(alice.keys, b, spy, rng(4))).toThrow(InvalidSignatureError);
      expect(spy.calls).toBe(0);
    }
  });

  it('throws InvalidPrekeyError for each missing prekey', () => {
    const init = initiatePqxdh(alice.keys, bob.bundle(), provider, rng(5));
    const message = initialMessage(alice.keys.publicKey, init);
    const none = () => undefined;
    const cases = [
      { ...bob.lookup, signedPreKey: none },
      { ...bob.lookup, oneTimePreKey: none },
      { ...bob.lookup, kemPreKey: none },
    ];
    for (const lookup of cases) {
      expect(() => respondPqxdh(bob.keys, message, lookup, provider)).toThrow(InvalidPrekeyError);
    }
    expect(() => respondPqxdh(bob.keys, { ...message, signedPreKeyId: 77 }, bob.lookup, provider)).toThrow(
      InvalidPrekeyError,
    );
  });

  it('checks its arguments', () => {
    const init = initiatePqxdh(alice.keys, bob.bundle(), provider, rng(6));
    const message = initialMessage(alice.keys.publicKey, init);
    expect(() => respondPqxdh(bob.keys, { ...message, baseKey: new Uint8Array(31) }, bob.lookup, provider)).toThrow(
      InvalidArgumentError,
    );
    expect(() =>
      respondPqxdh(bob.keys, { ...message, kemCiphertext: new Uint8Array(10) }, bob.lookup, provider),
    ).toThrow(InvalidArgumentError);
    expect(() => initiatePqxdh({ publicKey: new Uint8Array(32) } as never, bob.bundle(), provider, rng(1))).toThrow(
      InvalidArgumentError,
    );
    expect(() => respondPqxdh(bob.keys, message, null as never, provider)).toThrow(InvalidArgumentError);
    // A malformed record from the caller's own store is misuse, not a protocol failure.
    const broken = { ...bob.lookup, kemPreKey: () => ({ id: 1, keyPair: {} }) as never };
    expect(() => respondPqxdh(bob.keys, message, broken, provider)).toThrow(InvalidArgumentError);
  });
});

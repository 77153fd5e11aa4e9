/**
 * VAULTEX through its public API (`@vaultex/protocol`): PQXDH with ML-KEM-1024 prekeys and the
 * Double Ratchet, with the client's padding applied to every plaintext, as the client does.
 * Two rows: the node:crypto provider and the pure-TS noble provider.
 */
import {
  type AccountIdentity,
  acceptSession,
  accountFromSeedPhrase,
  type CryptoProvider,
  createDevice,
  equalBytes,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSeedPhrase,
  generateSignedPreKey,
  initiateSession,
  kemPreKeyPublic,
  nobleProvider,
  oneTimePreKeyPublic,
  type PreKeyBundle,
  type PreKeyLookup,
  pad,
  type Session,
  signedPreKeyPublic,
  systemClock,
  systemRandom,
  unpad,
} from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';
import { type Conversation, expectPlaintext, type Party, type PendingSetup, type ProtocolPeer } from './peer.js';

const PREKEY_ID = 7;
const SIGNED_PREKEY_ID = 3;
const KEM_PREKEY_ID = 11;

function party(session: Session): Party {
  return {
    async encrypt(plaintext) {
      return session.encrypt(pad(plaintext));
    },
    async decrypt(message) {
      if (typeof message === 'string') throw new Error('vaultex: expected bytes');
      return unpad(session.decrypt(message));
    },
  };
}

/**
 * The identity check a client makes around session setup, which the other libraries make
 * through their identity stores: pin on first sight, refuse a changed key.
 */
function trustOnFirstUse(pinned: Map<string, Uint8Array>, who: string, identityKey: Uint8Array): void {
  const known = pinned.get(who);
  if (known !== undefined && !equalBytes(known, identityKey)) throw new Error('vaultex: identity key changed');
  pinned.set(who, identityKey);
}

function peer(name: string, provider: CryptoProvider, backend: string): ProtocolPeer {
  const deps = { provider, random: systemRandom, clock: systemClock };
  // Accounts come from a seed phrase (BIP-39 PBKDF2), slow and irrelevant here: one per role.
  let accounts: { alice: AccountIdentity; bob: AccountIdentity } | undefined;

  async function prepare(): Promise<PendingSetup> {
    accounts ??= {
      alice: accountFromSeedPhrase(generateSeedPhrase(systemRandom), provider),
      bob: accountFromSeedPhrase(generateSeedPhrase(systemRandom), provider),
    };
    const now = systemClock();
    const alice = createDevice(accounts.alice, 1, now, provider, systemRandom);
    const bob = createDevice(accounts.bob, 1, now, provider, systemRandom);
    const signedPreKey = generateSignedPreKey(bob, SIGNED_PREKEY_ID, now, provider, systemRandom);
    const [oneTimePreKey] = generateOneTimePreKeys(PREKEY_ID, 1, provider, systemRandom);
    if (oneTimePreKey === undefined) throw new Error('vaultex: no one-time prekey generated');
    const kemPreKey = generateKemPreKey(bob, KEM_PREKEY_ID, false, now, provider, systemRandom);
    const bundle: PreKeyBundle = {
      identityKey: bob.publicKey,
      deviceId: bob.deviceId,
      signedPreKey: signedPreKeyPublic(signedPreKey),
      oneTimePreKey: oneTimePreKeyPublic(oneTimePreKey),
      kemPreKey: kemPreKeyPublic(kemPreKey),
    };
    // Bob's private prekeys; consumed one-time keys are deleted, as a client's store does.
    const oneTimePreKeys = new Map([[oneTimePreKey.id, oneTimePreKey]]);
    const kemPreKeys = new Map([[kemPreKey.id, kemPreKey]]);
    const lookup: PreKeyLookup = {
      signedPreKey: (id) => (id === signedPreKey.id ? signedPreKey : undefined),
      oneTimePreKey: (id) => oneTimePreKeys.get(id),
      kemPreKey: (id) => kemPreKeys.get(id),
    };
    const aliceTrusts = new Map<string, Uint8Array>();
    const bobTrusts = new Map<string, Uint8Array>();

    return {
      async establish(firstPlaintext) {
        trustOnFirstUse(aliceTrusts, 'bob', bundle.identityKey);
        const aliceSession = initiateSession(alice, bundle, deps);
        const first = aliceSession.encrypt(pad(firstPlaintext));
        const accepted = acceptSession(bob, first, lookup, deps);
        trustOnFirstUse(bobTrusts, 'alice', accepted.session.remoteIdentityKey);
        const used = accepted.usedPreKeys;
        if (used.oneTimePreKeyId !== undefined) oneTimePreKeys.delete(used.oneTimePreKeyId);
        if (!used.kemLastResort) kemPreKeys.delete(used.kemPreKeyId);
        expectPlaintext(unpad(accepted.plaintext), firstPlaintext, `${name} prekey message`);
        const conversation: Conversation = { alice: party(aliceSession), bob: party(accepted.session) };
        return { conversation, prekeyMessage: first };
      },
    };
  }

  return {
    name,
    notes: [
      `PQXDH (X25519 + ML-KEM-1024, one-time KEM prekey) and Double Ratchet with AES-256-GCM; ${backend}.`,
      'Every plaintext is padded by pad() before encryption (200 bytes -> the 256-byte bucket) and unpadded ' +
        'after decryption, inside the timed section; the byte counts include that padding.',
      'Session state is a plain in-memory object: no store callbacks, no serialisation per message.',
    ],
    prepare,
  };
}

/** VAULTEX with the node:crypto provider (the one a Node client uses). */
export const vaultexNodePeer: ProtocolPeer = peer('vaultex (node)', nodeProvider, 'node:crypto provider');

/** VAULTEX with the pure-TS noble provider (the one browsers use). */
export const vaultexNoblePeer: ProtocolPeer = peer('vaultex (noble)', nobleProvider, 'pure-TS noble provider');

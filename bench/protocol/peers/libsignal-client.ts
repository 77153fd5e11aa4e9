/**
 * @signalapp/libsignal-client (Signal's Rust implementation behind a Node-API binding), driven
 * through its public TypeScript API with PQXDH: every bundle carries a signed KEM prekey.
 */
import {
  CiphertextMessageType,
  IdentityKeyPair,
  KEMKeyPair,
  KyberPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PrivateKey,
  ProtocolAddress,
  processPreKeyBundle,
  SignalMessage,
  SignedPreKeyRecord,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import {
  MemoryIdentityStore,
  MemoryKyberPreKeyStore,
  MemoryPreKeyStore,
  MemorySessionStore,
  MemorySignedPreKeyStore,
} from './libsignal-client-stores.js';
import { type Conversation, expectPlaintext, type Party, type PendingSetup, type ProtocolPeer } from './peer.js';

const ALICE = ProtocolAddress.new('alice', 1);
const BOB = ProtocolAddress.new('bob', 1);
const PREKEY_ID = 7;
const SIGNED_PREKEY_ID = 3;
const KEM_PREKEY_ID = 11;

interface Stores {
  readonly sessions: MemorySessionStore;
  readonly identity: MemoryIdentityStore;
}

/** The library wants an ArrayBuffer-backed view; the plaintexts we pass always are. */
function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}

function party(self: ProtocolAddress, remote: ProtocolAddress, stores: Stores): Party {
  return {
    async encrypt(plaintext) {
      const message = await signalEncrypt(ownBytes(plaintext), remote, self, stores.sessions, stores.identity);
      if (message.type() !== CiphertextMessageType.Whisper) {
        throw new Error('libsignal-client: expected a normal message after the session was confirmed');
      }
      return message.serialize();
    },
    async decrypt(message) {
      if (typeof message === 'string') throw new Error('libsignal-client: expected bytes');
      return signalDecrypt(
        SignalMessage.deserialize(ownBytes(message)),
        remote,
        self,
        stores.sessions,
        stores.identity,
      );
    },
  };
}

async function prepare(): Promise<PendingSetup> {
  const aliceIdentity = IdentityKeyPair.generate();
  const bobIdentity = IdentityKeyPair.generate();
  const alice: Stores = {
    sessions: new MemorySessionStore(),
    identity: new MemoryIdentityStore(aliceIdentity.privateKey, 1001),
  };
  const bob: Stores = {
    sessions: new MemorySessionStore(),
    identity: new MemoryIdentityStore(bobIdentity.privateKey, 2002),
  };
  const preKeys = new MemoryPreKeyStore();
  const signedPreKeys = new MemorySignedPreKeyStore();
  const kyberPreKeys = new MemoryKyberPreKeyStore();

  const now = Date.now();
  const preKey = PrivateKey.generate();
  await preKeys.savePreKey(PREKEY_ID, PreKeyRecord.new(PREKEY_ID, preKey.getPublicKey(), preKey));
  const signedPreKey = PrivateKey.generate();
  const signedPreKeySignature = bobIdentity.privateKey.sign(signedPreKey.getPublicKey().serialize());
  await signedPreKeys.saveSignedPreKey(
    SIGNED_PREKEY_ID,
    SignedPreKeyRecord.new(SIGNED_PREKEY_ID, now, signedPreKey.getPublicKey(), signedPreKey, signedPreKeySignature),
  );
  const kemPreKey = KEMKeyPair.generate();
  const kemPreKeySignature = bobIdentity.privateKey.sign(kemPreKey.getPublicKey().serialize());
  await kyberPreKeys.saveKyberPreKey(
    KEM_PREKEY_ID,
    KyberPreKeyRecord.new(KEM_PREKEY_ID, now, kemPreKey, kemPreKeySignature),
  );
  const bundle = PreKeyBundle.new(
    2002,
    BOB.deviceId(),
    PREKEY_ID,
    preKey.getPublicKey(),
    SIGNED_PREKEY_ID,
    signedPreKey.getPublicKey(),
    signedPreKeySignature,
    bobIdentity.publicKey,
    KEM_PREKEY_ID,
    kemPreKey.getPublicKey(),
    kemPreKeySignature,
  );

  return {
    async establish(firstPlaintext) {
      await processPreKeyBundle(bundle, BOB, ALICE, alice.sessions, alice.identity);
      const first = await signalEncrypt(ownBytes(firstPlaintext), BOB, ALICE, alice.sessions, alice.identity);
      if (first.type() !== CiphertextMessageType.PreKey) throw new Error('libsignal-client: expected a prekey message');
      const wire = first.serialize();
      const received = await signalDecryptPreKey(
        PreKeySignalMessage.deserialize(wire),
        ALICE,
        BOB,
        bob.sessions,
        bob.identity,
        preKeys,
        signedPreKeys,
        kyberPreKeys,
      );
      expectPlaintext(received, firstPlaintext, 'libsignal-client prekey message');
      const conversation: Conversation = { alice: party(ALICE, BOB, alice), bob: party(BOB, ALICE, bob) };
      return { conversation, prekeyMessage: wire };
    },
  };
}

/** The libsignal-client row. */
export const libsignalClientPeer: ProtocolPeer = {
  name: 'libsignal-client',
  notes: [
    'Signal’s Rust implementation via its Node-API binding; every store call is an async JS callback from Rust.',
    'PQXDH with a one-time signed KEM prekey; its TS API only generates Kyber1024 keys (type 0x08), the ' +
      'round-3 predecessor of ML-KEM-1024 with the same sizes and near-identical cost.',
    'No padding inside the library (Signal apps pad the Content protobuf before encrypting; not included).',
  ],
  prepare,
};

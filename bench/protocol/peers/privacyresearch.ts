/**
 * @privacyresearch/libsignal-protocol-typescript, the TypeScript port of Signal's old
 * libsignal-protocol-javascript that a seed document used. X3DH only: it has no PQ prekeys.
 */
import {
  KeyHelper,
  SessionBuilder,
  SessionCipher,
  SignalProtocolAddress,
} from '@privacyresearch/libsignal-protocol-typescript';
import { type Conversation, expectPlaintext, type Party, type PendingSetup, type ProtocolPeer } from './peer.js';
import { PrivacyResearchStore } from './privacyresearch-store.js';

const ALICE = new SignalProtocolAddress('alice', 1);
const BOB = new SignalProtocolAddress('bob', 1);
const PREKEY_ID = 7;
const SIGNED_PREKEY_ID = 3;
/** Message type of a prekey message in this library's `MessageType`. */
const PREKEY_WHISPER = 3;
const WHISPER = 1;

/** Its API takes a whole ArrayBuffer; copy only when the view does not cover one exactly. */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) {
    return bytes.buffer;
  }
  return bytes.slice().buffer as ArrayBuffer;
}

function party(cipher: SessionCipher): Party {
  return {
    async encrypt(plaintext) {
      const message = await cipher.encrypt(exactBuffer(plaintext));
      if (message.type !== WHISPER || message.body === undefined) {
        throw new Error('privacyresearch: expected a normal message after the session was confirmed');
      }
      return message.body;
    },
    async decrypt(message) {
      if (typeof message !== 'string') throw new Error('privacyresearch: expected a binary string');
      return new Uint8Array(await cipher.decryptWhisperMessage(message, 'binary'));
    },
  };
}

async function prepare(): Promise<PendingSetup> {
  const aliceStore = new PrivacyResearchStore(await KeyHelper.generateIdentityKeyPair(), 1001);
  const bobIdentity = await KeyHelper.generateIdentityKeyPair();
  const bobStore = new PrivacyResearchStore(bobIdentity, 2002);
  const preKey = await KeyHelper.generatePreKey(PREKEY_ID);
  await bobStore.storePreKey(PREKEY_ID, preKey.keyPair);
  const signedPreKey = await KeyHelper.generateSignedPreKey(bobIdentity, SIGNED_PREKEY_ID);
  await bobStore.storeSignedPreKey(SIGNED_PREKEY_ID, signedPreKey.keyPair);
  const bundle = {
    registrationId: 2002,
    identityKey: bobIdentity.pubKey,
    signedPreKey: {
      keyId: SIGNED_PREKEY_ID,
      publicKey: signedPreKey.keyPair.pubKey,
      signature: signedPreKey.signature,
    },
    preKey: { keyId: PREKEY_ID, publicKey: preKey.keyPair.pubKey },
  };

  return {
    async establish(firstPlaintext) {
      await new SessionBuilder(aliceStore, BOB).processPreKey(bundle);
      const aliceCipher = new SessionCipher(aliceStore, BOB);
      const first = await aliceCipher.encrypt(exactBuffer(firstPlaintext));
      if (first.type !== PREKEY_WHISPER || first.body === undefined) {
        throw new Error('privacyresearch: expected a prekey message');
      }
      const bobCipher = new SessionCipher(bobStore, ALICE);
      const received = new Uint8Array(await bobCipher.decryptPreKeyWhisperMessage(first.body, 'binary'));
      expectPlaintext(received, firstPlaintext, 'privacyresearch prekey message');
      const conversation: Conversation = { alice: party(aliceCipher), bob: party(bobCipher) };
      return { conversation, prekeyMessage: first.body };
    },
  };
}

/** The privacyresearch row. */
export const privacyResearchPeer: ProtocolPeer = {
  name: 'privacyresearch',
  notes: [
    'Classic X3DH (no PQ prekey, so its prekey message has no 1568-byte KEM ciphertext).',
    'Curve25519 from asm.js (emscripten); AES-CBC/HMAC/SHA-512 through WebCrypto, which on Node is ' +
      'node:crypto (native); session records are JSON strings rebuilt on every message.',
    'No padding inside the library.',
  ],
  prepare,
};

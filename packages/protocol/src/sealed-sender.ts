/**
 * Sealed sender (docs/PROTOCOL.md, "Sealed sender"): an envelope encrypted to one
 * recipient device, so the relay learns only the recipient. The structure follows
 * Signal's sealed sender v1: layer 1 hides the sender's static key under a fresh
 * ephemeral DH; layer 2 carries the sender's device certificate and the content under
 * keys that also depend on the static-static DH, which authenticates the sender.
 *
 * There is no server-issued sender certificate: the sender certificate is the sender
 * device's {@link DeviceCertificate} (account key -> device key). It carries no expiry,
 * because an expiry chosen by the sender cannot limit a stolen device key; a removed
 * device is revoked by the signed device list, which the client checks together with
 * its TOFU pin of the returned account key.
 */
import { assertBytes, assertInteger, assertObject, isBytes } from './assert.js';
import { concatBytes, equalBytes, utf8ToBytes } from './bytes.js';
import { InvalidArgumentError, InvalidCertificateError, InvalidMessageError, isProtocolError } from './errors.js';
import {
  type DeviceCertificate,
  decodeDeviceCertificate,
  encodeDeviceCertificate,
  userIdFromIdentityKey,
  verifyDeviceCertificate,
} from './identity.js';
import { decodePublicKey, encodePublicKey, generateX25519KeyPair, KeyType } from './keys.js';
import type { CryptoProvider } from './provider/provider.js';
import type { RandomSource } from './random.js';
import { decodeWire, encodeWire } from './wire.js';

/** Domain label: prefix of every salt and associated data of this construction. */
const LABEL = utf8ToBytes('VAULTEX_SealedSender_v1');
const INFO_EPHEMERAL = utf8ToBytes('VAULTEX_SealedSender_v1 ephemeral');
const INFO_STATIC = utf8ToBytes('VAULTEX_SealedSender_v1 static');

const VERSION = 1;
const INNER_VERSION = 1;
const TAG_LENGTH = 16;
const NONCE_LENGTH = 12;
/** Layer 1 plaintext is `Encode(Ed25519 sender device key)`: 33 bytes. */
const LAYER1_LENGTH = 33 + TAG_LENGTH;
/** A device certificate encodes to about 140 bytes; the bound only stops abuse. */
const MAX_CERTIFICATE_BYTES = 512;

/** Largest content {@link seal} accepts (8 MiB): half the wire limit, room for the envelope. */
export const MAX_SEALED_CONTENT = 8 * 1024 * 1024;
/** Largest `contentType`: one byte, its meaning is the client's. */
export const MAX_SEALED_CONTENT_TYPE = 0xff;
/** Largest group id carried in the envelope. */
export const MAX_SEALED_GROUP_ID = 64;

/** The sending device: its Ed25519 key pair and the certificate binding it to its account. */
export interface SealedSenderIdentity {
  /** Ed25519 secret seed of the sender device. */
  readonly secretKey: Uint8Array;
  /** Ed25519 public key of the sender device; must be `certificate.deviceKey`. */
  readonly publicKey: Uint8Array;
  readonly certificate: DeviceCertificate;
}

/** What to seal, for whom. */
export interface SealInput {
  readonly sender: SealedSenderIdentity;
  /** The recipient device's Ed25519 public key. */
  readonly recipientKey: Uint8Array;
  /** Opaque bytes, typically a ratchet or sender-key message. */
  readonly content: Uint8Array;
  /** 0..255, meaning chosen by the client (e.g. which decryptor to use). */
  readonly contentType: number;
  /** Optional group id (1..64 bytes), hidden from the relay like everything else. */
  readonly groupId?: Uint8Array;
}

/** The recipient device's Ed25519 key pair. */
export interface SealedRecipient {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** An opened envelope. The client still checks `senderAccountKey` against its TOFU pin. */
export interface UnsealedMessage {
  readonly senderAccountKey: Uint8Array;
  /** SHA-256(senderAccountKey)[0..16]. */
  readonly senderUserId: Uint8Array;
  readonly senderDeviceId: number;
  readonly senderDeviceKey: Uint8Array;
  /** The verified device certificate of the sender. */
  readonly certificate: DeviceCertificate;
  readonly content: Uint8Array;
  readonly contentType: number;
  readonly groupId?: Uint8Array;
}

interface Layer1Keys {
  readonly chainKey: Uint8Array;
  readonly key: Uint8Array;
  readonly nonce: Uint8Array;
}

function layer1Keys(
  provider: CryptoProvider,
  dh: Uint8Array,
  recipientX: Uint8Array,
  ephemeralPublic: Uint8Array,
): Layer1Keys {
  const salt = concatBytes(
    LABEL,
    encodePublicKey(KeyType.X25519, recipientX),
    encodePublicKey(KeyType.X25519, ephemeralPublic),
  );
  const okm = provider.hkdfSha256(dh, salt, INFO_EPHEMERAL, 32 + 32 + NONCE_LENGTH);
  return { chainKey: okm.slice(0, 32), key: okm.slice(32, 64), nonce: okm.slice(64) };
}

function layer2Keys(
  provider: CryptoProvider,
  chainKey: Uint8Array,
  staticDh: Uint8Array,
  layer1: Uint8Array,
): { key: Uint8Array; nonce: Uint8Array } {
  const okm = provider.hkdfSha256(
    concatBytes(chainKey, staticDh),
    concatBytes(LABEL, layer1),
    INFO_STATIC,
    32 + NONCE_LENGTH,
  );
  return { key: okm.slice(0, 32), nonce: okm.slice(32) };
}

function layer1Ad(ephemeralPublic: Uint8Array, recipientKey: Uint8Array): Uint8Array {
  return concatBytes(
    LABEL,
    encodePublicKey(KeyType.X25519, ephemeralPublic),
    encodePublicKey(KeyType.Ed25519, recipientKey),
  );
}

/**
 * Seal `content` for one recipient device. The output names neither the sender's
 * account nor its device; only the holder of the recipient's device key can open it.
 * Wire: `[1, ephemeralPublic (32), layer1 (49), layer2]`.
 * @throws InvalidArgumentError for malformed inputs (including a malformed certificate), or
 * when `sender.certificate` does not certify `sender.publicKey` or the key pair does not match.
 * @throws InvalidKeyError when `recipientKey` is not a valid Ed25519 point.
 * @example const envelope = seal({ sender: device, recipientKey, content, contentType: 1 }, provider, systemRandom);
 */
export function seal(input: SealInput, provider: CryptoProvider, random: RandomSource): Uint8Array {
  assertObject(input, 'input');
  assertObject(input.sender, 'sender');
  const { sender, recipientKey, content, contentType, groupId } = input;
  assertBytes(sender.secretKey, 'sender.secretKey', 32);
  assertBytes(sender.publicKey, 'sender.publicKey', 32);
  assertObject(sender.certificate, 'sender.certificate');
  assertBytes(recipientKey, 'recipientKey', 32);
  assertBytes(content, 'content', { max: MAX_SEALED_CONTENT });
  assertInteger(contentType, 'contentType', 0, MAX_SEALED_CONTENT_TYPE);
  if (groupId !== undefined) assertBytes(groupId, 'groupId', { min: 1, max: MAX_SEALED_GROUP_ID });
  if (!isBytes(sender.certificate.deviceKey) || !equalBytes(sender.certificate.deviceKey, sender.publicKey)) {
    throw new InvalidArgumentError('sender.certificate does not certify sender.publicKey');
  }
  const certificate = encodeDeviceCertificate(sender.certificate);
  // Catch a malformed certificate object here, where it is a caller bug, not at the recipient.
  try {
    if (certificate.length > MAX_CERTIFICATE_BYTES) throw new InvalidArgumentError('too long');
    decodeDeviceCertificate(certificate);
  } catch {
    throw new InvalidArgumentError('sender.certificate is not a well-formed device certificate');
  }

  const senderX = provider.ed25519SecretToX25519(sender.secretKey);
  // A mismatched pair would seal an envelope no recipient can open: refuse it here instead.
  if (!equalBytes(provider.x25519PublicKey(senderX), provider.ed25519PublicToX25519(sender.publicKey))) {
    throw new InvalidArgumentError('sender.publicKey does not match sender.secretKey');
  }
  const recipientX = provider.ed25519PublicToX25519(recipientKey);

  const ephemeral = generateX25519KeyPair(provider, random);
  const l1 = layer1Keys(provider, provider.x25519(ephemeral.privateKey, recipientX), recipientX, ephemeral.publicKey);
  const ad1 = layer1Ad(ephemeral.publicKey, recipientKey);
  const layer1 = provider.aesGcmEncrypt(l1.key, l1.nonce, encodePublicKey(KeyType.Ed25519, sender.publicKey), ad1);

  const l2 = layer2Keys(provider, l1.chainKey, provider.x25519(senderX, recipientX), layer1);
  const inner = encodeWire([INNER_VERSION, certificate, contentType, groupId ?? null, content]);
  const layer2 = provider.aesGcmEncrypt(l2.key, l2.nonce, inner, concatBytes(ad1, layer1));
  return encodeWire([VERSION, ephemeral.publicKey, layer1, layer2]);
}

/** Run a step on untrusted data; any key failure means the envelope is not for us or was altered. */
function authenticated<T>(step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (isProtocolError(e, 'INVALID_KEY') || isProtocolError(e, 'INVALID_MESSAGE')) {
      throw new InvalidMessageError('sealed message does not authenticate');
    }
    throw e;
  }
}

interface Inner {
  readonly certificate: Uint8Array;
  readonly contentType: number;
  readonly groupId: Uint8Array | undefined;
  readonly content: Uint8Array;
}

/**
 * Open an envelope addressed to `recipient`, authenticate the sender and check its
 * device certificate (account key -> device key). The caller then checks the returned
 * account key against its pin and the device against the sender's device list.
 * @throws InvalidArgumentError when `sealed` is not a Uint8Array or the recipient keys are malformed.
 * @throws InvalidKeyError when `recipient.publicKey` is not a valid Ed25519 point.
 * @throws UnsupportedVersionError for an unknown envelope version.
 * @throws InvalidMessageError for malformed, altered or misaddressed envelopes.
 * @throws InvalidCertificateError when the certificate is malformed, not signed by its
 * account key, or certifies a different device key than the one that sealed.
 */
export function unseal(sealed: Uint8Array, recipient: SealedRecipient, provider: CryptoProvider): UnsealedMessage {
  assertBytes(sealed, 'sealed');
  assertObject(recipient, 'recipient');
  assertBytes(recipient.secretKey, 'recipient.secretKey', 32);
  assertBytes(recipient.publicKey, 'recipient.publicKey', 32);
  const envelope = decodeWire(sealed, {
    what: 'sealed message',
    versions: [VERSION],
    read: (r) => {
      const value = {
        ephemeralPublic: r.bytes('ephemeralPublic', 32),
        layer1: r.bytes('layer1', LAYER1_LENGTH),
        layer2: r.bytes('layer2', { min: TAG_LENGTH, max: MAX_SEALED_CONTENT + MAX_CERTIFICATE_BYTES + 128 }),
      };
      r.end();
      return value;
    },
  });

  const recipientSecretX = provider.ed25519SecretToX25519(recipient.secretKey);
  const recipientX = provider.ed25519PublicToX25519(recipient.publicKey);
  const { senderKey, plaintext } = authenticated(() => {
    const l1 = layer1Keys(
      provider,
      provider.x25519(recipientSecretX, envelope.ephemeralPublic),
      recipientX,
      envelope.ephemeralPublic,
    );
    const ad1 = layer1Ad(envelope.ephemeralPublic, recipient.publicKey);
    const key = decodePublicKey(KeyType.Ed25519, provider.aesGcmDecrypt(l1.key, l1.nonce, envelope.layer1, ad1));
    const staticDh = provider.x25519(recipientSecretX, provider.ed25519PublicToX25519(key));
    const l2 = layer2Keys(provider, l1.chainKey, staticDh, envelope.layer1);
    const opened = provider.aesGcmDecrypt(l2.key, l2.nonce, envelope.layer2, concatBytes(ad1, envelope.layer1));
    return { senderKey: key, plaintext: opened };
  });
  // Authenticated from here on: a malformed inner value is the sender's fault, not tampering.
  const inner = decodeInner(plaintext);

  const certificate = decodeDeviceCertificate(inner.certificate);
  verifyDeviceCertificate(certificate, provider);
  if (!equalBytes(certificate.deviceKey, senderKey)) {
    throw new InvalidCertificateError('sender certificate does not certify the key that sealed the message');
  }
  const result: UnsealedMessage = {
    senderAccountKey: certificate.accountKey,
    senderUserId: userIdFromIdentityKey(certificate.accountKey, provider),
    senderDeviceId: certificate.deviceId,
    senderDeviceKey: certificate.deviceKey,
    certificate,
    content: inner.content,
    contentType: inner.contentType,
  };
  return inner.groupId === undefined ? result : { ...result, groupId: inner.groupId };
}

function decodeInner(plaintext: Uint8Array): Inner {
  return decodeWire(plaintext, {
    what: 'sealed message content',
    versions: [INNER_VERSION],
    read: (r) => {
      const inner: Inner = {
        certificate: r.bytes('certificate', { min: 1, max: MAX_CERTIFICATE_BYTES }),
        contentType: r.uint('contentType', MAX_SEALED_CONTENT_TYPE),
        groupId: r.optionalBytes('groupId', { min: 1, max: MAX_SEALED_GROUP_ID }),
        content: r.bytes('content', { max: MAX_SEALED_CONTENT }),
      };
      r.end();
      return inner;
    },
  });
}

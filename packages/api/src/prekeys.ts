/**
 * Prekey upload, count and bundle fetch. Each device publishes a signed X25519 prekey,
 * a last-resort ML-KEM-1024 prekey, and batches of one-time X25519 and one-time KEM
 * prekeys; the server verifies every signature on upload against the device key.
 */
import * as z from 'zod';
import {
  AccountId,
  base64url,
  DeviceId,
  ED25519_PUBLIC_KEY_BYTES,
  MAX_DEVICE_LIST_BYTES,
  ML_KEM_1024_PUBLIC_KEY_BYTES,
  PreKeyId,
  SIGNATURE_BYTES,
  X25519_PUBLIC_KEY_BYTES,
} from './common.js';
import { InclusionResponse } from './transparency.js';

/** Most one-time prekeys of each kind in one upload. */
export const MAX_PREKEYS_PER_UPLOAD = 100;

/** A signed X25519 prekey (public form). */
export const SignedPreKey = z.object({
  id: PreKeyId,
  publicKey: base64url(X25519_PUBLIC_KEY_BYTES),
  signature: base64url(SIGNATURE_BYTES),
});
export type SignedPreKey = z.output<typeof SignedPreKey>;

/** A one-time X25519 prekey (public form; not signed, as in X3DH). */
export const OneTimePreKey = z.object({ id: PreKeyId, publicKey: base64url(X25519_PUBLIC_KEY_BYTES) });
export type OneTimePreKey = z.output<typeof OneTimePreKey>;

/** A signed ML-KEM-1024 prekey; whether it is last-resort follows from the field it is sent in. */
export const KemPreKey = z.object({
  id: PreKeyId,
  publicKey: base64url(ML_KEM_1024_PUBLIC_KEY_BYTES),
  signature: base64url(SIGNATURE_BYTES),
});
export type KemPreKey = z.output<typeof KemPreKey>;

/**
 * `PUT /keys` body. A present signed or last-resort key replaces the stored one; one-time
 * keys are added (an id already stored is replaced), or replace all stored one-time keys of
 * both kinds when `replaceOneTimePreKeys` is true.
 */
export const PreKeyUpload = z.object({
  signedPreKey: SignedPreKey.optional(),
  lastResortKemPreKey: KemPreKey.optional(),
  oneTimePreKeys: z.array(OneTimePreKey).max(MAX_PREKEYS_PER_UPLOAD).optional(),
  kemPreKeys: z.array(KemPreKey).max(MAX_PREKEYS_PER_UPLOAD).optional(),
  replaceOneTimePreKeys: z.boolean().optional(),
});
export type PreKeyUpload = z.output<typeof PreKeyUpload>;

/** The prekeys a device must bring when it registers or is linked. */
export const DevicePreKeys = PreKeyUpload.extend({
  signedPreKey: SignedPreKey,
  lastResortKemPreKey: KemPreKey,
});
export type DevicePreKeys = z.output<typeof DevicePreKeys>;

/** `GET /keys/count` response: one-time prekeys the server still holds for this device. */
export const PreKeyCount = z.object({
  oneTimePreKeys: z.number().int().min(0),
  kemPreKeys: z.number().int().min(0),
});
export type PreKeyCount = z.output<typeof PreKeyCount>;

/** One device's bundle; a one-time prekey is included while any remain and is then gone from the server. */
export const DeviceBundle = z.object({
  deviceId: DeviceId,
  /** The device's Ed25519 key, which signed the prekeys. */
  identityKey: base64url(ED25519_PUBLIC_KEY_BYTES),
  signedPreKey: SignedPreKey,
  oneTimePreKey: OneTimePreKey.optional(),
  kemPreKey: KemPreKey.extend({ lastResort: z.boolean() }),
});
export type DeviceBundle = z.output<typeof DeviceBundle>;

/** `GET /keys/:accountId` response: bundles for every device, and the key-transparency proof. */
export const BundleResponse = z.object({
  accountId: AccountId,
  /** The account's Ed25519 identity key. */
  identityKey: base64url(ED25519_PUBLIC_KEY_BYTES),
  /** The encoded signed device list the bundles belong to. */
  deviceList: base64url({ min: 1, max: MAX_DEVICE_LIST_BYTES }),
  devices: z.array(DeviceBundle),
  /** Inclusion of the account's latest log entry in the signed tree head. */
  transparency: InclusionResponse,
});
export type BundleResponse = z.output<typeof BundleResponse>;

/** `GET /keys/:accountId` query: optionally one device only. */
export const BundleQuery = z.object({ deviceId: z.coerce.number().pipe(DeviceId).optional() });
export type BundleQuery = z.output<typeof BundleQuery>;

/**
 * Accounts and devices. An account is its Ed25519 identity key; its id is the user ID
 * (SHA-256(identity key)[0..16], hex). Devices are certified by the account key and
 * listed in a device list the account key signs; the server keeps no other data.
 */
import * as z from 'zod';
import {
  ACCESS_KEY_BYTES,
  AccountId,
  base64url,
  DeviceId,
  ED25519_PUBLIC_KEY_BYTES,
  MAX_DEVICE_CERTIFICATE_BYTES,
  MAX_DEVICE_LIST_BYTES,
  NONCE_BYTES,
  SIGNATURE_BYTES,
} from './common.js';
import { DevicePreKeys } from './prekeys.js';

const Certificate = base64url({ min: 1, max: MAX_DEVICE_CERTIFICATE_BYTES });
const DeviceList = base64url({ min: 1, max: MAX_DEVICE_LIST_BYTES });

/**
 * `POST /accounts` body. Both the account key and the first device key sign
 * `registrationProofMessage(nonce, deviceCertificate, deviceList)` over a fresh challenge.
 */
export const RegisterRequest = z.object({
  identityKey: base64url(ED25519_PUBLIC_KEY_BYTES),
  /** Encoded device certificate of the first device. */
  deviceCertificate: Certificate,
  /** Encoded signed device list naming exactly that device. */
  deviceList: DeviceList,
  prekeys: DevicePreKeys,
  /** Sealed-sender access key; the server stores only its SHA-256. Without one, sealed sends to this account are refused. */
  accessKey: base64url(ACCESS_KEY_BYTES).optional(),
  nonce: base64url(NONCE_BYTES),
  accountSignature: base64url(SIGNATURE_BYTES),
  deviceSignature: base64url(SIGNATURE_BYTES),
});
export type RegisterRequest = z.output<typeof RegisterRequest>;

/** `POST /accounts` response (201). */
export const RegisterResponse = z.object({ accountId: AccountId, deviceId: DeviceId });
export type RegisterResponse = z.output<typeof RegisterResponse>;

/**
 * `POST /accounts/:accountId/devices` body: link a device. The certificate and the new
 * device list (higher counter, containing the device) carry the account key's authority;
 * the new device signs `linkProofMessage(nonce, deviceCertificate, deviceList)`.
 */
export const LinkDeviceRequest = z.object({
  deviceCertificate: Certificate,
  deviceList: DeviceList,
  prekeys: DevicePreKeys,
  nonce: base64url(NONCE_BYTES),
  deviceSignature: base64url(SIGNATURE_BYTES),
});
export type LinkDeviceRequest = z.output<typeof LinkDeviceRequest>;

/** `POST /accounts/:accountId/devices` response (201). */
export const LinkDeviceResponse = z.object({ deviceId: DeviceId });
export type LinkDeviceResponse = z.output<typeof LinkDeviceResponse>;

/**
 * `PUT /accounts/:accountId/devices` body: a new signed device list with a higher counter
 * that drops devices (removal). It may not add devices: linking needs the device's proof.
 */
export const UpdateDeviceListRequest = z.object({ deviceList: DeviceList });
export type UpdateDeviceListRequest = z.output<typeof UpdateDeviceListRequest>;

/** `GET /accounts/:accountId` response: the public keys of an account. */
export const AccountResponse = z.object({
  accountId: AccountId,
  identityKey: base64url(ED25519_PUBLIC_KEY_BYTES),
  deviceList: DeviceList,
});
export type AccountResponse = z.output<typeof AccountResponse>;

/** `DELETE /accounts/me` body: the account key signs `deleteAccountProofMessage(nonce, accountId)`. */
export const DeleteAccountRequest = z.object({
  nonce: base64url(NONCE_BYTES),
  accountSignature: base64url(SIGNATURE_BYTES),
});
export type DeleteAccountRequest = z.output<typeof DeleteAccountRequest>;

/** `PUT /accounts/me/access-key` body; null disables sealed sends to this account. */
export const AccessKeyRequest = z.object({ accessKey: base64url(ACCESS_KEY_BYTES).nullable() });
export type AccessKeyRequest = z.output<typeof AccessKeyRequest>;

/** Path parameters naming an account. */
export const AccountParams = z.object({ accountId: AccountId });
export type AccountParams = z.output<typeof AccountParams>;

/**
 * Challenge-response authentication without passwords. A client asks for a nonce,
 * signs a domain-separated message with the key it claims, and gets an opaque
 * short-lived token. The exact bytes each proof signs are built here so client and
 * server cannot disagree on them.
 */
import * as z from 'zod';
import {
  AccountId,
  base64url,
  DeviceId,
  MAX_DEVICE_ID,
  NONCE_BYTES,
  SIGNATURE_BYTES,
  Timestamp,
  Token,
  USER_ID_BYTES,
} from './common.js';

/** `POST /auth/challenge` response: a single-use nonce with a short lifetime. */
export const ChallengeResponse = z.object({ nonce: base64url(NONCE_BYTES), expiresAt: Timestamp });
export type ChallengeResponse = z.output<typeof ChallengeResponse>;

/** `POST /auth/session` body: a device signs {@link authProofMessage} with its device key. */
export const SessionRequest = z.object({
  accountId: AccountId,
  deviceId: DeviceId,
  nonce: base64url(NONCE_BYTES),
  signature: base64url(SIGNATURE_BYTES),
});
export type SessionRequest = z.output<typeof SessionRequest>;

/** `POST /auth/session` response: an opaque bearer token and when it stops working. */
export const SessionResponse = z.object({ token: Token, expiresAt: Timestamp });
export type SessionResponse = z.output<typeof SessionResponse>;

const encoder = new TextEncoder();
const AUTH_CONTEXT = encoder.encode('VAULTEX auth v1');
const REGISTER_CONTEXT = encoder.encode('VAULTEX register v1');
const LINK_CONTEXT = encoder.encode('VAULTEX link device v1');
const DELETE_CONTEXT = encoder.encode('VAULTEX delete account v1');

function join(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function u32be(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > MAX_DEVICE_ID) throw new RangeError('expected a uint32');
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function checkLength(bytes: Uint8Array, length: number, field: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== length)
    throw new RangeError(`${field} must be ${length} bytes`);
}

/** Length-prefixed: a variable-length field cannot run into the next one. */
function framed(bytes: Uint8Array): Uint8Array {
  return join([u32be(bytes.length), bytes]);
}

/**
 * What a device signs to log in: `"VAULTEX auth v1" || nonce || accountId(16) || u32be(deviceId)`.
 * @throws RangeError for a nonce or account id of the wrong length, or a bad device id.
 */
export function authProofMessage(nonce: Uint8Array, accountId: Uint8Array, deviceId: number): Uint8Array {
  checkLength(nonce, NONCE_BYTES, 'nonce');
  checkLength(accountId, USER_ID_BYTES, 'accountId');
  return join([AUTH_CONTEXT, nonce, accountId, u32be(deviceId)]);
}

/**
 * What the account key AND the first device key both sign to register:
 * `"VAULTEX register v1" || nonce || u32be(len) || certificate || u32be(len) || deviceList`.
 * @throws RangeError for a nonce of the wrong length.
 */
export function registrationProofMessage(
  nonce: Uint8Array,
  deviceCertificate: Uint8Array,
  deviceList: Uint8Array,
): Uint8Array {
  checkLength(nonce, NONCE_BYTES, 'nonce');
  return join([REGISTER_CONTEXT, nonce, framed(deviceCertificate), framed(deviceList)]);
}

/**
 * What a new device's key signs to be linked (its proof of possession; the account key's
 * authority is the certificate and the signed device list):
 * `"VAULTEX link device v1" || nonce || u32be(len) || certificate || u32be(len) || deviceList`.
 * @throws RangeError for a nonce of the wrong length.
 */
export function linkProofMessage(nonce: Uint8Array, deviceCertificate: Uint8Array, deviceList: Uint8Array): Uint8Array {
  checkLength(nonce, NONCE_BYTES, 'nonce');
  return join([LINK_CONTEXT, nonce, framed(deviceCertificate), framed(deviceList)]);
}

/**
 * What the account key signs to delete the account: `"VAULTEX delete account v1" || nonce || accountId(16)`.
 * @throws RangeError for a nonce or account id of the wrong length.
 */
export function deleteAccountProofMessage(nonce: Uint8Array, accountId: Uint8Array): Uint8Array {
  checkLength(nonce, NONCE_BYTES, 'nonce');
  checkLength(accountId, USER_ID_BYTES, 'accountId');
  return join([DELETE_CONTEXT, nonce, accountId]);
}

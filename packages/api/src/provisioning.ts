/**
 * Setting up a device on an existing account. Linking: the new device shows a code with a
 * random channel id and an ephemeral key; an existing device puts the account secrets,
 * encrypted to that key, into a short-lived provisioning mailbox under the channel id, and
 * the new device takes them (the relay sees only ciphertext). Restoring from the seed
 * phrase: a device that holds the account key but is not linked yet reads the account's
 * device list with a request signed by the account key.
 */
import * as z from 'zod';
import { base64url, NONCE_BYTES, SIGNATURE_BYTES, USER_ID_BYTES } from './common.js';

/** Largest provisioning message. */
export const MAX_PROVISIONING_BYTES = 64 * 1024;
/** How long a provisioning message waits for the new device. */
export const PROVISIONING_TTL_MS = 10 * 60 * 1000;

/** A provisioning channel id: 16 random bytes as 32 lower-case hex digits. */
export const ChannelId = z.string().regex(/^[0-9a-f]{32}$/u, 'must be 32 lower-case hex digits');

/** Path parameters of the provisioning routes. */
export const ProvisioningParams = z.object({ channelId: ChannelId });
export type ProvisioningParams = z.output<typeof ProvisioningParams>;

/** `PUT /provisioning/:channelId` body and `GET /provisioning/:channelId` response: the opaque encrypted message. */
export const ProvisioningMessage = z.object({ blob: base64url({ min: 1, max: MAX_PROVISIONING_BYTES }) });
export type ProvisioningMessage = z.output<typeof ProvisioningMessage>;

/** `POST /accounts/:accountId/device-list` body: the account key signs {@link deviceListReadProofMessage}. */
export const DeviceListReadRequest = z.object({
  nonce: base64url(NONCE_BYTES),
  accountSignature: base64url(SIGNATURE_BYTES),
});
export type DeviceListReadRequest = z.output<typeof DeviceListReadRequest>;

const READ_CONTEXT = new TextEncoder().encode('VAULTEX read device list v1');

/**
 * What the account key signs to read its own device list before any device of this
 * installation is linked: `"VAULTEX read device list v1" || nonce(32) || accountId(16)`.
 * @throws RangeError for a nonce or account id of the wrong length.
 */
export function deviceListReadProofMessage(nonce: Uint8Array, accountId: Uint8Array): Uint8Array {
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES) throw new RangeError('nonce must be 32 bytes');
  if (!(accountId instanceof Uint8Array) || accountId.length !== USER_ID_BYTES) {
    throw new RangeError('accountId must be 16 bytes');
  }
  const out = new Uint8Array(READ_CONTEXT.length + NONCE_BYTES + USER_ID_BYTES);
  out.set(READ_CONTEXT, 0);
  out.set(nonce, READ_CONTEXT.length);
  out.set(accountId, READ_CONTEXT.length + NONCE_BYTES);
  return out;
}

/**
 * Prekey checks and storage. Every signed key is verified against the device key on
 * upload (a client can never make the server serve a key its device did not sign);
 * bundles are taken with their one-time keys consumed atomically by storage.
 */
import type { DevicePreKeys, PreKeyUpload } from '@vaultex/api';
import { type CryptoProvider, isProtocolError, verifyKemPreKey, verifySignedPreKey } from '@vaultex/protocol';
import { fail } from './errors.js';
import type { PreKeyWrite } from './storage/storage.js';

/**
 * Verify every signature of an upload with the device key and turn it into a storage write.
 * @throws ApiFailure INVALID_SIGNATURE for a bad signature; BAD_REQUEST for repeated ids.
 */
export function verifyPreKeys(
  deviceKey: Uint8Array,
  upload: PreKeyUpload | DevicePreKeys,
  provider: CryptoProvider,
): PreKeyWrite {
  try {
    if (upload.signedPreKey) verifySignedPreKey(deviceKey, upload.signedPreKey, provider);
    if (upload.lastResortKemPreKey)
      verifyKemPreKey(deviceKey, { ...upload.lastResortKemPreKey, lastResort: true }, provider);
    for (const k of upload.kemPreKeys ?? []) verifyKemPreKey(deviceKey, { ...k, lastResort: false }, provider);
  } catch (e) {
    if (isProtocolError(e)) throw fail('INVALID_SIGNATURE', 'a prekey signature does not verify with the device key');
    throw e;
  }
  for (const [field, keys] of [
    ['oneTimePreKeys', upload.oneTimePreKeys],
    ['kemPreKeys', upload.kemPreKeys],
  ] as const) {
    const ids = new Set((keys ?? []).map((k) => k.id));
    if (ids.size !== (keys ?? []).length) throw fail('BAD_REQUEST', `${field}: repeated key id`);
  }
  return {
    ...(upload.signedPreKey ? { signedPreKey: upload.signedPreKey } : {}),
    ...(upload.lastResortKemPreKey ? { lastResortKemPreKey: upload.lastResortKemPreKey } : {}),
    ...(upload.oneTimePreKeys ? { oneTimePreKeys: upload.oneTimePreKeys } : {}),
    ...(upload.kemPreKeys ? { kemPreKeys: upload.kemPreKeys } : {}),
    ...(upload.replaceOneTimePreKeys ? { replaceOneTimePreKeys: true } : {}),
  };
}

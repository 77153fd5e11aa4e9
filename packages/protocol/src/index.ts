/**
 * `@vaultex/protocol`: the runtime-neutral entry point (Node and browsers).
 * Pure functions and state objects; no network, no disk. Randomness, time and the
 * crypto provider are parameters.
 */

export { assertBytes, assertInteger, assertString, isBytes } from './assert.js';
export * from './backup.js';
export { bytesToHex, bytesToUtf8, concatBytes, equalBytes, hexToBytes, utf8ToBytes, wipe } from './bytes.js';
export * from './errors.js';
export * from './identity.js';
export * from './keys.js';
export * from './merkle.js';
export * from './padding.js';
export * from './pqxdh.js';
export * from './prekeys.js';
export { nobleProvider } from './provider/noble-provider.js';
export type { Argon2Params, CryptoProvider, KemEncapsulation, KemKeyPair } from './provider/provider.js';
export { type Clock, manualClock, type RandomSource, seededRandom, systemClock, systemRandom } from './random.js';
export {
  DEFAULT_RATCHET_LIMITS,
  expandMessageKey,
  kdfChainKey,
  kdfRootKey,
  MAX_MESSAGE_NUMBER,
  type RatchetLimits,
  resolveRatchetLimits,
} from './ratchet.js';
export * from './safety-number.js';
export * from './sealed-sender.js';
export * from './sender-keys.js';
export * from './session.js';
export { SESSION_STATE_VERSION } from './session-state.js';
export * from './transparency-log.js';
export { type DecodeOptions, decodeWire, encodeWire, MAX_WIRE_BYTES, WireReader } from './wire.js';

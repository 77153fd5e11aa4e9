/**
 * `@vaultex/protocol`: the runtime-neutral entry point (Node and browsers).
 * Pure functions and state objects; no network, no disk. Randomness, time and the
 * crypto provider are parameters.
 */

export { assertBytes, assertInteger, assertString, isBytes } from './assert.js';
export { bytesToHex, bytesToUtf8, concatBytes, equalBytes, hexToBytes, utf8ToBytes, wipe } from './bytes.js';
export * from './errors.js';
export * from './identity.js';
export * from './keys.js';
export { nobleProvider } from './provider/noble-provider.js';
export type { Argon2Params, CryptoProvider, KemEncapsulation, KemKeyPair } from './provider/provider.js';
export { type Clock, manualClock, type RandomSource, seededRandom, systemClock, systemRandom } from './random.js';
export { type DecodeOptions, decodeWire, encodeWire, MAX_WIRE_BYTES, WireReader } from './wire.js';

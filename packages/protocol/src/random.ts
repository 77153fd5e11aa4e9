/**
 * Randomness and time are parameters everywhere in @vaultex/protocol so that tests
 * are deterministic. Production code passes {@link systemRandom} and {@link systemClock}.
 */
import { chacha20 } from '@noble/ciphers/chacha.js';
import { assertBytes, assertInteger } from './assert.js';

/** Returns `length` fresh random bytes. */
export type RandomSource = (length: number) => Uint8Array;

/** Milliseconds since the Unix epoch. */
export type Clock = () => number;

/** Cryptographically secure randomness from the platform (`crypto.getRandomValues`). */
export const systemRandom: RandomSource = (length) => {
  assertInteger(length, 'length', 0, 1 << 20);
  const out = new Uint8Array(length);
  // getRandomValues is limited to 65536 bytes per call.
  for (let i = 0; i < length; i += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  }
  return out;
};

/** Wall-clock time. */
export const systemClock: Clock = () => Date.now();

/**
 * A deterministic random source for tests and vector generation: the ChaCha20
 * keystream under a 32-byte seed. Never use it for real keys.
 * @example const rng = seededRandom(new Uint8Array(32).fill(7));
 */
export function seededRandom(seed: Uint8Array): RandomSource {
  assertBytes(seed, 'seed', 32);
  const key = new Uint8Array(seed);
  const nonce = new Uint8Array(12);
  let counter = 0;
  let buffer = new Uint8Array(0);
  let offset = 0;
  return (length) => {
    assertInteger(length, 'length', 0, 1 << 20);
    const out = new Uint8Array(length);
    let written = 0;
    while (written < length) {
      if (offset === buffer.length) {
        buffer = chacha20(key, nonce, new Uint8Array(4096), undefined, counter);
        counter += 4096 / 64;
        offset = 0;
      }
      const take = Math.min(length - written, buffer.length - offset);
      out.set(buffer.subarray(offset, offset + take), written);
      written += take;
      offset += take;
    }
    return out;
  };
}

/** A manually advanced clock for tests. */
export function manualClock(start = 0): Clock & { advance(ms: number): void; set(ms: number): void } {
  let now = start;
  const clock = (() => now) as Clock & { advance(ms: number): void; set(ms: number): void };
  clock.advance = (ms) => {
    now += ms;
  };
  clock.set = (ms) => {
    now = ms;
  };
  return clock;
}

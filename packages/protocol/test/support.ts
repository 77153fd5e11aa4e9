import { type CryptoProvider, nobleProvider, seededRandom } from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';

/** Both providers: every vector and scenario test runs against each. */
export const providers: readonly CryptoProvider[] = [nobleProvider, nodeProvider];

/** A deterministic random source from a small integer label. */
export function rng(label: number) {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, label);
  return seededRandom(seed);
}

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

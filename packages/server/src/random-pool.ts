/**
 * A buffer in front of the system CSPRNG: the relay draws 16 random bytes per stored
 * message, and one `getRandomValues` call per message is measurable under load. Bytes are
 * handed out once and the buffer is wiped as it is consumed.
 */
import type { RandomSource } from '@vaultex/protocol';

/** Serve small requests from `poolBytes` drawn at a time from `source`; large ones directly. */
export function pooledRandom(source: RandomSource, poolBytes = 4096): RandomSource {
  let pool: Uint8Array = new Uint8Array(0);
  let offset = 0;
  return (length) => {
    if (length > poolBytes / 4) return source(length);
    if (offset + length > pool.length) {
      pool = source(poolBytes);
      offset = 0;
    }
    const out = pool.slice(offset, offset + length);
    pool.fill(0, offset, offset + length);
    offset += length;
    return out;
  };
}

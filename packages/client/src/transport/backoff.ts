/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter"): the n-th retry waits a uniformly random time in [0, min(cap, base * 2^n)].
 * Full jitter spreads reconnecting clients after a relay restart instead of having them
 * all come back in the same millisecond.
 */
import type { RandomSource } from '@vaultex/protocol';

/** Parameters of {@link backoffDelay}. */
export interface BackoffOptions {
  /** Delay ceiling of the first retry, in milliseconds. */
  readonly baseMs: number;
  /** Largest delay, in milliseconds. */
  readonly capMs: number;
}

/** Reconnects: base 500 ms, cap 30 s. */
export const RECONNECT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };
/** Outbox retries: base 1 s, cap 5 min. */
export const OUTBOX_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 5 * 60_000 };

/**
 * A uniformly random delay in [0, min(cap, base * 2^attempt)] milliseconds.
 * @param attempt - 0 for the first retry.
 * @param random - the injected random source (4 bytes are drawn).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: RandomSource): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const ceiling = Math.min(options.capMs, options.baseMs * 2 ** exponent);
  const bytes = random(4);
  const fraction = (((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0) / 2 ** 32;
  return Math.floor(fraction * (ceiling + 1));
}

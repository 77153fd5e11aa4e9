/**
 * In-memory token buckets keyed by strings (an account id, a salted IP hash, a
 * connection). Each bucket holds `limit` tokens and refills them over `windowMs`; an
 * empty bucket refuses with the seconds until one token is back. State is per process:
 * with several instances each enforces its own share (documented in docs/API.md).
 */
import type { Clock } from '@vaultex/protocol';
import { fail } from './errors.js';

interface Bucket {
  tokens: number;
  updated: number;
}

/** A family of buckets sharing one limit and window. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly name: string,
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Take `cost` tokens for `key`.
   * @returns 0 when allowed, else the whole seconds to wait (at least 1).
   */
  take(key: string, cost = 1): number {
    const now = this.clock();
    const rate = this.limit / this.windowMs;
    const bucket = this.buckets.get(key) ?? { tokens: this.limit, updated: now };
    bucket.tokens = Math.min(this.limit, bucket.tokens + (now - bucket.updated) * rate);
    bucket.updated = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil((Math.min(cost, this.limit) - bucket.tokens) / rate / 1000));
  }

  /**
   * Take tokens or throw RATE_LIMITED with the retry-after.
   * @throws ApiFailure RATE_LIMITED.
   */
  enforce(key: string, cost = 1): void {
    const wait = this.take(key, cost);
    if (wait > 0) throw fail('RATE_LIMITED', `${this.name} rate limit reached`, { retryAfter: wait });
  }

  /** Forget buckets that have refilled completely (bounded memory). */
  sweep(): void {
    const now = this.clock();
    const rate = this.limit / this.windowMs;
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.updated) * rate >= this.limit) this.buckets.delete(key);
    }
  }

  /** Number of live buckets (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }
}

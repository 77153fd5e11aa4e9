/**
 * In-memory token buckets keyed by strings (an account id, a salted IP hash, a
 * connection). Each bucket holds `limit` tokens and refills them over `windowMs`; an
 * empty bucket refuses with the seconds until one token is back. State is per process;
 * with several instances a {@link SharedConsumption} (the Redis rate sync) tells each
 * instance what the others consumed, so a limit holds across them (within the sync lag).
 */
import type { Clock } from '@vaultex/protocol';
import { fail } from './errors.js';

interface Bucket {
  tokens: number;
  updated: number;
}

/** Where a limiter reports what it let through, to be shared with other instances. */
export interface SharedConsumption {
  consumed(limiter: RateLimiter, key: string, cost: number): void;
}

/** A family of buckets sharing one limit and window. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private shared: SharedConsumption | undefined;

  constructor(
    readonly name: string,
    private readonly limit: number,
    readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /**
   * Take `cost` tokens for `key`.
   * @returns 0 when allowed, else the whole seconds to wait (at least 1).
   */
  take(key: string, cost = 1): number {
    const rate = this.limit / this.windowMs;
    const bucket = this.refill(key);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      this.shared?.consumed(this, key, cost);
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

  /** Report every successful take to `shared` (several instances). */
  share(shared: SharedConsumption): void {
    this.shared = shared;
  }

  /** Deduct what other instances let through for `key`; the bucket may go negative (they over-spent). */
  absorb(key: string, cost: number): void {
    const bucket = this.refill(key);
    bucket.tokens = Math.max(-this.limit, bucket.tokens - cost);
  }

  private refill(key: string): Bucket {
    const now = this.clock();
    const rate = this.limit / this.windowMs;
    const bucket = this.buckets.get(key) ?? { tokens: this.limit, updated: now };
    bucket.tokens = Math.min(this.limit, bucket.tokens + (now - bucket.updated) * rate);
    bucket.updated = now;
    this.buckets.set(key, bucket);
    return bucket;
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

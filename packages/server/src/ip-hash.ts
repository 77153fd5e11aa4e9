/**
 * Per-IP rate limits without storing IPs: the key is HMAC-SHA-256(salt, ip) with a
 * random salt that lives only in memory and is replaced every day, so yesterday's keys
 * cannot be recomputed and nothing on disk or in logs ties a key to an address.
 * Instances that share per-IP limits (through Redis, redis-rate-sync.ts) adopt one salt
 * per day from Redis instead, so that one address has the same key on each of them.
 */
import { createHmac } from 'node:crypto';
import type { Clock, RandomSource } from '@vaultex/protocol';

const DAY = 24 * 60 * 60 * 1000;

/** The day number (UTC days since the epoch) the salt of a time belongs to. */
export function saltDay(ms: number): number {
  return Math.floor(ms / DAY);
}

/** Turns client addresses into opaque, daily-rotating keys. */
export class IpHasher {
  private salt: Uint8Array;
  private day: number;
  /** Salts shared between instances, by day (today's and tomorrow's at most). */
  private readonly adopted = new Map<number, Uint8Array>();

  constructor(
    private readonly clock: Clock,
    private readonly random: RandomSource,
  ) {
    this.salt = random(32);
    this.day = Math.floor(clock() / DAY);
  }

  /** The opaque key of an address for today. */
  hash(ip: string): string {
    const day = saltDay(this.clock());
    if (day !== this.day) {
      this.salt = this.random(32);
      this.day = day;
      for (const d of this.adopted.keys()) if (d < day) this.adopted.delete(d);
    }
    const salt = this.adopted.get(day) ?? this.salt;
    return createHmac('sha256', salt).update(ip).digest('base64url').slice(0, 22);
  }

  /**
   * Use `salt` for `day` instead of this instance's own (shared per-IP limits). Only
   * today and tomorrow are accepted: a past salt is never brought back.
   * @returns whether it was taken.
   */
  adopt(day: number, salt: Uint8Array): boolean {
    const today = saltDay(this.clock());
    if (salt.length !== 32 || day < today || day > today + 1) return false;
    this.adopted.set(day, salt.slice());
    return true;
  }

  /** Today's day number (by this hasher's clock). */
  today(): number {
    return saltDay(this.clock());
  }

  /** Whether today's key comes from a shared salt. */
  get shared(): boolean {
    return this.adopted.has(saltDay(this.clock()));
  }
}

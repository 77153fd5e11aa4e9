/**
 * Per-IP rate limits without storing IPs: the key is HMAC-SHA-256(salt, ip) with a
 * random salt that lives only in memory and is replaced every day, so yesterday's keys
 * cannot be recomputed and nothing on disk or in logs ties a key to an address.
 */
import { createHmac } from 'node:crypto';
import type { Clock, RandomSource } from '@vaultex/protocol';

const DAY = 24 * 60 * 60 * 1000;

/** Turns client addresses into opaque, daily-rotating keys. */
export class IpHasher {
  private salt: Uint8Array;
  private day: number;

  constructor(
    private readonly clock: Clock,
    private readonly random: RandomSource,
  ) {
    this.salt = random(32);
    this.day = Math.floor(clock() / DAY);
  }

  /** The opaque key of an address for today. */
  hash(ip: string): string {
    const day = Math.floor(this.clock() / DAY);
    if (day !== this.day) {
      this.salt = this.random(32);
      this.day = day;
    }
    return createHmac('sha256', this.salt).update(ip).digest('base64url').slice(0, 22);
  }
}

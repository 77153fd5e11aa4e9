/**
 * Rate limits that hold across relay instances. Each instance keeps its token buckets in
 * memory and decides locally (no round trip per request); every `flushMs` it broadcasts
 * what it let through, per limiter and key, on one Redis pub/sub channel, and deducts
 * what the others broadcast from its own buckets. Every bucket is thus debited by the
 * consumption of all instances: a client spreading requests over N instances gets the
 * configured limit, not N times it (give or take one flush interval).
 *
 * Only the daily IP salt is stored in Redis (below). If a broadcast is lost the limits are
 * briefly looser, never stricter. Limiters keyed by account id are shared as they are.
 * Per-IP limiters are keyed by HMAC(salt, ip); to share them every instance adopts one
 * random salt per day, created by whichever instance asks first (`SET NX`, expiring after
 * two days) and kept in Redis memory only. The raw address never leaves the instance;
 * the broadcast carries the 22-character key, as for account ids.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pack, unpack } from 'msgpackr';
import type { Limiters } from './context.js';
import type { IpHasher } from './ip-hash.js';
import type { RateLimiter, SharedConsumption } from './rate-limiter.js';

/** The limiters keyed by account id, the same on every instance (per-IP keys are not). */
export function accountLimiters(l: Limiters): RateLimiter[] {
  return [l.sends, l.sealedSends, l.prekeyFetches, l.searches, l.attachments];
}

/** The limiters keyed by the hashed client address (shared once the salt is; see {@link RedisRateSync.shareIpLimits}). */
export function ipLimiters(l: Limiters): RateLimiter[] {
  return [l.wsConnections, l.registrations, l.challenges, l.downloads];
}

/** How often instances re-read the shared salts (a Redis restart loses them; they converge again). */
const SALT_REFRESH_MS = 10 * 60_000;
const SALT_TTL_MS = 2 * 24 * 60 * 60_000;

/** Options of {@link RedisRateSync.connect}. */
export interface RedisRateSyncOptions {
  /** The channel (several deployments may share one Redis). */
  readonly channel?: string;
  /** How often consumption is broadcast (ms). */
  readonly flushMs?: number;
  readonly onError?: (error: Error) => void;
}

/** Shares the consumption of rate limiters between instances through Redis. */
export class RedisRateSync implements SharedConsumption {
  private readonly origin = randomBytes(8).toString('hex');
  private readonly limiters = new Map<string, RateLimiter>();
  /** limiter name -> key -> cost not yet broadcast. */
  private pending = new Map<string, Map<string, number>>();
  private readonly timer: NodeJS.Timeout;
  private saltTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly channel: string,
    flushMs: number,
  ) {
    sub.on('messageBuffer', (_channel: Buffer, payload: Buffer) => this.onRemote(payload));
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  /**
   * Connect and subscribe.
   * @throws Error when Redis cannot be reached at start-up.
   */
  static async connect(url: string, options: RedisRateSyncOptions = {}): Promise<RedisRateSync> {
    const pub = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    const sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
    const onError = (e: Error) => options.onError?.(e);
    pub.on('error', onError);
    sub.on('error', onError);
    const channel = options.channel ?? 'vaultex:rate';
    try {
      await Promise.all([pub.connect(), sub.connect()]);
      await sub.subscribe(channel);
    } catch (e) {
      pub.disconnect();
      sub.disconnect();
      throw e;
    }
    return new RedisRateSync(pub, sub, channel, options.flushMs ?? 100);
  }

  /** Share these limiters (by name: every instance must use the same names). */
  share(limiters: Iterable<RateLimiter>): void {
    for (const limiter of limiters) {
      this.limiters.set(limiter.name, limiter);
      limiter.share(this);
    }
  }

  /**
   * Share per-IP limiters: adopt today's and tomorrow's salt from Redis (creating them when
   * absent), refresh them every 10 minutes, and share `limiters` once today's salt is shared.
   * @returns whether today's salt is shared (false: Redis failed; the limits stay per instance).
   */
  async shareIpLimits(hasher: IpHasher, limiters: Iterable<RateLimiter>): Promise<boolean> {
    const list = [...limiters];
    let shared = false;
    const refresh = async () => {
      // Shared from the first refresh that adopts today's salt (perhaps a later one).
      if ((await this.refreshSalts(hasher)) && !shared) {
        shared = true;
        this.share(list);
      }
      return shared;
    };
    const ok = await refresh();
    this.saltTimer ??= setInterval(() => {
      void refresh();
    }, SALT_REFRESH_MS);
    this.saltTimer.unref();
    return ok;
  }

  private async refreshSalts(hasher: IpHasher): Promise<boolean> {
    const today = hasher.today();
    try {
      for (const day of [today, today + 1]) {
        const key = `${this.channel}:ipsalt:${day}`;
        await this.pub.set(key, randomBytes(32), 'PX', SALT_TTL_MS, 'NX');
        const salt = await this.pub.getBuffer(key);
        if (!salt || !hasher.adopt(day, new Uint8Array(salt))) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  consumed(limiter: RateLimiter, key: string, cost: number): void {
    let keys = this.pending.get(limiter.name);
    if (!keys) {
      keys = new Map();
      this.pending.set(limiter.name, keys);
    }
    keys.set(key, (keys.get(key) ?? 0) + cost);
  }

  /** Broadcast what was consumed since the last flush (the timer calls it; tests may too). */
  flush(): Promise<void> {
    if (this.pending.size === 0 || this.closed) return Promise.resolve();
    const batch = [...this.pending].map(([name, keys]) => [name, [...keys]]);
    this.pending = new Map();
    return this.pub.publish(this.channel, pack([this.origin, batch])).then(
      () => {},
      () => {},
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    clearInterval(this.timer);
    clearInterval(this.saltTimer);
    await Promise.all([this.pub.quit().catch(() => {}), this.sub.quit().catch(() => {})]);
  }

  private onRemote(payload: Buffer): void {
    let v: unknown;
    try {
      v = unpack(payload);
    } catch {
      return;
    }
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string' || v[0] === this.origin) return;
    if (!Array.isArray(v[1])) return;
    for (const entry of v[1] as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) continue;
      const limiter = this.limiters.get(entry[0]);
      if (!limiter) continue;
      for (const pair of entry[1] as unknown[]) {
        if (!Array.isArray(pair) || typeof pair[0] !== 'string' || typeof pair[1] !== 'number') continue;
        if (!(pair[1] > 0) || !Number.isFinite(pair[1])) continue;
        limiter.absorb(pair[0], pair[1]);
      }
    }
  }
}

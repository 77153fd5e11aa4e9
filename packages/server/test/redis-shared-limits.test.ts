/**
 * Scale-out observability and limits through Redis: the Redis bus's counters appear on the
 * loopback metrics endpoint of a relay built around it and move with traffic, reconnects
 * and sweeps; per-IP limits hold across two instances (one address, one shared budget),
 * keyed by the salted hash both instances derive from the day's shared salt.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { RedisBus } from '../src/redis-bus.js';
import { accountLimiters, ipLimiters, RedisRateSync } from '../src/redis-rate-sync.js';
import { createServer, type RelayServer } from '../src/server.js';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';
import { describeWith } from './scale-support.js';

const account = new Uint8Array(16).fill(3);

/** A metric's value in a Prometheus text exposition (0 when absent). */
function value(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

async function until(check: () => Promise<boolean> | boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeWith('Redis bus metrics and shared per-IP limits', { redis: true }, ({ redis }) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A relay on a fresh SQLite file (the limits and the bus do not care which database). */
  const relay = async (
    config: Record<string, unknown>,
    bus?: RedisBus,
  ): Promise<{ server: RelayServer; url: string; metricsUrl: string | undefined }> => {
    const dir = mkdtempSync(join(tmpdir(), 'vaultex-shared-'));
    const storage = SqliteStorage.open(join(dir, 'vaultex.db'));
    const server = await createServer({
      config: { host: '127.0.0.1', port: 0, metricsPort: -1, logLevel: 'warn', ...config },
      storage,
      ...(bus ? { bus } : {}),
      logger: { stream: { write: () => {} } },
    });
    const { url, metricsUrl } = await server.listen();
    cleanups.push(async () => {
      await server.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { server, url, metricsUrl };
  };

  const redisBus = async (prefix: string, sweepMs: number): Promise<RedisBus> => {
    const b = await RedisBus.connect(redis, { prefix, sweepMs });
    cleanups.push(() => b.close());
    return b;
  };

  it('exports the bus counters on the metrics endpoint, and they move', async () => {
    const prefix = `vaultex-metrics-${randomBytes(4).toString('hex')}:`;
    const local = await redisBus(prefix, 200);
    const other = await redisBus(prefix, 60_000);
    const { metricsUrl } = await relay({ metricsPort: 0 }, local);
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/u);
    const scrape = async () => (await fetch(metricsUrl!)).text();

    const before = await scrape();
    for (const name of [
      'vaultex_redis_bus_published_total',
      'vaultex_redis_bus_publish_failures_total',
      'vaultex_redis_bus_received_total',
      'vaultex_redis_bus_malformed_total',
      'vaultex_redis_bus_reconnects_total',
      'vaultex_redis_bus_resyncs_total',
      'vaultex_redis_bus_sweeps_total',
      'vaultex_redis_bus_swept_devices_total',
      'vaultex_redis_bus_subscribed_devices',
      'vaultex_redis_bus_sweep_seconds_count',
    ]) {
      expect(before).toContain(`${name} `);
    }
    expect(value(before, 'vaultex_redis_bus_published_total')).toBe(0);

    local.subscribe(account, 1, () => {});
    const admin = new Redis(redis);
    cleanups.push(async () => void (await admin.quit()));
    const channel = `${prefix}${Buffer.from(account).toString('hex')}:1`;
    await until(
      async () => Number(((await admin.pubsub('NUMSUB', channel)) as [string, number])[1]) === 1,
      'SUBSCRIBE',
    );
    local.publish(account, 1, { kind: 'revoked' });
    other.publish(account, 1, { kind: 'revoked' });
    await until(() => local.stats.received >= 2 && local.stats.sweeps >= 1, 'traffic and a sweep');

    // Cut the subscriber: Redis dropping it is what a reconnect counts.
    const list = (await admin.client('LIST')) as string;
    const id = list
      .split('\n')
      .find((l) => l.includes(`name=${local.subscriberName}`))
      ?.match(/id=(\d+)/u)?.[1];
    await admin.client('KILL', 'ID', id!);
    await until(() => local.stats.reconnects === 1, 'the reconnect');

    const after = await scrape();
    expect(value(after, 'vaultex_redis_bus_published_total')).toBe(1);
    // Its own echo and the other instance's event.
    expect(value(after, 'vaultex_redis_bus_received_total')).toBeGreaterThanOrEqual(2);
    expect(value(after, 'vaultex_redis_bus_reconnects_total')).toBe(1);
    expect(value(after, 'vaultex_redis_bus_sweeps_total')).toBeGreaterThanOrEqual(1);
    expect(value(after, 'vaultex_redis_bus_swept_devices_total')).toBeGreaterThanOrEqual(1);
    expect(value(after, 'vaultex_redis_bus_sweep_seconds_count')).toBe(value(after, 'vaultex_redis_bus_sweeps_total'));
    // One resync per sweep and one after the reconnect.
    expect(value(after, 'vaultex_redis_bus_resyncs_total')).toBeGreaterThanOrEqual(2);
    expect(value(after, 'vaultex_redis_bus_subscribed_devices')).toBe(1);
    expect(value(after, 'vaultex_redis_bus_publish_failures_total')).toBe(0);
  });

  it('holds one per-IP budget across two instances for one address', async () => {
    const channel = `vaultex-iplimit-${randomBytes(4).toString('hex')}`;
    const limit = 6;
    const instances: { url: string; rates: RedisRateSync; server: RelayServer }[] = [];
    for (let i = 0; i < 2; i++) {
      const { server, url } = await relay({ limits: { challengesPerMinute: limit } });
      const rates = await RedisRateSync.connect(redis, { channel, flushMs: 60_000 });
      cleanups.push(() => rates.close());
      rates.share(accountLimiters(server.context.limiters));
      expect(await rates.shareIpLimits(server.context.ipHasher, ipLimiters(server.context.limiters))).toBe(true);
      instances.push({ url, rates, server });
    }
    const [a, b] = instances as [(typeof instances)[0], (typeof instances)[0]];
    // The same address gets the same key on both (the shared salt), and only the key travels.
    expect(a.server.context.ipHasher.hash('198.51.100.7')).toBe(b.server.context.ipHasher.hash('198.51.100.7'));
    expect(a.server.context.ipHasher.hash('198.51.100.7')).not.toBe(a.server.context.ipHasher.hash('198.51.100.8'));

    const challenge = async (url: string) => (await fetch(`${url}/api/v1/auth/challenge`, { method: 'POST' })).status;
    for (let i = 0; i < 4; i++) expect(await challenge(a.url)).toBe(200);
    // Broadcast A's consumption now (the timer is set to a minute), and let B take it in.
    const subscriber = new Redis(redis);
    cleanups.push(async () => void (await subscriber.quit()));
    await subscriber.subscribe(channel);
    const seen = new Promise<void>((resolve) => subscriber.once('message', () => resolve()));
    await a.rates.flush();
    await seen;
    await new Promise((r) => setTimeout(r, 50));

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(await challenge(b.url));
    // B alone would allow 6; with A's 4 counted, 2 remain.
    expect(statuses).toEqual([200, 200, 429, 429]);

    // Nothing in Redis but the salts, and no address anywhere.
    const admin = new Redis(redis);
    cleanups.push(async () => void (await admin.quit()));
    const keys = await admin.keys(`${channel}*`);
    expect(keys.sort()).toEqual([0, 1].map((d) => `${channel}:ipsalt:${a.server.context.ipHasher.today() + d}`).sort());
  });
});

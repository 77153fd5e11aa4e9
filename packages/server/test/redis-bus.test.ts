/**
 * The Redis bus between two instances: events published on one reach subscribers on the
 * other (and local ones exactly once); late notifications, a lost subscriber connection
 * and the periodic sweep each make subscribers re-read their mailbox (`resync`); foreign
 * payloads on a channel are ignored.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import type { BusEvent } from '../src/bus.js';
import { RedisBus } from '../src/redis-bus.js';
import { describeWith } from './scale-support.js';

const account = new Uint8Array(16).fill(7);
const source = { accountId: new Uint8Array(16).fill(9), deviceId: 2 };

/** Collects events and waits for a count. */
function collector() {
  const events: BusEvent[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const handler = (e: BusEvent) => {
    events.push(e);
    for (const w of waiters.filter((x) => events.length >= x.n)) w.resolve();
  };
  const until = (n: number, ms = 5000) =>
    new Promise<void>((resolve, reject) => {
      if (events.length >= n) return resolve();
      const timer = setTimeout(() => reject(new Error(`only ${events.length} of ${n} events`)), ms);
      waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  return { events, handler, until };
}

/** Resolves once Redis has `channel` subscribed (SUBSCRIBE is asynchronous). */
async function subscribed(admin: Redis, channel: string, count = 1): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const [, n] = (await admin.pubsub('NUMSUB', channel)) as [string, number];
    if (Number(n) >= count) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${channel} never subscribed`);
}

describeWith('redis bus', { redis: true }, ({ redis }) => {
  const opened: (RedisBus | Redis)[] = [];
  const prefix = () => `vaultex-test-${randomBytes(4).toString('hex')}:`;
  const bus = async (p: string, sweepMs = 60_000) => {
    const b = await RedisBus.connect(redis, { prefix: p, sweepMs });
    opened.push(b);
    return b;
  };
  const admin = () => {
    const r = new Redis(redis);
    opened.push(r);
    return r;
  };
  const channel = (p: string) => `${p}${Buffer.from(account).toString('hex')}:1`;
  afterEach(async () => {
    for (const x of opened.splice(0)) await (x instanceof RedisBus ? x.close() : x.quit());
  });

  it('carries every kind of event from one instance to another, and to local subscribers once', async () => {
    const p = prefix();
    const [a, b] = [await bus(p), await bus(p)];
    const remote = collector();
    const local = collector();
    b.subscribe(account, 1, remote.handler);
    a.subscribe(account, 1, local.handler);
    await subscribed(admin(), channel(p), 2);
    const message = { seq: 5, id: new Uint8Array(16).fill(1), blob: new Uint8Array([1, 2, 3]), source };
    expect(a.publish(account, 1, { kind: 'message', message })).toBe(1);
    a.publish(account, 1, { kind: 'ephemeral', blob: new Uint8Array([4]) });
    a.publish(account, 1, { kind: 'connected', connectionId: 'c1' });
    a.publish(account, 1, { kind: 'revoked' });
    await remote.until(4);
    expect(remote.events).toEqual([
      { kind: 'message', message },
      { kind: 'ephemeral', blob: new Uint8Array([4]) },
      { kind: 'connected', connectionId: 'c1' },
      { kind: 'revoked' },
    ]);
    // Its own events come back from Redis too and are skipped: local subscribers saw each once.
    await new Promise((r) => setTimeout(r, 100));
    expect(local.events.length).toBe(4);
    expect(a.stats.received).toBeGreaterThanOrEqual(4);
  });

  it('stops delivering after unsubscribe and leaves the Redis channel', async () => {
    const p = prefix();
    const [a, b] = [await bus(p), await bus(p)];
    const c = collector();
    const off = b.subscribe(account, 1, c.handler);
    const r = admin();
    await subscribed(r, channel(p));
    off();
    expect(b.size).toBe(0);
    for (let i = 0; i < 100; i++) {
      const [, n] = (await r.pubsub('NUMSUB', channel(p))) as [string, number];
      if (Number(n) === 0) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    a.publish(account, 1, { kind: 'revoked' });
    await new Promise((res) => setTimeout(res, 100));
    expect(c.events).toEqual([]);
  });

  it('asks for a resync when a message notification arrives after a later one', async () => {
    const p = prefix();
    const [a, b] = [await bus(p), await bus(p)];
    const c = collector();
    b.subscribe(account, 1, c.handler);
    await subscribed(admin(), channel(p));
    const msg = (seq: number) => ({ seq, id: new Uint8Array(16).fill(seq), blob: new Uint8Array([seq]) });
    a.publish(account, 1, { kind: 'message', message: msg(8) });
    a.publish(account, 1, { kind: 'message', message: msg(6) });
    await c.until(3);
    expect(c.events.map((e) => (e.kind === 'message' ? e.message.seq : e))).toEqual([
      8,
      6,
      { kind: 'resync', afterSeq: 5 },
    ]);
  });

  it('resyncs every subscriber after its Redis connection comes back, and keeps delivering', async () => {
    const p = prefix();
    const [a, b] = [await bus(p), await bus(p)];
    const c = collector();
    b.subscribe(account, 1, c.handler);
    const r = admin();
    await subscribed(r, channel(p));
    const list = (await r.client('LIST')) as string;
    const id = list
      .split('\n')
      .find((line) => line.includes(`name=${b.subscriberName}`))
      ?.match(/id=(\d+)/u)?.[1];
    expect(id).toBeDefined();
    await r.client('KILL', 'ID', id!);
    await c.until(1);
    expect(c.events[0]).toEqual({ kind: 'resync', afterSeq: 0 });
    expect(b.stats.reconnects).toBe(1);
    await subscribed(r, channel(p));
    a.publish(account, 1, { kind: 'revoked' });
    await c.until(2);
    expect(c.events[1]).toEqual({ kind: 'revoked' });
  });

  it('sweeps: each subscriber is asked to re-read its mailbox periodically', async () => {
    const b = await bus(prefix(), 200);
    const c = collector();
    b.subscribe(account, 1, c.handler);
    await c.until(2, 3000);
    expect(c.events.slice(0, 2)).toEqual([
      { kind: 'resync', afterSeq: 0 },
      { kind: 'resync', afterSeq: 0 },
    ]);
  });

  it('ignores payloads on its channels that are not bus events', async () => {
    const p = prefix();
    const b = await bus(p);
    const c = collector();
    b.subscribe(account, 1, c.handler);
    const r = admin();
    await subscribed(r, channel(p));
    await r.publish(channel(p), 'hello');
    await r.publish(channel(p), Buffer.from([0x93, 0xa1, 0x78, 0x01, 0x02]));
    for (let i = 0; i < 100 && b.stats.malformed < 2; i++) await new Promise((res) => setTimeout(res, 10));
    expect(b.stats.malformed).toBe(2);
    expect(c.events).toEqual([]);
  });
});

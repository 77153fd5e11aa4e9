/**
 * Several relays on one PostgreSQL database and one Redis: a device connected to
 * instance B gets, in real time, what is sent through instance A; a newer connection on
 * one instance replaces an older one on another; when notifications are lost (a bus that
 * drops them, standing in for Redis losing them) every accepted message still arrives,
 * by the periodic sweep or on reconnect, and accepted equals delivered.
 */
import { randomBytes } from 'node:crypto';
import { toBase64Url as b64 } from '@vaultex/api';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bus, BusEvent } from '../src/bus.js';
import {
  accountLimiters,
  createServer,
  PostgresStorage,
  RedisBus,
  RedisRateSync,
  type RelayServer,
  startServer,
} from '../src/index.js';
import { describeWith, SchemaPool } from './scale-support.js';
import { call, rng, TestUser, WsClient } from './support.js';

/** A bus that loses message notifications while `dropping` (the database still has them). */
class LossyBus implements Bus {
  dropping = false;
  dropped = 0;
  constructor(readonly inner: RedisBus) {}
  publish(accountId: Uint8Array, deviceId: number, event: BusEvent): number {
    if (this.dropping && event.kind === 'message') {
      this.dropped++;
      return 0;
    }
    return this.inner.publish(accountId, deviceId, event);
  }
  subscribe(accountId: Uint8Array, deviceId: number, handler: (event: BusEvent) => void): () => void {
    return this.inner.subscribe(accountId, deviceId, handler);
  }
}

interface Instance {
  readonly server: RelayServer;
  readonly storage: PostgresStorage;
  readonly bus: LossyBus;
  readonly rates: RedisRateSync;
  readonly url: string;
  readonly wsUrl: string;
}

type MessageFrame = { t: 'message'; id: string; blob: Uint8Array };

/** Read message frames until every id in `ids` has arrived; returns how many frames that took. */
async function receive(ws: WsClient, ids: ReadonlySet<string>, timeoutMs = 10_000): Promise<number> {
  const seen = new Set<string>();
  let frames = 0;
  const deadline = Date.now() + timeoutMs;
  while ([...ids].some((id) => !seen.has(id))) {
    const f = (await ws.next((x) => x.t === 'message', Math.max(1, deadline - Date.now()))) as MessageFrame;
    frames++;
    seen.add(f.id);
  }
  return frames;
}

describeWith('several relay instances', { database: true, redis: true }, ({ database, redis }) => {
  const schemas = new SchemaPool(database);
  const schema = schemas.name();
  const prefix = `vaultex-mi-${randomBytes(4).toString('hex')}:`;
  const instances: Instance[] = [];
  let seed = 9100;

  const start = async (sweepMs: number): Promise<Instance> => {
    const storage = await PostgresStorage.open(database, { schema, maxConnections: 4 });
    const bus = new LossyBus(await RedisBus.connect(redis, { prefix, sweepMs }));
    const server = await createServer({
      config: {
        host: '127.0.0.1',
        port: 0,
        metricsPort: -1,
        logLevel: 'warn',
        limits: { registrationsPerHour: 1000, challengesPerMinute: 10_000, prekeyFetchesPerHour: 6 },
      },
      storage,
      bus,
      logger: { stream: { write: () => {} } },
    });
    const rates = await RedisRateSync.connect(redis, { channel: `${prefix}rate` });
    rates.share(accountLimiters(server.context.limiters));
    const { url } = await server.listen();
    const instance = { server, storage, bus, rates, url, wsUrl: `${url.replace('http', 'ws')}/ws` };
    instances.push(instance);
    return instance;
  };

  let a: Instance;
  let b: Instance;
  let c: Instance;
  beforeAll(async () => {
    // A and B sweep rarely (only Redis can explain a delivery); C sweeps often.
    a = await start(60_000);
    b = await start(60_000);
    c = await start(300);
  });
  afterAll(async () => {
    for (const i of instances) {
      await i.server.close();
      await i.bus.inner.close();
      await i.rates.close();
      await i.storage.close();
    }
    await schemas.dropAll();
  });

  const user = (via: Instance) => new TestUser(via.url, rng(++seed));
  const send = async (via: Instance, from: TestUser, to: TestUser, text: string): Promise<string> => {
    const r = await call(via.url, 'POST', '/api/v1/messages', {
      token: from.token(),
      body: { messages: [{ blob: b64(new TextEncoder().encode(text)), targets: to.targets() }] },
    });
    if (r.status !== 200) throw new Error(JSON.stringify(r.body));
    return r.body.ids[0] as string;
  };

  it('delivers in real time to a device on B what was sent through A', async () => {
    const alice = await user(a).register();
    const bob = await user(b).register();
    const ws = await WsClient.device(b.wsUrl, bob.token());
    expect(await ws.drain()).toEqual([]);
    const started = performance.now();
    const id = await send(a, alice, bob, 'hello across');
    const f = (await ws.next((x) => x.t === 'message', 3000)) as MessageFrame;
    expect(f.id).toBe(id);
    expect(new TextDecoder().decode(f.blob)).toBe('hello across');
    // Far below the 60 s sweep: Redis carried it.
    expect(performance.now() - started).toBeLessThan(3000);
    ws.close();
  });

  it('serves accounts registered through another instance (tokens, keys, transparency)', async () => {
    const alice = await user(a).register();
    const carol = await user(c).register();
    // A bundle fetch on B includes an inclusion proof from B's view of the shared log.
    const r = await call(b.url, 'GET', `/api/v1/keys/${carol.id}`, { token: alice.token() });
    expect(r.status).toBe(200);
    expect(r.body.transparency.index).toBeGreaterThanOrEqual(0);
  });

  it('replaces an older connection on A when the same device connects on B', async () => {
    const bob = await user(a).register();
    const first = await WsClient.device(a.wsUrl, bob.token());
    await first.drain();
    const second = await WsClient.device(b.wsUrl, bob.token());
    const closed = await first.waitClosed();
    expect(closed.reason).toBe('REPLACED');
    second.close();
  });

  it('spreads sends over three instances: everything accepted is delivered to a device on B', async () => {
    const alice = await user(a).register();
    const bob = await user(b).register();
    const ws = await WsClient.device(b.wsUrl, bob.token());
    await ws.drain();
    const vias = [a, b, c];
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => send(vias[i % 3]!, alice, bob, `m${i}`)));
    const accepted = new Set(ids);
    expect(accepted.size).toBe(30);
    const frames = await receive(ws, accepted);
    expect(frames).toBeGreaterThanOrEqual(30);
    ws.close();
  });

  it('loses no message when notifications are lost: the sweep delivers them, and so does a reconnect', async () => {
    const alice = await user(a).register();
    const bob = await user(c).register();
    const ws = await WsClient.device(c.wsUrl, bob.token());
    await ws.drain();
    for (const i of instances) i.bus.dropping = true;
    try {
      const ids = new Set<string>();
      for (let i = 0; i < 10; i++) ids.add(await send(i % 2 ? a : c, alice, bob, `lost ${i}`));
      expect(a.bus.dropped + c.bus.dropped).toBe(10);
      // No notification reached C: the 300 ms sweep re-reads the mailbox.
      await receive(ws, ids, 5000);
      ws.close();
      await ws.waitClosed();
      // Unacknowledged, they come again on reconnect (through another instance, B).
      const again = await WsClient.device(b.wsUrl, bob.token());
      const pending = await again.drain();
      expect(new Set(pending.map((m) => m.id))).toEqual(ids);
      again.send({ t: 'ack', ids: [...ids] });
      // An ACK has no reply: wait until its group commit reached the database.
      for (let i = 0; i < 200; i++) {
        if ((await b.storage.pendingMessages(bob.accountId, 1, 0, 100, Date.now())).length === 0) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      again.close();
      await again.waitClosed();
      const third = await WsClient.device(a.wsUrl, bob.token());
      expect(await third.drain()).toEqual([]);
      third.close();
    } finally {
      for (const i of instances) i.bus.dropping = false;
    }
  });

  it('holds a per-account rate limit across instances (prekey fetches: 6 per hour in all)', async () => {
    const alice = await user(a).register();
    const bob = await user(b).register({ oneTime: 10 });
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) {
      const via = [a, b, c][i % 3]!;
      statuses.push((await call(via.url, 'GET', `/api/v1/keys/${bob.id}`, { token: alice.token() })).status);
      // Longer than one flush: each instance has heard of the others' fetches.
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(statuses.filter((x) => x === 200).length).toBe(6);
    expect(statuses.slice(6)).toEqual([429, 429, 429]);
  });

  it('startServer picks PostgreSQL and Redis from databaseUrl and redisUrl', async () => {
    const url = new URL(database);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const s = await startServer({
      config: {
        host: '127.0.0.1',
        port: 0,
        metricsPort: -1,
        logLevel: 'silent',
        databaseUrl: url.toString(),
        redisUrl: redis,
        limits: { registrationsPerHour: 1000, challengesPerMinute: 10_000 },
      },
    });
    try {
      expect(s.context.storage).toBeInstanceOf(PostgresStorage);
      expect(s.context.bus).toBeInstanceOf(RedisBus);
      // The started instance uses the default bus prefix; a device connected to it gets what A stored.
      const alice = await user(a).register();
      const bob = await user(a).register();
      const ws = await WsClient.device(`${s.url.replace('http', 'ws')}/ws`, bob.token());
      await ws.drain();
      const id = await send(a, alice, bob, 'via the database');
      // A publishes under another prefix, so only the database can explain this delivery on reconnect.
      ws.close();
      await ws.waitClosed();
      const again = await WsClient.device(`${s.url.replace('http', 'ws')}/ws`, bob.token());
      expect((await again.drain()).map((m) => m.id)).toEqual([id]);
      again.close();
    } finally {
      await s.close();
    }
  });
});

/**
 * Issue 7, faults under load: three relay processes on a private PostgreSQL and a private
 * Redis that the test controls, behind nginx when it is installed (else clients spread
 * round-robin over the instances and reconnect to the next live one). Each fault strikes
 * while senders are busy; afterwards every accepted message has been delivered, no message
 * was stored twice, and the only extra deliveries are of sends whose acknowledgement was
 * lost with a connection (the sender cannot know whether they were stored).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { drive, Ledger, type LoadClient, loadClients, settle } from './scale-load-client.js';
import {
  acknowledged,
  Cluster,
  describeWithBinaries,
  haveNginx,
  healthy,
  PrivatePostgres,
  PrivateRedis,
  pendingDeliveries,
  type RelayProcess,
  sleep,
} from './scale-services.js';

/** How long Redis stays down: the 30 s. */
const REDIS_OUTAGE_MS = 30_000;
/** How long PostgreSQL stays down between its stop and start. */
const PG_OUTAGE_MS = 2000;
/** Messages sent before and around each fault (more while a fault lasts). */
const MESSAGES = 2000;
/** The fault strikes once this many sends are accepted. */
const STRIKE_AT = 500;
const USERS = 8;
const requireAll = process.env.VAULTEX_REQUIRE_ALL !== undefined;

describeWithBinaries('issue 7 faults under load', () => {
  const schema = `vaultex_test_${randomBytes(6).toString('hex')}`;
  let pg: PrivatePostgres;
  let redis: PrivateRedis;
  let cluster: Cluster;
  let seed = 8800;
  const reports: string[] = [];

  beforeAll(async () => {
    pg = await PrivatePostgres.start();
    redis = await PrivateRedis.start();
    cluster = await Cluster.start(pg.url, schema, redis.url, { balance: true, sweepMs: 1000 });
  }, 90_000);

  afterAll(async () => {
    console.log(`faults (${haveNginx ? 'nginx' : 'round-robin'}):\n${reports.join('\n')}`);
    for (const r of cluster?.relays ?? []) if (!r.alive) console.log(`relay :${r.port} died:\n${r.output}`);
    await cluster?.stop();
    await redis?.stop();
    await pg?.destroy();
  }, 60_000);

  // A relay that crashed in one check is restarted for the next.
  afterEach(async () => {
    let restarted = false;
    for (const r of cluster.relays) {
      if (!r.alive) {
        await r.start();
        restarted = true;
      }
    }
    // nginx keeps a failed upstream out for its fail_timeout (2 s).
    if (restarted && cluster.balancer) await sleep(2500);
    for (const r of cluster.relays) expect(await healthy(r.url), `relay :${r.port} after restart`).toBe(true);
  }, 60_000);

  /**
   * Run load on fresh users; call `fault` once STRIKE_AT sends are accepted and keep
   * sending (slower) until it returns; then check the ledger.
   */
  const underLoad = async (
    name: string,
    fault: () => Promise<void>,
    pace = { concurrency: 32, paceMs: 100 },
    expectDead?: RelayProcess,
  ) => {
    const ledger = new Ledger();
    // Deliveries an earlier, failed check left behind are not this check's.
    const baseline = await pendingDeliveries(pg.url, schema);
    seed += 100;
    const clients: LoadClient[] = await loadClients(cluster, USERS, ledger, seed);
    const started = performance.now();
    let faultDone = false;
    const faulting = (async () => {
      while (ledger.accepted.size < STRIKE_AT) await sleep(5);
      await fault();
      faultDone = true;
    })();
    const driving = drive(clients, {
      count: MESSAGES,
      concurrency: pace.concurrency,
      more: () => !faultDone,
      paceMs: pace.paceMs,
      label: name,
    });
    driving.catch(() => {});
    // A relay that dies (other than the one a fault kills) fails the check at once.
    const crashed = async () => {
      for (;;) {
        await sleep(200);
        const dead = cluster.relays.find((r) => !r.alive && r !== expectDead);
        if (dead) return dead;
        if (await Promise.race([driving.then(() => true), sleep(0).then(() => false)])) return undefined;
      }
    };
    const dead = await crashed();
    if (dead) {
      for (const c of clients) c.close();
      // Let the fault finish (a stopped service is back) before the next check.
      await faulting.catch(() => {});
      throw new Error(`relay :${dead.port} crashed during "${name}":\n${dead.output.slice(-1500)}`);
    }
    await driving;
    await faulting;
    await settle(ledger, 30_000);
    const left = await acknowledged(pg.url, schema, 10_000, baseline);
    for (const c of clients) c.close();
    const s = ledger.summary();
    const reconnects = clients.reduce((n, c) => n + c.connects, 0) - clients.length;
    reports.push(
      `${name}: accepted ${s.accepted}, delivered ${s.acceptedDelivered} of them (+${s.deliveredUnacknowledged} of ${s.unknown} unacknowledged), duplicates ${s.duplicates}, duplicate frames ${s.duplicateFrames}, reconnects ${reconnects}, refused ${JSON.stringify(s.refused)}, ${Math.round(performance.now() - started)} ms`,
    );
    expect(s.accepted).toBeGreaterThanOrEqual(MESSAGES - s.unknown);
    expect(s.acceptedDelivered).toBe(s.accepted);
    expect(s.duplicates).toBe(0);
    expect(s.stray).toBe(0);
    expect(s.wrongRecipient).toBe(0);
    expect(left).toBe(0);
    for (const r of cluster.relays) expect(await healthy(r.url)).toBe(true);
    return { summary: s, reconnects };
  };

  it('kill -9 of one instance: its clients reconnect elsewhere, nothing accepted is lost', async () => {
    const victim = cluster.relays[1]!;
    const { reconnects } = await underLoad(
      'kill -9',
      async () => {
        await victim.kill9();
        // Clients on it reconnect to the others while it is down.
        await sleep(2000);
        await victim.start();
      },
      undefined,
      victim,
    );
    expect(reconnects).toBeGreaterThan(0);
  }, 90_000);

  it(`Redis stopped for ${REDIS_OUTAGE_MS / 1000} s and restarted: delivery goes on by the database`, async () => {
    await underLoad(
      'redis down',
      async () => {
        await redis.stop();
        await sleep(REDIS_OUTAGE_MS);
        await redis.start();
      },
      { concurrency: 8, paceMs: 200 },
    );
  }, 120_000);

  // Relays must survive PostgreSQL going away: a checked-out pg Client that loses its
  // connection emits 'error', which once crashed every relay (postgres-storage.ts `tx`).
  it(`PostgreSQL stopped for ${PG_OUTAGE_MS / 1000} s and restarted: refused sends are retried, nothing accepted is lost`, async () => {
    const { summary } = await underLoad('postgres restart', async () => {
      await pg.stop();
      await sleep(PG_OUTAGE_MS);
      await pg.start();
    });
    expect(summary.accepted).toBeGreaterThan(0);
  }, 90_000);

  it.runIf(haveNginx || requireAll)(
    'the balancer restarted: clients reconnect through it',
    async () => {
      expect(haveNginx, 'VAULTEX_REQUIRE_ALL is set but nginx is not installed').toBe(true);
      const balancer = cluster.balancer!;
      const { reconnects } = await underLoad('nginx restart', async () => {
        await balancer.stop();
        await sleep(1000);
        await balancer.start();
      });
      expect(reconnects).toBeGreaterThanOrEqual(USERS);
    },
    90_000,
  );
});

/**
 * Issue 7, load: three relay processes on one PostgreSQL schema and one Redis, behind
 * nginx when it is installed (else clients are spread round-robin over the instances);
 * 10,000 messages across every ordered pair of 12 users are all accepted and each is
 * delivered exactly once after de-duplication by id.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { drive, Ledger, type LoadClient, loadClients, settle } from './scale-load-client.js';
import { acknowledged, Cluster, dropSchema, haveNginx } from './scale-services.js';
import { describeWith } from './scale-support.js';

const MESSAGES = 10_000;
const USERS = 12;

describeWith(
  'issue 7 load: 10,000 messages across three instances',
  { database: true, redis: true },
  ({ database, redis }) => {
    const schema = `vaultex_test_${randomBytes(6).toString('hex')}`;
    let cluster: Cluster;
    let clients: LoadClient[] = [];
    const ledger = new Ledger();

    beforeAll(async () => {
      cluster = await Cluster.start(database, schema, redis, { balance: true, sweepMs: 5000 });
      clients = await loadClients(cluster, USERS, ledger, 7700);
    }, 90_000);

    afterAll(async () => {
      for (const c of clients) c.close();
      await cluster?.stop();
      await dropSchema(database, schema);
    }, 30_000);

    it(`delivers every accepted message once (${haveNginx ? 'through nginx' : 'clients round-robin over instances'})`, async () => {
      const started = performance.now();
      await drive(clients, { count: MESSAGES, concurrency: 96, label: 'load' });
      await settle(ledger, 30_000);
      const s = ledger.summary();
      console.log(`load: ${JSON.stringify(s)} in ${Math.round(performance.now() - started)} ms`);
      expect(s.accepted).toBe(MESSAGES);
      expect(s.acceptedDelivered).toBe(MESSAGES);
      expect(s.delivered).toBe(MESSAGES);
      expect(s.duplicates).toBe(0);
      expect(s.stray).toBe(0);
      expect(s.wrongRecipient).toBe(0);
      // Every delivery was ACKed: the mailbox is empty.
      expect(await acknowledged(database, schema)).toBe(0);
      // No instance fell over under the load.
      expect(cluster.relays.every((r) => r.alive)).toBe(true);
    }, 120_000);
  },
);

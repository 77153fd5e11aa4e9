import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRequiring } from '../../../scripts/describe-requiring.js';
import { Home, type Relay, startRelay } from './cli-support.js';

/**
 * `vaultex migrate`: a single-node relay's SQLite database moves into an empty PostgreSQL
 * database, whole; a second run refuses the now non-empty target. Needs PostgreSQL: skipped
 * only when VAULTEX_TEST_DATABASE_URL is absent and VAULTEX_REQUIRE_ALL is unset.
 */
const baseUrl = process.env.VAULTEX_TEST_DATABASE_URL;
function withDatabase(name: string, body: (url: string) => void): void {
  describeRequiring(name, baseUrl ? [] : ['VAULTEX_TEST_DATABASE_URL'], () => body(baseUrl ?? ''));
}

withDatabase('vaultex migrate (real processes, real PostgreSQL)', (url) => {
  const database = `vaultex_cli_migrate_${randomBytes(4).toString('hex')}`;
  const target = new URL(url);
  target.pathname = `/${database}`;
  let relay: Relay;
  let home: Home;
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    relay = await startRelay();
    home = new Home(relay.url);
  }, 60_000);

  afterAll(async () => {
    await home?.close();
    await relay?.stop();
    await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin?.end();
  });

  it('copies a stopped relay into an empty database, once', async () => {
    await home.json('alice', ['init', '--name', 'Alice']);
    await home.json('bob', ['init', '--name', 'Bob']);
    expect(await relay.halt()).toBe(0);

    const from = `sqlite:${join(relay.dir, 'data', 'vaultex.db')}`;
    const first = await home.run('alice', ['migrate', '--from', from, '--to', target.href]);
    expect(first.code, first.stderr).toBe(0);
    const report = JSON.parse(first.stdout.trim().split('\n').at(-1)!) as { event: string; rows: number };
    expect(report.event).toBe('migrated');
    expect(report.rows).toBeGreaterThan(0);

    const copied = new pg.Client({ connectionString: target.href });
    await copied.connect();
    try {
      const accounts = await copied.query('SELECT count(*)::int AS n FROM accounts');
      expect(accounts.rows[0].n).toBe(2);
    } finally {
      await copied.end();
    }

    const again = await home.run('alice', ['migrate', '--from', from, '--to', target.href]);
    expect(again.code).toBe(6);
    expect(again.stderr).toContain('wrote nothing');

    const usage = await home.run('alice', ['migrate', '--from', from]);
    expect(usage.code).toBe(1);
    // Resume the relay for afterAll's stop.
    await relay.resume();
  }, 120_000);
});

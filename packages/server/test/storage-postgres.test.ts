import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { copySqliteToPostgres, loadConfig, parseMigrateArgs, SqliteStorage } from '../src/index.js';
import { POSTGRES_MIGRATIONS } from '../src/storage/postgres/migrations.js';
import { PostgresStorage } from '../src/storage/postgres/postgres-storage.js';
import { MIGRATIONS } from '../src/storage/sqlite/migrations.js';
import { describeWith, SchemaPool } from './scale-support.js';
import { runStorageConformance } from './storage-conformance.js';

it('translates every SQLite migration, same numbers, no SQLite-only syntax left', () => {
  expect(POSTGRES_MIGRATIONS.map((m) => [m.version, m.description])).toEqual(
    MIGRATIONS.map((m) => [m.version, m.description]),
  );
  for (const m of POSTGRES_MIGRATIONS) {
    expect(m.sql).not.toMatch(/\bBLOB\b|AUTOINCREMENT|PRAGMA|WITHOUT ROWID/u);
  }
});

it('selects PostgreSQL and Redis by VAULTEX_DATABASE_URL / --database-url and --redis-url', () => {
  const c = loadConfig({ VAULTEX_DATABASE_URL: 'postgres://db/x' }, ['--redis-url', 'redis://r:6379']);
  expect(c.databaseUrl).toBe('postgres://db/x');
  expect(c.redisUrl).toBe('redis://r:6379');
  expect(loadConfig({}, ['--database-url=postgresql://u@h/d']).databaseUrl).toBe('postgresql://u@h/d');
  expect(loadConfig({}, []).databaseUrl).toBeUndefined();
  expect(() => loadConfig({}, ['--database-url', 'mysql://h/d'])).toThrow(/databaseUrl/);
  expect(() => loadConfig({ VAULTEX_REDIS_URL: 'http://r' }, [])).toThrow(/redisUrl/);
});

it('parses migrate --from sqlite:PATH --to postgres://URL and refuses anything else', () => {
  expect(parseMigrateArgs(['--from', 'sqlite:./data/vaultex.db', '--to=postgres://u@h/d'])).toEqual({
    from: './data/vaultex.db',
    to: 'postgres://u@h/d',
  });
  expect(parseMigrateArgs(['--from=sqlite:///var/lib/v.db', '--to', 'postgresql://h/d']).from).toBe('/var/lib/v.db');
  expect(() => parseMigrateArgs(['--from', './x.db', '--to', 'postgres://h/d'])).toThrow(/sqlite:PATH/);
  expect(() => parseMigrateArgs(['--from', 'sqlite:x', '--to', 'mysql://h/d'])).toThrow(/postgres/);
  expect(() => parseMigrateArgs(['--from', 'sqlite:x'])).toThrow(/usage/);
  expect(() => parseMigrateArgs(['--nope', '1'])).toThrow(/unknown argument/);
});

describeWith('postgres storage', { database: true }, ({ database }) => {
  const schemas = new SchemaPool(database);
  afterAll(() => schemas.dropAll());

  runStorageConformance('postgres', () => schemas.open());

  it('migrates once: reopening keeps data and version; two instances opening at once agree', async () => {
    const schema = schemas.name();
    const [a, b] = await Promise.all([
      PostgresStorage.open(database, { schema }),
      PostgresStorage.open(database, { schema }),
    ]);
    expect(await a.schemaVersion()).toBe(MIGRATIONS.at(-1)!.version);
    await a.putChallenge(new Uint8Array(32).fill(1), 10);
    expect(await b.consumeChallenge(new Uint8Array(32).fill(1), 0)).toBe(true);
    expect(await a.secret('k', () => new Uint8Array(32).fill(1))).toEqual(
      await b.secret('k', () => new Uint8Array(32).fill(2)),
    );
    await a.close();
    await b.close();
  });

  it('refuses a database whose schema is newer than the code', async () => {
    const schema = schemas.name();
    await (await PostgresStorage.open(database, { schema })).close();
    const c = new pg.Client({ connectionString: database });
    await c.connect();
    await c.query(`UPDATE ${schema}.schema_version SET version = 999`);
    await c.end();
    await expect(PostgresStorage.open(database, { schema })).rejects.toThrow(/newer than this server/);
  });

  it('commits concurrent batches from two instances with seqs in commit order and every ACK counted once', async () => {
    const schema = schemas.name();
    const [a, b] = await Promise.all([
      PostgresStorage.open(database, { schema }),
      PostgresStorage.open(database, { schema }),
    ]);
    const target = { accountId: new Uint8Array(16).fill(1), deviceId: 1 };
    const other = { accountId: new Uint8Array(16).fill(2), deviceId: 1 };
    const id = (n: number) => {
      const x = new Uint8Array(16);
      new DataView(x.buffer).setUint32(0, n);
      return x;
    };
    const batches = Array.from({ length: 20 }, (_, k) =>
      (k % 2 ? a : b).applyMailboxBatch({
        inserts: Array.from({ length: 5 }, (_, i) => ({
          id: id(k * 5 + i),
          blob: new Uint8Array([k, i]),
          expiresAt: 1000,
          targets: [target, other],
        })),
        acks: [],
      }),
    );
    const results = await Promise.all(batches);
    const seqs = results.flatMap((r) => r.seqs);
    expect(new Set(seqs).size).toBe(100);
    // Within a batch, seqs follow the order of the inserts.
    for (const r of results) expect([...r.seqs].sort((x, y) => x - y)).toEqual(r.seqs);
    const pending = await a.pendingMessages(target.accountId, 1, 0, 1000, 0);
    expect(pending.length).toBe(100);
    // Both devices ACK everything at once through different instances: each id counted once per device, blobs gone.
    const ids = pending.map((m) => m.id);
    const [ra, rb] = await Promise.all([
      a.applyMailboxBatch({ inserts: [], acks: [{ ...target, ids }] }),
      b.applyMailboxBatch({ inserts: [], acks: [{ ...other, ids }] }),
    ]);
    expect(ra.acked[0]!.length).toBe(100);
    expect(rb.acked[0]!.length).toBe(100);
    const c = new pg.Client({ connectionString: database });
    await c.connect();
    const left = await c.query(`SELECT COUNT(*)::int AS n FROM ${schema}.messages`);
    await c.end();
    expect(left.rows[0].n).toBe(0);
    await a.close();
    await b.close();
  });

  it('migrates a SQLite database into an empty PostgreSQL one, whole, and refuses to merge into data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vaultex-migrate-'));
    const file = join(dir, 'vaultex.db');
    const b = (n: number, fill: number) => new Uint8Array(n).fill(fill);
    const id = b(16, 1);
    const lite = SqliteStorage.open(file);
    await lite.createAccount({
      account: {
        id,
        identityKey: b(32, 1),
        deviceList: b(40, 1),
        deviceListCounter: 1,
        accessKeyHash: null,
        createdAt: 5,
      },
      device: { accountId: id, deviceId: 1, deviceKey: b(32, 2), certificate: b(60, 3), createdAt: 5, lastSeenAt: 6 },
      prekeys: {
        signedPreKey: { id: 1, publicKey: b(32, 4), signature: b(64, 4) },
        lastResortKemPreKey: { id: 2, publicKey: b(1568, 5), signature: b(64, 5) },
        oneTimePreKeys: [{ id: 3, publicKey: b(32, 6) }],
      },
      log: { leafHash: b(32, 7), entry: b(80, 7) },
    });
    await lite.setDiscoverable(id, 'Ünïcode name');
    await lite.putToken(b(32, 8), { accountId: id, deviceId: 1, expiresAt: 99 });
    const secret = await lite.secret('transparency-log-key', () => b(32, 9));
    const inserted = await lite.applyMailboxBatch({
      inserts: [1, 2, 3].map((n) => ({
        id: b(16, 20 + n),
        blob: b(n, n),
        expiresAt: 1000,
        targets: [{ accountId: id, deviceId: 1 }],
      })),
      acks: [],
    });
    const pendingBefore = await lite.pendingMessages(id, 1, 0, 10, 0);
    // Archives are copied too, in statements bounded by bytes (each may be tens of MiB).
    const archive = Uint8Array.from({ length: 9 * 1024 * 1024 }, (_, i) => i & 0xff);
    const other = b(16, 2);
    expect(await lite.putArchive(id, 0, archive, 3600)).toBe(1);
    expect(await lite.putArchive(other, 0, archive.subarray(0, 8 * 1024 * 1024), 3600)).toBe(1);
    await lite.replaceArchiveKeys(id, [{ slot: 0, envelope: b(48, 11) }]);
    await lite.close();

    const schema = schemas.name();
    const report = await copySqliteToPostgres(file, database, { schema });
    expect(report).toMatchObject({
      accounts: 1,
      devices: 1,
      messages: 3,
      message_targets: 3,
      tokens: 1,
      log_leaves: 1,
      archives: 2,
      archive_keys: 1,
    });
    const pgs = await PostgresStorage.open(database, { schema });
    expect(await pgs.getDiscoverable(id)).toBe('Ünïcode name');
    expect((await pgs.getAccount(id))?.createdAt).toBe(5);
    expect(await pgs.getToken(b(32, 8))).toEqual({ accountId: id, deviceId: 1, expiresAt: 99 });
    expect(await pgs.secret('transparency-log-key', () => b(32, 10))).toEqual(secret);
    expect(await pgs.logLeafHashes()).toEqual([b(32, 7)]);
    expect(await pgs.pendingMessages(id, 1, 0, 10, 0)).toEqual(pendingBefore);
    expect(await pgs.countPreKeys(id, 1)).toEqual({ oneTime: 1, kem: 0 });
    const copied = await pgs.getArchive(id);
    expect(copied?.version).toBe(1);
    expect(Buffer.from(copied!.data).equals(archive)).toBe(true);
    expect((await pgs.getArchive(other))?.data.length).toBe(8 * 1024 * 1024);
    expect(await pgs.getArchiveKeys(id)).toEqual([{ slot: 0, envelope: b(48, 11) }]);
    // The copied archive keeps its version: a device holding version 1 replaces it.
    expect(await pgs.putArchive(id, 1, b(4, 4), 7200)).toBe(2);
    // New messages sort after the copied ones.
    const next = await pgs.applyMailboxBatch({
      inserts: [{ id: b(16, 30), blob: b(1, 0), expiresAt: 1000, targets: [{ accountId: id, deviceId: 1 }] }],
      acks: [],
    });
    expect(next.seqs[0]).toBeGreaterThan(Math.max(...inserted.seqs));
    await pgs.close();
    // A second run would merge: refused, and nothing changes.
    await expect(copySqliteToPostgres(file, database, { schema })).rejects.toThrow(/not empty/);
    await expect(copySqliteToPostgres(join(dir, 'missing.db'), database, { schema })).rejects.toThrow(/no SQLite/);
    rmSync(dir, { recursive: true, force: true });
  });
});

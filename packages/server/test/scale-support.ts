/**
 * Test support for the scale-out suites: the PostgreSQL and Redis they need, found through
 * VAULTEX_TEST_DATABASE_URL and VAULTEX_TEST_REDIS_URL. A suite skips only when its
 * variable is absent and VAULTEX_REQUIRE_ALL is unset; with VAULTEX_REQUIRE_ALL set, a
 * missing service fails the suite instead.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describeRequiring } from '../../../scripts/describe-requiring.js';
import { PostgresStorage } from '../src/storage/postgres/postgres-storage.js';

/** The test database URL, if any. */
export const databaseUrl = process.env.VAULTEX_TEST_DATABASE_URL;
/** The test Redis URL, if any. */
export const redisUrl = process.env.VAULTEX_TEST_REDIS_URL;

/**
 * Declare a suite that needs services: run it when every URL is set, skip it when one is
 * missing (unless VAULTEX_REQUIRE_ALL is set: then one failing test says what is missing).
 */
export function describeWith(
  name: string,
  needs: { database?: boolean; redis?: boolean },
  body: (urls: { database: string; redis: string }) => void,
): void {
  const missing = [
    ...(needs.database && !databaseUrl ? ['VAULTEX_TEST_DATABASE_URL'] : []),
    ...(needs.redis && !redisUrl ? ['VAULTEX_TEST_REDIS_URL'] : []),
  ];
  describeRequiring(name, missing, () => body({ database: databaseUrl ?? '', redis: redisUrl ?? '' }));
}

/** Fresh schemas in the test database, each dropped by {@link SchemaPool.dropAll}. */
export class SchemaPool {
  private readonly schemas: string[] = [];

  constructor(private readonly url: string) {}

  /** A new unique schema name (created by the storage on open). */
  name(): string {
    const schema = `vaultex_test_${randomBytes(6).toString('hex')}`;
    this.schemas.push(schema);
    return schema;
  }

  /** Open a storage on a fresh schema. */
  async open(): Promise<PostgresStorage> {
    return PostgresStorage.open(this.url, { schema: this.name(), maxConnections: 4 });
  }

  async dropAll(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      for (const s of this.schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    } finally {
      await client.end();
    }
  }
}

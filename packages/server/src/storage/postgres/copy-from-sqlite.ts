/**
 * Data migration from the embedded SQLite database to PostgreSQL (`vaultex migrate
 * --from sqlite:./data/vaultex.db --to postgres://...`). Both schemas come from the same
 * numbered migrations, so rows copy column for column. The copy reads one SQLite snapshot
 * and writes in one PostgreSQL transaction: it either lands whole or not at all. It
 * refuses a target that already holds data, and moves the message seq counter past the
 * copied seqs so new messages sort after the old ones. Stop the relay first: writes made
 * during the copy would not be in it.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MIGRATIONS } from '../sqlite/migrations.js';
import { SqliteStorage } from '../sqlite/sqlite-storage.js';
import { PostgresStorage } from './postgres-storage.js';

/** What a migration copied: rows per table. */
export type CopyReport = Record<string, number>;

/** Options of {@link copySqliteToPostgres}. */
export interface CopyOptions {
  /** Target schema (default: the connection's search_path, normally `public`). */
  readonly schema?: string;
  /** Rows per INSERT statement. */
  readonly batchRows?: number;
}

/** Most bytes of BLOB values per INSERT statement (a larger row goes alone): archives are up to 64 MiB each. */
const BATCH_BYTES = 16 * 1024 * 1024;

/** Tables that are bookkeeping, not data. */
const SKIP = new Set(['schema_version', 'sqlite_sequence']);

/**
 * Copy every row of a SQLite database into an empty PostgreSQL database (migrating both
 * to the latest schema first).
 * @throws Error when the SQLite file does not exist, the target is not empty, or a write fails
 *   (then nothing was written).
 */
export async function copySqliteToPostgres(
  sqliteFile: string,
  databaseUrl: string,
  options: CopyOptions = {},
): Promise<CopyReport> {
  if (!existsSync(sqliteFile)) throw new Error(`no SQLite database at ${sqliteFile}`);
  // Opening migrates each side to this version's schema, so their columns match.
  await SqliteStorage.open(sqliteFile).close();
  await (
    await PostgresStorage.open(databaseUrl, options.schema === undefined ? {} : { schema: options.schema })
  ).close();

  const source = new Database(sqliteFile, { readonly: true });
  const client = new pg.Client({
    connectionString: databaseUrl,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  await client.connect();
  const report: CopyReport = {};
  try {
    const tables = (
      source.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]
    )
      .map((t) => t.name)
      .filter((name) => !SKIP.has(name));
    // One read transaction: a consistent snapshot even if something else reads the file.
    source.exec('BEGIN');
    await client.query('BEGIN');
    try {
      for (const table of tables) {
        const any = await client.query(`SELECT 1 FROM ${table} LIMIT 1`);
        if (any.rowCount !== 0) throw new Error(`the PostgreSQL table ${table} is not empty: refusing to merge`);
      }
      for (const table of tables) report[table] = await copyTable(source, client, table, options.batchRows ?? 500);
      // New messages must get seqs above every copied one (delivery order).
      await client.query(
        `SELECT setval(pg_get_serial_sequence('messages', 'seq'), COALESCE((SELECT MAX(seq) FROM messages), 0) + 1, false)`,
      );
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      source.exec('COMMIT');
    }
  } finally {
    source.close();
    await client.end();
  }
  return report;
}

async function copyTable(
  source: Database.Database,
  client: pg.Client,
  table: string,
  batchRows: number,
): Promise<number> {
  const columns = (source.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]).map((c) => c.name);
  const list = columns.map((c) => `"${c}"`).join(', ');
  let copied = 0;
  let batch: unknown[][] = [];
  let batchBytes = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const params: unknown[] = [];
    const rows = batch.map((row) => `(${row.map((value) => `$${params.push(value)}`).join(', ')})`);
    await client.query(`INSERT INTO ${table} (${list}) VALUES ${rows.join(', ')}`, params);
    copied += batch.length;
    batch = [];
    batchBytes = 0;
  };
  const rowsPerStatement = Math.max(1, Math.min(batchRows, Math.floor(60_000 / columns.length)));
  for (const row of source.prepare(`SELECT ${list} FROM "${table}"`).raw().iterate() as Iterable<unknown[]>) {
    let rowBytes = 0;
    for (const value of row) if (value instanceof Uint8Array) rowBytes += value.byteLength;
    if (batch.length > 0 && batchBytes + rowBytes > BATCH_BYTES) await flush();
    batch.push(row);
    batchBytes += rowBytes;
    if (batch.length >= rowsPerStatement) await flush();
  }
  await flush();
  return copied;
}

/** `sqlite:PATH` -> PATH. */
function sqlitePath(spec: string): string {
  if (!spec.startsWith('sqlite:')) throw new Error('--from must be sqlite:PATH (e.g. sqlite:./data/vaultex.db)');
  const path = spec.slice('sqlite:'.length).replace(/^\/\/(?=\/)/u, '');
  if (path.length === 0) throw new Error('--from needs a path after sqlite:');
  return path;
}

/** Parsed arguments of the migrate command. */
export interface MigrateArgs {
  readonly from: string;
  readonly to: string;
}

/**
 * Parse `--from sqlite:PATH --to postgres://...` (also `--from=...`).
 * @throws Error naming the bad or missing argument.
 */
export function parseMigrateArgs(argv: readonly string[]): MigrateArgs {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (name !== '--from' && name !== '--to') throw new Error(`unknown argument ${arg} (use --from and --to)`);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`${name} needs a value`);
    values[name] = value;
  }
  if (!values['--from'] || !values['--to']) {
    throw new Error('usage: migrate --from sqlite:./data/vaultex.db --to postgres://user@host:5432/db');
  }
  if (!/^postgres(ql)?:\/\//u.test(values['--to'])) throw new Error('--to must be a postgres:// URL');
  return { from: sqlitePath(values['--from']), to: values['--to'] };
}

/**
 * The command: parse, copy, print what was copied (stdout) or why not (stderr).
 * @returns the process exit code (0 done, 2 bad usage, 1 failed).
 */
export async function runMigrate(argv: readonly string[]): Promise<number> {
  let args: MigrateArgs;
  try {
    args = parseMigrateArgs(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  try {
    const report = await copySqliteToPostgres(args.from, args.to);
    const total = Object.values(report).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `${JSON.stringify({ event: 'migrated', schema: MIGRATIONS.at(-1)?.version, rows: total, tables: report })}\n`,
    );
    return 0;
  } catch (e) {
    process.stderr.write(`migration failed, nothing was written: ${(e as Error).message}\n`);
    return 1;
  }
}

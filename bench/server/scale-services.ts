/**
 * PostgreSQL and Redis for the scale benchmark, and the CPU they use. URLs come from
 * `VAULTEX_BENCH_DATABASE_URL` and `VAULTEX_BENCH_REDIS_URL`; when absent, a private
 * cluster (initdb in a temporary directory, loopback, a free port) and a private Redis
 * (no persistence) are started from Debian's binaries and removed afterwards. Each
 * configuration gets a fresh database, dropped after it.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { stopChild } from './processes.js';

const run = promisify(execFile);

/** The newest PostgreSQL binaries directory of Debian's packages, if any. */
function findPgBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
    .sort((x, y) => Number(x) - Number(y));
  return versions.length > 0 ? join(base, versions.at(-1)!, 'bin') : undefined;
}

const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Runs a command, as the postgres user when we are root (initdb refuses root). */
async function asPostgres(command: string, args: readonly string[]): Promise<void> {
  if (process.getuid?.() === 0) {
    const quoted = [command, ...args].map((a) => `'${a.replace(/'/gu, `'\\''`)}'`).join(' ');
    await run('su', ['postgres', '-s', '/bin/sh', '-c', quoted]);
  } else {
    await run(command, [...args]);
  }
}

/** The services of one benchmark run. */
export interface ScaleServices {
  /** Undefined when neither a URL nor the binaries are available (the PostgreSQL rows are skipped). */
  readonly databaseUrl: string | undefined;
  readonly redisUrl: string | undefined;
  /** How they were obtained, for the report. */
  readonly description: string;
  stop(): Promise<void>;
}

/**
 * The URLs from the environment, or private services started here.
 * @throws Error when a private service fails to start.
 */
export async function startScaleServices(say: (line: string) => void): Promise<ScaleServices> {
  const stops: (() => Promise<void>)[] = [];
  const notes: string[] = [];
  let databaseUrl = process.env.VAULTEX_BENCH_DATABASE_URL;
  let redisUrl = process.env.VAULTEX_BENCH_REDIS_URL;
  try {
    if (databaseUrl) {
      notes.push('PostgreSQL from VAULTEX_BENCH_DATABASE_URL');
    } else {
      const bin = findPgBin();
      if (bin) {
        const dir = mkdtempSync(join(tmpdir(), 'vaultex-bench-pg-'));
        if (process.getuid?.() === 0) await run('chown', ['postgres', dir]);
        const port = await freePort();
        await asPostgres(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
        // Defaults otherwise (synchronous_commit on, fsync on); WAL I/O timing for the fsync figures.
        const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c max_connections=200 -c track_wal_io_timing=on`;
        await asPostgres(join(bin, 'pg_ctl'), [
          '-D',
          join(dir, 'data'),
          '-o',
          options,
          '-l',
          join(dir, 'log'),
          '-w',
          'start',
        ]);
        stops.push(async () => {
          await asPostgres(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']).catch(() => {});
          rmSync(dir, { recursive: true, force: true });
        });
        databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
        notes.push(`private PostgreSQL (${bin}) on port ${port}, default settings (synchronous_commit on)`);
      } else {
        say(
          'scale: no PostgreSQL (set VAULTEX_BENCH_DATABASE_URL or apt-get install -y postgresql): PostgreSQL rows skipped',
        );
        notes.push('no PostgreSQL: its rows are skipped');
      }
    }
    if (redisUrl) {
      notes.push('Redis from VAULTEX_BENCH_REDIS_URL');
    } else if (REDIS_SERVER) {
      const port = await freePort();
      const child = spawn(
        REDIS_SERVER,
        ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
        {
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      stops.push(() => stopChild(child));
      await waitReady(child);
      redisUrl = `redis://127.0.0.1:${port}`;
      notes.push(`private Redis on port ${port} (no persistence)`);
    } else {
      say(
        'scale: no Redis (set VAULTEX_BENCH_REDIS_URL or apt-get install -y redis-server): the 3-instance row is skipped',
      );
      notes.push('no Redis: the 3-instance row is skipped');
    }
  } catch (e) {
    for (const stop of stops.reverse()) await stop();
    throw e;
  }
  return {
    databaseUrl,
    redisUrl,
    description: notes.join('; '),
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis did not start: ${out}`)), 10_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout!.resume();
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`redis exited: ${out}`)));
  });
}

/** A fresh database on the cluster of `url`, dropped by `drop()`. */
export interface BenchDatabase {
  readonly url: string;
  /** The cluster's postmaster pid when it runs on this machine (CPU from /proc), else undefined. */
  readonly postmasterPid: number | undefined;
  /** WAL and transaction counters now (for deltas over a measured interval). */
  counters(): Promise<PgCounters>;
  drop(): Promise<void>;
}

/** Cumulative PostgreSQL statistics. */
export interface PgCounters {
  /** Committed transactions in the benchmark's database. */
  readonly commits: number;
  /** WAL fsyncs of the cluster, and the ms spent in them (0 without track_wal_io_timing). */
  readonly walSyncs: number;
  readonly walSyncMs: number;
}

/**
 * Creates a database for one configuration; `settings` are set on it (`ALTER DATABASE ... SET`),
 * e.g. synchronous_commit=off for the diagnostic row.
 */
export async function createBenchDatabase(
  clusterUrl: string,
  settings: Readonly<Record<string, string>> = {},
): Promise<BenchDatabase> {
  const name = `vaultex_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: clusterUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  for (const [key, value] of Object.entries({ track_wal_io_timing: 'on', ...settings })) {
    // track_wal_io_timing needs a superuser; without it the fsync time reads 0.
    await admin.query(`ALTER DATABASE ${name} SET ${key} = '${value}'`).catch(() => {});
  }
  const backend = Number((await admin.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  const url = new URL(clusterUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    postmasterPid: parentPid(backend),
    async counters() {
      const c = await admin.query('SELECT xact_commit FROM pg_stat_database WHERE datname = $1', [name]);
      const w = await admin.query('SELECT wal_sync, wal_sync_time FROM pg_stat_wal').catch(() => undefined);
      return {
        commits: Number(c.rows[0]?.xact_commit ?? 0),
        walSyncs: Number(w?.rows[0]?.wal_sync ?? 0),
        walSyncMs: Number(w?.rows[0]?.wal_sync_time ?? 0),
      };
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.end();
    },
  };
}

/** Fields of /proc/<pid>/stat after the command name (field 3 onwards). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function parentPid(pid: number): number | undefined {
  const f = statFields(pid);
  return f ? Number(f[1]) : undefined;
}

const TICKS = 100;

/**
 * CPU seconds of a process tree one level deep: the process, its live children, and its
 * reaped children (cutime/cstime), so that backends which exit during an interval still count.
 */
export function treeCpuSeconds(pid: number): number {
  const own = statFields(pid);
  if (!own) return 0;
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/u.test(entry)) continue;
    const f = statFields(Number(entry));
    if (f && Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / TICKS;
}

/** Redis's own CPU seconds (INFO cpu works remotely too). */
export async function redisCpuSeconds(url: string): Promise<number> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const info = await r.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'mu').exec(info)?.[1] ?? 0);
    return field('used_cpu_sys') + field('used_cpu_user');
  } finally {
    r.disconnect();
  }
}

/** Machine-wide CPU seconds from /proc/stat: busy (all but idle and iowait) and iowait. */
export function machineCpuSeconds(): { busy: number; iowait: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/u).slice(1).map(Number);
  void idle;
  return { busy: (user! + nice! + system! + irq! + softirq! + steal!) / TICKS, iowait: iowait! / TICKS };
}

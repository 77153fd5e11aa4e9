/**
 * Issue 7's fault and load checks, the machinery: relays as child processes started from
 * their real entry point (so `kill -9` is real), a private PostgreSQL, Redis and nginx that
 * a test can stop and restart, and a digest of a schema's content. Suites that start their
 * own services skip only when a binary is missing and VAULTEX_REQUIRE_ALL is unset.
 */
import { type ChildProcess, exec, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { describeRequiring } from '../../../scripts/describe-requiring.js';
import { PostgresStorage } from '../src/storage/postgres/postgres-storage.js';

/** The PostgreSQL binaries directory (newest version installed), if any. */
export const pgBin: string | undefined = (() => {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_ctl')))
    .sort((x, y) => Number(x) - Number(y));
  return versions.length ? join(base, versions.at(-1)!, 'bin') : undefined;
})();
const redisServer = '/usr/bin/redis-server';
const nginxBin = '/usr/sbin/nginx';
/** True when nginx is installed (the fault suite then balances through it). */
export const haveNginx = existsSync(nginxBin);
const repoRoot = join(import.meta.dirname, '..', '..', '..');

/**
 * Declare a suite that starts its own PostgreSQL and Redis (to stop and restart them):
 * skipped only when a binary is missing and VAULTEX_REQUIRE_ALL is unset.
 */
export function describeWithBinaries(name: string, body: () => void): void {
  const missing = [...(pgBin ? [] : ['postgresql']), ...(existsSync(redisServer) ? [] : ['redis-server'])];
  describeRequiring(name, missing, body);
}

/** A free loopback TCP port (bound once, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const execAsync = promisify(exec);

/** Run a shell command (as the postgres user when asked and running as root) without blocking the event loop. */
async function sh(command: string, asPostgres = false): Promise<void> {
  const full =
    asPostgres && process.getuid?.() === 0 ? `su postgres -s /bin/sh -c ${JSON.stringify(command)}` : command;
  await execAsync(full);
}

/** A private PostgreSQL cluster on a free loopback port, stoppable and restartable. */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'vaultex-pg-'));
    if (process.getuid?.() === 0) await sh(`chown postgres ${dir}`);
    await sh(`${pgBin}/initdb -D ${dir}/data -A trust -U postgres >/dev/null`, true);
    const pg = new PrivatePostgres(dir, await freePort());
    await pg.start();
    return pg;
  }

  async start(): Promise<void> {
    try {
      await sh(
        `${pgBin}/pg_ctl -D ${this.dir}/data -o '-c listen_addresses=127.0.0.1 -p ${this.port} -k ${this.dir} -c max_connections=200' -l ${this.dir}/log -w start >/dev/null`,
        true,
      );
    } catch (e) {
      const log = existsSync(join(this.dir, 'log')) ? readFileSync(join(this.dir, 'log'), 'utf8').slice(-2000) : '';
      throw new Error(`postgres did not start: ${(e as Error).message}\n${log}`);
    }
  }

  /** `pg_ctl stop -m fast`: every connection is cut. */
  async stop(): Promise<void> {
    await sh(`${pgBin}/pg_ctl -D ${this.dir}/data -m fast -w stop >/dev/null`, true);
  }

  /** `pg_ctl restart -m fast`: every connection is cut. */
  async restart(): Promise<void> {
    await sh(`${pgBin}/pg_ctl -D ${this.dir}/data -m fast -w restart >/dev/null`, true);
  }

  async destroy(): Promise<void> {
    try {
      await sh(`${pgBin}/pg_ctl -D ${this.dir}/data -m immediate -w stop >/dev/null`, true);
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A private Redis (no persistence) on a free loopback port, stoppable and restartable. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.start();
    return r;
  }

  async start(): Promise<void> {
    const child = spawn(
      redisServer,
      ['--bind', '127.0.0.1', '--port', String(this.port), '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis did not start: ${out}`)), 10_000);
      child.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** Stop it hard (SIGKILL): subscribers lose their connections at once. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/** A relay started from its real entry point (main.ts) in a child process on a fixed port. */
export class RelayProcess {
  private child: ChildProcess | undefined;
  output = '';

  constructor(
    readonly port: number,
    readonly args: readonly string[],
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Start and wait until /health answers. */
  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@vaultex/source',
        '--import',
        'tsx',
        'packages/server/src/main.ts',
        '--host',
        '127.0.0.1',
        '--port',
        String(this.port),
        '--metrics-port',
        '-1',
        '--log-level',
        'warn',
        ...this.args,
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`relay exited: ${this.output}`);
      if (await healthy(this.url)) return;
      await sleep(100);
    }
    throw new Error(`relay did not answer /health: ${this.output}`);
  }

  /** SIGKILL (no shutdown, no flush). */
  kill9(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGTERM (graceful), SIGKILL after 5 s. */
  async stop(): Promise<void> {
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 5000);
    await this.signal('SIGTERM');
    clearTimeout(timer);
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}

/** True when GET /health answers 200 within 2 s. */
export async function healthy(base: string): Promise<boolean> {
  try {
    const r = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.status === 200;
  } catch {
    return false;
  }
}

/**
 * The relay arguments for a scale test: the shared database (schema through search_path),
 * Redis, a short mailbox sweep, and limits raised so load from one address is not refused.
 */
export function relayArgs(databaseUrl: string, schema: string, redis: string, sweepMs = 1000): string[] {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const limits: Record<string, number> = {
    'ws-frames-per-second': 1_000_000,
    'sends-per-account-per-minute': 1_000_000,
    'ws-connections-per-minute': 1_000_000,
    'registrations-per-hour': 1_000_000,
    'challenges-per-minute': 1_000_000,
    'prekey-fetches-per-hour': 1_000_000,
    'searches-per-minute': 1_000_000,
    'downloads-per-minute': 1_000_000,
  };
  return [
    '--database-url',
    url.toString(),
    '--redis-url',
    redis,
    '--mailbox-sweep-ms',
    String(sweepMs),
    ...Object.entries(limits).flatMap(([k, v]) => [`--limits.${k}`, String(v)]),
  ];
}

/**
 * nginx in front of relays: the deploy/nginx/vaultex.conf locations (WebSocket upgrade on
 * /ws, HTTP elsewhere) on loopback without TLS, and round-robin instead of `hash
 * $remote_addr` because every test client has the same address.
 */
export class Balancer {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(upstreams: readonly number[]): Promise<Balancer> {
    const dir = mkdtempSync(join(tmpdir(), 'vaultex-nginx-'));
    const port = await freePort();
    const servers = upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n');
    const conf = `daemon on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log crit;
worker_processes 1;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream vaultex {
${servers}
    keepalive 64;
  }
  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 2m;
    location = /ws {
      proxy_pass http://vaultex;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_read_timeout 120s;
      proxy_send_timeout 120s;
      proxy_buffering off;
      proxy_connect_timeout 2s;
    }
    location / {
      proxy_pass http://vaultex;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_read_timeout 60s;
      proxy_connect_timeout 2s;
    }
  }
}
`;
    writeFileSync(join(dir, 'nginx.conf'), conf);
    const b = new Balancer(dir, port);
    await b.start();
    return b;
  }

  async start(): Promise<void> {
    await sh(`${nginxBin} -p ${this.dir} -c ${this.dir}/nginx.conf`);
    for (let i = 0; i < 100 && !(await healthy(this.url)); i++) await sleep(50);
  }

  /** Fast stop (`nginx -s stop`): every proxied connection is cut. */
  async stop(): Promise<void> {
    try {
      await sh(`${nginxBin} -p ${this.dir} -c ${this.dir}/nginx.conf -s stop`);
    } catch {
      return;
    }
    for (let i = 0; i < 100 && existsSync(join(this.dir, 'nginx.pid')); i++) await sleep(50);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Row count and SHA-256 of the ordered content of every table in a schema. */
export async function databaseDigest(url: string, schema: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (
      await client.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      )
    ).rows.map((r) => r.table_name);
    const out: Record<string, string> = {};
    for (const t of tables) {
      const rows = (await client.query<{ r: string }>(`SELECT t::text AS r FROM ${schema}."${t}" t`)).rows
        .map((r) => r.r)
        .sort();
      out[t] = `${rows.length} ${createHash('sha256').update(rows.join('\n')).digest('hex')}`;
    }
    return out;
  } finally {
    await client.end();
  }
}

/** Three (or more) relay processes on one schema and one Redis, optionally behind nginx. */
export class Cluster {
  private next = 0;

  private constructor(
    readonly relays: RelayProcess[],
    readonly balancer: Balancer | undefined,
    readonly schema: string,
  ) {}

  /** Migrate a fresh schema, start `n` relays on it, and nginx in front when `balance` and installed. */
  static async start(
    databaseUrl: string,
    schema: string,
    redis: string,
    options: { instances?: number; balance?: boolean; sweepMs?: number } = {},
  ): Promise<Cluster> {
    await (await PostgresStorage.open(databaseUrl, { schema, maxConnections: 1 })).close();
    const args = relayArgs(databaseUrl, schema, redis, options.sweepMs);
    const relays = await Promise.all(
      Array.from({ length: options.instances ?? 3 }, async () => new RelayProcess(await freePort(), args)),
    );
    await Promise.all(relays.map((r) => r.start()));
    const balancer = options.balance && haveNginx ? await Balancer.start(relays.map((r) => r.port)) : undefined;
    return new Cluster(relays, balancer, schema);
  }

  /** Where a client connects: the balancer, or the next live instance round-robin. */
  pickBase(): string {
    if (this.balancer) return this.balancer.url;
    for (let i = 0; i < this.relays.length; i++) {
      const r = this.relays[this.next++ % this.relays.length]!;
      if (r.alive) return r.url;
    }
    return this.relays[0]!.url;
  }

  pickWs(): string {
    return `${this.pickBase().replace('http', 'ws')}/ws`;
  }

  async stop(): Promise<void> {
    await this.balancer?.destroy();
    await Promise.all(this.relays.map((r) => r.stop()));
  }
}

/** Drop a schema made for one suite. */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** Message deliveries still waiting for an ACK in a schema (0 once everything is acknowledged). */
export async function pendingDeliveries(url: string, schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query(`SELECT count(*) AS n FROM ${schema}.message_targets`)).rows[0].n);
  } finally {
    await client.end();
  }
}

/**
 * Wait until every delivery in the schema is acknowledged, but for `baseline` left by
 * earlier runs; returns what is left above the baseline.
 */
export async function acknowledged(url: string, schema: string, timeoutMs = 10_000, baseline = 0): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let left = (await pendingDeliveries(url, schema)) - baseline;
  while (left > 0 && Date.now() < deadline) {
    await sleep(100);
    left = (await pendingDeliveries(url, schema)) - baseline;
  }
  return left;
}

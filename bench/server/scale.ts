/**
 * `npm run bench -- scale`: the relay benchmark of `server` (same load generator: 100
 * sender/recipient pairs, 8 sends of 1 KiB in flight per sender, durable = acknowledged
 * only after the commit, delivered = received by the recipient and acknowledged) run in
 * one invocation against:
 * - SQLite, one instance (synchronous=FULL);
 * - PostgreSQL, one instance (synchronous_commit on: the reported figure);
 * - PostgreSQL, one instance, synchronous_commit off: a diagnostic of the fsync share only;
 * - three instances on one PostgreSQL and one Redis, recipient i on instance i mod 3 and
 *   its sender on the next one, so that every message crosses instances through Redis.
 * Per configuration: delivered msgs/s at the peak (closed loop, bounded by time and by a
 * message count), latency at half of that peak (open loop), and CPU from /proc: the relay
 * processes, PostgreSQL (postmaster and its backends, reaped ones included) and Redis
 * (INFO cpu), per delivered message; PostgreSQL commits and WAL fsyncs (pg_stat_wal, with
 * track_wal_io_timing) over the same interval show the batch sizes and the fsync time.
 *
 * `VAULTEX_BENCH_DATABASE_URL` / `VAULTEX_BENCH_REDIS_URL` use existing services (a
 * database is created per configuration and dropped after); otherwise private ones are
 * started from Debian's binaries. `VAULTEX_BENCH_SCALE_ONLY=sqlite,pg1,pg1-async,pg3` picks
 * configurations.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, Benchmark } from '../lib/benchmark.js';
import { formatRate, markdownTable } from '../lib/table.js';
import { closedLoop, type LoadResult, type MeasureHook, openLoop, type Phase } from './load.js';
import { cpuSeconds, RELAY_ROOT, startRelay } from './processes.js';
import {
  type BenchDatabase,
  createBenchDatabase,
  machineCpuSeconds,
  type PgCounters,
  redisCpuSeconds,
  startScaleServices,
  treeCpuSeconds,
} from './scale-services.js';
import { type SeededAccount, seedInto } from './seed.js';
import { openVaultexPairs, startSeededRelay } from './vaultex-peer.js';

interface Settings {
  readonly pairs: number;
  readonly window: number;
  readonly blobBytes: number;
  readonly phase: Phase;
}

/** CPU and PostgreSQL counters over one measured interval. */
interface Usage {
  readonly seconds: number;
  /** Cores busy on average: relay processes, PostgreSQL, Redis, this load generator. */
  readonly relayCores: number;
  readonly pgCores: number | undefined;
  readonly redisCores: number | undefined;
  readonly generatorCores: number;
  /** Cores busy machine-wide, and waiting for I/O (iowait). */
  readonly machineCores: number;
  readonly iowaitCores: number;
  /** PostgreSQL transactions (group commits and the reads outside them: each statement is one). */
  readonly commitsPerSecond: number | undefined;
  /** The relays' group commits per second, and mailbox operations (sends and ACK frames) in each. */
  readonly batchesPerSecond: number | undefined;
  readonly operationsPerBatch: number | undefined;
  readonly walSyncsPerSecond: number | undefined;
  readonly walSyncMs: number | undefined;
}

interface Measured {
  readonly result: LoadResult;
  readonly usage: Usage;
}

interface Row {
  readonly name: string;
  readonly instances: number;
  readonly diagnostic: boolean;
  readonly peak: Measured;
  readonly half?: Measured;
}

/** The processes one configuration runs on, for the CPU meters. */
interface Meters {
  readonly relayPids: readonly number[];
  /** The relays' metrics endpoints (group-commit sizes), when enabled. */
  readonly metricsUrls?: readonly string[];
  readonly db?: BenchDatabase;
  readonly redisUrl?: string;
}

/** Group commits and the operations they held, summed over the relays (their metrics endpoints). */
async function groupCommits(urls: readonly string[]): Promise<{ batches: number; operations: number }> {
  let batches = 0;
  let operations = 0;
  for (const url of urls) {
    const text = await (await fetch(url)).text();
    const field = (name: string) => Number(new RegExp(`^${name} ([\\d.e+]+)$`, 'mu').exec(text)?.[1] ?? 0);
    batches += field('vaultex_group_commit_operations_count');
    operations += field('vaultex_group_commit_operations_sum');
  }
  return { batches, operations };
}

/** Reads every meter at the start and at the end of the measured interval. */
function usageHook(m: Meters): MeasureHook & { usage(): Usage } {
  interface Sample {
    t: number;
    relay: number;
    pg: number | undefined;
    redis: number | undefined;
    self: NodeJS.CpuUsage;
    machine: { busy: number; iowait: number };
    counters: PgCounters | undefined;
    commits: { batches: number; operations: number } | undefined;
  }
  const read = async (): Promise<Sample> => ({
    t: performance.now(),
    relay: m.relayPids.reduce((sum, pid) => {
      const c = cpuSeconds(pid);
      return sum + c.user + c.system;
    }, 0),
    pg: m.db?.postmasterPid === undefined ? undefined : treeCpuSeconds(m.db.postmasterPid),
    redis: m.redisUrl ? await redisCpuSeconds(m.redisUrl) : undefined,
    self: process.cpuUsage(),
    machine: machineCpuSeconds(),
    counters: m.db ? await m.db.counters() : undefined,
    commits: m.metricsUrls ? await groupCommits(m.metricsUrls) : undefined,
  });
  let a: Sample | undefined;
  let b: Sample | undefined;
  return {
    async start() {
      a = await read();
    },
    async stop() {
      b = await read();
    },
    usage(): Usage {
      if (!a || !b) throw new Error('the measured interval did not run');
      const s = (b.t - a.t) / 1000;
      const rate = (x: number | undefined, y: number | undefined) =>
        x === undefined || y === undefined ? undefined : (y - x) / s;
      const self = process.cpuUsage(a.self);
      const syncs = b.counters && a.counters ? b.counters.walSyncs - a.counters.walSyncs : undefined;
      return {
        seconds: s,
        relayCores: (b.relay - a.relay) / s,
        pgCores: rate(a.pg, b.pg),
        redisCores: rate(a.redis, b.redis),
        // cpuUsage(a.self) is the delta up to now; the settle after the interval is short.
        generatorCores: Math.min((self.user + self.system) / 1e6 / s, availableParallelism()),
        machineCores: (b.machine.busy - a.machine.busy) / s,
        iowaitCores: (b.machine.iowait - a.machine.iowait) / s,
        commitsPerSecond: rate(a.counters?.commits, b.counters?.commits),
        batchesPerSecond: rate(a.commits?.batches, b.commits?.batches),
        operationsPerBatch:
          a.commits && b.commits && b.commits.batches > a.commits.batches
            ? (b.commits.operations - a.commits.operations) / (b.commits.batches - a.commits.batches)
            : undefined,
        walSyncsPerSecond: syncs === undefined ? undefined : syncs / s,
        walSyncMs:
          syncs && b.counters && a.counters ? (b.counters.walSyncMs - a.counters.walSyncMs) / syncs : undefined,
      };
    },
  };
}

async function measure(
  link: Parameters<typeof closedLoop>[0],
  s: Settings,
  meters: Meters,
  half: boolean,
): Promise<[Measured, Measured?]> {
  const pid = meters.relayPids[0]!;
  const peakHook = usageHook(meters);
  const peak = await closedLoop(link, s.window, s.phase, s.blobBytes, pid, peakHook);
  const peakMeasured = { result: peak, usage: peakHook.usage() };
  if (!half) return [peakMeasured];
  const halfHook = usageHook(meters);
  // The half phase is time-bounded only: a count bound would cut an open loop short.
  const { maxMessages: _, ...timeOnly } = s.phase;
  const result = await openLoop(link, peak.deliveredPerSecond / 2, timeOnly, s.blobBytes, pid, halfHook);
  return [peakMeasured, { result, usage: halfHook.usage() }];
}

async function sqliteRow(s: Settings): Promise<Row> {
  const relay = await startSeededRelay(s.pairs);
  try {
    const link = await openVaultexPairs(relay, s.pairs);
    try {
      const [peak, half] = await measure(link, s, { relayPids: [relay.pid] }, true);
      return { name: 'SQLite, 1 instance', instances: 1, diagnostic: false, peak, ...(half ? { half } : {}) };
    } finally {
      await link.close();
    }
  } finally {
    await relay.stop();
  }
}

/** Accounts seeded straight into a fresh PostgreSQL database through the relay's own adapter. */
async function seedPostgres(url: string, count: number): Promise<SeededAccount[]> {
  const relay = (await import(
    join(RELAY_ROOT, 'packages/server/src/index.ts')
  )) as typeof import('../../packages/server/src/index.js');
  const storage = await relay.PostgresStorage.open(url);
  try {
    return await seedInto(storage, count, count);
  } finally {
    await storage.close();
  }
}

async function postgresRow(
  s: Settings,
  clusterUrl: string,
  options: { name: string; instances: number; redisUrl?: string; asyncCommit?: boolean },
): Promise<Row> {
  const db = await createBenchDatabase(clusterUrl, options.asyncCommit ? { synchronous_commit: 'off' } : {});
  const dir = mkdtempSync(join(tmpdir(), 'vaultex-bench-scale-'));
  const relays: Awaited<ReturnType<typeof startRelay>>[] = [];
  try {
    const accounts = await seedPostgres(db.url, s.pairs);
    const extraArgs = [
      ...['--database-url', db.url, '--metrics-port', '0'],
      ...(options.redisUrl ? ['--redis-url', options.redisUrl] : []),
    ];
    for (let i = 0; i < options.instances; i++) {
      relays.push(await startRelay({ dataDir: dir, groupCommit: true, extraArgs }));
    }
    const ws = relays.map((r) => `${r.url.replace('http', 'ws')}/ws`);
    const n = relays.length;
    // Every message crosses instances when there are several: the sender sits on the next one.
    const link = await openVaultexPairs({ wsUrl: ws[0]!, accounts }, s.pairs, (i, role) =>
      role === 'recipient' ? ws[i % n]! : ws[(i + 1) % n]!,
    );
    try {
      const meters: Meters = {
        relayPids: relays.map((r) => r.pid),
        metricsUrls: relays.flatMap((r) => (r.metricsUrl ? [r.metricsUrl] : [])),
        db,
        ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
      };
      const diagnostic = options.asyncCommit === true;
      const [peak, half] = await measure(link, s, meters, !diagnostic);
      return { name: options.name, instances: options.instances, diagnostic, peak, ...(half ? { half } : {}) };
    } finally {
      await link.close();
    }
  } finally {
    for (const r of relays) await r.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(2));
const cores = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(2));
/** CPU µs per delivered message. */
const perMessage = (coresUsed: number | undefined, r: LoadResult): string =>
  coresUsed === undefined || r.deliveredPerSecond === 0 ? '-' : ((coresUsed * 1e6) / r.deliveredPerSecond).toFixed(0);
const total = (u: Usage): number => u.relayCores + (u.pgCores ?? 0) + (u.redisCores ?? 0);

function resultTable(rows: readonly Row[]): string {
  return markdownTable(
    [
      'configuration',
      'peak delivered/s',
      'peak p99 ms',
      'half rate/s',
      'half p50 ms',
      'half p99 ms',
      'errors',
      'CPU µs/msg: total',
      'relay',
      'PostgreSQL',
      'Redis',
    ],
    rows.map(({ name, diagnostic, peak, half }) => [
      diagnostic ? `${name} (diagnostic only)` : name,
      formatRate(peak.result.deliveredPerSecond),
      ms(peak.result.p99Ms),
      half?.result.targetPerSecond === undefined ? '-' : formatRate(half.result.targetPerSecond),
      ms(half?.result.p50Ms),
      ms(half?.result.p99Ms),
      String(peak.result.errors + (half ? half.result.errors + half.result.shed : 0)),
      perMessage(total(peak.usage), peak.result),
      perMessage(peak.usage.relayCores, peak.result),
      perMessage(peak.usage.pgCores, peak.result),
      perMessage(peak.usage.redisCores, peak.result),
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

function timeTable(rows: readonly Row[]): string {
  const n = availableParallelism();
  return markdownTable(
    [
      'configuration (at the peak)',
      'relay cores',
      'PostgreSQL cores',
      'Redis cores',
      'load gen cores',
      'other processes cores',
      'iowait cores',
      `idle of ${n}`,
      'PG transactions/s',
      'group commits/s',
      'operations per group commit',
      'WAL fsyncs/s',
      'ms per fsync',
    ],
    rows.map(({ name, peak: { usage: u } }) => {
      const ours = total(u) + u.generatorCores;
      return [
        name,
        cores(u.relayCores),
        cores(u.pgCores),
        cores(u.redisCores),
        cores(u.generatorCores),
        cores(Math.max(0, u.machineCores - ours)),
        cores(u.iowaitCores),
        cores(Math.max(0, n - Math.max(ours, u.machineCores) - u.iowaitCores)),
        u.commitsPerSecond === undefined ? '-' : formatRate(u.commitsPerSecond),
        u.batchesPerSecond === undefined ? '-' : formatRate(u.batchesPerSecond),
        u.operationsPerBatch === undefined ? '-' : u.operationsPerBatch.toFixed(1),
        u.walSyncsPerSecond === undefined ? '-' : formatRate(u.walSyncsPerSecond),
        ms(u.walSyncMs),
      ];
    }),
    [
      'left',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
      'right',
    ],
  );
}

/** `npm run bench -- scale`. */
export const scaleBenchmark: Benchmark = {
  name: 'scale',
  aliases: ['server-scale'],
  description: 'relay on SQLite vs PostgreSQL (1 instance) vs 3 instances on PostgreSQL + Redis: msgs/s, p99, CPU/msg',
  async run(context: BenchContext): Promise<void> {
    const quick = context.quick;
    const s: Settings = {
      pairs: quick ? 10 : 100,
      window: 8,
      blobBytes: 1024,
      phase: quick
        ? { warmupMs: 300, measureMs: 1000, maxMessages: 50_000 }
        : { warmupMs: 2000, measureMs: 10_000, maxMessages: 1_000_000 },
    };
    const say = context.progress;
    const only = new Set((process.env.VAULTEX_BENCH_SCALE_ONLY ?? 'sqlite,pg1,pg1-async,pg3').split(','));
    const loadBefore = loadavg();
    const services = await startScaleServices(say);
    const rows: Row[] = [];
    const report = (row: Row) => {
      rows.push(row);
      say(
        `    peak ${formatRate(row.peak.result.deliveredPerSecond)}/s` +
          (row.half ? `, half p99 ${ms(row.half.result.p99Ms)} ms` : ''),
      );
    };
    try {
      say(`scale: ${s.pairs} pairs, window ${s.window}, ${s.blobBytes} B; ${services.description}`);
      if (only.has('sqlite')) {
        say('  SQLite, 1 instance');
        report(await sqliteRow(s));
      }
      const db = services.databaseUrl;
      if (db && only.has('pg1')) {
        say('  PostgreSQL, 1 instance');
        report(await postgresRow(s, db, { name: 'PostgreSQL, 1 instance', instances: 1 }));
      }
      if (db && only.has('pg1-async')) {
        say('  PostgreSQL, 1 instance, synchronous_commit off (diagnostic)');
        report(
          await postgresRow(s, db, {
            name: 'PostgreSQL, 1 instance, synchronous_commit off',
            instances: 1,
            asyncCommit: true,
          }),
        );
      }
      if (db && services.redisUrl && only.has('pg3')) {
        say('  PostgreSQL + Redis, 3 instances');
        report(
          await postgresRow(s, db, {
            name: 'PostgreSQL + Redis, 3 instances',
            instances: 3,
            redisUrl: services.redisUrl,
          }),
        );
      }
    } finally {
      await services.stop();
    }
    const loadAfter = loadavg();
    console.log('## Scale-out: SQLite vs PostgreSQL vs 3 instances on PostgreSQL + Redis (loopback, 1 KiB)\n');
    console.log(`- services: ${services.description}`);
    console.log(
      `- load average (1/5/15 min): ${loadBefore.map((x) => x.toFixed(2)).join(' ')} before, ` +
        `${loadAfter.map((x) => x.toFixed(2)).join(' ')} after`,
    );
    console.log(
      `- peak: closed loop, ${s.pairs} pairs x ${s.window} in flight, measured ${s.phase.measureMs / 1000} s ` +
        `or ${s.phase.maxMessages} deliveries, whichever first; half: open loop at half of that row's peak\n`,
    );
    console.log(resultTable(rows));
    console.log('\n### Where the time goes\n');
    console.log(timeTable(rows));
  },
};

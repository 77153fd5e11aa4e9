/**
 * `npm run bench -- server`: the relay against mosquitto under the issue's load, on loopback.
 * Each server runs in its own process; this process is the load generator (plus one child
 * for the idle connections). Phases, each run on VAULTEX and then on mosquitto so that load
 * from other processes hits both alike:
 *
 * 1. Peak: 100 sender/recipient pairs, every sender keeping 8 sends of 1 KiB in flight
 *    (VAULTEX: sealed sends acknowledged by `sent` once the group commit is durable in SQLite
 *    with synchronous=FULL; mosquitto: QoS 1 PUBLISH acknowledged by PUBACK). Delivered
 *    messages per second and send-to-receive latency.
 * 2. Half: the same pairs paced (open loop) at half of that peer's peak rate: latency.
 * 3. Drain: 100,000 messages for one offline device / persistent session, then it connects:
 *    time to receive and acknowledge all, and the server's peak RSS meanwhile.
 * 4. Idle: N authenticated connections that do nothing: RSS growth / N.
 *
 * The relay row is also run once with `--group-commit false` (one transaction per operation).
 *
 * For profiling, `VAULTEX_BENCH_SERVER_ONLY=vaultex` skips the peer and the group-commit-off
 * row, `VAULTEX_BENCH_SERVER_PHASES=load,drain,idle` picks phases (all by default),
 * `VAULTEX_BENCH_SERVER_RATE=5000` paces the second load phase at a fixed rate,
 * `VAULTEX_BENCH_SERVER_ROUNDS=1` sets the load rounds (3), and
 * `VAULTEX_BENCH_RELAY_ROOT` runs the relay of another checkout (before/after comparisons).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, Benchmark } from '../lib/benchmark.js';
import { formatRate, formatRatio, markdownTable } from '../lib/table.js';
import { type IdleResult, idleCount, measureIdle } from './idle.js';
import { closedLoop, type LoadResult, openLoop, type Phase } from './load.js';
import { findMosquitto, startMosquitto } from './mosquitto.js';
import { mqttDrain, openMqttPairs } from './mosquitto-peer.js';
import { type DrainResult, openVaultexPairs, startSeededRelay, vaultexDrain, writeTokens } from './vaultex-peer.js';

interface Settings {
  readonly pairs: number;
  readonly window: number;
  readonly blobBytes: number;
  readonly phase: Phase;
  readonly drainMessages: number;
  readonly idleConnections: number;
  /** Load rounds per peer (peak then half each); the median round by peak is reported. */
  readonly rounds: number;
  /** Pace the "half" phase at this rate instead of half the peak (before/after comparisons). */
  readonly fixedHalfRate?: number;
  /** mosquitto's max_inflight_messages (QoS 1 messages in flight towards one subscriber). */
  readonly mqttInflight: number;
}

interface PeerResults {
  readonly name: string;
  readonly durable: string;
  peak?: LoadResult;
  half?: LoadResult;
  drain?: DrainResult;
  /** Every load round (peak, half), the median of which is `peak`/`half`. */
  rounds?: readonly (readonly [LoadResult, LoadResult?])[];
  /** The same drain with a tenth of the messages: bounded memory grows far less than 10x. */
  smallDrain?: DrainResult;
  idle?: IdleResult;
}

const MiB = (kib: number): string => (kib / 1024).toFixed(1);
/**
 * Garbage the collector may let pile up before a scavenge (V8's default semi-space, 16 MiB):
 * a drain of any size can grow RSS by about this much without holding any message.
 */
const YOUNG_GENERATION_KIB = 16 * 1024;
const ms = (v: number | undefined): string => (v === undefined ? '-' : v.toFixed(2));

async function vaultexLoad(s: Settings, groupCommit: boolean, half: boolean): Promise<[LoadResult, LoadResult?]> {
  const relay = await startSeededRelay(s.pairs, groupCommit);
  try {
    const link = await openVaultexPairs(relay, s.pairs);
    try {
      const peak = await closedLoop(link, s.window, s.phase, s.blobBytes, relay.pid);
      if (!half) return [peak];
      const rate = s.fixedHalfRate ?? peak.deliveredPerSecond / 2;
      return [peak, await openLoop(link, rate, s.phase, s.blobBytes, relay.pid)];
    } finally {
      await link.close();
    }
  } finally {
    await relay.stop();
  }
}

async function withBroker<T>(path: string, s: Settings, body: (port: number, pid: number) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'vaultex-bench-mqtt-'));
  try {
    const broker = await startMosquitto(path, dir, s.mqttInflight);
    try {
      return await body(broker.port, broker.pid);
    } finally {
      await broker.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function mqttLoad(path: string, s: Settings): Promise<[LoadResult, LoadResult]> {
  return withBroker(path, s, async (port, pid) => {
    const link = await openMqttPairs(port, s.pairs, 0);
    try {
      const peak = await closedLoop(link, s.window, s.phase, s.blobBytes, pid);
      return [peak, await openLoop(link, peak.deliveredPerSecond / 2, s.phase, s.blobBytes, pid)];
    } finally {
      await link.close();
    }
  });
}

async function vaultexIdle(s: Settings): Promise<IdleResult> {
  const relay = await startSeededRelay(s.idleConnections);
  const dir = mkdtempSync(join(tmpdir(), 'vaultex-bench-tokens-'));
  try {
    const file = join(dir, 'tokens.json');
    writeTokens(file, relay.accounts);
    return await measureIdle(relay.pid, ['vaultex', relay.wsUrl, file], true);
  } finally {
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The round with the median peak (the lower middle one for an even count). */
function medianRound(rounds: readonly [LoadResult, LoadResult?][]): [LoadResult, LoadResult?] {
  const sorted = [...rounds].sort((a, b) => a[0].deliveredPerSecond - b[0].deliveredPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!median) throw new Error('no load round');
  return median;
}

function roundsTable(peers: readonly PeerResults[]): string {
  return markdownTable(
    [
      'peer',
      'round',
      'peak delivered/s',
      'peak p99 ms',
      'half rate/s',
      'half p50 ms',
      'half p99 ms',
      'server CPU µs/msg',
    ],
    peers.flatMap((p) =>
      (p.rounds ?? []).map(([peak, half], i) => [
        p.name,
        String(i + 1),
        formatRate(peak.deliveredPerSecond),
        ms(peak.p99Ms),
        half?.targetPerSecond === undefined ? '-' : formatRate(half.targetPerSecond),
        ms(half?.p50Ms),
        ms(half?.p99Ms),
        cpuPerMessage(peak) + (half ? `; half ${cpuPerMessage(half)}` : ''),
      ]),
    ),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
}

function cores(r: LoadResult): string {
  return `${r.serverCores.toFixed(2)} (${r.serverSystemCores.toFixed(2)}) / ${r.generatorCores.toFixed(2)}`;
}

/** Server CPU time per delivered message: the cost figure that load from other processes disturbs least. */
function cpuPerMessage(r: LoadResult): string {
  return r.deliveredPerSecond > 0 ? ((r.serverCores * 1e6) / r.deliveredPerSecond).toFixed(1) : '-';
}

function loadTable(rows: readonly { peer: string; durable: string; r: readonly [LoadResult, LoadResult?] }[]): string {
  return markdownTable(
    [
      'peer',
      'durable per message',
      'peak delivered/s',
      'peak p50 ms',
      'peak p99 ms',
      'half rate/s',
      'half delivered/s',
      'half p50 ms',
      'half p99 ms',
      'half max ms',
      'errors',
      'server CPU µs/msg',
      'cores: server (sys) / load gen',
    ],
    rows.map(({ peer, durable, r: [peak, half] }) => [
      peer,
      durable,
      formatRate(peak.deliveredPerSecond),
      ms(peak.p50Ms),
      ms(peak.p99Ms),
      half?.targetPerSecond === undefined ? '-' : formatRate(half.targetPerSecond),
      half ? formatRate(half.deliveredPerSecond) : '-',
      ms(half?.p50Ms),
      ms(half?.p99Ms),
      ms(half?.maxMs),
      String(peak.errors + (half?.errors ?? 0) + (half?.shed ?? 0)),
      cpuPerMessage(peak) + (half ? `; half ${cpuPerMessage(half)}` : ''),
      cores(peak) + (half ? `; half ${cores(half)}` : ''),
    ]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
  );
}

function drainRow(name: string, d: DrainResult): string[] {
  const peak = Math.max(d.peakKiB, d.sampledPeakKiB);
  return [
    name,
    String(d.messages),
    d.fillSeconds.toFixed(1),
    d.drainSeconds.toFixed(2),
    formatRate(d.messages / d.drainSeconds),
    MiB(d.baselineKiB),
    MiB(peak),
    MiB(peak - d.baselineKiB),
    String(d.leftOver),
    String(d.duplicates),
  ];
}

function growthKiB(d: DrainResult): number {
  return Math.max(d.peakKiB, d.sampledPeakKiB) - d.baselineKiB;
}

function drainTable(rows: readonly PeerResults[], blobBytes: number): string {
  return markdownTable(
    [
      'peer',
      'messages',
      'fill s',
      'drain s',
      'drain msgs/s',
      'RSS before MiB',
      'peak RSS MiB',
      'growth MiB',
      'left',
      'duplicates',
    ],
    rows.flatMap((p) => [
      ...(p.smallDrain ? [drainRow(p.name, p.smallDrain)] : []),
      ...(p.drain ? [drainRow(p.name, p.drain)] : []),
    ]),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  ).concat(`\n\n(the mailbox holds ${MiB((rows[0]?.drain?.messages ?? 0) * (blobBytes / 1024))} MiB of blobs)`);
}

function idleTable(rows: readonly PeerResults[]): string {
  return markdownTable(
    ['peer', 'connections', 'failed', 'open s', 'RSS before MiB', 'RSS after MiB', 'per connection KiB'],
    rows
      .filter((p) => p.idle)
      .map((p) => {
        const i = p.idle!;
        return [
          p.name,
          String(i.connections),
          String(i.failed),
          i.openSeconds.toFixed(1),
          MiB(i.beforeKiB),
          MiB(i.afterKiB),
          (i.bytesPerConnection / 1024).toFixed(2),
        ];
      }),
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

function verdict(pass: boolean, detail: string): string {
  return `${pass ? 'PASS' : 'MISS'} (${detail})`;
}

function targetTable(v: PeerResults, m: PeerResults | undefined, blobBytes: number): string {
  const rows: string[][] = [];
  if (v.peak && v.half) {
    const peakV = v.peak.deliveredPerSecond;
    const peakM = m?.peak?.deliveredPerSecond;
    rows.push([
      'peak delivered msgs/s',
      formatRate(peakV),
      peakM === undefined ? '-' : formatRate(peakM),
      peakM === undefined ? '-' : formatRatio(peakV / peakM),
      peakM === undefined ? 'no peer' : verdict(peakV >= peakM, '>= mosquitto'),
    ]);
    const p99 = v.half.p99Ms;
    rows.push([
      'p99 ms at half of the peak',
      p99.toFixed(2),
      ms(m?.half?.p99Ms),
      m?.half ? formatRatio(p99 / m.half.p99Ms) : '-',
      verdict(p99 < 10, '< 10 ms'),
    ]);
  }
  if (v.drain) {
    const d = v.drain;
    const growth = growthKiB(d);
    const small = v.smallDrain ? growthKiB(v.smallDrain) : 0;
    const mailboxKiB = (d.messages * blobBytes) / 1024;
    const md = m?.drain;
    rows.push([
      `drain of ${d.messages} s`,
      d.drainSeconds.toFixed(2),
      md ? md.drainSeconds.toFixed(2) : '-',
      md ? formatRatio(d.drainSeconds / md.drainSeconds) : '-',
      verdict(d.leftOver === 0, 'all delivered and acknowledged'),
    ]);
    rows.push([
      'drain peak RSS growth MiB',
      MiB(growth),
      md ? MiB(growthKiB(md)) : '-',
      '-',
      verdict(
        growth < Math.max(mailboxKiB / 2, YOUNG_GENERATION_KIB) && growth < 3 * Math.max(small, YOUNG_GENERATION_KIB),
        `bounded: < 1/2 of the ${MiB(mailboxKiB)} MiB mailbox, and 10x the messages of the ` +
          `${MiB(small)} MiB drain cost < 3x (floor 16 MiB, V8's default young generation)`,
      ),
    ]);
  }
  if (v.idle) {
    const kib = v.idle.bytesPerConnection / 1024;
    const mk = m?.idle ? m.idle.bytesPerConnection / 1024 : undefined;
    rows.push([
      `KiB per idle connection (${v.idle.connections})`,
      kib.toFixed(2),
      mk === undefined ? '-' : mk.toFixed(2),
      mk === undefined ? '-' : formatRatio(kib / mk),
      verdict(kib <= 10, '<= 10 KiB'),
    ]);
  }
  return markdownTable(['figure', 'VAULTEX', 'mosquitto', 'ratio', 'target'], rows, [
    'left',
    'right',
    'right',
    'right',
    'left',
  ]);
}

/** `npm run bench -- server`. */
export const serverBenchmark: Benchmark = {
  name: 'server',
  description: 'relay vs mosquitto: 100 WebSocket pairs, 1 KiB sealed sends durable in SQLite; drain; idle memory',
  async run(context: BenchContext): Promise<void> {
    const quick = context.quick;
    const s: Settings = {
      pairs: quick ? 10 : 100,
      window: 8,
      blobBytes: 1024,
      phase: quick ? { warmupMs: 300, measureMs: 1000 } : { warmupMs: 2000, measureMs: 10_000 },
      drainMessages: quick ? 2000 : 100_000,
      idleConnections: quick ? 200 : idleCount(),
      mqttInflight: 100,
      rounds: Number(process.env.VAULTEX_BENCH_SERVER_ROUNDS ?? (quick ? 1 : 3)),
      ...(process.env.VAULTEX_BENCH_SERVER_RATE
        ? { fixedHalfRate: Number(process.env.VAULTEX_BENCH_SERVER_RATE) }
        : {}),
    };
    const say = context.progress;
    const loadBefore = loadavg();
    const only = process.env.VAULTEX_BENCH_SERVER_ONLY === 'vaultex';
    const phases = new Set((process.env.VAULTEX_BENCH_SERVER_PHASES ?? 'load,drain,idle').split(','));
    const mosquitto = only ? undefined : findMosquitto();
    if (!mosquitto && !only) {
      say('server: mosquitto is not installed (Debian: apt-get install -y mosquitto); its rows are skipped');
    }
    const v: PeerResults = { name: 'vaultex', durable: 'yes: fsync (group commit)' };
    const m: PeerResults | undefined = mosquitto
      ? { name: `mosquitto ${mosquitto.version}`, durable: 'no: in memory, saved periodically' }
      : undefined;

    let perOperation: LoadResult | undefined;
    if (phases.has('load')) {
      say(
        `server: peak and half-peak load, ${s.pairs} pairs, window ${s.window}, ${s.blobBytes} B, ${s.rounds} rounds`,
      );
      // Rounds alternate between the peers so that load from other processes hits both alike.
      const vRounds: [LoadResult, LoadResult?][] = [];
      const mRounds: [LoadResult, LoadResult?][] = [];
      for (let round = 1; round <= s.rounds; round++) {
        say(`  round ${round}: vaultex`);
        vRounds.push(await vaultexLoad(s, true, true));
        say(
          `    peak ${formatRate(vRounds.at(-1)![0].deliveredPerSecond)}/s, half p99 ${ms(vRounds.at(-1)![1]?.p99Ms)} ms`,
        );
        if (m && mosquitto) {
          say(`  round ${round}: mosquitto`);
          mRounds.push(await mqttLoad(mosquitto.path, s));
          say(
            `    peak ${formatRate(mRounds.at(-1)![0].deliveredPerSecond)}/s, half p99 ${ms(mRounds.at(-1)![1]?.p99Ms)} ms`,
          );
        }
      }
      [v.peak, v.half] = medianRound(vRounds);
      v.rounds = vRounds;
      if (m && mRounds.length > 0) {
        [m.peak, m.half] = medianRound(mRounds);
        m.rounds = mRounds;
      }
      if (!only) {
        say('  vaultex, one transaction per operation (--group-commit false)');
        [perOperation] = await vaultexLoad(s, false, false);
      }
    }
    if (phases.has('drain')) {
      say(`server: drain of ${s.drainMessages} offline messages`);
      say('  vaultex');
      v.smallDrain = await vaultexDrain(s.drainMessages / 10, s.pairs, s.blobBytes, say);
      v.drain = await vaultexDrain(s.drainMessages, s.pairs, s.blobBytes, say);
      if (m && mosquitto) {
        say('  mosquitto');
        m.smallDrain = await withBroker(mosquitto.path, s, (port, pid) =>
          mqttDrain(port, pid, s.drainMessages / 10, s.pairs, s.blobBytes, say),
        );
        m.drain = await withBroker(mosquitto.path, s, (port, pid) =>
          mqttDrain(port, pid, s.drainMessages, s.pairs, s.blobBytes, say),
        );
      }
    }
    if (phases.has('idle')) {
      say(`server: ${s.idleConnections} idle connections`);
      say('  vaultex');
      v.idle = await vaultexIdle(s);
      if (m && mosquitto) {
        say('  mosquitto');
        m.idle = await withBroker(mosquitto.path, s, (port, pid) =>
          measureIdle(pid, ['mqtt', String(port), String(s.idleConnections)], false),
        );
      }
    }
    const loadAfter = loadavg();

    const peers = m ? [v, m] : [v];
    console.log('## Server: relay vs mosquitto (loopback, 1 KiB messages)\n');
    console.log(
      `- load average (1/5/15 min): ${loadBefore.map((x) => x.toFixed(2)).join(' ')} before, ` +
        `${loadAfter.map((x) => x.toFixed(2)).join(' ')} after`,
    );
    console.log(
      `- mosquitto: ${mosquitto ? `${mosquitto.version}, max_inflight_messages ${s.mqttInflight}` : 'absent'}\n`,
    );
    if (v.peak) {
      console.log('### Throughput and send-to-receive latency\n');
      console.log(
        loadTable([
          ...peers.map((p) => ({ peer: p.name, durable: p.durable, r: [p.peak!, p.half] as const })),
          ...(perOperation
            ? [{ peer: 'vaultex, no group commit', durable: 'yes: fsync per operation', r: [perOperation] as const }]
            : []),
        ]),
      );
    }
    if (v.rounds && v.rounds.length > 1) {
      console.log('\nEvery round (the table above shows the median round by peak):\n');
      console.log(roundsTable(peers));
    }
    if (v.drain) {
      console.log('\n### Offline mailbox drain\n');
      console.log(drainTable(peers, s.blobBytes));
    }
    if (v.idle) {
      console.log('\n### Idle authenticated connections\n');
      console.log(idleTable(peers));
    }
    console.log('\n### Targets\n');
    console.log(targetTable(v, m, s.blobBytes));
  },
};

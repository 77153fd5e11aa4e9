/**
 * The protocol benchmark: session setup, one-way and ping-pong throughput and wire sizes of
 * VAULTEX side by side with libsignal-client and the privacyresearch TypeScript library, in one
 * process and one run.
 */
import { loadavg } from 'node:os';
import type { BenchContext, Benchmark } from '../lib/benchmark.js';
import { type Limits, type Measurement, type Rate, summarize } from '../lib/measure.js';
import { libsignalClientPeer } from './peers/libsignal-client.js';
import type { ProtocolPeer } from './peers/peer.js';
import { privacyResearchPeer } from './peers/privacyresearch.js';
import { vaultexNoblePeer, vaultexNodePeer } from './peers/vaultex.js';
import {
  figuresTable,
  type Metric,
  meetsTargets,
  notesList,
  type PeerResult,
  ratiosTable,
  runsTable,
} from './report.js';
import {
  emptySizes,
  MESSAGE_BYTES,
  measureOneWay,
  measurePingPong,
  measureSetups,
  mergeSizes,
  type ScenarioResult,
  type SizeSummary,
} from './scenarios.js';

/** Baselines first so the VAULTEX rows can be compared with them. */
const PEERS: readonly ProtocolPeer[] = [libsignalClientPeer, privacyResearchPeer, vaultexNodePeer, vaultexNoblePeer];

const RUNS = 3;
/** Timed cap per run; the counts in SCENARIOS stop the fastest rows earlier. */
const MAX_MS = 3000;

const SCENARIOS: Record<
  Metric,
  { count: number; run: (peer: ProtocolPeer, limits: Limits) => Promise<ScenarioResult> }
> = {
  setups: { count: 400, run: measureSetups },
  oneWay: { count: 20_000, run: measureOneWay },
  pingPong: { count: 5000, run: measurePingPong },
};

interface Plan {
  readonly runs: number;
  limits(metric: Metric): Limits;
  warmup(metric: Metric): Limits;
}

function plan(quick: boolean): Plan {
  if (quick) {
    return {
      runs: 1,
      limits: (m) => ({ count: Math.ceil(SCENARIOS[m].count / 50), maxMs: 200 }),
      warmup: () => ({ count: 2, maxMs: 50 }),
    };
  }
  return {
    runs: RUNS,
    limits: (m) => ({ count: SCENARIOS[m].count, maxMs: MAX_MS }),
    warmup: (m) => ({ count: Math.ceil(SCENARIOS[m].count / 10), maxMs: 300 }),
  };
}

interface Collected {
  readonly runs: Record<Metric, Rate[]>;
  readonly normalBytes: SizeSummary;
  readonly prekeyBytes: SizeSummary;
}

/**
 * Runs are interleaved (run 1 of every implementation, then run 2...) so that load from other
 * processes on a shared machine hits every implementation alike instead of skewing one row.
 */
async function collect(context: BenchContext, steps: Plan): Promise<Map<ProtocolPeer, Collected>> {
  const collected = new Map<ProtocolPeer, Collected>(
    PEERS.map((p) => [
      p,
      { runs: { setups: [], oneWay: [], pingPong: [] }, normalBytes: emptySizes(), prekeyBytes: emptySizes() },
    ]),
  );
  for (const metric of Object.keys(SCENARIOS) as Metric[]) {
    const scenario = SCENARIOS[metric];
    for (const peer of PEERS) await scenario.run(peer, steps.warmup(metric));
    for (let run = 1; run <= steps.runs; run++) {
      for (const peer of PEERS) {
        const result = await scenario.run(peer, steps.limits(metric));
        const into = collected.get(peer);
        if (into === undefined) throw new Error('unknown peer');
        into.runs[metric].push(result.rate);
        mergeSizes(into.normalBytes, result.wire.normal);
        mergeSizes(into.prekeyBytes, result.wire.prekey);
        context.progress(`  ${metric} run ${run}: ${peer.name} ${result.rate.perSecond.toFixed(1)}/s`);
      }
    }
  }
  return collected;
}

function toResult(peer: ProtocolPeer, c: Collected): PeerResult {
  const m = (metric: Metric): Measurement => summarize(c.runs[metric]);
  return {
    name: peer.name,
    notes: peer.notes,
    setups: m('setups'),
    oneWay: m('oneWay'),
    pingPong: m('pingPong'),
    normalBytes: c.normalBytes,
    prekeyBytes: c.prekeyBytes,
  };
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** `npm run bench -- protocol`. */
export const protocolBenchmark: Benchmark = {
  name: 'protocol',
  description: `session setup, one-way and ping-pong throughput and wire bytes, ${MESSAGE_BYTES}-byte messages`,
  async run(context) {
    const steps = plan(context.quick);
    const loadBefore = load();
    const collected = await collect(context, steps);
    const results = PEERS.map((peer) => {
      const c = collected.get(peer);
      if (c === undefined) throw new Error('unknown peer');
      return toResult(peer, c);
    });
    const count = (m: Metric): number => steps.limits(m).count;
    console.log(`## Protocol\n`);
    console.log(
      `${MESSAGE_BYTES}-byte plaintexts; ops/s is the median of ${steps.runs} run(s) per implementation, each ` +
        `stopped at a fixed count (${count('setups')} setups, ${count('oneWay')} one-way messages, ` +
        `${count('pingPong')} round trips) or after ${steps.limits('setups').maxMs / 1000} s of timed work, after ` +
        'a warm-up run; runs of the implementations are interleaved. bytes/msg: normal messages, mean ' +
        `(min-max) when they vary. Load average (1/5/15 min) before: ${loadBefore}, after: ${load()}.\n`,
    );
    console.log(figuresTable(results));
    console.log('\nVAULTEX / peer (higher is better for rates, lower for bytes); targets apply on Node:\n');
    console.log(ratiosTable(results));
    for (const ours of results.filter((r) => r.name.startsWith('vaultex'))) {
      console.log(`\n${ours.name}: ${meetsTargets(ours, results) ? 'all targets met' : 'some targets missed'}`);
    }
    console.log('\nRuns behind each median:\n');
    console.log(runsTable(results));
    console.log('\nNotes:\n');
    console.log(notesList(results));
  },
};

/**
 * Turns protocol measurements into the printed tables: figures per implementation, then the
 * VAULTEX ratios with a PASS/MISS mark against each target of the issue.
 */
import type { Measurement } from '../lib/measure.js';
import { type Align, formatRate, formatRatio, markdownTable } from '../lib/table.js';
import type { SizeSummary } from './scenarios.js';

/** Everything measured for one implementation. */
export interface PeerResult {
  readonly name: string;
  readonly notes: readonly string[];
  readonly setups: Measurement;
  readonly oneWay: Measurement;
  readonly pingPong: Measurement;
  /** Normal-message sizes over the one-way and ping-pong runs. */
  readonly normalBytes: SizeSummary;
  /** Prekey-message sizes over every setup. */
  readonly prekeyBytes: SizeSummary;
}

/** The throughput figures a target can be set on. */
export type Metric = 'setups' | 'oneWay' | 'pingPong';

const METRIC_LABEL: Record<Metric, string> = { setups: 'setups', oneWay: 'one-way', pingPong: 'ping-pong' };

/** One target from the issue: VAULTEX / baseline >= min for a metric. */
export interface Target {
  readonly baseline: string;
  readonly metric: Metric;
  readonly min: number;
}

/** The targets of the issue, on Node. */
export const TARGETS: readonly Target[] = [
  { baseline: 'libsignal-client', metric: 'setups', min: 1 },
  { baseline: 'libsignal-client', metric: 'oneWay', min: 2 },
  { baseline: 'libsignal-client', metric: 'pingPong', min: 2 },
  { baseline: 'privacyresearch', metric: 'setups', min: 20 },
  { baseline: 'privacyresearch', metric: 'oneWay', min: 20 },
  { baseline: 'privacyresearch', metric: 'pingPong', min: 20 },
];

function rate(result: PeerResult, metric: Metric): number {
  return result[metric].median.perSecond;
}

function meanBytes(sizes: SizeSummary): number {
  return sizes.count === 0 ? 0 : sizes.total / sizes.count;
}

function formatBytes(sizes: SizeSummary): string {
  if (sizes.count === 0) return 'n/a';
  if (sizes.min === sizes.max) return String(sizes.min);
  return `${meanBytes(sizes).toFixed(1)} (${sizes.min}-${sizes.max})`;
}

/** The main table: one row per implementation. */
export function figuresTable(results: readonly PeerResult[]): string {
  const header = ['implementation', 'setups/s', 'one-way msgs/s', 'round trips/s', 'bytes/msg', 'prekey msg bytes'];
  const rows = results.map((r) => [
    r.name,
    formatRate(rate(r, 'setups')),
    formatRate(rate(r, 'oneWay')),
    formatRate(rate(r, 'pingPong')),
    formatBytes(r.normalBytes),
    formatBytes(r.prekeyBytes),
  ]);
  const align: Align[] = ['left', 'right', 'right', 'right', 'right', 'right'];
  return markdownTable(header, rows, align);
}

/** The spread behind each median: the three runs, ops and timed seconds of the median run. */
export function runsTable(results: readonly PeerResult[]): string {
  const header = ['implementation', 'metric', 'runs (ops/s)', 'median run'];
  const rows: string[][] = [];
  for (const r of results) {
    for (const metric of ['setups', 'oneWay', 'pingPong'] as const) {
      const m = r[metric];
      rows.push([
        r.name,
        METRIC_LABEL[metric],
        m.runs.map((run) => formatRate(run.perSecond)).join(' / '),
        `${m.median.ops} ops in ${(m.median.ms / 1000).toFixed(2)} s`,
      ]);
    }
  }
  return markdownTable(header, rows);
}

/** PASS/MISS text for one ratio; a miss says by how much. */
function mark(ratio: number, min: number): string {
  if (ratio >= min) return `PASS (>= ${min}x)`;
  return `MISS (>= ${min}x; ${((1 - ratio / min) * 100).toFixed(0)}% short)`;
}

/** True when every target holds for the VAULTEX row `ours`. */
export function meetsTargets(ours: PeerResult, results: readonly PeerResult[]): boolean {
  return TARGETS.every((t) => {
    const base = results.find((r) => r.name === t.baseline);
    return base === undefined || rate(ours, t.metric) / rate(base, t.metric) >= t.min;
  });
}

/**
 * Ratios VAULTEX / baseline for each VAULTEX row (`vaultex*`) against each baseline, with the
 * target mark where the issue sets one. Byte ratios have no target (smaller is better).
 */
export function ratiosTable(results: readonly PeerResult[]): string {
  const ours = results.filter((r) => r.name.startsWith('vaultex'));
  const baselines = results.filter((r) => !r.name.startsWith('vaultex'));
  const header = ['VAULTEX row', 'vs', 'setups', 'one-way', 'ping-pong', 'bytes/msg', 'prekey msg bytes'];
  const rows: string[][] = [];
  for (const o of ours) {
    for (const b of baselines) {
      const cells = (['setups', 'oneWay', 'pingPong'] as const).map((metric) => {
        const ratio = rate(o, metric) / rate(b, metric);
        const target = TARGETS.find((t) => t.baseline === b.name && t.metric === metric);
        return target === undefined ? formatRatio(ratio) : `${formatRatio(ratio)} ${mark(ratio, target.min)}`;
      });
      rows.push([
        o.name,
        b.name,
        ...cells,
        formatRatio(meanBytes(o.normalBytes) / meanBytes(b.normalBytes)),
        formatRatio(meanBytes(o.prekeyBytes) / meanBytes(b.prekeyBytes)),
      ]);
    }
  }
  return markdownTable(header, rows);
}

/** Notes per implementation, as a list. */
export function notesList(results: readonly PeerResult[]): string {
  return results.flatMap((r) => r.notes.map((note) => `- ${r.name}: ${note}`)).join('\n');
}

/**
 * Bounded throughput measurement shared by the benchmarks: a fixed operation count AND a time
 * cap per run; the median of several runs is reported.
 */

/** What one timed batch did. Batches do their own untimed preparation and time only the work. */
export interface Batch {
  /** Operations completed in the timed section. */
  readonly ops: number;
  /** Milliseconds spent in the timed section only. */
  readonly ms: number;
}

/** Stop conditions of one run: whichever comes first. */
export interface Limits {
  /** Operations to complete. */
  readonly count: number;
  /** Cap on timed milliseconds. */
  readonly maxMs: number;
  /** Cap on wall-clock milliseconds, untimed preparation included (defaults to 2 × maxMs). */
  readonly maxWallMs?: number;
}

/** The result of one run. */
export interface Rate {
  readonly ops: number;
  readonly ms: number;
  readonly perSecond: number;
}

/** A measurement: the median run plus every run, so spread can be reported. */
export interface Measurement {
  readonly median: Rate;
  readonly runs: readonly Rate[];
}

/** A batch shorter than this doubles the next batch size, so timer reads stay negligible. */
const MIN_BATCH_MS = 20;

/**
 * Runs `batch` until `limits.count` operations are done or a time cap is hit. `batch` is told how
 * many operations it may do (1 at first, doubling while batches are short, so that a slow
 * implementation does not overshoot the time cap by a whole batch) and returns what it did.
 * @throws Error if a batch completes no operation (it would loop forever).
 */
export async function runBounded(limits: Limits, batch: (maxOps: number) => Promise<Batch>): Promise<Rate> {
  const wallCap = limits.maxWallMs ?? 2 * limits.maxMs;
  const wallStart = performance.now();
  let ops = 0;
  let ms = 0;
  let size = 1;
  while (ops < limits.count && ms < limits.maxMs && performance.now() - wallStart < wallCap) {
    const done = await batch(Math.min(size, limits.count - ops));
    if (done.ops <= 0) throw new Error('a benchmark batch completed no operation');
    ops += done.ops;
    ms += done.ms;
    if (done.ms < MIN_BATCH_MS) size *= 2;
  }
  return { ops, ms, perSecond: ms > 0 ? (ops * 1000) / ms : 0 };
}

/**
 * The median run by rate (the lower middle one for an even count) plus every run.
 * @throws Error for no runs.
 */
export function summarize(runs: readonly Rate[]): Measurement {
  const sorted = [...runs].sort((a, b) => a.perSecond - b.perSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (median === undefined) throw new Error('a measurement needs at least one run');
  return { median, runs };
}

/** Milliseconds elapsed while `work` runs. */
export async function timed(work: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

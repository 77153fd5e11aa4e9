/** What bench/run.ts knows about a benchmark. */

/** Settings shared by every benchmark in one `npm run bench` invocation. */
export interface BenchContext {
  /** `--quick`: tiny counts and caps, for checking that the harness works. Not for figures. */
  readonly quick: boolean;
  /** Progress lines (stderr), kept apart from the result tables (stdout). */
  progress(line: string): void;
}

/** A benchmark that can be selected by name: `npm run bench -- <name>`. */
export interface Benchmark {
  readonly name: string;
  /** Other names it can be selected by. */
  readonly aliases?: readonly string[];
  readonly description: string;
  /** Runs the measurements and prints its tables to stdout. */
  run(context: BenchContext): Promise<void>;
}

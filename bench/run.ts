/**
 * Entry point of `npm run bench`: runs every benchmark, or only those named on the command line
 * (`npm run bench -- protocol`). `--quick` shrinks counts to check the harness; its figures are
 * not to be published. Results go to stdout as Markdown, progress to stderr.
 */
import { availableParallelism, cpus, platform, release } from 'node:os';
import { attachmentBenchmark } from './client/attachment-bench.js';
import { clientBenchmark } from './client/client-bench.js';
import { groupBenchmark } from './client/group-bench.js';
import type { Benchmark } from './lib/benchmark.js';
import { protocolBenchmark } from './protocol/protocol-bench.js';
import { scaleBenchmark } from './server/scale.js';
import { serverBenchmark } from './server/server-bench.js';

const BENCHMARKS: readonly Benchmark[] = [
  protocolBenchmark,
  serverBenchmark,
  scaleBenchmark,
  clientBenchmark,
  groupBenchmark,
  attachmentBenchmark,
];

/** A benchmark answers to its name and to its aliases. */
const named = (b: Benchmark, name: string): boolean => b.name === name || (b.aliases?.includes(name) ?? false);

function usage(): string {
  const list = BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.description}`).join('\n');
  return `usage: npm run bench -- [--quick] [name...]\n\nbenchmarks:\n${list}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const flags = argv.filter((a) => a.startsWith('-'));
  const names = argv.filter((a) => !a.startsWith('-'));
  if (flags.includes('--help') || flags.includes('-h')) {
    console.log(usage());
    return 0;
  }
  const unknownFlag = flags.find((f) => f !== '--quick');
  const unknownName = names.find((n) => !BENCHMARKS.some((b) => named(b, n)));
  if (unknownFlag !== undefined || unknownName !== undefined) {
    console.error(`unknown ${unknownFlag !== undefined ? 'option' : 'benchmark'}: ${unknownFlag ?? unknownName}`);
    console.error(usage());
    return 2;
  }
  const selected = names.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => names.some((n) => named(b, n)));
  const quick = flags.includes('--quick');
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`# VAULTEX benchmarks${quick ? ' (--quick: harness check only, not figures)' : ''}\n`);
  console.log(`- date: ${new Date().toISOString()}`);
  console.log(`- node ${process.version} on ${platform()} ${release()}, ${availableParallelism()} cores, ${cpu}\n`);
  const context = { quick, progress: (line: string) => console.error(line) };
  for (const benchmark of selected) {
    const start = performance.now();
    await benchmark.run(context);
    console.log(`\n(${benchmark.name}: ${((performance.now() - start) / 1000).toFixed(0)} s)\n`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));

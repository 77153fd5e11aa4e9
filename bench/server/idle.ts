/**
 * Memory per idle authenticated connection: the server's RSS before and after a child process
 * (idle-clients.ts) opens N connections and authenticates each, divided by N. The count is the
 * issue's 19,000 when both processes' open-file limits allow it, else as many as fit.
 */
import { execFileSync } from 'node:child_process';
import { collectGarbage, memory, spawnWithFileLimit, stopChild, waitForOutput } from './processes.js';

/** The count of idle connections. */
export const IDLE_TARGET = 19_000;

/** Descriptors kept free in each process for its own files, listeners and the benchmark's sockets. */
const SPARE_FDS = 300;

/** How many idle connections fit under the hard open-file limit (each end is one process). */
export function idleCount(): number {
  const hard = Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
  const limit = Number.isFinite(hard) ? hard : 1024;
  return Math.max(1, Math.min(IDLE_TARGET, limit - SPARE_FDS));
}

/** What the idle-connection phase measured. */
export interface IdleResult {
  readonly connections: number;
  readonly failed: number;
  readonly openSeconds: number;
  readonly beforeKiB: number;
  readonly afterKiB: number;
  /** (after - before) / connections, in bytes. */
  readonly bytesPerConnection: number;
}

/**
 * Opens the connections with `args` (passed to idle-clients.ts) against the server `pid`.
 * @param gc - ask the server for a full garbage collection before each reading (the relay only).
 */
export async function measureIdle(pid: number, args: readonly string[], gc: boolean): Promise<IdleResult> {
  if (gc) await collectGarbage(pid);
  else await new Promise((r) => setTimeout(r, 500));
  const beforeKiB = memory(pid).rssKiB;
  const start = performance.now();
  const child = spawnWithFileLimit(
    process.execPath,
    ['--conditions=@vaultex/source', '--import', 'tsx', 'bench/server/idle-clients.ts', ...args],
    'pipe',
  );
  try {
    const match = await waitForOutput(child, /\{"ready":(\d+),"failed":(\d+)\}/u);
    const openSeconds = (performance.now() - start) / 1000;
    const connections = Number(match[1]);
    // Let buffers and timers of the connection storm settle before reading.
    await new Promise((r) => setTimeout(r, 2000));
    if (gc) await collectGarbage(pid);
    const afterKiB = memory(pid).rssKiB;
    return {
      connections,
      failed: Number(match[2]),
      openSeconds,
      beforeKiB,
      afterKiB,
      bytesPerConnection: connections > 0 ? ((afterKiB - beforeKiB) * 1024) / connections : 0,
    };
  } finally {
    await stopChild(child);
  }
}

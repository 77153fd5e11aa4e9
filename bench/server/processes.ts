/**
 * Child processes of the server benchmark: the relay (its real entry point) and the memory
 * figures read from /proc/<pid>/status. Every child gets the hard open-file limit as its soft
 * limit (`ulimit -n`) so that thousands of idle connections fit, and `exec` keeps the pid the
 * benchmark measures equal to the process that serves.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root: children run from there. */
export const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Where the relay's sources are taken from: this checkout, or another one for a before/after
 * comparison (`VAULTEX_BENCH_RELAY_ROOT=/path/to/an/older/tree`, with its own node_modules).
 */
export const RELAY_ROOT = process.env.VAULTEX_BENCH_RELAY_ROOT ?? ROOT;

/** A started child that serves on a loopback port. */
export interface Served {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Stops the child (SIGTERM, then SIGKILL after 5 s) and waits for its exit. */
  stop(): Promise<void>;
}

/** `sh -c 'ulimit -n <hard>; exec "$@"'`: the command with the highest open-file limit allowed. */
export function spawnWithFileLimit(
  command: string,
  args: readonly string[],
  stdout: 'pipe' | 'ignore',
  cwd = ROOT,
): ChildProcess {
  return spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$@"', 'sh', command, ...args], {
    cwd,
    stdio: ['ignore', stdout, 'inherit'],
  });
}

/** Waits until `stdout` matches `pattern` (or the child exits first). */
export function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match) {
        child.stdout!.off('data', onData);
        // Keep draining so the child never blocks on a full pipe.
        child.stdout!.resume();
        resolve(match);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before it was ready`)));
  });
}

/** Stops a child and waits for it: SIGTERM, then SIGKILL if it lingers. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Relay settings the benchmark varies. */
export interface RelayOptions {
  readonly dataDir: string;
  readonly groupCommit: boolean;
  /** More relay flags (the scale benchmark: `--database-url`, `--redis-url`). */
  readonly extraArgs?: readonly string[];
}

/**
 * Starts the relay from its real entry point on 127.0.0.1 with a fresh SQLite file (WAL,
 * synchronous=FULL), every rate limit lifted (the benchmark is one client address), and
 * `bench/server/gc-on-signal.ts` preloaded so that the benchmark can ask for a full garbage
 * collection before reading memory figures.
 */
export async function startRelay(
  options: RelayOptions,
): Promise<Served & { readonly url: string; readonly metricsUrl: string | undefined }> {
  const big = '1000000000';
  const child = spawnWithFileLimit(
    process.execPath,
    [
      // e.g. VAULTEX_BENCH_SERVER_NODE_ARGS=--cpu-prof to profile the relay under load.
      ...(process.env.VAULTEX_BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      '--expose-gc',
      '--conditions=@vaultex/source',
      '--import',
      'tsx',
      '--import',
      join(ROOT, 'bench/server/gc-on-signal.ts'),
      'packages/server/src/main.ts',
      ...['--host', '127.0.0.1', '--port', '0', '--metrics-port', '-1', '--log-level', 'info'],
      ...['--data-dir', options.dataDir, '--group-commit', String(options.groupCommit)],
      ...['--limits.ws-frames-per-second', big, '--limits.sealed-sends-per-recipient-per-minute', big],
      ...['--limits.sends-per-account-per-minute', big, '--limits.registrations-per-hour', big],
      ...['--limits.challenges-per-minute', big, '--limits.ws-connections-per-minute', big],
      ...(options.extraArgs ?? []),
    ],
    'pipe',
    RELAY_ROOT,
  );
  // The relay logs one JSON line with its URL once it listens (WebSocket frames are not logged).
  // ... and its metrics URL when `--metrics-port` is not -1.
  const match = await waitForOutput(child, /"url":"http:\/\/127\.0\.0\.1:(\d+)"(?:,"metrics":"([^"]+)")?/u);
  return {
    child,
    pid: child.pid!,
    url: `http://127.0.0.1:${match[1]}`,
    metricsUrl: match[2],
    stop: () => stopChild(child),
  };
}

/** Memory of a process, from /proc/<pid>/status. */
export interface Memory {
  /** Resident set size now, KiB. */
  readonly rssKiB: number;
  /** Peak resident set size since start or since {@link resetPeak}, KiB. */
  readonly peakKiB: number;
}

/** Reads VmRSS and VmHWM of a process. */
export function memory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'mu').exec(status)?.[1] ?? 0);
  return { rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
}

/**
 * Resets a process's peak RSS (VmHWM) to its current RSS (`echo 5 > /proc/<pid>/clear_refs`).
 * @returns false when the kernel or permissions do not allow it (the sampled peak still works).
 */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds a process has used in user and in kernel mode, from /proc/<pid>/stat (ticks of 1/100 s). */
export function cpuSeconds(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** Samples RSS every `everyMs` and keeps the highest value (a check on VmHWM). */
export function sampleRss(pid: number, everyMs = 20): { stop(): number } {
  let peak = memory(pid).rssKiB;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, memory(pid).rssKiB);
    } catch {
      // the process ended; keep what was seen
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** Asks the relay for a full garbage collection (SIGUSR2, see gc-on-signal.ts) and lets it settle. */
export async function collectGarbage(pid: number): Promise<void> {
  process.kill(pid, 'SIGUSR2');
  await new Promise((r) => setTimeout(r, 500));
}

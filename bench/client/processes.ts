/**
 * Child processes of the client benchmark (the relay, and the profile opener that measures
 * a cold start) and the /proc figures read from them: CPU time and resident memory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root: children run from there so that `tsx` and the workspaces resolve. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** `node --conditions=@vaultex/source --import tsx <script> ...args`, stdout piped, stderr shared. */
export function spawnTs(script: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--conditions=@vaultex/source', '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/**
 * The first stdout line of `child` that parses as JSON.
 * @throws Error (rejects) when the child exits before printing one.
 */
export function firstJsonLine<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const value = JSON.parse(line) as T;
          child.stdout!.off('data', onData);
          child.stdout!.resume();
          resolve(value);
          return;
        } catch {
          // an incomplete line: wait for more
        }
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before answering`)));
  });
}

/** Stops a child (SIGTERM, then SIGKILL after 5 s) and waits for its exit. */
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

/** A relay in its own process. */
export interface RelayProcess {
  readonly url: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/**
 * Starts `relay-child.ts` on a fresh data folder and waits until it listens.
 * @throws Error when the relay exits before it listens.
 */
export async function startRelayProcess(dataDir: string): Promise<RelayProcess> {
  const child = spawnTs(join(import.meta.dirname, 'relay-child.ts'), [dataDir]);
  try {
    const { url } = await firstJsonLine<{ url: string }>(child);
    return { url, pid: child.pid!, stop: () => stopChild(child) };
  } catch (e) {
    await stopChild(child);
    throw e;
  }
}

/**
 * CPU milliseconds (user + system) a process has used, from /proc/<pid>/stat (10 ms ticks).
 * @throws Error when the process is gone or /proc is missing (not Linux).
 */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name, which may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Resident memory of this process in KiB: now (VmRSS) and peak since start or the last
 * `clear_refs` reset (VmHWM).
 * @throws Error when /proc is missing (not Linux).
 */
export function ownMemory(): { rssKiB: number; peakKiB: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'mu').exec(status)?.[1] ?? 0);
  return { rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
}

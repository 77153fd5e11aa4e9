/**
 * Test support for the end-to-end tests: REAL processes. `vaultex serve --port 0` on
 * loopback, and `vaultex` client commands with temporary homes, run from source
 * (`node --conditions=@vaultex/source --import tsx apps/cli/src/bin.ts`), with tiny
 * Argon2 and prekey batches (VAULTEX_TEST_FAST=1).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the processes run there so that `--import tsx` resolves). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(ROOT, 'apps', 'cli', 'src', 'bin.ts');
const NODE_ARGS = ['--conditions=@vaultex/source', '--import', 'tsx', BIN];

/** Relay limits high enough for many accounts from one address. */
const RELAY_ENV: Record<string, string> = {
  VAULTEX_METRICS_PORT: '-1',
  VAULTEX_LOG_LEVEL: 'warn',
  VAULTEX_LIMITS_REGISTRATIONS_PER_HOUR: '100000',
  VAULTEX_LIMITS_CHALLENGES_PER_MINUTE: '100000',
  VAULTEX_LIMITS_PREKEY_FETCHES_PER_HOUR: '100000',
  VAULTEX_LIMITS_WS_CONNECTIONS_PER_MINUTE: '100000',
  VAULTEX_LIMITS_SENDS_PER_ACCOUNT_PER_MINUTE: '100000',
  VAULTEX_LIMITS_SEALED_SENDS_PER_RECIPIENT_PER_MINUTE: '100000',
  VAULTEX_LIMITS_WS_FRAMES_PER_SECOND: '10000',
};

/** What a truthy check result narrows to. */
export type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/** The result of a finished command. */
export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running process whose stdout is read line by line. */
export class Proc {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  #partial = '';
  #waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      this.#partial += chunk;
      const parts = this.#partial.split('\n');
      this.#partial = parts.pop()!;
      this.lines.push(...parts.filter((l) => l.length > 0));
      for (const w of this.#waiters.splice(0)) w();
    });
    child.stderr!.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.on('exit', (code) => {
        for (const w of this.#waiters.splice(0)) w();
        resolve(code);
      });
    });
  }

  /** Lines parsed as JSON (non-JSON lines are skipped). */
  json<T = Record<string, unknown>>(): T[] {
    const out: T[] = [];
    for (const line of this.lines) {
      try {
        out.push(JSON.parse(line) as T);
      } catch {
        // Not JSON: human text.
      }
    }
    return out;
  }

  /** Wait until `check` over the JSON lines returns a truthy value. */
  async waitFor<T>(
    check: (lines: Record<string, unknown>[]) => T,
    what: string,
    timeoutMs = 30_000,
  ): Promise<Truthy<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check(this.json());
      if (value) return value as Truthy<T>;
      if (this.child.exitCode !== null) {
        throw new Error(`process exited (${this.child.exitCode}) while waiting for ${what}; stderr: ${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Write one line to stdin. */
  send(value: unknown): void {
    this.child.stdin!.write(`${typeof value === 'string' ? value : JSON.stringify(value)}\n`);
  }

  /** SIGINT, then wait for the exit code. */
  async interrupt(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    return this.exited;
  }
}

function spawnVaultex(args: readonly string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [...NODE_ARGS, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** A relay process. */
export interface Relay {
  readonly url: string;
  readonly dir: string;
  /** Stop it (SIGINT) but keep its data. */
  halt(): Promise<number | null>;
  /** Kill it with SIGKILL (no clean shutdown) but keep its data. */
  crash(): Promise<void>;
  /** Start it again on the same port and data. */
  resume(): Promise<void>;
  /** Stop it and delete its data. */
  stop(): Promise<void>;
  /** The end of its log (stderr), for failure messages. */
  log(): string;
}

async function serve(dir: string, port: number): Promise<{ proc: Proc; url: string }> {
  const args = ['serve', '--port', String(port), '--host', '127.0.0.1', '--data', join(dir, 'data'), '--json'];
  const proc = new Proc(spawnVaultex(args, RELAY_ENV));
  const listening = await proc.waitFor((lines) => lines.find((l) => l.event === 'listening'), 'the relay', 60_000);
  return { proc, url: listening.url as string };
}

/** Start `vaultex serve --port 0` on 127.0.0.1 with a fresh data folder. */
export async function startRelay(): Promise<Relay> {
  const dir = mkdtempSync(join(tmpdir(), 'vaultex-cli-relay-'));
  let { proc, url } = await serve(dir, 0);
  const port = Number(new URL(url).port);
  return {
    url,
    dir,
    halt: () => proc.interrupt(),
    async crash() {
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    log: () => proc.stderr.slice(-4000),
    async resume() {
      ({ proc } = await serve(dir, port));
    },
    async stop() {
      await proc.interrupt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A temporary VAULTEX home with a relay URL: runs `vaultex` commands in it. */
export class Home {
  readonly dir = mkdtempSync(join(tmpdir(), 'vaultex-cli-home-'));
  readonly procs: Proc[] = [];

  constructor(readonly serverUrl: string) {}

  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      VAULTEX_HOME: this.dir,
      VAULTEX_PASSPHRASE: 'correct horse battery staple',
      VAULTEX_TEST_FAST: '1',
      VAULTEX_SERVER: this.serverUrl,
      ...extra,
    };
  }

  /** Run `vaultex --profile <profile> ...args` to completion. */
  run(
    profile: string,
    args: readonly string[],
    options: { input?: string; env?: Record<string, string> } = {},
  ): Promise<Run> {
    const child = spawnVaultex(['--profile', profile, ...args], this.env(options.env));
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.stdin!.end(options.input ?? '');
    return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
  }

  /** Run with --json and parse every stdout line; fails on a non-zero exit. */
  async json<T = Record<string, unknown>>(profile: string, args: readonly string[], input?: string): Promise<T[]> {
    const r = await this.run(profile, ['--json', ...args], input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`vaultex ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as T);
  }

  /** Start a long-running command (`listen`, `daemon`, `device link`). */
  start(profile: string, args: readonly string[]): Proc {
    const proc = new Proc(spawnVaultex(['--profile', profile, ...args], this.env()));
    this.procs.push(proc);
    return proc;
  }

  /** Stop every process still running, then delete the folder. */
  async close(): Promise<void> {
    for (const p of this.procs) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

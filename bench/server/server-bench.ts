/**
 * The relay under load: the server runs in its own process (the real entry point, SQLite
 * with WAL and synchronous=FULL), this process is the load generator. N sender/recipient
 * pairs over WebSocket: each sender keeps a window of sealed sends (1 KiB opaque blobs,
 * access key checked) in flight on an anonymous connection; each recipient is connected as
 * its device, receives and acknowledges in batches. A send counts when its `sent` frame
 * arrives, i.e. after its group commit is durable. Run once with group commit and once
 * with one transaction per operation to show what batching buys.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeServerFrame, encodeFrame } from '@vaultex/api';
import { seededRandom } from '@vaultex/protocol';
import WebSocket from 'ws';
import { TestUser } from '../../packages/server/test/support.js';
import type { BenchContext, Benchmark } from '../lib/benchmark.js';
import { formatRate, markdownTable } from '../lib/table.js';

const root = join(import.meta.dirname, '..', '..');

interface Settings {
  readonly pairs: number;
  readonly window: number;
  readonly blobBytes: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly groupCommit: boolean;
}

interface Result {
  readonly settings: Settings;
  readonly sentPerSecond: number;
  readonly deliveredPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

function startRelay(dir: string, groupCommit: boolean): Promise<{ child: ChildProcess; url: string }> {
  const big = '100000000';
  const child = spawn(
    process.execPath,
    [
      // e.g. VAULTEX_BENCH_SERVER_NODE_ARGS=--cpu-prof to profile the relay under load.
      ...(process.env.VAULTEX_BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      '--conditions=@vaultex/source',
      '--import',
      'tsx',
      'packages/server/src/main.ts',
      ...['--host', '127.0.0.1', '--port', '0', '--metrics-port', '-1', '--log-level', 'info'],
      ...['--data-dir', dir, '--group-commit', String(groupCommit)],
      ...['--limits.ws-frames-per-second', big, '--limits.sealed-sends-per-recipient-per-minute', big],
      ...['--limits.sends-per-account-per-minute', big, '--limits.registrations-per-hour', big],
      ...['--limits.challenges-per-minute', big, '--limits.ws-connections-per-minute', big],
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/u.exec(out);
      if (match) resolve({ child, url: match[1]! });
    });
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}`)));
  });
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function runOnce(settings: Settings, progress: (line: string) => void): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'vaultex-bench-'));
  const { child, url } = await startRelay(dir, settings.groupCommit);
  const wsUrl = `${url.replace('http', 'ws')}/ws`;
  const sockets: WebSocket[] = [];
  try {
    progress(`  registering ${settings.pairs * 2} accounts`);
    const random = seededRandom(new Uint8Array(32).fill(settings.groupCommit ? 1 : 2));
    const users: TestUser[] = [];
    for (let i = 0; i < settings.pairs * 2; i++)
      users.push(await new TestUser(url, random).register({ oneTime: 0, kem: 0 }));

    let measuring = false;
    let sent = 0;
    let delivered = 0;
    let errors = 0;
    const latencies: number[] = [];

    // Recipients: receive, acknowledge every 20 ms in one frame.
    for (let i = 0; i < settings.pairs; i++) {
      const ws = await open(wsUrl);
      sockets.push(ws);
      const pending: string[] = [];
      ws.on('message', (data: Buffer) => {
        const r = decodeServerFrame(data);
        if (!r.ok) return;
        if (r.frame.t === 'message') {
          pending.push(r.frame.id);
          if (measuring) delivered++;
        }
      });
      const timer = setInterval(() => {
        while (pending.length > 0 && ws.readyState === ws.OPEN)
          ws.send(encodeFrame({ t: 'ack', ids: pending.splice(0, 256) }));
      }, 20);
      ws.once('close', () => clearInterval(timer));
      ws.send(encodeFrame({ t: 'auth', token: users[settings.pairs + i]!.token() }));
    }

    // Senders: anonymous connections, a window of sealed sends each.
    const blob = new Uint8Array(settings.blobBytes).fill(0x5a);
    let running = true;
    for (let i = 0; i < settings.pairs; i++) {
      const ws = await open(wsUrl);
      sockets.push(ws);
      const to = users[settings.pairs + i]!;
      const frame = (rid: number) =>
        encodeFrame({
          t: 'send',
          rid,
          messages: [{ blob, targets: [{ accountId: to.id, deviceIds: [1] }] }],
          accessKeys: [{ accountId: to.id, accessKey: to.accessKey }],
        });
      const started = new Map<number, number>();
      let rid = 0;
      const fire = () => {
        if (!running || ws.readyState !== ws.OPEN) return;
        started.set(rid, performance.now());
        ws.send(frame(rid++));
      };
      ws.on('message', (data: Buffer) => {
        const r = decodeServerFrame(data);
        if (!r.ok) return;
        if (r.frame.t === 'auth_ok') {
          for (let k = 0; k < settings.window; k++) fire();
          return;
        }
        if (r.frame.t !== 'sent' && r.frame.t !== 'error') return;
        const id = r.frame.rid ?? -1;
        const t0 = started.get(id);
        started.delete(id);
        if (measuring) {
          if (r.frame.t === 'sent') {
            sent++;
            if (t0 !== undefined) latencies.push(performance.now() - t0);
          } else {
            errors++;
          }
        }
        fire();
      });
      ws.send(encodeFrame({ t: 'anonymous' }));
    }

    await new Promise((r) => setTimeout(r, settings.warmupMs));
    measuring = true;
    const start = performance.now();
    await new Promise((r) => setTimeout(r, settings.measureMs));
    measuring = false;
    const seconds = (performance.now() - start) / 1000;
    running = false;
    latencies.sort((a, b) => a - b);
    return {
      settings,
      sentPerSecond: sent / seconds,
      deliveredPerSecond: delivered / seconds,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      errors,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench -- server`. */
export const serverBenchmark: Benchmark = {
  name: 'server',
  description: 'relay throughput: N WebSocket sender/recipient pairs, 1 KiB sealed sends durable in SQLite',
  async run(context: BenchContext): Promise<void> {
    const base = {
      pairs: context.quick ? 10 : 100,
      window: 8,
      blobBytes: 1024,
      warmupMs: context.quick ? 300 : 2000,
      measureMs: context.quick ? 1000 : 10_000,
    };
    const results: Result[] = [];
    for (const groupCommit of [true, false]) {
      context.progress(`server: ${base.pairs} pairs, group commit ${groupCommit ? 'on' : 'off'}`);
      results.push(await runOnce({ ...base, groupCommit }, context.progress));
    }
    console.log('## Server: relay throughput (sealed sends over WebSocket, SQLite synchronous=FULL)\n');
    console.log(
      markdownTable(
        ['commit', 'pairs', 'window', 'blob', 'durable sends/s', 'delivered/s', 'send p50 ms', 'send p99 ms', 'errors'],
        results.map((r) => [
          r.settings.groupCommit ? 'group (per tick)' : 'per operation',
          String(r.settings.pairs),
          String(r.settings.window),
          `${r.settings.blobBytes} B`,
          formatRate(r.sentPerSecond),
          formatRate(r.deliveredPerSecond),
          r.p50Ms.toFixed(1),
          r.p99Ms.toFixed(1),
          String(r.errors),
        ]),
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
    );
  },
};

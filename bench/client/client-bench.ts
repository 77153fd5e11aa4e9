/**
 * `npm run bench -- client`: the client's cost per message (sender: encode + store + encrypt
 * + send; receiver: receive + decrypt + store + ACK) through a real relay in a child process,
 * and the start-up of a profile holding 100,000 messages. See docs/PERFORMANCE.md, "Client".
 */
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, Benchmark } from '../lib/benchmark.js';
import { markdownTable } from '../lib/table.js';
import { measureMessaging, PASSPHRASE, type SideCost } from './messaging.js';
import type { OpenFigures } from './open-child.js';
import { firstJsonLine, spawnTs, startRelayProcess, stopChild } from './processes.js';
import { fillProfile } from './profile-build.js';

/** Counts and caps; `--quick` shrinks them to check the harness. */
const FULL = { messages: 2000, sendCapMs: 60_000, receiveCapMs: 45_000, profileMessages: 100_000, openRuns: 3 };
const QUICK = { messages: 50, sendCapMs: 15_000, receiveCapMs: 15_000, profileMessages: 2_000, openRuns: 1 };

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const mib = (kib: number): string => (kib / 1024).toFixed(1);
const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
}

function sideRow(name: string, c: SideCost): string[] {
  const per = (x: number) => (c.messages > 0 ? ms(x / c.messages) : '-');
  return [
    name,
    `${c.messages}${c.capped ? ' (capped)' : ''}`,
    per(c.wallMs),
    c.wallMs > 0 ? ((c.messages * 1000) / c.wallMs).toFixed(0) : '-',
    per(c.clientCpuMs),
    per(c.relayCpuMs),
    c.messages > 0 ? (c.commits / c.messages).toFixed(2) : '-',
    per(c.commitMs),
    c.sendCallMs === undefined ? '-' : per(c.sendCallMs),
  ];
}

/** Median ms of a 4 KiB write + fsync in `dir`: the floor under every durable commit here. */
function fsyncMs(dir: string): number {
  const fd = openSync(join(dir, 'fsync-probe'), 'w');
  const block = new Uint8Array(4096);
  const times: number[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      writeSync(fd, block);
      fsyncSync(fd);
      times.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
  }
  return median(times);
}

async function openOnce(profileDir: string, conversationId: string): Promise<OpenFigures> {
  const child = spawnTs(join(import.meta.dirname, 'open-child.ts'), [profileDir, PASSPHRASE, conversationId]);
  try {
    return await firstJsonLine<OpenFigures>(child);
  } finally {
    await stopChild(child);
  }
}

async function run(context: BenchContext): Promise<void> {
  const limits = context.quick ? QUICK : FULL;
  const root = mkdtempSync(join(tmpdir(), 'vaultex-bench-client-'));
  const loadBefore = load();
  const fsync = fsyncMs(root);
  try {
    context.progress('client: starting the relay (child process) and two SQLCipher clients');
    const relay = await startRelayProcess(join(root, 'relay'));
    let messaging: Awaited<ReturnType<typeof measureMessaging>>;
    try {
      messaging = await measureMessaging(relay, root, limits.messages, limits, context.progress);
    } finally {
      await relay.stop();
    }

    context.progress(`client: filling Bob's profile to ${limits.profileMessages} messages (set-up, untimed)`);
    const built = await fillProfile({
      profileDir: messaging.bobProfileDir,
      passphrase: PASSPHRASE,
      ownId: messaging.bobUserId,
      peerId: messaging.aliceUserId,
      total: limits.profileMessages,
    });
    const runs: OpenFigures[] = [];
    for (let i = 0; i < limits.openRuns; i++) {
      context.progress(`client: opening the profile, run ${i + 1}/${limits.openRuns}`);
      runs.push(await openOnce(messaging.bobProfileDir, `d:${messaging.aliceUserId}`));
    }
    const loadAfter = load();

    console.log('## Client\n');
    console.log(`Load average (1/5/15 min): ${loadBefore} before, ${loadAfter} after.`);
    console.log(`A 4 KiB write + fsync in the temp folder takes ${ms(fsync)} ms (median of 20).\n`);
    console.log(`### Cost per message (${messaging.textBytes}-byte texts, one-to-one, relay in a child process)\n`);
    console.log(
      markdownTable(
        [
          'side',
          'messages',
          'wall ms/msg',
          'msgs/s',
          'client CPU ms/msg',
          'relay CPU ms/msg',
          'commits/msg',
          'in commits ms/msg',
          'send() ms/msg',
        ],
        [sideRow('sender (Alice)', messaging.sender), sideRow('receiver (Bob)', messaging.receiver)],
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
    );

    const m = (pick: (f: OpenFigures) => number) => median(runs.map(pick));
    const all = (pick: (f: OpenFigures) => number) => runs.map((f) => ms(pick(f))).join(' / ');
    const first = runs[0];
    console.log(
      `\n### Opening a profile of ${built.messages} messages (${built.mainConversationMessages} in the listed conversation, ${built.conversations} conversations; median of ${runs.length} fresh processes)\n`,
    );
    const steps: [string, (f: OpenFigures) => number][] = [
      ['Argon2id, default t=3 m=64 MiB p=1', (f) => f.argon2DefaultMs],
      ['store open (SQLCipher open + schema check)', (f) => f.storeOpenMs],
      ['VaultexClient.open', (f) => f.clientOpenMs],
      [`first page of the conversation (${first?.firstPageSize ?? 0})`, (f) => f.firstPageMs],
      [`conversation list (${first?.conversations ?? 0})`, (f) => f.conversationsMs],
      [
        'total: unlock to first page and list',
        (f) => f.argon2DefaultMs + f.storeOpenMs + f.clientOpenMs + f.firstPageMs + f.conversationsMs,
      ],
    ];
    console.log(
      markdownTable(
        ['step', 'median ms', 'runs ms'],
        steps.map(([name, pick]) => [name, ms(m(pick)), all(pick)]),
        ['left', 'right', 'right'],
      ),
    );
    console.log(
      `\nMemory (median): RSS ${mib(m((f) => f.rssBeforeKiB))} MiB before opening, peak ${mib(m((f) => f.peakOpenKiB))} MiB while opening and listing, peak ${mib(m((f) => f.peakArgon2KiB))} MiB during the default Argon2id${runs.every((f) => f.peakReset) ? '' : ' (peak could not be reset: includes start-up)'}.`,
    );
    console.log(`Building the profile (untimed set-up) took ${(built.buildMs / 1000).toFixed(1)} s.`);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The client benchmark, registered in bench/run.ts. */
export const clientBenchmark: Benchmark = {
  name: 'client',
  description: 'client cost per message (send, receive) and opening a 100,000-message profile',
  run,
};

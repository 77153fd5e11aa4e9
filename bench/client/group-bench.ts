/**
 * `npm run bench -- groups`: a group of 1,000 members (`--quick`: 50) through a real relay in
 * a child process. The creator's costs: creating the group (a signed state to every member
 * over pairwise sessions, which sets up 999 sessions), the first message (our sender key to
 * every member, then one stored blob), and a steady-state message (one sender-key encryption,
 * one stored blob for all member devices, split per 1,024 targets). A sample of members then
 * receive everything. Members are memory-store clients in this process (set-up not timed).
 *
 * Then, in the same run and over the same (already established) pairwise sessions, one
 * message to every member both ways: with Sender Keys (`groups.send`: encrypted once, stored
 * once) and by pairwise fan-out (`messages.send` to each member: one sealed envelope per
 * member device, as a 1:1 send does). For each: wall time until the relay holds it, the
 * HTTP bytes the creator sent and read (wire-meter.ts), and the rows the relay stored (its
 * SQLite file, read-only).
 *
 * Run: npm run bench -- groups, or directly:
 *      node --conditions=@vaultex/source --import tsx bench/client/group-bench.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClientOptions, openMemoryStore, VaultexClient } from '@vaultex/client';
import { nodeDeps } from '@vaultex/client/node';
import Database from 'better-sqlite3';
import type { BenchContext, Benchmark } from '../lib/benchmark.js';
import { formatRatio, markdownTable } from '../lib/table.js';
import { processCpuMs, startRelayProcess } from './processes.js';
import { type WireCount, WireMeter } from './wire-meter.js';

const OPTIONS: ClientOptions = { oneTimePreKeys: 5, kemPreKeys: 2, keepaliveMs: 30_000 };
const FULL = { members: 1000, steadyMessages: 20, sampleReceivers: 5 };
const QUICK = { members: 50, steadyMessages: 5, sampleReceivers: 2 };

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));

interface Phase {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly relayCpuMs: number;
}

async function timed(relayPid: number, fn: () => Promise<void>): Promise<Phase> {
  const cpu = process.cpuUsage();
  const relay0 = processCpuMs(relayPid);
  const t = performance.now();
  await fn();
  const d = process.cpuUsage(cpu);
  return {
    wallMs: performance.now() - t,
    cpuMs: (d.user + d.system) / 1000,
    relayCpuMs: processCpuMs(relayPid) - relay0,
  };
}

/** Rows of the relay's mailbox: stored messages and (message, device) targets. */
function mailboxRows(dir: string): { messages: number; targets: number } {
  const db = new Database(join(dir, 'vaultex.db'), { readonly: true, fileMustExist: true });
  try {
    const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      messages: n('SELECT count(*) AS n FROM messages'),
      targets: n('SELECT count(*) AS n FROM message_targets'),
    };
  } finally {
    db.close();
  }
}

interface FanOut {
  readonly phase: Phase;
  readonly wire: WireCount;
  readonly rows: { messages: number; targets: number };
}

async function fanOut(relayPid: number, dir: string, meter: WireMeter, send: () => Promise<void>): Promise<FanOut> {
  const rows0 = mailboxRows(dir);
  const wire0 = meter.count();
  const phase = await timed(relayPid, send);
  const wire = meter.since(wire0);
  const rows1 = mailboxRows(dir);
  return { phase, wire, rows: { messages: rows1.messages - rows0.messages, targets: rows1.targets - rows0.targets } };
}

const kb = (bytes: number): string => (bytes / 1024).toFixed(bytes >= 100 * 1024 ? 0 : 1);

/** Runs the group measurement and prints its table. */
export async function measureGroups(context: BenchContext): Promise<void> {
  const n = context.quick ? QUICK : FULL;
  const dir = mkdtempSync(join(tmpdir(), 'vaultex-group-bench-'));
  const relay = await startRelayProcess(dir);
  const clients: VaultexClient[] = [];
  try {
    const deps = nodeDeps();
    for (let i = 1; i < n.members; i++) {
      const { client } = await VaultexClient.create({
        store: await openMemoryStore(),
        serverUrl: relay.url,
        displayName: `m${i}`,
        deps,
        options: { ...OPTIONS, deviceName: `m${i}` },
      });
      clients.push(client);
      if ((i + 1) % 100 === 0) context.progress(`groups: ${i + 1}/${n.members} accounts`);
    }
    // The creator's HTTP traffic is counted; it never opens the WebSocket (sync() only).
    const meter = new WireMeter();
    const { client: creator } = await VaultexClient.create({
      store: await openMemoryStore(),
      serverUrl: relay.url,
      displayName: 'creator',
      deps: nodeDeps({ fetch: meter.fetch }),
      options: { ...OPTIONS, deviceName: 'creator' },
    });
    clients.push(creator);
    clients.unshift(clients.pop()!);
    const others = clients.slice(1);
    for (const m of others) await creator.contacts.add(m.id().contactCode);
    context.progress('groups: contacts added');

    let groupId = '';
    const create = await timed(relay.pid, async () => {
      groupId = (
        await creator.groups.create(
          'bench',
          others.map((m) => m.id().userId),
        )
      ).groupId;
      await creator.sync();
    });
    context.progress(`groups: created (${ms(create.wallMs)} ms)`);
    const first = await timed(relay.pid, async () => {
      await creator.groups.send(groupId, 'first');
      await creator.sync();
    });
    const steady = await timed(relay.pid, async () => {
      for (let i = 0; i < n.steadyMessages; i++) await creator.groups.send(groupId, `steady ${i}`);
      await creator.sync();
    });
    const sample = others.slice(0, n.sampleReceivers);
    const receive = await timed(relay.pid, async () => {
      for (const m of sample) await m.sync();
    });
    let complete = 0;
    for (const m of sample) {
      const got = await m.messages.list(`g:${groupId}`, { limit: 1000 });
      if (got.length === 1 + n.steadyMessages) complete++;
    }
    const [mine] = await creator.messages.list(`g:${groupId}`, { limit: 1 });

    context.progress('groups: one message to every member, Sender Keys vs pairwise fan-out');
    const senderKeys = await fanOut(relay.pid, dir, meter, async () => {
      await creator.groups.send(groupId, 'one message for everyone');
      await creator.sync();
    });
    const pairwise = await fanOut(relay.pid, dir, meter, async () => {
      for (const m of others) await creator.messages.send(m.id().userId, 'one message for everyone');
      await creator.sync();
    });
    const [lastPairwise] = await creator.messages.list(`d:${others[others.length - 1]!.id().userId}`, { limit: 1 });

    console.log(`\n## Groups: ${n.members} members, one device each\n`);
    console.log(
      markdownTable(
        ['phase', 'wall ms', 'client CPU ms', 'relay CPU ms'],
        [
          ['create (signed state to every member; sets up pairwise sessions)', create],
          ['first message (sender key to every member + one stored blob)', first],
          [`one more message (mean of ${n.steadyMessages})`, scale(steady, n.steadyMessages)],
          [`receive everything, per member (mean of ${sample.length})`, scale(receive, sample.length)],
        ].map(([name, p]) => {
          const phase = p as Phase;
          return [name as string, ms(phase.wallMs), ms(phase.cpuMs), ms(phase.relayCpuMs)];
        }),
      ),
    );
    console.log(
      `\nLast message status: ${mine?.status ?? 'none'}; sample members holding every message: ${complete}/${sample.length}.`,
    );

    console.log(`\n### One message to ${n.members - 1} members: Sender Keys vs pairwise fan-out (same run)\n`);
    const row = (name: string, f: FanOut) => [
      name,
      ms(f.phase.wallMs),
      ms(f.phase.cpuMs),
      ms(f.phase.relayCpuMs),
      String(f.wire.requests),
      kb(f.wire.sent),
      kb(f.wire.received),
      String(f.rows.messages),
      String(f.rows.targets),
    ];
    console.log(
      markdownTable(
        [
          'how',
          'wall ms',
          'client CPU ms',
          'relay CPU ms',
          'HTTP requests',
          'KiB sent',
          'KiB read',
          'relay messages stored',
          'relay targets',
        ],
        [
          row('Sender Keys (groups.send: encrypted once, stored once)', senderKeys),
          row('pairwise fan-out (messages.send to each member)', pairwise),
        ],
        ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
      ),
    );
    console.log(
      `\nPairwise / Sender Keys: time ${formatRatio(pairwise.phase.wallMs / senderKeys.phase.wallMs)}, ` +
        `bytes sent ${formatRatio(pairwise.wire.sent / senderKeys.wire.sent)}, ` +
        `client CPU ${formatRatio(pairwise.phase.cpuMs / Math.max(senderKeys.phase.cpuMs, 0.01))}. ` +
        `Last pairwise message status: ${lastPairwise?.status ?? 'none'}.`,
    );
  } finally {
    for (const c of clients) await c.stop();
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function scale(p: Phase, by: number): Phase {
  return { wallMs: p.wallMs / by, cpuMs: p.cpuMs / by, relayCpuMs: p.relayCpuMs / by };
}

/** The group benchmark, for bench/run.ts. */
export const groupBenchmark: Benchmark = {
  name: 'groups',
  description: 'a 1,000-member group: create, send, receive; Sender Keys vs pairwise fan-out (time, bytes)',
  run: measureGroups,
};

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  await measureGroups({ quick: process.argv.includes('--quick'), progress: (l) => console.error(l) });
}

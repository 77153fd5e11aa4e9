/**
 * Sender and receiver cost per message: two Node clients on SQLCipher profiles talk through
 * a relay in a child process, so `process.cpuUsage()` of this process is the clients' cost
 * and the relay's is read from /proc. Alice sends N texts to Bob while Bob is offline (her
 * cost: encode + store + outbox encrypt/seal + send + mark sent); then Alice closes and Bob
 * connects and takes the N stored messages (his cost: receive + unseal + decrypt + store +
 * ACK, plus the merged delivery receipts he queues and sends meanwhile).
 */
import { join } from 'node:path';
import type { ClientOptions, VaultexClient } from '@vaultex/client';
import { createNodeClient } from '@vaultex/client/node';
import { installCommitMeter, readCommits } from './commit-meter.js';
import { processCpuMs, type RelayProcess } from './processes.js';

/** Small prekey batches: ML-KEM key generation would dominate the (untimed) set-up. */
const OPTIONS: ClientOptions = { oneTimePreKeys: 5, kemPreKeys: 2, keepaliveMs: 30_000 };
/** Cheap Argon2id for set-up; the default-parameter cost is measured on its own. */
export const SETUP_ARGON2 = { t: 1, m: 64, p: 1 } as const;
export const PASSPHRASE = 'benchmark passphrase';

/** What one side cost for `messages` messages. */
export interface SideCost {
  readonly messages: number;
  /** Wall-clock ms from the first send (or the connect) to the last message sent (or received). */
  readonly wallMs: number;
  /** CPU ms of this process (the clients) over that span, user + system. */
  readonly clientCpuMs: number;
  /** CPU ms of the relay process over that span (10 ms resolution). */
  readonly relayCpuMs: number;
  /** Sum of the time spent inside `messages.send()` (encode + one store transaction), sender only. */
  readonly sendCallMs?: number;
  /** SQLCipher commits of the clients over that span (each waits for an fsync). */
  readonly commits: number;
  /** Milliseconds the clients' thread spent blocked in those commits. */
  readonly commitMs: number;
  /** True when the time cap stopped the phase before all messages were done. */
  readonly capped: boolean;
}

/** Both sides of the messaging measurement. */
export interface MessagingResult {
  readonly textBytes: number;
  readonly sender: SideCost;
  readonly receiver: SideCost;
  /** Bob's profile folder, kept for the 100,000-message profile. */
  readonly bobProfileDir: string;
  readonly bobUserId: string;
  readonly aliceUserId: string;
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

/** Resolves when `count()` reaches `target` or `capMs` passes; true when it got there. */
async function until(count: () => number, target: number, capMs: number): Promise<boolean> {
  const deadline = performance.now() + capMs;
  while (count() < target) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/**
 * Waits until `count()` reaches `target` or `deadline` (a `performance.now()` time), calling
 * `client.sync()` meanwhile. Without it the outbox stalls: one worker pass takes at most
 * 1,000 due jobs (`listDueOutbox(now, 1000)`) and, when no new job arrives during the pass,
 * does not look again, so jobs beyond the first 1,000 of a burst wait for the next kick (a
 * new send, a reconnect, the daily maintenance). `sync()` is such a kick; it does no work of
 * its own when the queue is empty. See docs/PERFORMANCE.md, "Client".
 */
async function drainOutbox(
  client: VaultexClient,
  count: () => number,
  target: number,
  deadline: number,
): Promise<boolean> {
  while (count() < target) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([client.sync(), new Promise((r) => (timer = setTimeout(r, left)))]);
    } finally {
      clearTimeout(timer);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

async function online(client: VaultexClient): Promise<void> {
  if (!(await until(() => (client.connection === 'online' ? 1 : 0), 1, 15_000)))
    throw new Error('client never came online');
}

/**
 * Runs both phases with `n` messages; each phase stops at its time cap.
 * @throws Error when set-up fails (a client cannot register or connect).
 */
export async function measureMessaging(
  relay: RelayProcess,
  root: string,
  n: number,
  caps: { readonly sendCapMs: number; readonly receiveCapMs: number },
  progress: (line: string) => void,
): Promise<MessagingResult> {
  installCommitMeter();
  const make = (name: string) =>
    createNodeClient({
      profileDir: join(root, name),
      passphrase: PASSPHRASE,
      argon2: SETUP_ARGON2,
      serverUrl: relay.url,
      displayName: name,
      options: { ...OPTIONS, deviceName: `${name}-laptop` },
    });
  const alice = (await make('alice')).client;
  const bob = (await make('bob')).client;
  const bobProfileDir = join(root, 'bob');
  const aliceId = alice.id().userId;
  const bobId = bob.id().userId;
  try {
    await alice.contacts.add(bob.id().contactCode);
    await bob.contacts.add(alice.id().contactCode);

    // Warm-up (untimed): one message each way sets up both sessions and the code paths.
    let aliceGot = 0;
    let bobGot = 0;
    let aliceSent = 0;
    alice.on('message', () => aliceGot++);
    bob.on('message', () => bobGot++);
    alice.on('message-status', (e) => {
      if (e.status === 'sent') aliceSent++;
    });
    alice.start();
    bob.start();
    await Promise.all([online(alice), online(bob)]);
    await Promise.all([alice.maintain(), bob.maintain()]);
    await alice.messages.send(bobId, 'warm-up from Alice');
    if (!(await until(() => bobGot, 1, 15_000))) throw new Error('warm-up message to Bob never arrived');
    await bob.messages.send(aliceId, 'warm-up from Bob');
    if (!(await until(() => aliceGot, 1, 15_000))) throw new Error('warm-up message to Alice never arrived');
    await Promise.all([alice.sync(), bob.sync()]);
    await bob.stop();

    const text = (i: number) => `Message ${String(i).padStart(6, '0')}: the quick brown fox jumps over the lazy dog.`;
    const textBytes = new TextEncoder().encode(text(0)).length;

    progress(`client: sender, ${n} messages`);
    const sentBefore = aliceSent;
    const relayCpu0 = processCpuMs(relay.pid);
    const commits0 = readCommits();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let sendCallMs = 0;
    let queued = 0;
    for (; queued < n && performance.now() - t0 < caps.sendCapMs; queued++) {
      const s = performance.now();
      await alice.messages.send(bobId, text(queued));
      sendCallMs += performance.now() - s;
    }
    const allSent = await drainOutbox(alice, () => aliceSent - sentBefore, queued, t0 + caps.sendCapMs);
    const sender: SideCost = {
      messages: aliceSent - sentBefore,
      wallMs: performance.now() - t0,
      clientCpuMs: cpuMs(cpu0),
      relayCpuMs: processCpuMs(relay.pid) - relayCpu0,
      sendCallMs,
      commits: readCommits().commits - commits0.commits,
      commitMs: readCommits().ms - commits0.ms,
      capped: !allSent || queued < n,
    };
    // Whatever is still unsent stays in Alice's outbox: the receiver counts what reached the relay.
    await alice.close();

    progress(`client: receiver, ${sender.messages} messages`);
    const gotBefore = bobGot;
    const relayCpu1 = processCpuMs(relay.pid);
    const commits1 = readCommits();
    const cpu1 = process.cpuUsage();
    const t1 = performance.now();
    bob.start();
    const allReceived = await until(() => bobGot - gotBefore, sender.messages, caps.receiveCapMs);
    const receiver: SideCost = {
      messages: bobGot - gotBefore,
      wallMs: performance.now() - t1,
      clientCpuMs: cpuMs(cpu1),
      relayCpuMs: processCpuMs(relay.pid) - relayCpu1,
      commits: readCommits().commits - commits1.commits,
      commitMs: readCommits().ms - commits1.ms,
      capped: !allReceived,
    };
    return { textBytes, sender, receiver, bobProfileDir, bobUserId: bobId, aliceUserId: aliceId };
  } finally {
    await alice.close();
    await bob.close();
  }
}

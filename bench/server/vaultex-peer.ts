/**
 * VAULTEX under the benchmark's load: the relay in its own process, senders on anonymous
 * WebSocket connections making sealed sends (1 KiB blob, the recipient's access key checked),
 * recipients connected as their devices and acknowledging what they receive. Frames are
 * encoded and decoded with msgpackr directly: the load generator trusts the relay and skips
 * schema validation, as the MQTT side skips nothing it would need.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame } from '@vaultex/api';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import type { PairLink } from './load.js';
import { collectGarbage, memory, resetPeak, sampleRss, startRelay } from './processes.js';
import { type SeededAccount, seedAccounts } from './seed.js';

/** Frames as the load generator sees them (no validation: the relay is trusted here). */
interface Frame {
  readonly t: string;
  readonly rid?: number;
  readonly id?: string;
  readonly blob?: Uint8Array;
}

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });
const decode = (data: Buffer): Frame => packr.unpack(data) as Frame;

/** Opens a WebSocket to the relay. */
function open(wsUrl: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends `auth` or `anonymous` and resolves on `auth_ok`. */
function authenticate(ws: WebSocket, token: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: Buffer) => {
      const frame = decode(data);
      if (frame.t === 'auth_ok') {
        ws.off('message', onMessage);
        resolve();
      } else if (frame.t === 'error') {
        reject(new Error(`authentication refused: ${JSON.stringify(frame)}`));
      }
    };
    ws.on('message', onMessage);
    ws.send(encodeFrame(token === undefined ? { t: 'anonymous' } : { t: 'auth', token }));
  });
}

/**
 * A recipient's acknowledgements, batched as a client would: every 10 ms, or at once when
 * 256 ids (the most one `ack` frame takes) are waiting.
 */
class Acker {
  private ids: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ws: WebSocket) {}

  add(id: string): void {
    this.ids.push(id);
    if (this.ids.length >= 256) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), 10);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.ids.length === 0 || this.ws.readyState !== this.ws.OPEN) return;
    this.ws.send(encodeFrame({ t: 'ack', ids: this.ids }));
    this.ids = [];
  }
}

/** A relay started on a fresh data directory with seeded accounts. */
export interface RelayRun {
  readonly pid: number;
  readonly wsUrl: string;
  readonly accounts: readonly SeededAccount[];
  stop(): Promise<void>;
}

/** Seeds `accounts` accounts, then starts the relay on them. */
export async function startSeededRelay(accounts: number, groupCommit = true): Promise<RelayRun> {
  const dir = mkdtempSync(join(tmpdir(), 'vaultex-bench-'));
  try {
    const seeded = await seedAccounts(dir, accounts, accounts);
    const relay = await startRelay({ dataDir: dir, groupCommit });
    return {
      pid: relay.pid,
      wsUrl: `${relay.url.replace('http', 'ws')}/ws`,
      accounts: seeded,
      async stop() {
        await relay.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The sender's frame for one sealed send to `to`. */
function sendFrame(rid: number, blob: Uint8Array, to: SeededAccount): Uint8Array {
  return encodeFrame({
    t: 'send',
    rid,
    messages: [{ blob, targets: [{ accountId: to.id, deviceIds: [1] }] }],
    accessKeys: [{ accountId: to.id, accessKey: to.accessKey }],
  });
}

/**
 * Connects `pairs` recipients (accounts 0..pairs-1) and as many anonymous senders. `route`
 * picks the WebSocket URL of each connection (several instances); all go to `relay.wsUrl`
 * by default.
 */
export async function openVaultexPairs(
  relay: Pick<RelayRun, 'wsUrl' | 'accounts'>,
  pairs: number,
  route: (i: number, role: 'recipient' | 'sender') => string = () => relay.wsUrl,
): Promise<PairLink> {
  const sockets: WebSocket[] = [];
  const link: PairLink = {
    pairs,
    send: () => {},
    onAccepted: () => {},
    onDelivered: () => {},
    async close() {
      for (const ws of sockets) ws.terminate();
    },
  };
  for (let i = 0; i < pairs; i++) {
    const ws = await open(route(i, 'recipient'));
    sockets.push(ws);
    await authenticate(ws, relay.accounts[i]!.token);
    const acker = new Acker(ws);
    ws.on('message', (data: Buffer) => {
      const frame = decode(data);
      if (frame.t !== 'message') return;
      acker.add(frame.id!);
      link.onDelivered(i, frame.blob!);
    });
  }
  const senders: WebSocket[] = [];
  const rids = new Uint32Array(pairs);
  for (let i = 0; i < pairs; i++) {
    const ws = await open(route(i, 'sender'));
    sockets.push(ws);
    senders.push(ws);
    await authenticate(ws, undefined);
    ws.on('message', (data: Buffer) => {
      const frame = decode(data);
      if (frame.t === 'sent') link.onAccepted(i, true);
      else if (frame.t === 'error') link.onAccepted(i, false);
    });
  }
  link.send = (i, payload) => {
    senders[i]!.send(sendFrame(rids[i]!++, payload, relay.accounts[i]!));
  };
  return link;
}

/** What the offline-mailbox drain measured. */
export interface DrainResult {
  readonly messages: number;
  /** Storing them while the recipient was offline. */
  readonly fillSeconds: number;
  /** From the recipient's `auth` to the `pong` that follows its last acknowledgement (all committed). */
  readonly drainSeconds: number;
  /** Messages received more than once (at-least-once delivery; 0 expected here). */
  readonly duplicates: number;
  /** A second connection of the device afterwards found this many still pending (0 expected). */
  readonly leftOver: number;
  readonly baselineKiB: number;
  /** Peak RSS during the drain: the kernel's VmHWM after a reset, and the highest 20 ms sample. */
  readonly peakKiB: number;
  readonly sampledPeakKiB: number;
}

/** Fills one device's mailbox with `messages` sealed sends from `senders` connections, then drains it. */
export async function vaultexDrain(
  messages: number,
  senders: number,
  blobBytes: number,
  progress: (line: string) => void,
): Promise<DrainResult> {
  const relay = await startSeededRelay(1);
  const recipient = relay.accounts[0]!;
  try {
    progress(`    filling an offline mailbox with ${messages} messages`);
    const fillStart = performance.now();
    const sockets = await Promise.all(Array.from({ length: senders }, () => open(relay.wsUrl)));
    await Promise.all(sockets.map((ws) => authenticate(ws, undefined)));
    const blob = new Uint8Array(blobBytes).fill(0x33);
    let issued = 0;
    let errors = 0;
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            let inFlight = 0;
            const fire = () => {
              while (inFlight < 8 && issued < messages) {
                inFlight++;
                ws.send(sendFrame(issued++, blob, recipient));
              }
              if (inFlight === 0) resolve();
            };
            ws.on('message', (data: Buffer) => {
              const frame = decode(data);
              if (frame.t !== 'sent' && frame.t !== 'error') return;
              if (frame.t === 'error') errors++;
              inFlight--;
              fire();
            });
            fire();
          }),
      ),
    );
    const fillSeconds = (performance.now() - fillStart) / 1000;
    for (const ws of sockets) ws.terminate();
    if (errors > 0) throw new Error(`${errors} sends were refused while filling the mailbox`);

    await collectGarbage(relay.pid);
    const baselineKiB = memory(relay.pid).rssKiB;
    const resetOk = resetPeak(relay.pid);
    const sampler = sampleRss(relay.pid);
    progress('    draining it');
    const start = performance.now();
    const ws = await open(relay.wsUrl);
    const acker = new Acker(ws);
    const received = new Set<string>();
    let duplicates = 0;
    await new Promise<void>((resolve, reject) => {
      let empty = false;
      let pinged = false;
      const done = () => {
        if (!empty || received.size < messages || pinged) return;
        // The relay answers a ping only once the acknowledgements before it are committed.
        pinged = true;
        acker.flush();
        ws.send(encodeFrame({ t: 'ping' }));
      };
      ws.on('message', (data: Buffer) => {
        const frame = decode(data);
        if (frame.t === 'message') {
          if (received.has(frame.id!)) duplicates++;
          received.add(frame.id!);
          acker.add(frame.id!);
          done();
        } else if (frame.t === 'queue_empty') {
          empty = true;
          done();
        } else if (frame.t === 'pong') {
          resolve();
        } else if (frame.t === 'error') {
          reject(new Error(`the relay refused during the drain: ${JSON.stringify(frame)}`));
        }
      });
      ws.send(encodeFrame({ t: 'auth', token: recipient.token }));
    });
    const drainSeconds = (performance.now() - start) / 1000;
    // Let the last acknowledgements commit, then read the peaks.
    await new Promise((r) => setTimeout(r, 200));
    const sampledPeakKiB = sampler.stop();
    const peakKiB = resetOk ? memory(relay.pid).peakKiB : sampledPeakKiB;
    ws.terminate();
    const leftOver = await countPending(relay.wsUrl, recipient.token);
    return { messages, fillSeconds, drainSeconds, leftOver, duplicates, baselineKiB, peakKiB, sampledPeakKiB };
  } finally {
    await relay.stop();
  }
}

/** Connects as the device and counts the messages that arrive before `queue_empty`. */
async function countPending(wsUrl: string, token: string): Promise<number> {
  const ws = await open(wsUrl);
  let count = 0;
  await new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      const frame = decode(data);
      if (frame.t === 'message') count++;
      else if (frame.t === 'queue_empty') resolve();
    });
    ws.send(encodeFrame({ t: 'auth', token }));
  });
  ws.terminate();
  return count;
}

/** Writes the tokens of seeded accounts for the idle-connection child. */
export function writeTokens(file: string, accounts: readonly SeededAccount[]): void {
  writeFileSync(file, JSON.stringify(accounts.map((a) => a.token)));
}

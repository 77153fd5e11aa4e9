/**
 * Issue 7's load clients: raw WebSocket devices (frames from @vaultex/api) that count what
 * the relay accepted against what their recipients received, after de-duplication by id.
 */
import { decodeServerFrame, encodeFrame, type ServerFrame } from '@vaultex/api';
import WebSocket from 'ws';
import { type Cluster, sleep } from './scale-services.js';
import { rng, TestUser } from './support.js';

/** What a load run saw: sends accepted (acknowledged), refused, or lost with a connection, and deliveries. */
export class Ledger {
  /** Message id -> tag, for every send the relay acknowledged. */
  readonly accepted = new Map<string, string>();
  /** Tags of sends whose acknowledgement was lost with the connection (stored or not: unknown). */
  readonly unknown = new Set<string>();
  /** Every tag ever sent. */
  readonly attempted = new Set<string>();
  /** Message id -> tag, for every distinct id received by its recipient (after de-duplication). */
  readonly delivered = new Map<string, string>();
  /** Refusals by code (sends are retried after these: the relay stored nothing). */
  readonly refused = new Map<string, number>();
  /** Message frames for an id already received (removed by client de-duplication). */
  duplicateFrames = 0;
  /** Message frames whose tag names another recipient. */
  wrongRecipient = 0;

  /** Counts for a report, and the checks a fault must pass. */
  summary() {
    const acceptedDelivered = [...this.accepted.keys()].filter((id) => this.delivered.has(id)).length;
    const tagCount = new Map<string, number>();
    for (const tag of this.delivered.values()) tagCount.set(tag, (tagCount.get(tag) ?? 0) + 1);
    const extra = [...this.delivered.keys()].filter((id) => !this.accepted.has(id));
    return {
      attempted: this.attempted.size,
      accepted: this.accepted.size,
      delivered: this.delivered.size,
      acceptedDelivered,
      /** Delivered although the sender never got the acknowledgement (its connection died). */
      deliveredUnacknowledged: extra.filter((id) => this.unknown.has(this.delivered.get(id)!)).length,
      /** Delivered ids that are neither accepted nor of an unknown-outcome send: must be 0. */
      stray: extra.filter((id) => !this.unknown.has(this.delivered.get(id)!)).length,
      /** One tag stored under two ids: a duplicate no client could remove. Must be 0. */
      duplicates: [...tagCount.values()].filter((n) => n > 1).length,
      unknown: this.unknown.size,
      duplicateFrames: this.duplicateFrames,
      wrongRecipient: this.wrongRecipient,
      refused: Object.fromEntries(this.refused),
    };
  }
}

type SendOutcome = 'accepted' | 'refused' | 'unknown';

/**
 * One device on a raw WebSocket (frames from @vaultex/api): sends one message per `send`
 * frame, ACKs what it receives, de-duplicates by id, and on a lost connection reconnects
 * through `pickUrl` (the balancer, or the next instance) until stopped.
 */
export class LoadClient {
  private ws: WebSocket | undefined;
  private ready: Promise<void> = Promise.resolve();
  private readonly pending = new Map<number, (o: SendOutcome) => void>();
  private rid = 0;
  private acks: string[] = [];
  private ackTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  connects = 0;

  constructor(
    readonly name: string,
    readonly accountId: string,
    readonly token: string,
    private readonly pickUrl: () => string,
    private readonly ledger: Ledger,
  ) {}

  /** Connect (retrying other URLs until one takes the connection). */
  connect(): Promise<void> {
    this.ready = (async () => {
      for (let attempt = 0; !this.stopped; attempt++) {
        try {
          await this.open(this.pickUrl());
          return;
        } catch (e) {
          if (attempt > 600) throw e;
          await sleep(100);
        }
      }
    })();
    return this.ready;
  }

  private open(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      let authed = false;
      const fail = (e: Error) => {
        if (!authed) {
          authed = true;
          ws.terminate();
          reject(e);
        }
      };
      const timer = setTimeout(() => fail(new Error('auth timed out')), 5000);
      ws.once('open', () => ws.send(encodeFrame({ t: 'auth', token: this.token })));
      ws.once('unexpected-response', (_q, res) => fail(new Error(`HTTP ${res.statusCode}`)));
      ws.on('error', (e) => fail(e));
      ws.on('message', (data: Buffer) => {
        const d = decodeServerFrame(new Uint8Array(data));
        if (!d.ok) throw new Error(`invalid server frame: ${d.error}`);
        if (d.frame.t === 'auth_ok' && !authed) {
          authed = true;
          clearTimeout(timer);
          this.ws = ws;
          this.connects++;
          resolve();
          return;
        }
        this.onFrame(d.frame);
      });
      ws.on('close', () => {
        clearTimeout(timer);
        fail(new Error('closed before auth'));
        if (this.ws !== ws) return;
        this.ws = undefined;
        // Sends in flight: the relay may or may not have stored them.
        for (const done of this.pending.values()) done('unknown');
        this.pending.clear();
        if (!this.stopped) void this.connect().catch(() => {});
      });
    });
  }

  private onFrame(f: ServerFrame): void {
    if (f.t === 'message') {
      const tag = new TextDecoder().decode(f.blob);
      if (this.ledger.delivered.has(f.id)) this.ledger.duplicateFrames++;
      else this.ledger.delivered.set(f.id, tag);
      if (!tag.includes(`>${this.name}#`)) this.ledger.wrongRecipient++;
      this.acks.push(f.id);
      this.ackTimer ??= setTimeout(() => this.flushAcks(), 20);
    } else if (f.t === 'sent') {
      const done = this.pending.get(f.rid);
      this.pending.delete(f.rid);
      if (done && f.ids[0]) this.lastIds.set(f.rid, f.ids[0]);
      done?.('accepted');
    } else if (f.t === 'error') {
      this.ledger.refused.set(f.code, (this.ledger.refused.get(f.code) ?? 0) + 1);
      if (f.rid !== undefined) {
        this.pending.get(f.rid)?.('refused');
        this.pending.delete(f.rid);
      }
    }
  }

  private readonly lastIds = new Map<number, string>();

  private flushAcks(): void {
    this.ackTimer = undefined;
    const ws = this.ws;
    // Unsent ACKs are harmless: the messages come again on the next connection.
    if (!ws) return void this.acks.splice(0);
    while (this.acks.length) ws.send(encodeFrame({ t: 'ack', ids: this.acks.splice(0, 256) }));
  }

  /** Send one message tagged `tag` to `to`; resolves with what the sender learned. */
  async send(to: LoadClient, tag: string): Promise<SendOutcome> {
    for (;;) {
      if (this.stopped) throw new Error(`client ${this.name} is closed`);
      await this.ready;
      if (this.ws) break;
      await sleep(20);
    }
    const ws = this.ws!;
    const rid = this.rid++ & 0xffff_ffff;
    this.ledger.attempted.add(tag);
    const outcome = await new Promise<SendOutcome>((resolve) => {
      this.pending.set(rid, resolve);
      ws.send(
        encodeFrame({
          t: 'send',
          rid,
          messages: [{ blob: new TextEncoder().encode(tag), targets: [{ accountId: to.accountId, deviceIds: [1] }] }],
        }),
      );
    });
    if (outcome === 'accepted') {
      this.ledger.accepted.set(this.lastIds.get(rid)!, tag);
      this.lastIds.delete(rid);
    } else if (outcome === 'unknown') this.ledger.unknown.add(tag);
    return outcome;
  }

  /** Stop reconnecting and close. */
  close(): void {
    this.stopped = true;
    this.flushAcks();
    this.ws?.close();
  }
}

/**
 * Send `count` messages over every ordered pair of `clients` (round-robin over pairs),
 * `concurrency` at a time, and keep sending (every `paceMs`) while `more()` is true.
 * A refused send is retried (the relay stored nothing); one whose acknowledgement was lost
 * is not (its fate is checked by the ledger). Resolves when every send has an outcome.
 */
export async function drive(
  clients: readonly LoadClient[],
  options: { count: number; concurrency: number; more?: () => boolean; paceMs?: number; label: string },
): Promise<void> {
  const n = clients.length;
  let k = 0;
  const worker = async () => {
    for (;;) {
      const i = k++;
      if (i >= options.count) {
        if (!options.more?.()) return;
        await sleep(options.paceMs ?? 20);
      }
      const from = clients[i % n]!;
      const to = clients[((i % n) + 1 + (Math.floor(i / n) % (n - 1))) % n]!;
      const tag = `${options.label}:${from.name}>${to.name}#${i}`;
      for (let attempt = 0; (await from.send(to, tag)) === 'refused'; attempt++) {
        if (attempt > 200) throw new Error(`send ${tag} refused 200 times`);
        await sleep(100);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}

/** Wait until every accepted message has been delivered (or the time is up). */
export async function settle(ledger: Ledger, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ([...ledger.accepted.keys()].every((id) => ledger.delivered.has(id))) return;
    await sleep(100);
  }
}

/** Register `n` users (one device each) through the cluster and give each a load client. */
export async function loadClients(cluster: Cluster, n: number, ledger: Ledger, seed: number): Promise<LoadClient[]> {
  // Registration goes straight to the instances: it is set-up, not what the balancer is tested with.
  const live = cluster.relays.filter((r) => r.alive);
  const users = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new TestUser(live[i % live.length]!.url, rng(seed + i)).register({ oneTime: 1 }),
    ),
  );
  const clients = users.map((u, i) => new LoadClient(`u${i}`, u.id, u.token(), () => cluster.pickWs(), ledger));
  await Promise.all(clients.map((c) => c.connect()));
  return clients;
}

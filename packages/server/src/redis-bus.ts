/**
 * The Redis bus (ioredis): the events of {@link Bus} between relay instances that share
 * one PostgreSQL database. Each device is a Redis channel; an instance subscribes to the
 * channels of the devices connected to it. Events reach local subscribers directly and
 * go to Redis for the others.
 *
 * Redis pub/sub stores nothing and drops slow or disconnected subscribers, so it is only
 * a doorbell: the database stays the record. Whenever a notification may have been lost,
 * local subscribers get a `resync` event and re-read their mailbox from storage:
 * - after the subscriber connection comes back (everything published meanwhile is lost);
 * - when a device's message notifications arrive out of seq order (instances publish
 *   independently; the connection's cursor would otherwise skip the late one);
 * - periodically, per device (`sweepMs`), as a safety net for anything else (a publish
 *   that failed while the publishing instance was cut off from Redis).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pack, unpack } from 'msgpackr';
import type { Bus, BusEvent } from './bus.js';
import type { Target } from './storage/storage.js';

/** Options of {@link RedisBus.connect}. */
export interface RedisBusOptions {
  /** Channel name prefix (several deployments may share one Redis). */
  readonly prefix?: string;
  /** Each connected device re-reads its mailbox this often (ms). */
  readonly sweepMs?: number;
  /** Told about Redis errors (the bus itself keeps going and reconnects). */
  readonly onError?: (error: Error) => void;
}

/** Counters of what the bus did, for metrics and tests. */
export interface RedisBusStats {
  published: number;
  publishFailures: number;
  received: number;
  malformed: number;
  resyncs: number;
  reconnects: number;
  /** Periodic sweep passes that resynced at least one device, and the devices they resynced. */
  sweeps: number;
  sweptDevices: number;
}

type Handler = (event: BusEvent) => void;

interface Channel {
  readonly handlers: Set<Handler>;
  /** Highest message seq seen on this channel (out-of-order detection). */
  maxSeq: number;
  /** Next periodic resync (ms, performance clock). */
  nextSweep: number;
}

const KIND_MESSAGE = 1;
const KIND_EPHEMERAL = 2;
const KIND_CONNECTED = 3;
const KIND_REVOKED = 4;
const KIND_RESYNC = 5;

/** Publish/subscribe per device across instances through Redis. */
export class RedisBus implements Bus {
  /** This instance's id: events it published come back from Redis and are skipped. */
  readonly origin = randomBytes(8).toString('hex');
  readonly stats: RedisBusStats = {
    published: 0,
    publishFailures: 0,
    received: 0,
    malformed: 0,
    resyncs: 0,
    reconnects: 0,
    sweeps: 0,
    sweptDevices: 0,
  };
  /** Told after each sweep pass that resynced devices: how many, and how long the pass took (ms). */
  onSweep: ((devices: number, ms: number) => void) | undefined;
  private readonly channels = new Map<string, Channel>();
  private readonly sweepMs: number;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly pub: Redis,
    private readonly sub: Redis,
    /** The subscriber's CLIENT SETNAME (operators and tests find it in CLIENT LIST). */
    readonly subscriberName: string,
    private readonly prefix: string,
    options: RedisBusOptions,
  ) {
    this.sweepMs = options.sweepMs ?? 60_000;
    const onError = (e: Error) => options.onError?.(e);
    pub.on('error', onError);
    sub.on('error', onError);
    sub.on('messageBuffer', (channel: Buffer, payload: Buffer) => this.onRemote(channel.toString(), payload));
    // connect() resolved, so the first 'ready' has passed: every one from now on is a reconnection.
    sub.on('ready', () => {
      this.afterReconnect().catch(onError);
    });
    this.timer = setInterval(() => this.sweep(), Math.min(1000, this.sweepMs));
    this.timer.unref();
  }

  /**
   * Connect both Redis connections (publisher and subscriber).
   * @throws Error when Redis cannot be reached at start-up.
   */
  static async connect(url: string, options: RedisBusOptions = {}): Promise<RedisBus> {
    // Publishes fail at once while Redis is away instead of piling up: the database has the
    // messages and subscribers resync. The subscriber re-subscribes itself (autoResubscribe
    // off) so that it knows when its subscriptions are back before it resyncs.
    const tag = randomBytes(4).toString('hex');
    const pub = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectionName: `vaultex-pub-${tag}`,
    });
    const sub = new Redis(url, {
      lazyConnect: true,
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      connectionName: `vaultex-sub-${tag}`,
    });
    try {
      await Promise.all([pub.connect(), sub.connect()]);
    } catch (e) {
      pub.disconnect();
      sub.disconnect();
      throw e;
    }
    return new RedisBus(pub, sub, `vaultex-sub-${tag}`, options.prefix ?? 'vaultex:d:', options);
  }

  publish(accountId: Uint8Array, deviceId: number, event: BusEvent): number {
    const name = this.channelName(accountId, deviceId);
    const reached = this.deliver(name, event);
    if (event.kind !== 'resync') {
      this.stats.published++;
      this.pub.publish(name, encodeEvent(this.origin, event)).catch(() => {
        this.stats.publishFailures++;
      });
    }
    return reached;
  }

  subscribe(accountId: Uint8Array, deviceId: number, handler: Handler): () => void {
    const name = this.channelName(accountId, deviceId);
    let channel = this.channels.get(name);
    if (!channel) {
      channel = { handlers: new Set(), maxSeq: 0, nextSweep: performance.now() + this.sweepMs };
      this.channels.set(name, channel);
      // While Redis is away the subscription is queued; afterReconnect() subscribes everything anyway.
      this.sub.subscribe(name).catch(() => {});
    }
    channel.handlers.add(handler);
    const own = channel;
    return () => {
      own.handlers.delete(handler);
      if (own.handlers.size === 0 && this.channels.get(name) === own) {
        this.channels.delete(name);
        if (!this.closed) this.sub.unsubscribe(name).catch(() => {});
      }
    };
  }

  /** Number of devices subscribed on this instance. */
  get size(): number {
    return this.channels.size;
  }

  /** Ask every local subscriber to re-read its mailbox (`afterSeq` 0: all pending). */
  resyncAll(afterSeq = 0): void {
    for (const name of [...this.channels.keys()]) this.deliver(name, { kind: 'resync', afterSeq });
  }

  /** Stop the sweep and close both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.channels.clear();
    await Promise.all([this.pub.quit().catch(() => {}), this.sub.quit().catch(() => {})]);
  }

  private channelName(accountId: Uint8Array, deviceId: number): string {
    return `${this.prefix}${Buffer.from(accountId.buffer, accountId.byteOffset, accountId.byteLength).toString('hex')}:${deviceId}`;
  }

  private deliver(name: string, event: BusEvent): number {
    const channel = this.channels.get(name);
    if (!channel) return 0;
    let late = false;
    if (event.kind === 'message') {
      late = event.message.seq < channel.maxSeq;
      channel.maxSeq = Math.max(channel.maxSeq, event.message.seq);
    } else if (event.kind === 'resync') {
      this.stats.resyncs++;
    }
    const handlers = [...channel.handlers];
    for (const handler of handlers) handler(event);
    if (late && event.kind === 'message') {
      // A connection may already have moved its cursor past this seq: have it look again.
      this.stats.resyncs++;
      const resync: BusEvent = { kind: 'resync', afterSeq: event.message.seq - 1 };
      for (const handler of [...channel.handlers]) handler(resync);
    }
    return handlers.length;
  }

  private onRemote(name: string, payload: Buffer): void {
    this.stats.received++;
    const decoded = decodeEvent(payload);
    if (!decoded) {
      this.stats.malformed++;
      return;
    }
    if (decoded.origin === this.origin) return;
    this.deliver(name, decoded.event);
  }

  /** The subscriber is back: subscribe again, then resync (what was published meanwhile is gone). */
  private async afterReconnect(): Promise<void> {
    this.stats.reconnects++;
    const names = [...this.channels.keys()];
    for (let i = 0; i < names.length; i += 1000) await this.sub.subscribe(...names.slice(i, i + 1000));
    this.resyncAll(0);
  }

  /** Resync each device once per `sweepMs`, spread over time by when it subscribed. */
  private sweep(): void {
    const now = performance.now();
    let devices = 0;
    for (const [name, channel] of [...this.channels]) {
      if (channel.nextSweep > now) continue;
      channel.nextSweep = now + this.sweepMs;
      this.deliver(name, { kind: 'resync', afterSeq: 0 });
      devices++;
    }
    if (devices === 0) return;
    this.stats.sweeps++;
    this.stats.sweptDevices += devices;
    this.onSweep?.(devices, performance.now() - now);
  }
}

/** `[origin, kind, ...fields]`, MessagePack. */
function encodeEvent(origin: string, event: BusEvent): Buffer {
  const src = (s: Target | undefined) => (s ? [s.accountId, s.deviceId] : null);
  switch (event.kind) {
    case 'message': {
      const m = event.message;
      return pack([origin, KIND_MESSAGE, m.seq, m.id, m.blob, src(m.source)]);
    }
    case 'ephemeral':
      return pack([origin, KIND_EPHEMERAL, event.blob, src(event.source)]);
    case 'connected':
      return pack([origin, KIND_CONNECTED, event.connectionId]);
    case 'revoked':
      return pack([origin, KIND_REVOKED]);
    case 'resync':
      return pack([origin, KIND_RESYNC, event.afterSeq]);
  }
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function decodeSource(v: unknown): Target | undefined | false {
  if (v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || !isBytes(v[0]) || !isUint(v[1])) return false;
  return { accountId: plain(v[0]), deviceId: v[1] };
}

/** A plain Uint8Array (msgpackr hands out Buffers). */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Decode a payload; undefined when it is not one of ours. */
function decodeEvent(payload: Buffer): { origin: string; event: BusEvent } | undefined {
  let v: unknown;
  try {
    v = unpack(payload);
  } catch {
    return undefined;
  }
  if (!Array.isArray(v) || typeof v[0] !== 'string') return undefined;
  const origin = v[0];
  switch (v[1]) {
    case KIND_MESSAGE: {
      const source = decodeSource(v[5]);
      if (v.length !== 6 || !isUint(v[2]) || !isBytes(v[3]) || !isBytes(v[4]) || source === false) return undefined;
      const message = { seq: v[2], id: plain(v[3]), blob: plain(v[4]), ...(source ? { source } : {}) };
      return { origin, event: { kind: 'message', message } };
    }
    case KIND_EPHEMERAL: {
      const source = decodeSource(v[3]);
      if (v.length !== 4 || !isBytes(v[2]) || source === false) return undefined;
      return { origin, event: { kind: 'ephemeral', blob: plain(v[2]), ...(source ? { source } : {}) } };
    }
    case KIND_CONNECTED:
      return v.length === 3 && typeof v[2] === 'string'
        ? { origin, event: { kind: 'connected', connectionId: v[2] } }
        : undefined;
    case KIND_REVOKED:
      return v.length === 2 ? { origin, event: { kind: 'revoked' } } : undefined;
    case KIND_RESYNC:
      return v.length === 3 && isUint(v[2]) ? { origin, event: { kind: 'resync', afterSeq: v[2] } } : undefined;
    default:
      return undefined;
  }
}

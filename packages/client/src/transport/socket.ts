/**
 * The device's WebSocket to the relay: authenticate with the `auth` frame, receive stored
 * messages in order (each handled to completion, then acknowledged), ephemeral frames,
 * answers to sends; keep the connection alive with pings and come back after any drop
 * with exponential backoff and full jitter. The constructor is injected: the `ws` package
 * in Node, `globalThis.WebSocket` in browsers.
 */
import {
  CLOSE_CODES,
  type ClientFrame,
  decodeServerFrame,
  encodeFrame,
  MAX_ACK_IDS,
  type MessageSource,
  type ServerFrame,
  WS_PATH,
} from '@vaultex/api';
import type { RandomSource } from '@vaultex/protocol';
import { ClientError } from '../errors.js';
import { backoffDelay, RECONNECT_BACKOFF } from './backoff.js';
import { isRelayError, RelayError, type TokenSource } from './http.js';

/** The subset of the WebSocket API (browser and `ws`) this client uses. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor (`ws` in Node, `globalThis.WebSocket` in browsers). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** Connection state reported to the client. */
export type ConnectionState = 'online' | 'offline' | 'reconnecting';

/** A stored message delivered by the relay. */
export interface DeliveredMessage {
  /** Relay message id (hex); acknowledge it once handled. */
  readonly id: string;
  readonly blob: Uint8Array;
  readonly source?: MessageSource;
}

/** What the socket reports. */
export interface SocketHandlers {
  /** Handle one stored message; it is acknowledged when this resolves, left pending when it throws. */
  onMessage(message: DeliveredMessage): Promise<void>;
  onEphemeral(blob: Uint8Array, source: MessageSource | undefined): void;
  /** Everything pending at connect time has been handled. */
  onQueueEmpty(): void;
  onState(state: ConnectionState, reason?: string): void;
  /** The relay no longer knows this device (revoked) or another connection replaced this one. */
  onTerminated(reason: 'revoked' | 'replaced'): void;
  /** A message handler failed; the message stays pending on the relay. */
  onError(error: unknown): void;
}

/** Options of {@link RelaySocket}. */
export interface SocketOptions {
  readonly baseUrl: string;
  readonly WebSocket: WebSocketConstructor;
  readonly tokens: TokenSource;
  readonly random: RandomSource;
  /** Ping interval; the connection is dropped when a pong does not come back within the next interval. */
  readonly keepaliveMs?: number;
  /** Time allowed for a send to be answered. */
  readonly requestTimeoutMs?: number;
}

const OPEN = 1;

interface Pending {
  resolve(ids: string[]): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** A self-healing authenticated WebSocket. */
export class RelaySocket {
  private socket: WebSocketLike | undefined;
  private running = false;
  private live = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  private awaitingPong = false;
  private queue: Promise<void> = Promise.resolve();
  private acks: string[] = [];
  private ackScheduled = false;
  private rid = 0;
  private drainedConnection = false;
  private drainWaiters: (() => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly url: string;

  constructor(
    private readonly options: SocketOptions,
    private readonly handlers: SocketHandlers,
  ) {
    this.url = `${options.baseUrl.replace(/^http/u, 'ws').replace(/\/+$/u, '')}${WS_PATH}`;
  }

  /** True while authenticated and receiving. */
  get online(): boolean {
    return this.live;
  }

  /** Connect, and keep reconnecting until {@link stop}. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    void this.connect();
  }

  /** Close cleanly and stop reconnecting; waits for the message being handled. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    await this.queue;
    this.flushAcks();
    if (socket && socket.readyState === OPEN) {
      try {
        socket.send(encodeFrame({ t: 'goodbye' }));
      } catch {
        // closing anyway
      }
    }
    this.teardown(socket, 'stopped');
    socket?.close(CLOSE_CODES.NORMAL, 'goodbye');
  }

  /**
   * A send over the socket (stored or ephemeral), answered by the relay's `sent` frame.
   * @throws ClientError NETWORK_ERROR when offline, on timeout or when the connection drops;
   *   RelayError when the relay refuses it.
   */
  request(frame: Omit<Extract<ClientFrame, { t: 'send' }>, 'rid' | 't'>): Promise<string[]> {
    const socket = this.socket;
    if (!this.live || !socket) return Promise.reject(new ClientError('NETWORK_ERROR', 'not connected'));
    this.rid = (this.rid + 1) % 0xffff_ffff;
    const rid = this.rid;
    return new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(rid);
        reject(new ClientError('NETWORK_ERROR', 'the relay did not answer the send in time'));
      }, this.options.requestTimeoutMs ?? 15_000);
      this.pending.set(rid, { resolve, reject, timer });
      try {
        socket.send(encodeFrame({ t: 'send', rid, ...frame }));
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(rid);
        reject(new ClientError('NETWORK_ERROR', 'the connection failed', { cause: e }));
      }
    });
  }

  /**
   * Resolves once the messages pending at connect time have been handled and nothing is
   * being handled now (or after `timeoutMs`).
   */
  async drained(timeoutMs = 10_000): Promise<void> {
    if (!this.drainedConnection) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.drainWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    await this.queue;
    this.flushAcks();
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    let token: string;
    try {
      token = await this.options.tokens.token();
    } catch (e) {
      if (isRelayError(e, 'UNAUTHORIZED')) {
        // The login itself was refused: the relay no longer knows this device.
        this.running = false;
        this.handlers.onState('offline', 'revoked');
        this.handlers.onTerminated('revoked');
        return;
      }
      this.scheduleReconnect('login failed');
      return;
    }
    if (!this.running) return;
    let socket: WebSocketLike;
    try {
      socket = new this.options.WebSocket(this.url);
    } catch {
      this.scheduleReconnect('cannot open');
      return;
    }
    this.socket = socket;
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      try {
        socket.send(encodeFrame({ t: 'auth', token }));
      } catch {
        socket.close();
      }
    };
    socket.onmessage = (event) => this.onData(socket, event.data, token);
    socket.onerror = () => {
      // onclose follows and decides what to do.
    };
    socket.onclose = (event) => this.onClose(socket, event.code, token);
  }

  private onData(socket: WebSocketLike, data: unknown, token: string): void {
    if (socket !== this.socket) return;
    const bytes = toBytes(data);
    if (!bytes) return;
    const decoded = decodeServerFrame(bytes);
    if (!decoded.ok) return;
    this.onFrame(socket, decoded.frame, token);
  }

  private onFrame(socket: WebSocketLike, frame: ServerFrame, token: string): void {
    switch (frame.t) {
      case 'auth_ok':
        this.live = true;
        this.attempt = 0;
        this.startKeepalive(socket);
        this.handlers.onState('online');
        return;
      case 'message': {
        const message: DeliveredMessage = {
          id: frame.id,
          blob: frame.blob,
          ...(frame.source ? { source: frame.source } : {}),
        };
        this.queue = this.queue.then(async () => {
          // After a failure on this connection, later messages wait for the redelivery, in order.
          if (socket !== this.socket) return;
          try {
            await this.handlers.onMessage(message);
            this.ack(message.id);
          } catch (e) {
            this.handlers.onError(e);
            // Reconnect: the relay redelivers everything not acknowledged, starting with this one.
            this.flushAcks();
            socket.close();
            this.onClose(socket, 1011, token);
          }
        });
        return;
      }
      case 'queue_empty':
        this.queue = this.queue.then(() => {
          if (socket !== this.socket) return;
          this.flushAcks();
          this.drainedConnection = true;
          this.handlers.onQueueEmpty();
          this.wakeDrainWaiters();
        });
        return;
      case 'ephemeral':
        this.handlers.onEphemeral(frame.blob, frame.source);
        return;
      case 'sent': {
        const p = this.pending.get(frame.rid);
        if (p) {
          clearTimeout(p.timer);
          this.pending.delete(frame.rid);
          p.resolve(frame.ids);
        }
        return;
      }
      case 'pong':
        this.awaitingPong = false;
        return;
      case 'error': {
        if (frame.rid !== undefined) {
          const p = this.pending.get(frame.rid);
          if (p) {
            clearTimeout(p.timer);
            this.pending.delete(frame.rid);
            p.reject(new RelayError(frame, 0));
          }
          return;
        }
        if (frame.code === 'UNAUTHORIZED' && !this.live) this.options.tokens.invalidate(token);
        // UNKNOWN_MESSAGE for acks means they were already acknowledged: nothing to do.
        return;
      }
    }
  }

  private onClose(socket: WebSocketLike, code: number, token: string): void {
    if (socket !== this.socket) return;
    const wasLive = this.live;
    this.teardown(socket, 'closed');
    if (!this.running) return;
    if (code === CLOSE_CODES.REPLACED) {
      this.running = false;
      this.handlers.onState('offline', 'replaced');
      this.handlers.onTerminated('replaced');
      return;
    }
    if (code === CLOSE_CODES.UNAUTHORIZED) this.options.tokens.invalidate(token);
    this.scheduleReconnect(wasLive ? 'connection lost' : 'connection failed');
  }

  private teardown(socket: WebSocketLike | undefined, reason: string): void {
    if (socket && socket === this.socket) {
      socket.onopen = null;
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = null;
      this.socket = undefined;
    }
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
    const wasLive = this.live;
    this.live = false;
    this.drainedConnection = false;
    if (reason === 'stopped') this.wakeDrainWaiters();
    for (const [rid, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ClientError('NETWORK_ERROR', 'the connection closed before the relay answered'));
      this.pending.delete(rid);
    }
    // Acks not yet sent are lost with the socket; the relay redelivers and the seen-id check drops them.
    this.acks = [];
    if (wasLive || reason === 'stopped') this.handlers.onState('offline', reason);
  }

  private scheduleReconnect(reason: string): void {
    if (!this.running) return;
    const delay = backoffDelay(this.attempt++, RECONNECT_BACKOFF, this.options.random);
    this.handlers.onState('reconnecting', reason);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delay);
  }

  private startKeepalive(socket: WebSocketLike): void {
    const interval = this.options.keepaliveMs ?? 25_000;
    this.awaitingPong = false;
    this.keepaliveTimer = setInterval(() => {
      if (socket !== this.socket) return;
      if (this.awaitingPong) {
        // No pong for a whole interval: the connection is dead even if TCP has not noticed.
        socket.close();
        this.onClose(socket, 1006, '');
        return;
      }
      this.awaitingPong = true;
      try {
        socket.send(encodeFrame({ t: 'ping' }));
      } catch {
        // the close handler reconnects
      }
    }, interval);
  }

  private ack(id: string): void {
    this.acks.push(id);
    if (this.acks.length >= MAX_ACK_IDS) {
      this.flushAcks();
      return;
    }
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setTimeout(() => {
      this.ackScheduled = false;
      this.flushAcks();
    }, 0);
  }

  private flushAcks(): void {
    const socket = this.socket;
    if (this.acks.length === 0 || !socket || socket.readyState !== OPEN) return;
    while (this.acks.length > 0) {
      const ids = this.acks.splice(0, MAX_ACK_IDS);
      try {
        socket.send(encodeFrame({ t: 'ack', ids }));
      } catch {
        return;
      }
    }
  }
}

function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (Array.isArray(data) && data.every((d) => d instanceof Uint8Array)) {
    const total = data.reduce((n: number, d: Uint8Array) => n + d.length, 0);
    const out = new Uint8Array(total);
    let offset = 0;
    for (const d of data as Uint8Array[]) {
      out.set(d, offset);
      offset += d.length;
    }
    return out;
  }
  return undefined;
}

/**
 * One WebSocket connection. It starts unauthenticated; the first frame is `auth` (a
 * device: it receives its pending messages in order, then new ones as they arrive, and
 * may send and acknowledge) or `anonymous` (sealed sends only). Frames are rate-limited
 * per connection; bad frames get a typed `error` frame and change nothing.
 */

import type { Socket } from 'node:net';
import { CLOSE_CODES, type ClientFrame, decodeClientFrame, encodeFrame, type ServerFrame } from '@vaultex/api';
import type { WebSocket } from 'ws';
import type { AuthService } from '../auth.js';
import type { BusEvent } from '../bus.js';
import type { Context } from '../context.js';
import { ApiFailure, fail } from '../errors.js';
import { hex } from '../ids.js';
import type { Mailbox } from '../mailbox.js';
import { RateLimiter } from '../rate-limiter.js';
import type { StoredMessage, Target } from '../storage/storage.js';

/** Messages read from storage per page while catching up. */
const PAGE = 100;
/** Above this many buffered bytes the connection stops pushing and catches up from storage later. */
const HIGH_WATER = 1 << 20;
/** Rate-limit refusals in a row tolerated before the connection is closed. */
const MAX_STRIKES = 100;

type State = 'new' | 'authenticating' | 'anonymous' | 'draining' | 'live' | 'closed';

/** The server side of one WebSocket. */
export class Connection {
  private state: State = 'new';
  private device: Target | undefined;
  private cursor = 0;
  private buffer: StoredMessage[] = [];
  /** A `resync` asked to re-read the mailbox from here (the lowest asked) on the next drain pass. */
  private rescanFrom: number | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly frames: RateLimiter;
  private strikes = 0;
  /** The latest acknowledgement's commit (a `ping` waits for it). */
  private acks: Promise<unknown> = Promise.resolve();
  private corked = false;
  private authenticated: Promise<void> = Promise.resolve();
  private readonly authTimer: NodeJS.Timeout;
  /** Set by the keepalive: false until the next pong. */
  alive = true;

  constructor(
    private readonly ctx: Context,
    private readonly auth: AuthService,
    private readonly mailbox: Mailbox,
    readonly socket: WebSocket,
    readonly id: string,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.frames = new RateLimiter('frame', ctx.config.limits.wsFramesPerSecond, 1000, ctx.clock);
    this.authTimer = setTimeout(() => this.close(CLOSE_CODES.UNAUTHORIZED, 'AUTH_TIMEOUT'), ctx.config.wsAuthTimeoutMs);
    socket.on('message', (data, isBinary) => this.onFrame(data as Buffer, isBinary));
    socket.on('pong', () => {
      this.alive = true;
    });
    // Oversized frames surface here; ws then closes with 1009 by itself.
    socket.on('error', () => this.cleanup());
    socket.on('close', () => this.cleanup());
  }

  /** Close with a code and a short reason (an API error code). */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.cleanup();
    this.socket.close(code, reason);
  }

  private send(frame: ServerFrame): void {
    if (this.state === 'closed' || this.socket.readyState !== this.socket.OPEN) return;
    this.cork();
    this.socket.send(encodeFrame(frame));
  }

  /**
   * Frames sent in one turn of the event loop (a group commit's `sent` replies, a burst of
   * deliveries) leave in one write instead of one system call each.
   */
  private cork(): void {
    if (this.corked) return;
    // ws exposes no cork(); its underlying net.Socket does.
    const raw = (this.socket as unknown as { _socket?: Socket })._socket;
    if (!raw) return;
    this.corked = true;
    raw.cork();
    process.nextTick(() => {
      this.corked = false;
      raw.uncork();
    });
  }

  private sendError(failure: ApiFailure, extra?: { rid?: number; ids?: string[] }): void {
    this.send({ t: 'error', ...failure.detail(), ...extra });
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.state === 'closed') return;
    const wait = this.frames.take('frames');
    if (wait > 0) {
      this.ctx.metrics.rateLimited.inc();
      if (++this.strikes > MAX_STRIKES) {
        this.close(CLOSE_CODES.POLICY_VIOLATION, 'RATE_LIMITED');
        return;
      }
      this.sendError(fail('RATE_LIMITED', 'too many frames', { retryAfter: wait }));
      return;
    }
    this.strikes = 0;
    if (!isBinary) {
      this.sendError(fail('INVALID_FRAME', 'text frames are not accepted: send binary MessagePack'));
      return;
    }
    const decoded = decodeClientFrame(data);
    if (!decoded.ok) {
      this.sendError(fail('INVALID_FRAME', decoded.error));
      return;
    }
    this.handle(decoded.frame).catch((e: unknown) => {
      const rid = decoded.frame.t === 'send' ? { rid: decoded.frame.rid } : {};
      if (e instanceof ApiFailure) {
        if (e.code === 'RATE_LIMITED') this.ctx.metrics.rateLimited.inc();
        this.sendError(e, rid);
      } else {
        this.ctx.log.error({ err: e }, 'websocket frame failed');
        this.sendError(fail('INTERNAL', 'internal error'), rid);
      }
    });
  }

  private async handle(frame: ClientFrame): Promise<void> {
    if (this.state === 'authenticating') {
      // A client may pipeline frames after `auth`: they wait for its outcome.
      await this.authenticated;
      if ((this.state as State) === 'closed') return;
    }
    if (this.state === 'new') {
      if (frame.t === 'auth') {
        this.state = 'authenticating';
        this.authenticated = this.authenticate(frame.token);
        return this.authenticated;
      }
      if (frame.t === 'anonymous') {
        clearTimeout(this.authTimer);
        this.state = 'anonymous';
        this.send({ t: 'auth_ok' });
        return;
      }
      this.sendError(fail('UNAUTHORIZED', 'the first frame must be auth or anonymous'));
      this.close(CLOSE_CODES.UNAUTHORIZED, 'UNAUTHORIZED');
      return;
    }
    switch (frame.t) {
      case 'auth':
      case 'anonymous':
        throw fail('INVALID_FRAME', 'already authenticated');
      case 'ping':
        // Answered once earlier acknowledgements are committed (they commit off the event
        // loop): a pong tells the client that everything it acknowledged before is gone.
        await this.acks;
        this.send({ t: 'pong' });
        return;
      case 'goodbye':
        this.close(CLOSE_CODES.NORMAL, 'goodbye');
        return;
      case 'ack': {
        if (!this.device) throw fail('UNAUTHORIZED', 'an anonymous connection has no mailbox');
        const acked = this.mailbox.ack(this.device.accountId, this.device.deviceId, frame.ids);
        this.acks = acked.catch(() => undefined);
        const unknown = await acked;
        if (unknown.length > 0) {
          this.sendError(fail('UNKNOWN_MESSAGE', 'not pending for this device'), { ids: unknown });
        }
        return;
      }
      case 'send': {
        if (!this.device && frame.accessKeys === undefined) {
          throw fail('UNAUTHORIZED', 'an anonymous connection can only make sealed sends');
        }
        const sealed = frame.accessKeys !== undefined;
        const ids = await this.mailbox.send(frame, sealed ? undefined : this.device);
        this.send({ t: 'sent', rid: frame.rid, ids });
        return;
      }
    }
  }

  private async authenticate(token: string): Promise<void> {
    clearTimeout(this.authTimer);
    let record: Awaited<ReturnType<AuthService['authenticate']>>;
    try {
      record = await this.auth.authenticate(token);
    } catch (e) {
      if (!(e instanceof ApiFailure)) throw e;
      this.sendError(e);
      this.close(CLOSE_CODES.UNAUTHORIZED, 'UNAUTHORIZED');
      return;
    }
    if (this.state !== 'authenticating') return;
    this.device = { accountId: record.accountId, deviceId: record.deviceId };
    this.state = 'draining';
    this.unsubscribe = this.ctx.bus.subscribe(record.accountId, record.deviceId, (event) => this.onEvent(event));
    // Any older connection of this device closes itself on seeing this.
    this.ctx.bus.publish(record.accountId, record.deviceId, { kind: 'connected', connectionId: this.id });
    this.send({ t: 'auth_ok', accountId: hex(record.accountId), deviceId: record.deviceId });
    this.startDrain();
  }

  /** Catch up from storage in the background; a storage failure closes the connection (nothing is lost). */
  private startDrain(): void {
    this.drain().catch((err: unknown) => {
      this.ctx.log.error({ err }, 'delivery failed');
      this.close(CLOSE_CODES.GOING_AWAY, 'UNAVAILABLE');
    });
  }

  private onEvent(event: BusEvent): void {
    switch (event.kind) {
      case 'message':
        if (this.state === 'draining') {
          this.buffer.push(event.message);
        } else if (this.state === 'live' && event.message.seq > this.cursor) {
          if (this.socket.bufferedAmount > HIGH_WATER) {
            // A slow reader: stop pushing, catch up from storage once the socket drains.
            this.state = 'draining';
            this.startDrain();
          } else {
            this.deliver(event.message);
          }
        }
        return;
      case 'ephemeral':
        if (this.state === 'live' || this.state === 'draining') {
          this.send({
            t: 'ephemeral',
            blob: event.blob,
            ...(event.source ? { source: this.source(event.source) } : {}),
          });
        }
        return;
      case 'connected':
        if (event.connectionId !== this.id) {
          this.sendError(fail('REPLACED', 'this device opened a newer connection'));
          this.close(CLOSE_CODES.REPLACED, 'REPLACED');
        }
        return;
      case 'revoked':
        this.sendError(fail('UNAUTHORIZED', 'this device was removed'));
        this.close(CLOSE_CODES.UNAUTHORIZED, 'UNAUTHORIZED');
        return;
      case 'resync':
        if (this.state !== 'live' && this.state !== 'draining') return;
        this.rescanFrom = Math.min(this.rescanFrom ?? event.afterSeq, event.afterSeq);
        if (this.state === 'live') {
          this.state = 'draining';
          this.startDrain();
        }
        return;
    }
  }

  /** Send everything pending after the cursor, page by page, then go live. */
  private async drain(): Promise<void> {
    const device = this.device!;
    do {
      if (this.rescanFrom !== undefined) {
        this.cursor = Math.min(this.cursor, this.rescanFrom);
        this.rescanFrom = undefined;
      }
      for (;;) {
        await this.waitForSocket();
        if (this.state !== 'draining') return;
        const page = await this.ctx.storage.pendingMessages(
          device.accountId,
          device.deviceId,
          this.cursor,
          PAGE,
          this.ctx.clock(),
        );
        if (this.state !== 'draining') return;
        for (const m of page) this.deliver(m);
        if (page.length < PAGE) break;
      }
    } while (this.rescanFrom !== undefined);
    const buffered = this.buffer.sort((a, b) => a.seq - b.seq);
    this.buffer = [];
    for (const m of buffered) if (m.seq > this.cursor) this.deliver(m);
    this.state = 'live';
    this.send({ t: 'queue_empty' });
  }

  private async waitForSocket(): Promise<void> {
    while (this.socket.bufferedAmount > HIGH_WATER && this.state === 'draining') {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private deliver(m: StoredMessage): void {
    if (m.seq <= this.cursor) return;
    this.cursor = m.seq;
    this.send({ t: 'message', id: hex(m.id), blob: m.blob, ...(m.source ? { source: this.source(m.source) } : {}) });
    this.ctx.metrics.messagesDelivered.inc();
  }

  private source(t: Target): { accountId: string; deviceId: number } {
    return { accountId: hex(t.accountId), deviceId: t.deviceId };
  }

  private cleanup(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.authTimer);
    this.unsubscribe?.();
    this.buffer = [];
    this.onClose(this);
  }
}

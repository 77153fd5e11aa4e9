/**
 * The `/ws` endpoint: upgrades on Fastify's HTTP server (connection attempts limited per
 * salted IP hash, refused with HTTP 429 before any WebSocket exists), frames capped at
 * the configured size (bigger ones close the connection with 1009), and a keepalive that
 * pings every connection and drops those that stopped answering.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { apiError, CLOSE_CODES, WS_PATH } from '@vaultex/api';
import { WebSocketServer } from 'ws';
import type { AuthService } from '../auth.js';
import type { Context } from '../context.js';
import type { Mailbox } from '../mailbox.js';
import { Connection } from './connection.js';

/** Accepts and tracks WebSocket connections. */
export class WsGateway {
  private readonly wss: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly keepalive: NodeJS.Timeout;
  private nextId = 0;

  constructor(
    private readonly ctx: Context,
    private readonly auth: AuthService,
    private readonly mailbox: Mailbox,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: ctx.config.limits.wsMaxFrameBytes });
    this.keepalive = setInterval(() => this.ping(), ctx.config.keepaliveMs);
    this.keepalive.unref();
  }

  /** Number of open connections. */
  get size(): number {
    return this.connections.size;
  }

  /** Handle an HTTP upgrade request (attached to the server's 'upgrade' event). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, clientIp: string): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== WS_PATH) {
      refuse(socket, 404, apiError('NOT_FOUND', 'no WebSocket endpoint here'));
      return;
    }
    const wait = this.ctx.limiters.wsConnections.take(this.ctx.ipHasher.hash(clientIp));
    if (wait > 0) {
      this.ctx.metrics.rateLimited.inc();
      refuse(socket, 429, apiError('RATE_LIMITED', 'too many connection attempts', { retryAfter: wait }), wait);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new Connection(
        this.ctx,
        this.auth,
        this.mailbox,
        ws,
        `${process.pid}.${++this.nextId}`,
        (c) => {
          this.connections.delete(c);
          this.ctx.metrics.wsConnections.dec();
        },
      );
      this.connections.add(connection);
      this.ctx.metrics.wsConnections.inc();
    });
  }

  /** Close every connection (server shutdown). */
  async close(): Promise<void> {
    clearInterval(this.keepalive);
    for (const c of [...this.connections]) c.close(CLOSE_CODES.GOING_AWAY, 'UNAVAILABLE');
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  private ping(): void {
    for (const c of this.connections) {
      if (!c.alive) {
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }
}

function refuse(socket: Duplex, status: number, body: unknown, retryAfter?: number): void {
  const json = JSON.stringify(body);
  const reason = status === 429 ? 'Too Many Requests' : 'Not Found';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n` +
      `${retryAfter !== undefined ? `Retry-After: ${retryAfter}\r\n` : ''}Connection: close\r\n\r\n${json}`,
  );
}

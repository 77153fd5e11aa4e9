/**
 * The daemon over a Unix socket: several clients at once, each a newline-delimited
 * JSON-RPC peer; notifications go to every connected client. The socket file is made
 * accessible to its owner only (whoever connects acts as the account).
 */
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CliError } from '../errors.js';
import type { JsonRpcEngine } from './json-rpc.js';
import { RpcPeer } from './peer.js';

/** A listening socket. */
export interface SocketServer {
  readonly path: string;
  /** Send a line to every connected peer. */
  broadcast(line: string): void;
  close(): Promise<void>;
}

/** Whether something listens on `path`. */
function inUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Listen on `path` (a stale socket file left by a killed daemon is replaced).
 * @throws CliError USAGE when another process listens there.
 */
export async function serveSocket(engine: JsonRpcEngine, path: string): Promise<SocketServer> {
  if (existsSync(path)) {
    if (await inUse(path)) {
      throw new CliError('USAGE', `Another process listens on ${path}. Stop it or choose another --socket path.`);
    }
    rmSync(path, { force: true });
  }
  const peers = new Map<Socket, RpcPeer>();
  const server: Server = createServer((socket) => {
    socket.setEncoding('utf8');
    const peer = new RpcPeer(engine, (line) => {
      if (!socket.destroyed) socket.write(line);
    });
    peers.set(socket, peer);
    socket.on('data', (chunk: string) => peer.push(chunk));
    socket.on('end', () => {
      void peer.end().then(() => socket.end());
    });
    socket.on('close', () => peers.delete(socket));
    socket.on('error', () => peers.delete(socket));
  });
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(previous);
  }
  chmodSync(path, 0o600);
  return {
    path,
    broadcast(line) {
      for (const peer of peers.values()) peer.notify(line);
    },
    close() {
      for (const socket of peers.keys()) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

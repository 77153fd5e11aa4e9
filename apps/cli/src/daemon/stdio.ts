/**
 * The daemon over stdio: requests on stdin, responses and notifications on stdout (one
 * JSON value per line). Diagnostics go to stderr. The daemon stops when stdin ends.
 */
import type { JsonRpcEngine } from './json-rpc.js';
import { RpcPeer } from './peer.js';

/** Serve `engine` on stdin/stdout; `ended` resolves once stdin closed and every answer is out. */
export function serveStdio(engine: JsonRpcEngine): { peer: RpcPeer; ended: Promise<void> } {
  const peer = new RpcPeer(engine, (line) => process.stdout.write(line));
  process.stdin.setEncoding('utf8');
  const ended = new Promise<void>((resolve) => {
    process.stdin.on('data', (chunk: string) => peer.push(chunk));
    process.stdin.once('end', () => {
      peer.end().then(resolve, resolve);
    });
  });
  process.stdin.resume();
  return { peer, ended };
}

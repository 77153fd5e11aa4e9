/**
 * The mosquitto peer: the Debian package's broker started on a loopback port with a
 * generated configuration — persistence on, persistent sessions (clients connect with
 * clean=false and fixed ids), no cap on queued messages — so that it carries the same load as
 * the relay. It is not durable per message: it keeps messages in memory and writes its
 * database only every `autosave_interval` seconds and at exit, while the relay fsyncs every
 * group commit before it acknowledges a send.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { type Served, spawnWithFileLimit, stopChild } from './processes.js';

/** Where the Debian package installs the broker. */
const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'];

/** The broker's path and version, or undefined when it is not installed. */
export function findMosquitto(): { path: string; version: string } | undefined {
  for (const path of CANDIDATES) {
    try {
      const out = execFileSync(path, ['-h'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      return { path, version: /mosquitto version (\S+)/u.exec(out)?.[1] ?? 'unknown' };
    } catch (e) {
      // `mosquitto -h` prints its usage and exits 3: still installed.
      const out = String((e as { stdout?: unknown }).stdout ?? '');
      const version = /mosquitto version (\S+)/u.exec(out)?.[1];
      if (version !== undefined) return { path, version };
    }
  }
  return undefined;
}

/** A free loopback port (closed again at once; the broker binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The generated mosquitto.conf. */
export function mosquittoConfig(port: number, dataDir: string, maxInflight: number): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    // Stay the user that runs the benchmark (root would otherwise switch to "mosquitto",
    // which cannot write the temporary persistence directory).
    `user ${userInfo().username}`,
    'persistence true',
    `persistence_location ${dataDir}/`,
    'persistence_file mosquitto.db',
    // Unlimited queue for offline persistent sessions, as the issue asks.
    'max_queued_messages 0',
    'max_queued_bytes 0',
    // QoS 1 messages in flight towards one subscriber before it PUBACKs.
    `max_inflight_messages ${maxInflight}`,
    'max_connections -1',
    // ws (the relay's library) disables Nagle's algorithm too.
    'set_tcp_nodelay true',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
    '',
  ].join('\n');
}

/** Starts the broker with the generated configuration in `dataDir`. */
export async function startMosquitto(
  path: string,
  dataDir: string,
  maxInflight: number,
): Promise<Served & { readonly port: number }> {
  const port = await freePort();
  const conf = join(dataDir, 'mosquitto.conf');
  writeFileSync(conf, mosquittoConfig(port, dataDir, maxInflight));
  const child = spawnWithFileLimit(path, ['-c', conf], 'pipe');
  child.stdout!.resume();
  // The broker logs nothing on stdout that says "ready": poll the port.
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`);
    if (await canConnect(port)) break;
    if (performance.now() > deadline) {
      await stopChild(child);
      throw new Error('mosquitto did not start listening within 10 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, pid: child.pid!, port, stop: () => stopChild(child) };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Durability across `kill -9`: the relay runs as a child process on a real SQLite file;
 * messages acknowledged to senders (HTTP 200 or a `sent` frame) and delivered but not yet
 * ACKed by the recipient are all there after SIGKILL and a restart on the same file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { call, rng, TestUser, WsClient } from './support.js';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'vaultex-crash-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Start the relay's real entry point in a child process; resolve with it and its URL. */
function startChild(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@vaultex/source',
      '--import',
      'tsx',
      'packages/server/src/main.ts',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--metrics-port',
      '-1',
      '--data-dir',
      dir,
      '--limits.ws-frames-per-second',
      '1000',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${out}`)), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /"url":"(http:\/\/[^"]+)"/u.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]! });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`relay exited with ${code}: ${out}`)));
  });
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('kill -9 between accept and ACK', () => {
  it('loses nothing that was accepted', async () => {
    const first = await startChild();
    const alice = await new TestUser(first.url, rng(1)).register();
    const bob = await new TestUser(first.url, rng(2)).register();
    const wsUrl = `${first.url.replace('http', 'ws')}/ws`;

    // Accepted over HTTP, then delivered to Bob but not acknowledged.
    const accepted: string[] = [];
    for (const text of ['one', 'two']) {
      const r = await call(first.url, 'POST', '/api/v1/messages', {
        token: alice.token(),
        body: { messages: [{ blob: Buffer.from(text).toString('base64url'), targets: bob.targets() }] },
      });
      expect(r.status).toBe(200);
      accepted.push(r.body.ids[0]);
    }
    const bobWs = await WsClient.device(wsUrl, bob.token());
    expect((await bobWs.drain()).map((m) => m.id)).toEqual(accepted);

    // A burst of WebSocket sends; kill as soon as 40 of them are acknowledged.
    const sender = await WsClient.device(wsUrl, alice.token());
    await sender.drain();
    const sent: string[] = [];
    const enough = new Promise<void>((resolve) => {
      sender.socket.on('message', () => {
        for (const f of sender.frames.splice(0)) {
          if (f.t === 'sent') sent.push(...f.ids);
          if (sent.length >= 40) resolve();
        }
      });
    });
    for (let i = 0; i < 150; i++) {
      sender.send({ t: 'send', rid: i, messages: [{ blob: new Uint8Array([i]), targets: bob.targets() }] });
    }
    await enough;
    await kill9(first.child);
    expect(sent.length).toBeGreaterThanOrEqual(40);

    const second = await startChild();
    const again = await WsClient.device(`${second.url.replace('http', 'ws')}/ws`, bob.token());
    const delivered = (await again.drain()).map((m) => m.id);
    for (const id of [...accepted, ...sent]) expect(delivered).toContain(id);
    // Order is kept: the HTTP sends came first.
    expect(delivered.slice(0, 2)).toEqual(accepted);
    again.send({ t: 'ack', ids: delivered.slice(0, 200) });
    again.send({ t: 'ping' });
    await again.next((f) => f.t === 'pong');
    again.close();
    await kill9(second.child);
  });
});

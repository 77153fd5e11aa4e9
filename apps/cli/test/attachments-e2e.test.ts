/**
 * Issue 5's attachment check with real processes: a 100 MB file, the relay killed with
 * kill -9 in the middle of the upload, restarted on the same data; the same `send --file`
 * resumes where the relay stopped, and the receiver's copy is verified and identical.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Home, type Relay, startRelay } from './cli-support.js';

const MB = 1024 * 1024;
// 100 MB (decimal): the relay's default limit is 100 MiB of ciphertext, and encryption adds
// 16 bytes per 64 KiB, so a file of exactly 100 MiB would be just over it.
const SIZE = 100_000_000;

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Bytes in the relay's data folder (the SQLite file and its write-ahead log). */
function dataBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(join(dir, 'data'))) total += statSync(join(dir, 'data', name)).size;
  return total;
}

describe('a 100 MB attachment survives a relay kill -9 mid-upload', () => {
  let relay: Relay;
  let home: Home;

  beforeAll(async () => {
    relay = await startRelay();
    home = new Home(relay.url);
  }, 60_000);

  afterAll(async () => {
    await home?.close();
    await relay?.stop();
  });

  it('resumes after the restart and arrives intact', async () => {
    type Init = { userId: string; contactCode: string };
    const [[alice], [bob]] = await Promise.all([
      home.json<Init>('alice', ['init', '--name', 'Alice']),
      home.json<Init>('bob', ['init', '--name', 'Bob']),
    ]);
    await Promise.all([
      home.json('alice', ['contact', 'add', bob!.contactCode]),
      home.json('bob', ['contact', 'add', alice!.contactCode]),
    ]);
    const file = join(home.dir, 'big.bin');
    writeFileSync(file, randomBytes(SIZE));
    const before = dataBytes(relay.dir);

    const started = Date.now();
    const sending = home.start('alice', ['--json', 'send', 'bob', '--file', file]);
    // Kill the relay once it holds a good part of the file, but not all of it.
    const deadline = Date.now() + 60_000;
    while (dataBytes(relay.dir) - before < 30 * MB) {
      if (Date.now() > deadline || sending.child.exitCode !== null) throw new Error(`no upload: ${sending.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await relay.crash();
    expect(await sending.exited).toBe(2);
    const firstRun = Date.now() - started;

    await relay.resume();
    const resumedAt = Date.now();
    const [sent] = await home.json<{ id: string; status: string; file: { size: number; resumedFrom: number } }>(
      'alice',
      ['send', 'bob', '--file', file, 'the', 'big', 'one'],
    );
    const secondRun = Date.now() - resumedAt;
    expect(sent!.status).toBe('sent');
    expect(sent!.file.size).toBe(SIZE);
    // It continued the same upload instead of starting again.
    expect(sent!.file.resumedFrom).toBeGreaterThan(0);

    await home.json('bob', ['sync']);
    const out = join(home.dir, 'received.bin');
    const [got] = await home.json<{ size: number; name: string }>('bob', ['attachment', 'get', sent!.id, out]);
    expect(got).toMatchObject({ size: SIZE, name: 'big.bin' });
    expect(digest(out)).toBe(digest(file));
    // Written once: a second get without --force refuses to overwrite.
    const again = await home.run('bob', ['attachment', 'get', sent!.id, out]);
    expect(again.code).toBe(1);
    console.log(
      `100 MB attachment: first run (killed) ${firstRun} ms, resumed from ${Math.round(sent!.file.resumedFrom / MB)} MB in ${secondRun} ms`,
    );
  }, 120_000);
});

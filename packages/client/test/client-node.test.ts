import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isClientError, type VaultexClient } from '../src/index.js';
import { createNodeClient, openNodeClient } from '../src/node/index.js';
import { befriend, newClient, record, startRelay, TEST_OPTIONS, type TestRelay } from './core-support.js';

const PASSPHRASE = 'correct horse battery staple';
const ARGON2 = { t: 1, m: 64, p: 1 };

describe('Node profiles (SQLCipher)', () => {
  let relay: TestRelay;
  let root: string;
  let bob: VaultexClient;

  beforeAll(async () => {
    relay = await startRelay();
    root = mkdtempSync(join(tmpdir(), 'vaultex-client-node-'));
    bob = (await newClient(relay, 'Bob')).client;
  });

  afterAll(async () => {
    await relay?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('creates, closes and reopens a profile folder', async () => {
    const profileDir = join(root, 'carol');
    const { client, seedPhrase } = await createNodeClient({
      profileDir,
      passphrase: PASSPHRASE,
      argon2: ARGON2,
      serverUrl: relay.url,
      displayName: 'Carol',
      options: TEST_OPTIONS,
    });
    expect(seedPhrase.split(' ').length).toBe(24);
    await befriend(client, bob);
    const id = await client.messages.send(bob.id().userId, 'persisted');
    const userId = client.id().userId;
    await client.close();

    await expect(openNodeClient({ profileDir, passphrase: 'wrong' })).rejects.toSatisfy((e) =>
      isClientError(e, 'WRONG_PASSPHRASE'),
    );
    const again = await openNodeClient({ profileDir, passphrase: PASSPHRASE, options: TEST_OPTIONS });
    expect(again.id().userId).toBe(userId);
    expect((await again.messages.list(`d:${bob.id().userId}`))[0]?.status).toBe('pending');
    await again.sync();
    expect((await again.messages.list(`d:${bob.id().userId}`))[0]?.status).toBe('sent');
    const got = record(bob, 'message');
    await bob.sync();
    expect(got.map((e) => e.message.id)).toEqual([id]);
    await again.close();
  });

  it('a client killed with SIGKILL mid-send loses nothing and sends nothing twice', async () => {
    const profileDir = join(root, 'alice');
    const { client: alice } = await createNodeClient({
      profileDir,
      passphrase: PASSPHRASE,
      argon2: ARGON2,
      serverUrl: relay.url,
      displayName: 'Alice',
      options: TEST_OPTIONS,
    });
    await befriend(alice, bob);
    await alice.close();

    const child = spawn(
      process.execPath,
      [
        '--conditions=@vaultex/source',
        '--import',
        'tsx',
        join(import.meta.dirname, 'client-crash-sender.ts'),
        profileDir,
        PASSPHRASE,
        bob.id().userId,
        '40',
      ],
      { cwd: join(import.meta.dirname, '..', '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    let queued = -1;
    let sent = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sender too slow: ${output.slice(-500)}`)), 30_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const lines = output.split('\n');
        queued = Math.max(queued, ...lines.filter((l) => l.startsWith('queued ')).map((l) => Number(l.slice(7))));
        sent = lines.filter((l) => l.startsWith('sent ')).length;
        // Kill while sends are in progress: some accepted, others queued.
        if (sent >= 5 && child.exitCode === null) child.kill('SIGKILL');
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (_code, signal) => {
        clearTimeout(timer);
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`sender exited on its own: ${output.slice(-500)}`));
      });
    });
    expect(sent).toBeGreaterThanOrEqual(5);
    expect(queued).toBeGreaterThanOrEqual(4);

    const revived = await openNodeClient({ profileDir, passphrase: PASSPHRASE, options: TEST_OPTIONS });
    await revived.sync();
    const got = record(bob, 'message');
    await bob.sync();
    const texts = got.map((e) => e.message.text);
    // Every message whose send() returned arrives, in order, once (one more may have been committed unreported).
    expect(texts.length === queued + 1 || texts.length === queued + 2).toBe(true);
    expect(texts).toEqual(Array.from({ length: texts.length }, (_, i) => `crash ${i}`));
    const stored = await revived.messages.list(`d:${bob.id().userId}`, { limit: 100 });
    expect(stored.every((m) => m.status === 'sent' || m.status === 'delivered')).toBe(true);
    await revived.close();
  });
});

/**
 * Backups and the history archive with real processes: a profile exported to a file and
 * imported into a fresh profile folder keeps its messages; `archive setup` + `push` on one
 * device, then a profile restored from the seed phrase gets the history with `archive restore`,
 * another with `archive restore --code`, and that code no longer works.
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Home, type Relay, startRelay } from './cli-support.js';

interface Message {
  readonly text?: string;
  readonly direction: string;
}

describe('vaultex backup, archive, export and retention', () => {
  let relay: Relay;
  let home: Home;
  let seed = '';
  let codes: string[] = [];
  const texts = async (profile: string) =>
    ((await home.json<Message[]>(profile, ['messages', 'bob']))[0] ?? []).map((m) => m.text);

  beforeAll(async () => {
    relay = await startRelay();
    home = new Home(relay.url);
    type Init = { userId: string; contactCode: string; seedPhrase: string };
    const [[alice], [bob]] = await Promise.all([
      home.json<Init>('alice', ['init', '--name', 'Alice']),
      home.json<Init>('bob', ['init', '--name', 'Bob']),
    ]);
    seed = alice!.seedPhrase;
    await Promise.all([
      home.json('alice', ['contact', 'add', bob!.contactCode]),
      home.json('bob', ['contact', 'add', alice!.contactCode]),
    ]);
    await home.json('alice', ['send', 'bob', 'first from Alice']);
    await home.json('bob', ['sync']);
    await home.json('bob', ['send', 'alice', 'reply from Bob']);
    await home.json('alice', ['sync']);
    writeFileSync(join(home.dir, 'backup-pw.txt'), 'backup password 1\n');
    writeFileSync(join(home.dir, 'wrong-pw.txt'), 'not it\n');
  }, 120_000);

  afterAll(async () => {
    await home?.close();
    await relay?.stop();
  });

  it('exports the profile and imports it into a fresh profile folder', async () => {
    const file = join(home.dir, 'alice.vxbk');
    const [written] = await home.json<{ bytes: number }>('alice', [
      'backup',
      'export',
      file,
      '--password-file',
      join(home.dir, 'backup-pw.txt'),
    ]);
    expect(written!.bytes).toBe(statSync(file).size);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const wrong = await home.run('wrong', [
      'backup',
      'import',
      file,
      '--password-file',
      join(home.dir, 'wrong-pw.txt'),
    ]);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).toMatch(/does not open with that password/u);
    // Nothing was left behind: the profile does not exist.
    expect((await home.run('wrong', ['id'])).code).toBe(4);

    const [imported] = await home.json<{ userId: string }>('copy', [
      'backup',
      'import',
      file,
      '--password-file',
      join(home.dir, 'backup-pw.txt'),
    ]);
    const [id] = await home.json<{ userId: string }>('alice', ['id']);
    expect(imported!.userId).toBe(id!.userId);
    expect(await texts('copy')).toEqual(['first from Alice', 'reply from Bob']);
  }, 60_000);

  it('sets retention and exports a conversation as text and JSON', async () => {
    const [set] = await home.json<{ retention: unknown }>('alice', ['retention', 'bob', 'ttl', '30']);
    expect(set!.retention).toEqual({ mode: 'ttl', ttlSeconds: 30 * 86_400 });
    const [shown] = await home.json<{ retention: unknown }>('alice', ['retention', 'bob']);
    expect(shown!.retention).toEqual({ mode: 'ttl', ttlSeconds: 30 * 86_400 });
    expect((await home.run('alice', ['retention', 'bob', 'forever'])).code).toBe(1);
    await home.json('alice', ['retention', 'bob', 'history']);

    const text = await home.run('alice', ['export', 'bob', '--format', 'text']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^\[\d{4}-\d\d-\d\d \d\d:\d\d\] Alice: first from Alice\n\[.*\] Bob: reply from Bob\n$/u,
    );
    const out = join(home.dir, 'bob.json');
    await home.json('alice', ['export', 'bob', '--format', 'json', '--out', out]);
    expect(statSync(out).mode & 0o777).toBe(0o600);
  }, 60_000);

  it('archives the history; a seed-restored profile gets it with and without a backup code', async () => {
    [{ codes }] = (await home.json<{ codes: string[] }>('alice', ['archive', 'setup'])) as [{ codes: string[] }];
    expect(codes).toHaveLength(8);
    const [pushed] = await home.json<{ conversations: number; messages: number }>('alice', ['archive', 'push']);
    expect(pushed).toMatchObject({ conversations: 1, messages: 2 });
    const [status] = await home.json<{ exists: boolean; codesLeft: number }>('alice', ['archive', 'status']);
    expect(status).toMatchObject({ exists: true, codesLeft: 8 });

    await home.json('seeded', ['restore', '--device-name', 'laptop'], `${seed}\n`);
    const [restored] = await home.json<{ messages: number }>('seeded', ['archive', 'restore']);
    expect(restored!.messages).toBe(2);
    expect(await texts('seeded')).toEqual(['first from Alice', 'reply from Bob']);

    await home.json('coded', ['restore', '--device-name', 'tablet'], `${seed}\n`);
    const [withCode] = await home.json<{ messages: number }>('coded', ['archive', 'restore', '--code', codes[2]!]);
    expect(withCode!.messages).toBe(2);
    expect(await texts('coded')).toEqual(['first from Alice', 'reply from Bob']);

    await home.json('again', ['restore', '--device-name', 'phone'], `${seed}\n`);
    const reused = await home.run('again', ['archive', 'restore', '--code', codes[2]!]);
    expect(reused.code).toBe(3);
    expect(reused.stderr).toMatch(/backup code/u);
    const [left] = await home.json<{ codesLeft: number }>('again', ['archive', 'status']);
    expect(left!.codesLeft).toBe(7);
  }, 120_000);

  it('offers the same over the daemon: retention, export, archive, backup', async () => {
    const daemon = home.start('alice', ['daemon']);
    let next = 1;
    const call = async (method: string, params?: unknown): Promise<Record<string, unknown>> => {
      const id = next++;
      daemon.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
      return daemon.waitFor((lines) => lines.find((l) => l.id === id && ('result' in l || 'error' in l)), method);
    };
    const set = await call('conversations.setRetention', { contact: 'bob', mode: 'ttl', days: 14 });
    expect(set.result).toMatchObject({ retention: { mode: 'ttl', ttlSeconds: 14 * 86_400 } });
    const bad = await call('conversations.setRetention', { contact: 'bob', mode: 'forever' });
    expect((bad.error as { code: number }).code).toBe(-32602);
    await call('conversations.setRetention', { contact: 'bob', mode: 'history' });
    const exported = await call('messages.export', { contact: 'bob', format: 'text' });
    expect((exported.result as { text: string }).text).toMatch(/Alice: first from Alice\n/u);
    const status = await call('archive.status');
    expect(status.result).toMatchObject({ exists: true, codesLeft: 7 });
    const pushed = await call('archive.push');
    expect(pushed.result).toMatchObject({ conversations: 1, messages: 2 });
    const file = join(home.dir, 'daemon.vxbk');
    const backup = await call('backup.export', { path: file, password: 'daemon password' });
    expect((backup.result as { bytes: number }).bytes).toBe(statSync(file).size);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await daemon.interrupt();
  }, 60_000);
});

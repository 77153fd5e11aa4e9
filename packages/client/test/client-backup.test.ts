import { isProtocolError } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConversationExport,
  type FetchLike,
  isClientError,
  openMemoryStore,
  relayTtlSeconds,
  VaultexClient,
} from '../src/index.js';
import { nodeDeps } from '../src/node/index.js';
import { arrived, befriend, newClient, record, startRelay, TEST_OPTIONS, type TestRelay } from './core-support.js';

/** The cheapest Argon2id the backup format accepts: these tests check format and flow, not cost. */
const KDF = { t: 1, m: 8, p: 1 };

describe('retention, readable export and profile backups', () => {
  let relay: TestRelay;
  let alice: VaultexClient;
  let bob: VaultexClient;

  /** JSON bodies Alice's HTTP sends carried. */
  const sends: { ttlSeconds?: number }[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    const recording: FetchLike = (url, init) => {
      if (init.method === 'POST' && /\/messages(\/sealed)?$/u.test(url) && typeof init.body === 'string') {
        sends.push(JSON.parse(init.body) as { ttlSeconds?: number });
      }
      return fetch(url, init);
    };
    alice = (await newClient(relay, 'Alice', { fetch: recording })).client;
    bob = (await newClient(relay, 'Bob')).client;
    await befriend(alice, bob);
    await alice.sync();
    await bob.sync();
  });

  afterAll(async () => {
    await alice?.stop();
    await bob?.stop();
    await relay?.close();
  });

  it('sets a retention policy per conversation and lists it', async () => {
    const conv = `d:${bob.id().userId}`;
    const set = await alice.messages.setRetention(conv, { mode: 'ttl', ttlSeconds: 14 * 86_400 });
    expect(set.retention).toEqual({ mode: 'ttl', ttlSeconds: 14 * 86_400 });
    expect(relayTtlSeconds(set)).toBe(14 * 86_400);
    // The disappearing timer wins when it is shorter.
    expect(relayTtlSeconds({ ...set, disappearingSeconds: 3600 })).toBe(3600);
    expect(relayTtlSeconds({ ...set, retention: { mode: 'history' } })).toBeUndefined();
    await alice.messages.setRetention(conv, { mode: 'history' });
    const listed = (await alice.messages.conversations()).find((c) => c.id === conv);
    expect(listed?.retention).toEqual({ mode: 'history' });
    await expect(alice.messages.setRetention(conv, { mode: 'ttl', ttlSeconds: 5 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(alice.messages.setRetention(`d:${'e'.repeat(32)}`, { mode: 'history' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const cleared = await alice.messages.setRetention(conv, null);
    expect('retention' in cleared).toBe(false);
    await alice.messages.setRetention(conv, { mode: 'history' });
  });

  it('a ttl retention bounds the relay lifetime of sends', async () => {
    const conv = `d:${bob.id().userId}`;
    await alice.messages.setRetention(conv, { mode: 'ttl', ttlSeconds: 3600 });
    sends.length = 0;
    const id = await alice.messages.send(bob.id().userId, 'short-lived on the relay');
    await alice.sync();
    expect(sends.length).toBeGreaterThan(0);
    expect(sends.every((b) => b.ttlSeconds === 3600)).toBe(true);
    const got = record(bob, 'message');
    await bob.sync();
    await arrived(got, id, 'Bob receives');
    await alice.messages.setRetention(conv, { mode: 'history' });
  });

  it('exports a conversation as JSON and as text', async () => {
    const received = record(alice, 'message');
    const reply = await bob.messages.send(alice.id().userId, 'hi Alice\nsecond line');
    await bob.sync();
    await alice.sync();
    await arrived(received, reply, 'Alice receives');
    await alice.messages.send(bob.id().userId, 'hello Bob', { replyTo: reply });
    await alice.messages.react(`d:${bob.id().userId}`, reply, '👍');
    await alice.sync();

    const json = JSON.parse(await alice.messages.export(`d:${bob.id().userId}`, 'json')) as ConversationExport;
    expect(json.format).toBe('vaultex-conversation');
    expect(json.conversation).toMatchObject({ id: `d:${bob.id().userId}`, retention: { mode: 'history' } });
    const texts = json.messages.map((m) => [m.senderName, m.text]);
    expect(texts).toEqual([
      ['Alice', 'short-lived on the relay'],
      ['Bob', 'hi Alice\nsecond line'],
      ['Alice', 'hello Bob'],
    ]);
    expect(json.messages[1]?.reactions).toEqual([{ senderId: alice.id().userId, emoji: '👍' }]);
    expect(json.messages[2]?.replyTo).toBe(reply);
    expect(json.messages[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/u);

    const text = await alice.messages.export(`d:${bob.id().userId}`, 'text');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d\] Alice: short-lived on the relay$/u);
    expect(lines[1]).toMatch(/\] Bob: hi Alice$/u);
    expect(lines[2]).toBe('    second line {👍}');
    expect(lines[3]).toMatch(/\] Alice: \(reply to [0-9a-f]{8}\) hello Bob$/u);
    await expect(alice.messages.export(`d:${bob.id().userId}`, 'pdf' as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('backs up the whole profile and restores it into an empty store, sessions included', async () => {
    const before = await alice.messages.list(`d:${bob.id().userId}`, { limit: 100 });
    const backup = await alice.backup.export('correct horse battery', { kdf: KDF });
    expect(Array.from(backup.subarray(0, 4))).toEqual([0x56, 0x58, 0x42, 0x4b]);

    // A wrong password is the protocol's typed error, and nothing is written.
    const empty = await openMemoryStore();
    const wrong = await VaultexClient.importBackup({
      store: empty,
      deps: nodeDeps(),
      options: TEST_OPTIONS,
      backup,
      password: 'wrong horse',
    }).catch((e: unknown) => e);
    expect(isProtocolError(wrong) && wrong.code === 'BACKUP_DECRYPTION_FAILED').toBe(true);
    expect(await empty.getProfile()).toBeUndefined();

    // A store that holds a profile is refused.
    const busy = await VaultexClient.importBackup({
      store: (await newClient(relay, 'Carol')).store,
      deps: nodeDeps(),
      options: TEST_OPTIONS,
      backup,
      password: 'correct horse battery',
    }).catch((e: unknown) => e);
    expect(isClientError(busy, 'PROFILE_EXISTS')).toBe(true);

    // The original device stops for good: the restored copy is the same device.
    await alice.stop();
    const restored = await VaultexClient.importBackup({
      store: empty,
      deps: nodeDeps(),
      options: TEST_OPTIONS,
      backup,
      password: 'correct horse battery',
    });
    expect(restored.id()).toEqual(alice.id());
    expect(await restored.messages.list(`d:${bob.id().userId}`, { limit: 100 })).toEqual(before);
    expect((await restored.contacts.list()).map((c) => c.displayName)).toEqual(['Bob']);
    const conv = (await restored.messages.conversations()).find((c) => c.id === `d:${bob.id().userId}`);
    expect(conv?.retention).toEqual({ mode: 'history' });

    // The ratchet state came along: both directions keep working without a new session.
    const toBob = record(bob, 'message');
    const id = await restored.messages.send(bob.id().userId, 'from the restored profile');
    await restored.sync();
    await bob.sync();
    await arrived(toBob, id, 'Bob receives from the restored profile');
    const toAlice = record(restored, 'message');
    const back = await bob.messages.send(alice.id().userId, 'welcome back');
    await bob.sync();
    await restored.sync();
    await arrived(toAlice, back, 'the restored profile receives');
    alice = restored;
  });

  it('refuses a damaged backup with the protocol error and a non-backup with BACKUP_INVALID', async () => {
    const backup = await alice.backup.export('pw', { kdf: KDF });
    const damaged = new Uint8Array(backup);
    damaged[damaged.length - 1] = (damaged.at(-1) ?? 0) ^ 1;
    const store = await openMemoryStore();
    const e1 = await VaultexClient.importBackup({ store, deps: nodeDeps(), backup: damaged, password: 'pw' }).catch(
      (e: unknown) => e,
    );
    expect(isProtocolError(e1) && e1.code === 'BACKUP_DECRYPTION_FAILED').toBe(true);
    const { encryptBackup } = await import('@vaultex/protocol');
    const { nodeProvider } = await import('@vaultex/protocol/node');
    const notProfile = encryptBackup(new TextEncoder().encode('hello'), 'pw', {
      provider: nodeProvider,
      random: (n) => new Uint8Array(n).fill(1),
      params: KDF,
    });
    const e2 = await VaultexClient.importBackup({ store, deps: nodeDeps(), backup: notProfile, password: 'pw' }).catch(
      (e: unknown) => e,
    );
    expect(isClientError(e2, 'BACKUP_INVALID')).toBe(true);
    expect(await store.getProfile()).toBeUndefined();
  });
});

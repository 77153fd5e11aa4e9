/**
 * The SQLCipher store: the conformance suite (with reopen), plus what only a real file can
 * show: wrong passphrase, encryption at rest, tamper detection, damaged descriptions,
 * kill -9 durability, and migration of the frozen v1 profile.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ClientStore, isClientError, runStoreConformance, SCHEMA_VERSION } from '@vaultex/client';
import { deleteSqlCipherProfile, openSqlCipherStore } from '@vaultex/client/node';
import { nodeProvider } from '@vaultex/protocol/node';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../src/node/sqlcipher/migrations.js';
import { readProfileMeta } from '../src/node/sqlcipher/profile-files.js';
import { openKeyedDatabase } from '../src/node/sqlcipher-store.js';
import {
  hexId,
  sampleContact,
  sampleConversation,
  sampleMessage,
  sampleOutbox,
  sampleProfile,
} from '../src/storage/conformance-support.js';
import { derivePassphraseKey } from '../src/storage/passphrase-key.js';
import {
  BOB,
  FIXTURE_PASSPHRASE,
  GROUP,
  V1_CONTACTS,
  V1_CONVERSATIONS,
  V1_KEY_HISTORY,
  V1_MESSAGES,
  V1_OUTBOX,
  V1_PREKEYS,
  V1_PROFILE,
  V1_SEEN,
  V1_SESSIONS,
  V1_TREE_HEAD,
} from './fixtures/profile-v1-data.js';

const root = mkdtempSync(join(tmpdir(), 'vaultex-sqlcipher-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const TINY = { t: 1, m: 64, p: 1 };
const PASSPHRASE = 'correct horse battery staple';
const directories = new WeakMap<ClientStore, string>();
let count = 0;

async function open(directory: string, passphrase = PASSPHRASE): Promise<ClientStore> {
  const store = await openSqlCipherStore({ directory, passphrase, argon2: TINY });
  directories.set(store, directory);
  return store;
}

runStoreConformance(
  'sqlcipher',
  () => open(join(root, `conformance-${++count}`)),
  { describe, it, expect },
  {
    reopen: (store) => open(directories.get(store)!),
  },
);

/** The raw connection of a closed profile, keyed from its profile.json. */
function rawDatabase(directory: string, passphrase = PASSPHRASE) {
  const meta = readProfileMeta(directory)!;
  return openKeyedDatabase(directory, derivePassphraseKey(nodeProvider, passphrase, meta.salt, meta.params));
}

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  let error: unknown = 'resolved';
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  expect(isClientError(error) ? error.code : String(error)).toBe(code);
}

describe('sqlcipher adapter', () => {
  it('numbers its migrations 1..SCHEMA_VERSION', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it("uses the 'sqlcipher' cipher, WAL, synchronous=FULL and foreign keys", async () => {
    const directory = join(root, 'pragmas');
    await (await open(directory)).close();
    const db = rawDatabase(directory);
    try {
      expect(db.pragma('cipher', { simple: true })).toBe('sqlcipher');
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(2);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.prepare('SELECT max(version) AS v FROM schema_version').get()).toEqual({ v: SCHEMA_VERSION });
    } finally {
      db.close();
    }
  });

  it('writes a plaintext profile.json with only format, cipher, salt and Argon2id cost', async () => {
    const directory = join(root, 'meta');
    await (await open(directory)).close();
    const text = readFileSync(join(directory, 'profile.json'), 'utf8');
    const meta = JSON.parse(text);
    expect(Object.keys(meta).sort()).toEqual(['cipher', 'format', 'kdf', 'version']);
    expect(meta.kdf).toEqual({ algorithm: 'argon2id', salt: expect.stringMatching(/^[0-9a-f]{32}$/u), ...TINY });
    expect(text.includes(PASSPHRASE)).toBe(false);
    // A later open with other default costs keeps the profile's own.
    await (await openSqlCipherStore({ directory, passphrase: PASSPHRASE, argon2: { t: 2, m: 128, p: 1 } })).close();
    expect(readFileSync(join(directory, 'profile.json'), 'utf8')).toBe(text);
  });

  it('refuses a wrong passphrase with WRONG_PASSPHRASE and keeps the data', async () => {
    const directory = join(root, 'wrong');
    const store = await open(directory);
    await store.putTreeHead(new Uint8Array([1, 2, 3]));
    await store.close();
    await rejectsWith(open(directory, 'Correct horse battery staple'), 'WRONG_PASSPHRASE');
    const again = await open(directory);
    expect(await again.getTreeHead()).toEqual(new Uint8Array([1, 2, 3]));
    await again.close();
  });

  it('is encrypted at rest: no plaintext and no SQLite header in profile.db or its WAL', async () => {
    const directory = join(root, 'at-rest');
    const canary = 'CANARY-7f3a-c291';
    const store = await open(directory);
    await store.putProfile({ ...sampleProfile(1), displayName: canary, serverUrl: `https://${canary}.example` });
    await store.putContact({ ...sampleContact(2), displayName: canary });
    await store.putConversation({ ...sampleConversation(2), lastMessagePreview: canary });
    await store.insertMessage({ ...sampleMessage(`d:${hexId(2)}`, 1, 1), body: new TextEncoder().encode(canary) });
    await store.enqueueOutbox({ ...sampleOutbox(canary, 1, 1), payload: new TextEncoder().encode(canary) });
    const check = () => {
      for (const name of ['profile.db', 'profile.db-wal']) {
        const path = join(directory, name);
        if (!existsSync(path)) continue;
        const raw = Buffer.from(readFileSync(path));
        expect(raw.length).toBeGreaterThan(0);
        expect(raw.includes(canary)).toBe(false);
        expect(raw.includes('SQLite format 3')).toBe(false);
        expect(raw.includes(hexId(2))).toBe(false);
      }
    };
    expect(existsSync(join(directory, 'profile.db-wal'))).toBe(true);
    check();
    await store.close();
    check();
    const again = await open(directory);
    expect((await again.getProfile())?.displayName).toBe(canary);
    await again.close();
  });

  it('detects a tampered page (STORE_CORRUPT) instead of returning altered data', async () => {
    const directory = join(root, 'tamper');
    const store = await open(directory);
    for (let i = 0; i < 200; i++) await store.insertMessage(sampleMessage(`d:${hexId(2)}`, i, i));
    await store.close();
    const path = join(directory, 'profile.db');
    const raw = readFileSync(path);
    // Flip one bit in the last page: it holds the newest message rows.
    raw[raw.length - 3000]! ^= 0x01;
    writeFileSync(path, raw);
    const again = await open(directory);
    await rejectsWith(
      (async () => {
        await again.countMessages(`d:${hexId(2)}`);
        await again.listMessages(`d:${hexId(2)}`, { limit: 1000 });
      })(),
      'STORE_CORRUPT',
    );
    await again.close();
    // A damaged first page cannot be told from a wrong key.
    const first = readFileSync(path);
    first[100]! ^= 0x01;
    writeFileSync(path, first);
    await rejectsWith(open(directory), 'WRONG_PASSPHRASE');
  });

  it('refuses damaged, missing or newer profile descriptions and newer schemas', async () => {
    const directory = join(root, 'damaged');
    await (await open(directory)).close();
    const metaPath = join(directory, 'profile.json');
    const good = readFileSync(metaPath, 'utf8');
    const edit = (f: (meta: Record<string, unknown>) => void) => {
      const meta = JSON.parse(good);
      f(meta);
      writeFileSync(metaPath, JSON.stringify(meta));
    };
    writeFileSync(metaPath, '{ not json');
    await rejectsWith(open(directory), 'STORE_CORRUPT');
    edit((m) => {
      m.version = 2;
    });
    await rejectsWith(open(directory), 'STORE_TOO_NEW');
    edit((m) => {
      (m.kdf as Record<string, unknown>).m = 1024 * 1024 * 1024;
    });
    await rejectsWith(open(directory), 'STORE_CORRUPT');
    edit((m) => {
      (m.kdf as Record<string, unknown>).salt = 'abcd';
    });
    await rejectsWith(open(directory), 'STORE_CORRUPT');
    rmSync(metaPath);
    await rejectsWith(open(directory), 'STORE_CORRUPT');
    expect(existsSync(join(directory, 'profile.db'))).toBe(true);
    writeFileSync(metaPath, good);
    const db = rawDatabase(directory);
    db.prepare('INSERT INTO schema_version (version) VALUES (99)').run();
    db.close();
    await rejectsWith(open(directory), 'STORE_TOO_NEW');
  });

  it('refuses bad options with INVALID_ARGUMENT', async () => {
    const directory = join(root, 'options');
    await rejectsWith(openSqlCipherStore({ directory, passphrase: '' }), 'INVALID_ARGUMENT');
    await rejectsWith(openSqlCipherStore({ directory: '', passphrase: 'x' }), 'INVALID_ARGUMENT');
    await rejectsWith(
      openSqlCipherStore({ directory, passphrase: 'x', argon2: { t: 0, m: 64, p: 1 } }),
      'INVALID_ARGUMENT',
    );
    await rejectsWith(
      openSqlCipherStore({ directory, passphrase: 'x', argon2: { t: 1, m: 4, p: 1 } }),
      'INVALID_ARGUMENT',
    );
    await rejectsWith(openSqlCipherStore(null as never), 'INVALID_ARGUMENT');
    expect(existsSync(directory)).toBe(false);
  });

  it('wipe deletes the profile files and the emptied folder', async () => {
    const directory = join(root, 'wipe');
    const store = await open(directory);
    await store.putTreeHead(new Uint8Array([1]));
    await store.wipe();
    expect(existsSync(directory)).toBe(false);
    await store.wipe();
    // Without the passphrase: deleteSqlCipherProfile.
    await (await open(directory)).close();
    writeFileSync(join(directory, 'notes.txt'), 'keep me');
    deleteSqlCipherProfile(directory);
    expect(readdirSync(directory)).toEqual(['notes.txt']);
  });

  it('loses no committed transaction when the writer is killed with SIGKILL', async () => {
    const directory = join(root, 'kill9');
    const child = spawn(
      process.execPath,
      [
        '--conditions=@vaultex/source',
        '--import',
        'tsx',
        join(import.meta.dirname, 'storage-sqlcipher-writer.ts'),
        directory,
        PASSPHRASE,
      ],
      { cwd: join(import.meta.dirname, '..', '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let committed = -1;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`writer too slow: ${output.slice(-500)}`)), 30_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const lines = output.split('\n').filter((l) => /^\d+$/u.test(l));
        if (lines.length > 0) committed = Number(lines.at(-1));
        if (committed >= 150 && child.exitCode === null) {
          clearTimeout(timer);
          child.kill('SIGKILL');
        }
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.once('exit', (_code, signal) => {
        clearTimeout(timer);
        if (signal === 'SIGKILL') resolve();
        else reject(new Error(`writer exited on its own: ${output.slice(-500)}`));
      });
    });
    expect(committed).toBeGreaterThan(149);
    const store = await open(directory);
    try {
      const total = await store.countMessages(`d:${hexId(1)}`);
      // Everything reported is there; at most the one in flight (committed, not yet printed) too.
      expect(total === committed + 1 || total === committed + 2).toBe(true);
      const messages = await store.listMessages(`d:${hexId(1)}`, { limit: 1000 });
      expect(messages.map((m) => m.sentAt)).toEqual(Array.from({ length: total }, (_, i) => total - 1 - i));
      // Each transaction was all or nothing: the seen id and the session match the last message.
      for (let i = 0; i < total; i++) expect(await store.markSeen(`server-${i}`, 0)).toBe(false);
      expect(await store.markSeen(`server-${total}`, 0)).toBe(true);
      expect(await store.getSession(hexId(1), 1)).toEqual(new Uint8Array(200).fill((total - 1) & 0xff));
    } finally {
      await store.close();
    }
  });
});

describe('migration from the v1 fixture', () => {
  const fixture = join(import.meta.dirname, 'fixtures', 'profile-v1');

  it('is a schema-1 profile', () => {
    const directory = join(root, 'fixture-raw');
    cpSync(fixture, directory, { recursive: true });
    const db = rawDatabase(directory, FIXTURE_PASSPHRASE);
    try {
      expect(db.prepare('SELECT max(version) AS v FROM schema_version').get()).toEqual({ v: 1 });
      expect(
        db.prepare("SELECT count(*) AS n FROM pragma_table_info('messages') WHERE name = 'expires_at'").get(),
      ).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it('opens with the current code, migrates to the latest schema and reads the old data intact', async () => {
    const directory = join(root, 'fixture');
    cpSync(fixture, directory, { recursive: true });
    const store = await openSqlCipherStore({ directory, passphrase: FIXTURE_PASSPHRASE });
    try {
      expect(store.schemaVersion).toBe(SCHEMA_VERSION);
      expect(await store.getProfile()).toEqual(V1_PROFILE);
      for (const k of V1_PREKEYS) expect(await store.getPrekey(k.kind, k.id)).toEqual(k);
      expect(await store.countPrekeys('one-time')).toBe(2);
      for (const s of V1_SESSIONS) expect(await store.getSession(s.accountId, s.deviceId)).toEqual(s.record);
      expect(await store.listSessionDevices(BOB)).toEqual([1, 2]);
      expect(await store.listContacts()).toEqual(V1_CONTACTS);
      for (const [accountId, history] of Object.entries(V1_KEY_HISTORY)) {
        expect(await store.listKeyHistory(accountId)).toEqual(history);
      }
      expect(await store.listConversations()).toEqual(V1_CONVERSATIONS);
      for (const m of V1_MESSAGES) expect(await store.getMessage(m.id)).toEqual(m);
      expect((await store.listMessages(GROUP, { limit: 10 })).map((m) => m.id)).toEqual([
        V1_MESSAGES[3]!.id,
        V1_MESSAGES[2]!.id,
      ]);
      expect(await store.listDueOutbox(Number.MAX_SAFE_INTEGER, 10)).toEqual(V1_OUTBOX);
      for (const s of V1_SEEN) expect(await store.markSeen(s.id, s.at)).toBe(false);
      expect(await store.getTreeHead()).toEqual(V1_TREE_HEAD);

      // The v2 features work on v1 rows.
      const old = V1_MESSAGES[0]!;
      expect(await store.updateMessage(old.id, { expiresAt: 5 })).toBe(true);
      expect(await store.deleteExpiredMessages(10)).toEqual([{ id: old.id, conversationId: old.conversationId }]);
      await store.putConversation({ ...V1_CONVERSATIONS[0]!, disappearingSeconds: 86_400 });
      expect((await store.getConversation(V1_CONVERSATIONS[0]!.id))?.disappearingSeconds).toBe(86_400);
      // Key history keeps appending after the old entries.
      await store.appendKeyHistory(BOB, { identityKey: new Uint8Array(32).fill(9), seenAt: 1 });
      expect((await store.listKeyHistory(BOB)).length).toBe(2);
    } finally {
      await store.close();
    }
    const db = rawDatabase(directory, FIXTURE_PASSPHRASE);
    try {
      expect(db.prepare('SELECT version FROM schema_version ORDER BY version').all()).toEqual(
        Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
      );
    } finally {
      db.close();
    }
  });
});

/**
 * The IndexedDB store under Node, on fake-indexeddb (an in-memory implementation of the
 * IndexedDB API): the conformance suite with reopen, plus what only the encrypted record
 * layout can show: wrong passphrase, no plaintext and no clear identifiers in stored
 * values or keys, records bound to their keys, a newer database refused, the v1 -> v2
 * upgrade, and what happens when a transaction body awaits foreign I/O. The same suite
 * runs in Chromium with the web app's tests.
 */
import { type ClientStore, isClientError, runStoreConformance, SCHEMA_VERSION } from '@vaultex/client';
import { openIndexedDbStore } from '@vaultex/client/browser';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { request, STORES, upgradeSchema } from '../src/browser/indexeddb/idb.js';
import {
  direct,
  hexId,
  sampleContact,
  sampleConversation,
  sampleMessage,
  sampleProfile,
} from '../src/storage/conformance-support.js';

const factory = new IDBFactory();
const TINY = { t: 1, m: 64, p: 1 };
const names = new WeakMap<ClientStore, string>();
let count = 0;

async function open(name: string, passphrase = 'correct horse'): Promise<ClientStore> {
  const store = await openIndexedDbStore({ name, passphrase, argon2: TINY, indexedDB: factory, IDBKeyRange });
  names.set(store, name);
  return store;
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

/** Open the database without the adapter, at its current version. */
function raw(name: string): Promise<IDBDatabase> {
  return request(factory.open(name));
}

/** Every (store, key, value) in a raw database. */
async function dump(name: string): Promise<{ store: string; key: IDBValidKey; value: unknown }[]> {
  const db = await raw(name);
  const out: { store: string; key: IDBValidKey; value: unknown }[] = [];
  const tx = db.transaction(Array.from(db.objectStoreNames), 'readonly');
  for (const store of Array.from(db.objectStoreNames)) {
    const os = tx.objectStore(store);
    const keys = await request(os.getAllKeys());
    const values = await request(os.getAll());
    keys.forEach((key, i) => {
      out.push({ store, key, value: values[i] });
    });
  }
  db.close();
  return out;
}

runStoreConformance(
  'indexeddb',
  () => open(`conformance-${++count}`),
  { describe, it, expect },
  {
    reopen: (store) => open(names.get(store)!),
  },
);

describe('indexeddb adapter', () => {
  it('refuses a wrong passphrase with WRONG_PASSPHRASE and keeps the data', async () => {
    const store = await open('wrong');
    await store.putTreeHead(new Uint8Array([1, 2, 3]));
    await store.close();
    await rejectsWith(open('wrong', 'Correct horse'), 'WRONG_PASSPHRASE');
    const again = await open('wrong');
    expect(await again.getTreeHead()).toEqual(new Uint8Array([1, 2, 3]));
    await again.close();
  });

  it('stores no plaintext and no clear account, conversation or server ids', async () => {
    const canary = 'CANARY-7f3a-c291';
    const store = await open('at-rest');
    await store.putProfile({ ...sampleProfile(1), displayName: canary });
    await store.putContact({ ...sampleContact(0xbeef), displayName: canary });
    await store.putConversation({ ...sampleConversation(0xbeef), lastMessagePreview: canary });
    await store.insertMessage({ ...sampleMessage(direct(0xbeef), 1, 1), body: new TextEncoder().encode(canary) });
    await store.putSession(hexId(0xbeef), 1, new TextEncoder().encode(canary));
    await store.markSeen(`server-${canary}`, 1);
    await store.close();
    const haystack = (await dump('at-rest'))
      .map(({ store: s, key, value }) => {
        const bytes = Object.values(value as object).filter((v): v is Uint8Array => v instanceof Uint8Array);
        return `${s} ${JSON.stringify(key)} ${JSON.stringify(value)} ${bytes.map((b) => new TextDecoder().decode(b)).join(' ')}`;
      })
      .join('\n');
    expect(haystack.length).toBeGreaterThan(500);
    expect(haystack.includes(canary)).toBe(false);
    expect(haystack.includes(hexId(0xbeef))).toBe(false);
    // Message ids are random and stay in the clear (documented): the check above is not vacuous.
    expect(haystack.includes(hexId(1))).toBe(true);
  });

  it('binds each record to its key: a value moved to another key does not open', async () => {
    const store = await open('swap');
    await store.insertMessage(sampleMessage(direct(1), 1, 1));
    await store.insertMessage(sampleMessage(direct(1), 2, 2));
    await store.close();
    const db = await raw('swap');
    const tx = db.transaction([STORES.messages], 'readwrite');
    const os = tx.objectStore(STORES.messages);
    const first = await request(os.get(hexId(1)));
    await request(os.put(first, hexId(2)));
    db.close();
    const again = await open('swap');
    expect(await again.getMessage(hexId(1))).toEqual(sampleMessage(direct(1), 1, 1));
    await rejectsWith(again.getMessage(hexId(2)), 'STORE_CORRUPT');
    await again.close();
  });

  it('refuses a database of a newer schema with STORE_TOO_NEW', async () => {
    const db = await request(factory.open('newer', SCHEMA_VERSION + 1));
    db.close();
    await rejectsWith(open('newer'), 'STORE_TOO_NEW');
  });

  it('upgrades a version-1 database to the current schema', async () => {
    const req = factory.open('v1', 1);
    req.onupgradeneeded = (e) => upgradeSchema(req.result, req.transaction!, e.oldVersion, 1);
    const db = await request(req);
    expect(Array.from(db.transaction([STORES.messages]).objectStore(STORES.messages).indexNames)).toEqual([
      'byConversation',
    ]);
    db.close();
    const store = await open('v1');
    await store.insertMessage(sampleMessage(direct(1), 1, 1, { expiresAt: 5 }));
    expect(await store.deleteExpiredMessages(10)).toEqual([{ id: hexId(1), conversationId: direct(1) }]);
    await store.close();
    const after = await raw('v1');
    expect(after.version).toBe(SCHEMA_VERSION);
    after.close();
  });

  it('reports a transaction body that awaited foreign I/O as TRANSACTION_CLOSED', async () => {
    const store = await open('foreign-io');
    await rejectsWith(
      store.transaction(async (tx) => {
        await tx.putSession(hexId(1), 1, new Uint8Array([1]));
        await new Promise((resolve) => setTimeout(resolve, 20));
        await tx.putSession(hexId(1), 2, new Uint8Array([2]));
      }),
      'TRANSACTION_CLOSED',
    );
    // IndexedDB committed the writes made before the foreign await: this is why transaction
    // bodies must await only the store. The store stays usable.
    expect(await store.listSessionDevices(hexId(1))).toEqual([1]);
    await store.putSession(hexId(2), 1, new Uint8Array([3]));
    expect(await store.getSession(hexId(2), 1)).toEqual(new Uint8Array([3]));
    await store.close();
  });
});

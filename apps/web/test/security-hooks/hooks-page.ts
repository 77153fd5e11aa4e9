/**
 * Test-only page, served at /hooks/ on the app's origin (same IndexedDB), never part of the
 * app build. Driven by the URL fragment; publishes `globalThis.__done` ({ ... } or { error }).
 *
 * - `action=keychange&pin=…&profile=…`: records a pending identity-key change on the
 *   profile's only contact, straight in the encrypted store, as the client does when the relay
 *   shows another key (TrustService.recordKeyChange): `keyChange` on the contact plus a
 *   key-history entry.
 * - `action=argon2&pin=…&profile=…`: opens the profile store twice, Argon2id on the main
 *   thread (the app before this change) and in a worker (now), timing each and the longest
 *   gap between animation frames meanwhile (how long the page was frozen).
 * - `action=halfmade&profile=…`: removes the passphrase check record of a profile database,
 *   as a reload in the middle of making filler leaves it (any passphrase would then open it).
 */
import { openIndexedDbStore } from '@vaultex/client/browser';
import { nobleProvider } from '@vaultex/protocol';
import { workerArgon2id } from '../../src/lib/argon2.js';

const params = new URLSearchParams(location.hash.slice(1));
const profile = params.get('profile') ?? 'vaultex-profile';
const pin = params.get('pin') ?? '';

async function keyChange(): Promise<object> {
  const store = await openIndexedDbStore({ name: profile, passphrase: pin });
  try {
    const [contact] = await store.listContacts();
    if (!contact) throw new Error('no contact');
    const newKey = nobleProvider.ed25519PublicKey(crypto.getRandomValues(new Uint8Array(32)));
    const seenAt = Date.now();
    await store.putContact({ ...contact, keyChange: { newKey, seenAt } });
    await store.appendKeyHistory(contact.accountId, { identityKey: newKey, seenAt });
    return { accountId: contact.accountId, history: (await store.listKeyHistory(contact.accountId)).length };
  } finally {
    await store.close();
  }
}

/** Time `work` and the longest gap between animation frames while it runs. */
async function frozen(work: () => Promise<unknown>): Promise<{ ms: number; maxFrameGapMs: number }> {
  let last = performance.now();
  let maxGap = 0;
  let running = true;
  const loop = (t: number) => {
    maxGap = Math.max(maxGap, t - last);
    last = t;
    if (running) requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  await new Promise((r) => requestAnimationFrame(r));
  running = false;
  return { ms: Math.round(ms), maxFrameGapMs: Math.round(maxGap) };
}

async function argon2(): Promise<object> {
  const open = (hook: boolean) => async () => {
    const store = await openIndexedDbStore({
      name: profile,
      passphrase: pin,
      ...(hook ? { argon2id: workerArgon2id() } : {}),
    });
    await store.close();
  };
  const mainThread = await frozen(open(false));
  const worker = await frozen(open(true));
  return { mainThread, worker };
}

async function halfMade(): Promise<object> {
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(profile);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(['meta'], 'readwrite');
      tx.objectStore('meta').delete('check');
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    return { removed: true };
  } finally {
    db.close();
  }
}

const actions: Record<string, () => Promise<object>> = { keychange: keyChange, argon2, halfmade: halfMade };
const out = globalThis as unknown as { __done?: unknown };
(actions[params.get('action') ?? ''] ?? (async () => Promise.reject(new Error('unknown action'))))().then(
  (r) => {
    out.__done = r;
  },
  (e: unknown) => {
    out.__done = { error: String(e) };
  },
);

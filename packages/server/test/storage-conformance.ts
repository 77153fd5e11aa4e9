/**
 * The storage conformance suite: every adapter of `Storage` (SQLite now, PostgreSQL with
 * the scale-out issue) must pass it. Call {@link runStorageConformance} from an adapter's
 * test file with a function that opens a fresh, empty store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountRecord, DeviceRecord, NewAccount, Storage } from '../src/index.js';

const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
const id16 = (n: number) => bytes(16, n);

function account(n: number): AccountRecord {
  return {
    id: id16(n),
    identityKey: bytes(32, n),
    deviceList: bytes(40, n),
    deviceListCounter: 1,
    accessKeyHash: bytes(32, 100 + n),
    createdAt: 0,
  };
}

function device(n: number, deviceId: number): DeviceRecord {
  return {
    accountId: id16(n),
    deviceId,
    deviceKey: bytes(32, 50 + deviceId),
    certificate: bytes(60, deviceId),
    createdAt: 0,
    lastSeenAt: 0,
  };
}

function newAccount(n: number, oneTime = 3): NewAccount {
  return {
    account: account(n),
    device: device(n, 1),
    prekeys: {
      signedPreKey: { id: 1, publicKey: bytes(32, 1), signature: bytes(64, 1) },
      lastResortKemPreKey: { id: 9, publicKey: bytes(1568, 9), signature: bytes(64, 9) },
      oneTimePreKeys: Array.from({ length: oneTime }, (_, i) => ({ id: 10 + i, publicKey: bytes(32, 10 + i) })),
      kemPreKeys: [{ id: 20, publicKey: bytes(1568, 20), signature: bytes(64, 20) }],
    },
    log: { leafHash: bytes(32, 200 + n), entry: bytes(80, n) },
  };
}

/** Run the suite against an adapter. */
export function runStorageConformance(name: string, open: () => Promise<Storage>): void {
  describe(`storage conformance: ${name}`, () => {
    let s: Storage;
    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });

    it('creates an account once, with its device, prekeys and log leaf', async () => {
      expect(await s.createAccount(newAccount(1))).toEqual({ logIndex: 0 });
      expect(await s.createAccount(newAccount(1))).toBe('exists');
      expect(await s.createAccount(newAccount(2))).toEqual({ logIndex: 1 });
      const a = await s.getAccount(id16(1));
      expect(a?.identityKey).toEqual(bytes(32, 1));
      expect((await s.listDevices(id16(1))).map((d) => d.deviceId)).toEqual([1]);
      expect(await s.countPreKeys(id16(1), 1)).toEqual({ oneTime: 3, kem: 1 });
      expect((await s.logLeafHashes()).length).toBe(2);
      expect((await s.latestLogEntry(id16(2)))?.index).toBe(1);
    });

    it('consumes one-time keys once and then falls back to the last-resort KEM key', async () => {
      await s.createAccount(newAccount(1, 2));
      const first = await s.takeBundles(id16(1));
      const second = await s.takeBundles(id16(1));
      const third = await s.takeBundles(id16(1));
      expect(first[0]?.oneTimePreKey?.id).toBe(10);
      expect(first[0]?.kemPreKey).toMatchObject({ id: 20, lastResort: false });
      expect(second[0]?.oneTimePreKey?.id).toBe(11);
      expect(second[0]?.kemPreKey).toMatchObject({ id: 9, lastResort: true });
      expect(third[0]?.oneTimePreKey).toBeUndefined();
      expect(await s.countPreKeys(id16(1), 1)).toEqual({ oneTime: 0, kem: 0 });
    });

    it('never hands the same one-time key to two concurrent takers', async () => {
      await s.createAccount(newAccount(1, 5));
      const takes = await Promise.all(Array.from({ length: 8 }, () => s.takeBundles(id16(1))));
      const ids = takes.map((b) => b[0]?.oneTimePreKey?.id).filter((x) => x !== undefined);
      expect(ids.sort()).toEqual([10, 11, 12, 13, 14]);
    });

    it('refuses prekeys beyond the cap and rolls the whole upload back', async () => {
      await s.createAccount(newAccount(1, 2));
      const more = { oneTimePreKeys: [30, 31, 32].map((id) => ({ id, publicKey: bytes(32, id) })) };
      expect(await s.storePreKeys(id16(1), 1, more, 4)).toBe('too-many');
      expect(await s.countPreKeys(id16(1), 1)).toEqual({ oneTime: 2, kem: 1 });
      expect(await s.storePreKeys(id16(1), 1, { ...more, replaceOneTimePreKeys: true }, 4)).toBe('ok');
      expect(await s.countPreKeys(id16(1), 1)).toEqual({ oneTime: 3, kem: 0 });
    });

    it('stores a blob once for many targets and deletes it after the last ACK', async () => {
      const target = (n: number, d: number) => ({ accountId: id16(n), deviceId: d });
      const r = await s.applyMailboxBatch({
        inserts: [
          {
            id: bytes(16, 7),
            blob: bytes(10, 7),
            expiresAt: 1000,
            targets: [target(1, 1), target(1, 2), target(2, 1)],
          },
        ],
        acks: [],
      });
      expect(r.seqs.length).toBe(1);
      expect((await s.pendingMessages(id16(1), 2, 0, 10, 0)).map((m) => m.blob)).toEqual([bytes(10, 7)]);
      const acks = await s.applyMailboxBatch({
        inserts: [],
        acks: [
          { accountId: id16(1), deviceId: 1, ids: [bytes(16, 7)] },
          { accountId: id16(3), deviceId: 1, ids: [bytes(16, 7)] },
        ],
      });
      expect(acks.acked).toEqual([[bytes(16, 7)], []]);
      expect(await s.pendingMessages(id16(1), 1, 0, 10, 0)).toEqual([]);
      await s.applyMailboxBatch({
        inserts: [],
        acks: [
          { accountId: id16(1), deviceId: 2, ids: [bytes(16, 7)] },
          { accountId: id16(2), deviceId: 1, ids: [bytes(16, 7)] },
        ],
      });
      // The blob is gone: a later ACK of it finds nothing.
      const again = await s.applyMailboxBatch({
        inserts: [],
        acks: [{ accountId: id16(2), deviceId: 1, ids: [bytes(16, 7)] }],
      });
      expect(again.acked).toEqual([[]]);
    });

    it('acknowledges beside inserts in one batch, only what is pending for that device', async () => {
      const target = (n: number, d: number) => ({ accountId: id16(n), deviceId: d });
      const stored = await s.applyMailboxBatch({
        inserts: [
          { id: bytes(16, 21), blob: bytes(10, 21), expiresAt: 1000, targets: [target(1, 1), target(1, 2)] },
          { id: bytes(16, 22), blob: bytes(10, 22), expiresAt: 1000, targets: [target(1, 1)] },
        ],
        acks: [],
      });
      const r = await s.applyMailboxBatch({
        inserts: [{ id: bytes(16, 23), blob: bytes(10, 23), expiresAt: 1000, targets: [target(1, 1)] }],
        acks: [
          // An id never stored, then both messages (reported in request order).
          { accountId: id16(1), deviceId: 1, ids: [bytes(16, 99), bytes(16, 22), bytes(16, 21)] },
          // Message 22 was never for device 2.
          { accountId: id16(1), deviceId: 2, ids: [bytes(16, 22)] },
        ],
      });
      expect(r.seqs).toHaveLength(1);
      expect(r.seqs[0]).toBeGreaterThan(Math.max(...stored.seqs));
      expect(r.acked).toEqual([[bytes(16, 22), bytes(16, 21)], []]);
      expect((await s.pendingMessages(id16(1), 1, 0, 10, 0)).map((m) => m.blob)).toEqual([bytes(10, 23)]);
      expect((await s.pendingMessages(id16(1), 2, 0, 10, 0)).map((m) => m.blob)).toEqual([bytes(10, 21)]);
      // Message 22 had no other target: it is gone, so acknowledging it again finds nothing.
      const again = await s.applyMailboxBatch({
        inserts: [],
        acks: [{ accountId: id16(1), deviceId: 1, ids: [bytes(16, 22)] }],
      });
      expect(again.acked).toEqual([[]]);
    });

    it('delivers in order after a cursor and hides expired messages; prune deletes them', async () => {
      const t = { accountId: id16(1), deviceId: 1 };
      await s.applyMailboxBatch({
        inserts: [1, 2, 3].map((n) => ({ id: bytes(16, n), blob: bytes(4, n), expiresAt: n * 100, targets: [t] })),
        acks: [],
      });
      const all = await s.pendingMessages(id16(1), 1, 0, 10, 0);
      expect(all.map((m) => m.id[0])).toEqual([1, 2, 3]);
      expect((await s.pendingMessages(id16(1), 1, all[0]!.seq, 10, 0)).map((m) => m.id[0])).toEqual([2, 3]);
      expect((await s.pendingMessages(id16(1), 1, 0, 10, 150)).map((m) => m.id[0])).toEqual([2, 3]);
      expect((await s.prune(250)).messages).toBe(2);
      expect((await s.pendingMessages(id16(1), 1, 0, 10, 0)).map((m) => m.id[0])).toEqual([3]);
    });

    it('changes device lists atomically and purges removed devices', async () => {
      await s.createAccount(newAccount(1));
      const add = await s.changeDeviceList({
        accountId: id16(1),
        expectedCounter: 1,
        deviceList: bytes(40, 2),
        counter: 2,
        device: { record: device(1, 2), prekeys: {} },
        removedDeviceIds: [],
        log: { leafHash: bytes(32, 2), entry: bytes(80, 2) },
      });
      expect(add).toEqual({ logIndex: 1 });
      await s.putToken(bytes(32, 1), { accountId: id16(1), deviceId: 1, expiresAt: 10 });
      await s.applyMailboxBatch({
        inserts: [
          { id: bytes(16, 1), blob: bytes(4, 1), expiresAt: 100, targets: [{ accountId: id16(1), deviceId: 1 }] },
        ],
        acks: [],
      });
      const stale = await s.changeDeviceList({
        accountId: id16(1),
        expectedCounter: 1,
        deviceList: bytes(40, 3),
        counter: 3,
        removedDeviceIds: [1],
        log: { leafHash: bytes(32, 3), entry: bytes(80, 3) },
      });
      expect(stale).toBe('stale');
      await s.changeDeviceList({
        accountId: id16(1),
        expectedCounter: 2,
        deviceList: bytes(40, 3),
        counter: 3,
        removedDeviceIds: [1],
        log: { leafHash: bytes(32, 3), entry: bytes(80, 3) },
      });
      expect((await s.listDevices(id16(1))).map((d) => d.deviceId)).toEqual([2]);
      expect(await s.getToken(bytes(32, 1))).toBeUndefined();
      expect(await s.pendingMessages(id16(1), 1, 0, 10, 0)).toEqual([]);
      expect(await s.countPreKeys(id16(1), 1)).toEqual({ oneTime: 0, kem: 0 });
    });

    it('deletes an account with everything it left, keeping only anonymous log leaves', async () => {
      await s.createAccount(newAccount(1));
      await s.createAccount(newAccount(2));
      await s.putToken(bytes(32, 1), { accountId: id16(1), deviceId: 1, expiresAt: 10 });
      await s.applyMailboxBatch({
        inserts: [
          { id: bytes(16, 1), blob: bytes(4, 1), expiresAt: 100, targets: [{ accountId: id16(1), deviceId: 1 }] },
          {
            id: bytes(16, 2),
            blob: bytes(4, 2),
            expiresAt: 100,
            source: { accountId: id16(1), deviceId: 1 },
            targets: [{ accountId: id16(2), deviceId: 1 }],
          },
        ],
        acks: [],
      });
      await s.setDiscoverable(id16(1), 'Alice');
      expect(await s.deleteAccount(id16(1))).toBe(true);
      expect(await s.deleteAccount(id16(1))).toBe(false);
      expect(await s.getAccount(id16(1))).toBeUndefined();
      expect(await s.listDevices(id16(1))).toEqual([]);
      expect(await s.getToken(bytes(32, 1))).toBeUndefined();
      expect(await s.latestLogEntry(id16(1))).toBeUndefined();
      expect((await s.logLeafHashes()).length).toBe(2);
      // What it sent (naming it as the source) is gone from the other mailbox too.
      expect(await s.pendingMessages(id16(2), 1, 0, 10, 0)).toEqual([]);
    });

    it('uses challenges once and only before they expire', async () => {
      await s.putChallenge(bytes(32, 1), 100);
      await s.putChallenge(bytes(32, 2), 100);
      expect(await s.consumeChallenge(bytes(32, 1), 50)).toBe(true);
      expect(await s.consumeChallenge(bytes(32, 1), 50)).toBe(false);
      expect(await s.consumeChallenge(bytes(32, 2), 100)).toBe(false);
    });

    it('searches discoverable names literally and case-insensitively', async () => {
      for (const [n, name] of [
        [1, 'Alice_Smith'],
        [2, 'alicexsmith'],
        [3, '100% Bob'],
        [4, 'Carol'],
      ] as const) {
        await s.createAccount(newAccount(n));
        await s.setDiscoverable(id16(n), name);
      }
      await s.setDiscoverable(id16(4), null);
      const names = async (q: string, exclude = 99) =>
        (await s.searchDiscoverable(q, 10, id16(exclude))).map((u) => u.displayName);
      expect(await names('ALICE')).toEqual(['Alice_Smith', 'alicexsmith']);
      expect(await names('e_s')).toEqual(['Alice_Smith']);
      expect(await names('0%')).toEqual(['100% Bob']);
      expect(await names('%')).toEqual(['100% Bob']);
      expect(await names('carol')).toEqual([]);
      expect(await names('alice', 1)).toEqual(['alicexsmith']);
    });

    it('appends attachment chunks in order within the declared size', async () => {
      await s.createAttachment(bytes(32, 1), { size: 10, chunkSize: 4, received: 0, nextIndex: 0, expiresAt: 100 });
      expect(await s.appendAttachmentChunk(bytes(32, 1), 1, bytes(4, 1))).toBe('conflict');
      expect(await s.appendAttachmentChunk(bytes(32, 1), 0, bytes(3, 1))).toBe('conflict');
      expect(await s.appendAttachmentChunk(bytes(32, 1), 0, bytes(4, 1))).toMatchObject({ received: 4 });
      expect(await s.appendAttachmentChunk(bytes(32, 1), 1, bytes(4, 2))).toMatchObject({ received: 8 });
      expect(await s.appendAttachmentChunk(bytes(32, 1), 2, bytes(4, 3))).toBe('conflict');
      expect(await s.appendAttachmentChunk(bytes(32, 1), 2, bytes(2, 3))).toMatchObject({ received: 10 });
      expect(await s.appendAttachmentChunk(bytes(32, 2), 0, bytes(2, 3))).toBe('missing');
      expect(await s.readAttachmentChunk(bytes(32, 1), 1)).toEqual(bytes(4, 2));
      expect(await s.getAttachment(bytes(32, 1), 100)).toBeUndefined();
      expect((await s.prune(100)).attachments).toBe(1);
      expect(await s.readAttachmentChunk(bytes(32, 1), 1)).toBeUndefined();
    });

    it('replaces an archive only by compare-and-swap on its version, per account', async () => {
      expect(await s.getArchive(id16(1))).toBeUndefined();
      expect(await s.putArchive(id16(1), 1, bytes(10, 1), 0)).toBe('conflict');
      expect(await s.putArchive(id16(1), 0, bytes(10, 1), 3600)).toBe(1);
      expect(await s.putArchive(id16(1), 0, bytes(10, 2), 3600)).toBe('conflict');
      expect(await s.putArchive(id16(1), 2, bytes(10, 2), 3600)).toBe('conflict');
      const big = Uint8Array.from({ length: 2 * 1024 * 1024 + 3 }, (_, i) => (i * 7) & 0xff);
      expect(await s.putArchive(id16(1), 1, big, 7200)).toBe(2);
      const stored = (await s.getArchive(id16(1)))!;
      expect({ ...stored, data: undefined }).toEqual({ version: 2, data: undefined, updatedAt: 7200 });
      // Buffer comparison: a deep equality over 2 MiB element by element takes seconds.
      expect(Buffer.from(stored.data).equals(big)).toBe(true);
      expect(await s.getArchive(id16(2))).toBeUndefined();
      expect(await s.putArchive(id16(2), 0, bytes(5, 5), 0)).toBe(1);
      expect((await s.getArchive(id16(1)))?.version).toBe(2);
    });

    it('lets exactly one of concurrent archive writes naming the same version win', async () => {
      const creates = await Promise.all(Array.from({ length: 6 }, (_, i) => s.putArchive(id16(1), 0, bytes(8, i), 0)));
      expect(creates.filter((r) => r === 1).length).toBe(1);
      const created = (await s.getArchive(id16(1)))!;
      expect(created.data).toEqual(bytes(8, creates.indexOf(1)));
      const updates = await Promise.all(
        Array.from({ length: 6 }, (_, i) => s.putArchive(id16(1), 1, bytes(8, 10 + i), 0)),
      );
      expect(updates.filter((r) => r === 2).length).toBe(1);
      expect(updates.filter((r) => r === 'conflict').length).toBe(5);
      expect(await s.getArchive(id16(1))).toEqual({
        version: 2,
        data: bytes(8, 10 + updates.indexOf(2)),
        updatedAt: 0,
      });
    });

    it('replaces, lists and deletes archive key envelopes; deleting the archive removes them too', async () => {
      const set = (slots: number[], fill = 0) => slots.map((slot) => ({ slot, envelope: bytes(48, fill + slot) }));
      expect(await s.getArchiveKeys(id16(1))).toEqual([]);
      await s.replaceArchiveKeys(id16(1), set([8, 0, 3]));
      expect(await s.getArchiveKeys(id16(1))).toEqual(set([0, 3, 8]));
      await s.replaceArchiveKeys(id16(1), set([1, 2], 100));
      expect(await s.getArchiveKeys(id16(1))).toEqual(set([1, 2], 100));
      expect(await s.deleteArchiveKey(id16(1), 1)).toBe(true);
      expect(await s.deleteArchiveKey(id16(1), 1)).toBe(false);
      expect(await s.getArchiveKeys(id16(1))).toEqual(set([2], 100));
      // Concurrent replacements never interleave: the result is one whole set.
      const sets = [set([0, 1, 2, 3], 10), set([4, 5, 6, 7, 8], 20), set([0, 8], 30)];
      await Promise.all(sets.map((keys) => s.replaceArchiveKeys(id16(1), keys)));
      expect(sets).toContainEqual(await s.getArchiveKeys(id16(1)));
      await s.replaceArchiveKeys(id16(2), set([0]));
      await s.putArchive(id16(1), 0, bytes(4, 1), 0);
      expect(await s.deleteArchive(id16(1))).toBe(true);
      expect(await s.deleteArchive(id16(1))).toBe(false);
      expect(await s.getArchive(id16(1))).toBeUndefined();
      expect(await s.getArchiveKeys(id16(1))).toEqual([]);
      expect(await s.getArchiveKeys(id16(2))).toEqual(set([0]));
      await s.replaceArchiveKeys(id16(2), []);
      expect(await s.getArchiveKeys(id16(2))).toEqual([]);
    });

    it('deletes the archive and its envelopes with the account', async () => {
      await s.createAccount(newAccount(1));
      await s.createAccount(newAccount(2));
      for (const n of [1, 2]) {
        await s.putArchive(id16(n), 0, bytes(16, n), 0);
        await s.replaceArchiveKeys(id16(n), [{ slot: 0, envelope: bytes(48, n) }]);
      }
      expect(await s.deleteAccount(id16(1))).toBe(true);
      expect(await s.getArchive(id16(1))).toBeUndefined();
      expect(await s.getArchiveKeys(id16(1))).toEqual([]);
      expect((await s.getArchive(id16(2)))?.data).toEqual(bytes(16, 2));
      expect(await s.getArchiveKeys(id16(2))).toEqual([{ slot: 0, envelope: bytes(48, 2) }]);
    });

    it('keeps a server secret stable once created', async () => {
      const first = await s.secret('k', () => bytes(32, 1));
      const second = await s.secret('k', () => bytes(32, 2));
      expect(second).toEqual(first);
    });
  });
}

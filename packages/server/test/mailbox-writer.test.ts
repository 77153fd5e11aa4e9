/**
 * Mailbox batches committed by the SQLite adapter's writer thread (a second connection to the
 * same file): a failing batch commits nothing, blobs that are views into larger buffers are
 * stored byte for byte, batches queued together commit in order, and what a batch committed
 * is visible to the main connection as soon as it resolves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStorage } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'vaultex-writer-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const id16 = (k: number) => new Uint8Array(16).fill(k);
const open = () => SqliteStorage.open(join(dir, `db-${++n}.sqlite`));
const target = { accountId: id16(1), deviceId: 1 };

describe('sqlite mailbox writer thread', () => {
  it('rolls a failing batch back whole, acknowledgements included', async () => {
    const s = open();
    try {
      await s.applyMailboxBatch({
        inserts: [{ id: id16(9), blob: new Uint8Array([9]), expiresAt: 100, targets: [target] }],
        acks: [],
      });
      // The second insert repeats a message id: the UNIQUE constraint fails the transaction.
      const failing = s.applyMailboxBatch({
        inserts: [
          { id: id16(10), blob: new Uint8Array([10]), expiresAt: 100, targets: [target] },
          { id: id16(9), blob: new Uint8Array([9]), expiresAt: 100, targets: [target] },
        ],
        acks: [{ ...target, ids: [id16(9)] }],
      });
      await expect(failing).rejects.toThrow(/UNIQUE/u);
      const pending = await s.pendingMessages(id16(1), 1, 0, 10, 0);
      expect(pending.map((m) => m.id[0])).toEqual([9]);
      // The writer is still usable after a failure.
      const next = await s.applyMailboxBatch({ inserts: [], acks: [{ ...target, ids: [id16(9)] }] });
      expect(next.acked).toEqual([[id16(9)]]);
    } finally {
      await s.close();
    }
  });

  it('stores blobs that are views into larger buffers exactly, and keeps queued batches in order', async () => {
    const s = open();
    try {
      const big = new Uint8Array(4096).map((_, i) => i & 0xff);
      const batches = [1, 2, 3, 4].map((k) =>
        s.applyMailboxBatch({
          inserts: [
            {
              id: id16(k),
              blob: big.subarray(k * 100, k * 100 + 50),
              expiresAt: 100,
              source: { accountId: id16(7), deviceId: 3 },
              targets: [target, { accountId: id16(2), deviceId: 5 }],
            },
          ],
          acks: [],
        }),
      );
      const seqs = (await Promise.all(batches)).map((r) => r.seqs[0]!);
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
      const pending = await s.pendingMessages(id16(2), 5, 0, 10, 0);
      expect(pending.map((m) => m.id[0])).toEqual([1, 2, 3, 4]);
      for (const [i, m] of pending.entries()) {
        expect(m.blob).toEqual(big.slice((i + 1) * 100, (i + 1) * 100 + 50));
        expect(m.source).toEqual({ accountId: id16(7), deviceId: 3 });
      }
    } finally {
      await s.close();
    }
  });

  it('commits the same batches in-thread when the writer is turned off', async () => {
    const s = SqliteStorage.open(join(dir, `db-${++n}.sqlite`), { mailboxWorker: false });
    try {
      const r = await s.applyMailboxBatch({
        inserts: [{ id: id16(1), blob: new Uint8Array([1]), expiresAt: 100, targets: [target] }],
        acks: [{ ...target, ids: [id16(5)] }],
      });
      expect(r.seqs).toHaveLength(1);
      expect(r.acked).toEqual([[]]);
    } finally {
      await s.close();
    }
  });
});

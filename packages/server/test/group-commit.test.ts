/**
 * GroupCommit's batching: by default one event-loop turn's inserts and acknowledgements go
 * to the storage as one batch; with `separateAcks` (PostgreSQL) acknowledgements commit in
 * batches of their own, so an insert neither waits for them nor fails with them.
 */
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../src/group-commit.js';
import type { MailboxBatch, MailboxBatchResult, Storage } from '../src/storage/storage.js';

const id16 = (k: number) => new Uint8Array(16).fill(k);
const target = { accountId: id16(1), deviceId: 1 };
const message = (k: number) => ({ id: id16(k), blob: new Uint8Array([k]), expiresAt: 100, targets: [target] });

/** A storage whose batches stay open until the test settles them. */
function stubStorage() {
  const batches: { batch: MailboxBatch; settle: (r: MailboxBatchResult | Error) => void }[] = [];
  const storage = {
    applyMailboxBatch: (batch: MailboxBatch) =>
      new Promise<MailboxBatchResult>((resolve, reject) => {
        batches.push({ batch, settle: (r) => (r instanceof Error ? reject(r) : resolve(r)) });
      }),
  };
  // Only applyMailboxBatch is used by GroupCommit; the rest of the interface is irrelevant here.
  return { storage: storage as unknown as Storage, batches };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('GroupCommit', () => {
  it('commits the inserts and acknowledgements of one turn in one batch by default', async () => {
    const { storage, batches } = stubStorage();
    const commit = new GroupCommit(storage, true, 2);
    const inserted = commit.insert([message(1)]);
    const acked = commit.ack({ ...target, ids: [id16(9)] });
    await turn();
    expect(batches).toHaveLength(1);
    expect(batches[0]!.batch.inserts).toHaveLength(1);
    expect(batches[0]!.batch.acks).toHaveLength(1);
    batches[0]!.settle({ seqs: [5], acked: [[id16(9)]] });
    expect(await inserted).toEqual([5]);
    expect(await acked).toEqual([id16(9)]);
  });

  it('with separateAcks, commits acknowledgements apart: inserts neither wait for them nor fail with them', async () => {
    const { storage, batches } = stubStorage();
    const commit = new GroupCommit(storage, true, 2, true);
    const sizes: number[] = [];
    commit.onCommit = (operations) => sizes.push(operations);
    const acked = commit.ack({ ...target, ids: [id16(9)] });
    const inserted = commit.insert([message(1)]);
    await turn();
    expect(batches).toHaveLength(2);
    const ackBatch = batches.find((b) => b.batch.acks.length > 0)!;
    const insertBatch = batches.find((b) => b.batch.inserts.length > 0)!;
    expect(ackBatch.batch.inserts).toEqual([]);
    expect(insertBatch.batch.acks).toEqual([]);
    // The insert resolves while the acknowledgement's batch is still open...
    insertBatch.settle({ seqs: [7], acked: [] });
    expect(await inserted).toEqual([7]);
    // ...and that batch's failure reaches only its own callers.
    ackBatch.settle(new Error('ack batch failed'));
    await expect(acked).rejects.toThrow('ack batch failed');
    expect(sizes).toEqual([1]);
    const flushed = commit.flush();
    await expect(flushed).resolves.toBeUndefined();
  });
});

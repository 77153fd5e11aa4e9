/**
 * Group commit for the mailbox: every insert and acknowledgement queued during one
 * event-loop turn is committed in one transaction (one fsync with synchronous=FULL), and
 * each caller's promise resolves only after that commit. This is what makes a send's
 * acknowledgement mean "durable".
 *
 * With a database across the network (PostgreSQL) a commit is mostly waiting: round trips
 * and the server's fsync. Up to `maxInFlight` batches may then be committing at once, each
 * taking what queued up meanwhile, so that waiting overlaps. Order is not at stake: an
 * operation is resolved only after its own commit, an acknowledgement names a message
 * delivered (so committed) before, and the storage keeps message seqs in commit order.
 * For the same reasons acknowledgements may be committed in batches of their own, beside
 * the inserts' (`separateAcks`).
 */
import type { AckRequest, MailboxBatchResult, NewMessage, Storage } from './storage/storage.js';

type Pending =
  | { kind: 'insert'; items: readonly NewMessage[]; resolve: (seqs: number[]) => void; reject: (e: unknown) => void }
  | { kind: 'ack'; ack: AckRequest; resolve: (ids: Uint8Array[]) => void; reject: (e: unknown) => void };

/** Queues mailbox writes and commits them once per event-loop turn. */
export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly running = new Set<Promise<void>>();
  /** Called after each commit with the number of operations it held (metrics). */
  onCommit: ((operations: number, ms: number) => void) | undefined;

  /** Where acknowledgements go: this queue, or a queue of their own (`separateAcks`). */
  private readonly acks: GroupCommit;

  /**
   * @param grouped - false commits every operation in its own transaction (for comparison
   *   in the benchmark; production keeps the default).
   * @param separateAcks - commit acknowledgements in batches of their own, beside the
   *   inserts' (PostgreSQL): an insert then waits neither for the acknowledgements' round
   *   trips nor holds the storage's seq-order lock through them.
   */
  constructor(
    private readonly storage: Storage,
    private readonly grouped = true,
    /** Batches committing at once per queue (1 for SQLite, whose writes are serial anyway). */
    private readonly maxInFlight = 1,
    separateAcks = false,
  ) {
    if (separateAcks) {
      this.acks = new GroupCommit(storage, grouped, maxInFlight);
      this.acks.onCommit = (operations, ms) => this.onCommit?.(operations, ms);
    } else {
      this.acks = this;
    }
  }

  /** Store messages; resolves with their seqs once committed. */
  insert(items: readonly NewMessage[]): Promise<number[]> {
    return new Promise((resolve, reject) => this.enqueue({ kind: 'insert', items, resolve, reject }));
  }

  /** Acknowledge; resolves with the ids that were pending for the device once committed. */
  ack(ack: AckRequest): Promise<Uint8Array[]> {
    return new Promise((resolve, reject) => this.acks.enqueue({ kind: 'ack', ack, resolve, reject }));
  }

  /** Resolves when everything queued so far is committed. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.scheduled || this.running.size > 0) {
      await Promise.allSettled(this.running);
      await new Promise((r) => setImmediate(r));
    }
    if (this.acks !== this) await this.acks.flush();
  }

  private enqueue(op: Pending): void {
    this.queue.push(op);
    this.schedule();
  }

  /** Start a batch at the end of this event-loop turn, unless one is due or all slots are busy. */
  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.running.size >= this.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.queue.length === 0 || this.running.size >= this.maxInFlight) return;
      const batch = this.commit();
      this.running.add(batch);
      // Storage failures go to the callers' promises; anything else must not stall the queue.
      const done = () => {
        this.running.delete(batch);
        this.schedule();
      };
      batch.then(done, done);
    });
  }

  private async commit(): Promise<void> {
    const queued = this.queue;
    this.queue = [];
    if (this.grouped) await this.commitBatch(queued);
    else for (const op of queued) await this.commitBatch([op]);
  }

  private async commitBatch(ops: Pending[]): Promise<void> {
    if (ops.length === 0) return;
    const inserts: NewMessage[] = [];
    const acks: AckRequest[] = [];
    for (const op of ops) {
      if (op.kind === 'insert') inserts.push(...op.items);
      else acks.push(op.ack);
    }
    const started = performance.now();
    let result: MailboxBatchResult;
    try {
      result = await this.storage.applyMailboxBatch({ inserts, acks });
    } catch (e) {
      for (const op of ops) op.reject(e);
      return;
    }
    this.onCommit?.(ops.length, performance.now() - started);
    let seqOffset = 0;
    let ackIndex = 0;
    for (const op of ops) {
      if (op.kind === 'insert') {
        op.resolve(result.seqs.slice(seqOffset, seqOffset + op.items.length) as number[]);
        seqOffset += op.items.length;
      } else {
        op.resolve((result.acked[ackIndex++] ?? []) as Uint8Array[]);
      }
    }
  }
}

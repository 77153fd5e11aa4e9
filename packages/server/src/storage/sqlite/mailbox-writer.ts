/**
 * Mailbox batches committed on a worker thread. better-sqlite3 is synchronous, so on the
 * main thread every group commit stopped the event loop for its statements and its fsync
 * (synchronous=FULL): no frame was read and no message delivered meanwhile. Here a second
 * connection to the same WAL database, owned by a worker, runs the batch while the main
 * thread goes on; SQLite's write lock orders it with the main connection's own writes, and
 * main-connection reads see a batch as soon as it has resolved (WAL snapshot rule).
 *
 * A batch crosses the thread boundary as one transferred buffer (no structured clone of
 * blobs: a blob may be a view into a much larger socket buffer). The worker's source is a
 * plain JavaScript string so that it runs the same from TypeScript sources (tsx, vitest)
 * and from the compiled package.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { MailboxBatch, MailboxBatchResult } from '../storage.js';

/** The mailbox statements, shared with the in-thread path of the SQLite adapter. */
export const MAILBOX_SQL = {
  insertMessage:
    'INSERT INTO messages (id, blob, source_account, source_device, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING seq',
  insertTarget: 'INSERT INTO message_targets (account_id, device_id, message_seq) VALUES (?, ?, ?)',
  takeTarget: `DELETE FROM message_targets WHERE account_id = ? AND device_id = ?
       AND message_seq = (SELECT seq FROM messages WHERE id = ?) RETURNING message_seq`,
  // The blob goes with its last target.
  dropIfDone: 'DELETE FROM messages WHERE seq = ? AND NOT EXISTS (SELECT 1 FROM message_targets WHERE message_seq = ?)',
} as const;

const ID = 16;

/*
 * Batch layout, little-endian: u32 inserts, u32 acks; per insert: id(16), u32 blob length,
 * blob, u8 has-source, [source account(16), u32 source device], f64 expiresAt, u32 targets,
 * targets x (account(16), u32 device); per ack: account(16), u32 device, u32 ids, ids x 16.
 */
function encodeBatch(batch: MailboxBatch): ArrayBuffer {
  let size = 8;
  for (const m of batch.inserts)
    size += ID + 4 + m.blob.length + 1 + (m.source ? ID + 4 : 0) + 8 + 4 + m.targets.length * (ID + 4);
  for (const a of batch.acks) size += ID + 4 + 4 + a.ids.length * ID;
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  let o = 0;
  const u32 = (n: number) => {
    view.setUint32(o, n, true);
    o += 4;
  };
  const put = (b: Uint8Array) => {
    bytes.set(b, o);
    o += b.length;
  };
  u32(batch.inserts.length);
  u32(batch.acks.length);
  for (const m of batch.inserts) {
    put(m.id);
    u32(m.blob.length);
    put(m.blob);
    bytes[o++] = m.source ? 1 : 0;
    if (m.source) {
      put(m.source.accountId);
      u32(m.source.deviceId);
    }
    view.setFloat64(o, m.expiresAt, true);
    o += 8;
    u32(m.targets.length);
    for (const t of m.targets) {
      put(t.accountId);
      u32(t.deviceId);
    }
  }
  for (const a of batch.acks) {
    put(a.accountId);
    u32(a.deviceId);
    u32(a.ids.length);
    for (const id of a.ids) put(id);
  }
  return buffer;
}

const WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
const sql = workerData.sql;
const insertMessage = db.prepare(sql.insertMessage).pluck();
const insertTarget = db.prepare(sql.insertTarget);
const takeTarget = db.prepare(sql.takeTarget).pluck();
const dropIfDone = db.prepare(sql.dropIfDone);
const apply = db.transaction((buf) => {
  let o = 8;
  const inserts = buf.readUInt32LE(0);
  const acks = buf.readUInt32LE(4);
  const take = (n) => { const b = buf.subarray(o, o + n); o += n; return b; };
  const u32 = () => { const n = buf.readUInt32LE(o); o += 4; return n; };
  const seqs = new Array(inserts);
  for (let i = 0; i < inserts; i++) {
    const id = take(16);
    const blob = take(u32());
    const hasSource = buf[o++] === 1;
    const sourceAccount = hasSource ? take(16) : null;
    const sourceDevice = hasSource ? u32() : null;
    const expiresAt = buf.readDoubleLE(o); o += 8;
    const seq = insertMessage.get(id, blob, sourceAccount, sourceDevice, expiresAt);
    const targets = u32();
    for (let t = 0; t < targets; t++) insertTarget.run(take(16), u32(), seq);
    seqs[i] = seq;
  }
  const acked = new Array(acks);
  for (let a = 0; a < acks; a++) {
    const account = take(16);
    const device = u32();
    const n = u32();
    const done = [];
    for (let k = 0; k < n; k++) {
      const seq = takeTarget.get(account, device, take(16));
      if (seq === undefined) continue;
      done.push(k);
      dropIfDone.run(seq, seq);
    }
    acked[a] = done;
  }
  return { seqs, acked };
});
parentPort.on('message', (msg) => {
  if (msg.close) { db.close(); parentPort.close(); return; }
  try {
    parentPort.postMessage({ id: msg.id, result: apply.immediate(Buffer.from(msg.batch)) });
  } catch (e) {
    parentPort.postMessage({ id: msg.id, error: e && e.message ? String(e.message) : 'mailbox batch failed' });
  }
});
`;

interface Reply {
  readonly id: number;
  readonly result?: { seqs: number[]; acked: number[][] };
  readonly error?: string;
}

/** Commits mailbox batches on a worker thread with its own connection to `file`. */
export class MailboxWriter {
  private worker: Worker | undefined;
  private readonly pending = new Map<
    number,
    { batch: MailboxBatch; resolve: (r: MailboxBatchResult) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;

  constructor(
    private readonly file: string,
    private readonly busyTimeoutMs: number,
  ) {}

  /**
   * Commit a batch in one transaction on the worker's connection.
   * @throws Error when the transaction fails (nothing of it is committed) or the worker dies.
   */
  apply(batch: MailboxBatch): Promise<MailboxBatchResult> {
    const worker = this.start();
    const id = ++this.nextId;
    const encoded = encodeBatch(batch);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { batch, resolve, reject });
      // Referenced only while a batch is in flight, so an idle writer never keeps a process alive.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, batch: encoded }, [encoded]);
    });
  }

  /** Stop the worker after the batches in flight (its connection closes). */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // An idle worker is unreferenced; without this, a process whose only remaining work is
    // this close would exit (code 13: unsettled top-level await) before the worker does.
    worker.ref();
    worker.postMessage({ close: true });
    await exited;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file: this.file,
        busyTimeoutMs: this.busyTimeoutMs,
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        sql: MAILBOX_SQL,
      },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => this.settle(reply));
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the mailbox writer stopped (exit code ${code})`)));
    this.worker = worker;
    return worker;
  }

  private settle(reply: Reply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.error !== undefined || !reply.result) {
      p.reject(new Error(reply.error ?? 'mailbox batch failed'));
      return;
    }
    const { seqs, acked } = reply.result;
    p.resolve({ seqs, acked: acked.map((indices, a) => indices.map((k) => p.batch.acks[a]!.ids[k]!)) });
  }
}

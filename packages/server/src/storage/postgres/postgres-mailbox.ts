/**
 * The mailbox group commit on PostgreSQL in as few round trips as the guarantees allow:
 * every round trip inside the mailbox lock is paid by every instance waiting for it, and
 * with several instances the holder's event loop is busy with WebSocket traffic, so each
 * one costs far more than the loopback latency.
 *
 * - Inserts only (one statement, autocommit): the lock, the messages and their targets in
 *   one data-modifying CTE. The lock is taken before any seq is drawn (every inserted row
 *   joins the lock's row), and held until the statement's own commit, so seqs still commit
 *   in seq order.
 * - With acknowledgements (one transaction, five round trips, the mailbox lock held for the
 *   last two): `BEGIN`; lock the acknowledged messages in seq order (which also maps their
 *   ids to seqs); delete this device's targets by primary key; the inserts as above; then,
 *   in one simple-protocol query, drop the messages left without targets and `COMMIT`. The
 *   row lock and the drop are statements of their own: the drop's snapshot, taken after
 *   the row locks, must see targets other devices removed meanwhile, and the planner keeps
 *   the tables' statistics (folding the lock into the DELETE through a CTE made
 *   PostgreSQL's CPU per message three times higher). The relay's group commit sends
 *   acknowledgements in batches of their own (four round trips, no mailbox lock), so
 *   inserts never hold the lock through these round trips; mixed batches still work.
 *
 * Inserted bytes travel packed into binary parameters (see {@link pack}); acknowledged ids
 * (16 bytes each) as arrays. Statements are named (prepared once per connection).
 * Deadlocks and serialization failures re-run the whole batch.
 */
import type pg from 'pg';
import { bytes, type Row } from '../rows.js';
import type { MailboxBatch, MailboxBatchResult, NewMessage } from '../storage.js';
import { buf } from './pg-values.js';

/** The mailbox advisory lock of postgres-storage.ts (same key: instances must agree). */
const LOCK_MAILBOX = [0x7661_756c, 2] as const;
const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

const hexOf = (value: Uint8Array): string =>
  Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');

/**
 * `substring` of a packed bytea parameter (see {@link pack}): the value at offset `at` with
 * length `len`, NULL for a negative length.
 */
const slice = (param: number, at: string, len: string): string =>
  `CASE WHEN ${len} < 0 THEN NULL ELSE substring($${param}::bytea FROM ${at} FOR ${len}) END`;

const INSERT_SQL = `WITH lock AS MATERIALIZED (SELECT pg_advisory_xact_lock($1::int, $2::int)),
ins AS (
  INSERT INTO messages (id, blob, source_account, source_device, expires_at)
  SELECT ${slice(3, 'u.id_at', 'u.id_len')}, ${slice(5, 'u.blob_at', 'u.blob_len')},
    ${slice(7, 'u.src_at', 'u.src_len')}, u.source_device, u.expires_at
  FROM lock, unnest($4::int[], $6::int[], $8::int[], $9::int[], $10::int[], $11::int[], $12::bigint[], $13::bigint[])
    WITH ORDINALITY AS u(id_at, blob_at, src_at, id_len, blob_len, src_len, source_device, expires_at, n)
  ORDER BY u.n
  RETURNING seq, id
),
targets AS (
  INSERT INTO message_targets (account_id, device_id, message_seq)
  SELECT ${slice(14, 't.acc_at', 't.acc_len')}, t.device_id, ins.seq
  FROM unnest($15::int[], $16::int[], $17::bigint[], $18::int[]) AS t(acc_at, acc_len, device_id, m)
  JOIN ins ON ins.id = substring($3::bytea FROM ($4::int[])[t.m] FOR ($9::int[])[t.m])
)
SELECT seq, id FROM ins`;

/** Lock the acknowledged messages in seq order (no deadlock between batches); their seqs key the delete. */
const LOCK_SQL = 'SELECT seq, id FROM messages WHERE id = ANY($1::bytea[]) ORDER BY seq FOR UPDATE';

/**
 * Delete this device's targets by their whole primary key; `k` is the 1-based position in
 * the arrays. Joining `messages` by id here instead let the planner walk all of a device's
 * pending targets for every acknowledged id (33 buffer hits per message, a third of
 * PostgreSQL's CPU per message in the scale benchmark).
 */
const ACK_SQL = `DELETE FROM message_targets t
USING unnest($1::bytea[], $2::bigint[], $3::bigint[]) WITH ORDINALITY AS r(account_id, device_id, seq, k)
WHERE t.account_id = r.account_id AND t.device_id = r.device_id AND t.message_seq = r.seq
RETURNING r.k`;

/**
 * Byte strings as one binary parameter plus 1-based offsets and lengths (-1: NULL). The
 * driver sends a Buffer parameter as binary but an array of them as a hex text literal,
 * which doubles the bytes and costs both ends a hex conversion per blob.
 */
function pack(values: readonly (Uint8Array | null | undefined)[]): [Buffer, number[], number[]] {
  let total = 0;
  for (const v of values) total += v ? v.length : 0;
  const out = Buffer.allocUnsafe(total);
  const at: number[] = [];
  const len: number[] = [];
  let offset = 0;
  for (const v of values) {
    at.push(offset + 1);
    if (v) {
      out.set(v, offset);
      offset += v.length;
      len.push(v.length);
    } else {
      len.push(-1);
    }
  }
  return [out, at, len];
}

function insertQuery(inserts: readonly NewMessage[]): pg.QueryConfig {
  const accounts: Uint8Array[] = [];
  const devices: number[] = [];
  const owners: number[] = [];
  inserts.forEach((m, i) => {
    for (const t of m.targets) {
      accounts.push(t.accountId);
      devices.push(t.deviceId);
      owners.push(i + 1);
    }
  });
  const [ids, idAt, idLen] = pack(inserts.map((m) => m.id));
  const [blobs, blobAt, blobLen] = pack(inserts.map((m) => m.blob));
  const [sources, srcAt, srcLen] = pack(inserts.map((m) => m.source?.accountId));
  const [accs, accAt, accLen] = pack(accounts);
  return {
    name: 'vaultex_mailbox_insert',
    text: INSERT_SQL,
    values: [
      ...LOCK_MAILBOX,
      ids,
      idAt,
      blobs,
      blobAt,
      sources,
      srcAt,
      idLen,
      blobLen,
      srcLen,
      inserts.map((m) => m.source?.deviceId ?? null),
      inserts.map((m) => m.expiresAt),
      accs,
      accAt,
      accLen,
      devices,
      owners,
    ],
  };
}

/** Seqs in request order (RETURNING order is not promised). */
function seqsOf(inserts: readonly NewMessage[], rows: readonly Row[]): number[] {
  const seqOf = new Map<string, number>();
  for (const r of rows) seqOf.set(hexOf(bytes(r.id)), r.seq as number);
  return inserts.map((m) => seqOf.get(hexOf(m.id))!);
}

/** Swallows 'error' events of a checked-out client: the failure reaches us through the pending query. */
function ignoreClientError(): void {}

async function withRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (attempt >= MAX_ATTEMPTS || code === undefined || !RETRYABLE.has(code)) throw e;
    }
  }
}

/**
 * Apply one group commit's inserts and acknowledgements atomically.
 * @throws Error from PostgreSQL (after retrying deadlocks and serialization failures).
 */
export async function applyPostgresMailboxBatch(pool: pg.Pool, batch: MailboxBatch): Promise<MailboxBatchResult> {
  const { inserts, acks } = batch;
  if (acks.length === 0) {
    if (inserts.length === 0) return { seqs: [], acked: [] };
    const r = await withRetry(() => pool.query(insertQuery(inserts)));
    return { seqs: seqsOf(inserts, r.rows as Row[]), acked: [] };
  }
  return withRetry(() => inTransaction(pool, batch));
}

async function inTransaction(pool: pg.Pool, batch: MailboxBatch): Promise<MailboxBatchResult> {
  const { inserts, acks } = batch;
  const ids: Buffer[] = [];
  for (const ack of acks) for (const id of ack.ids) ids.push(buf(id));
  const c = await pool.connect();
  c.on('error', ignoreClientError);
  try {
    await c.query('BEGIN');
    const locked = await c.query({ name: 'vaultex_mailbox_lock', text: LOCK_SQL, values: [ids] });
    const seqOf = new Map<string, number>();
    for (const r of locked.rows as Row[]) seqOf.set(hexOf(bytes(r.id)), r.seq as number);
    // One row per acknowledged id that is still stored: request index, id and seq.
    const owner: number[] = [];
    const ackedIds: Uint8Array[] = [];
    const seqs: number[] = [];
    const accounts: Buffer[] = [];
    const devices: number[] = [];
    acks.forEach((ack, i) => {
      const account = buf(ack.accountId);
      for (const id of ack.ids) {
        const seq = seqOf.get(hexOf(id));
        if (seq === undefined) continue;
        owner.push(i);
        ackedIds.push(id);
        seqs.push(seq);
        accounts.push(account);
        devices.push(ack.deviceId);
      }
    });
    const done =
      seqs.length === 0
        ? { rows: [] }
        : await c.query({ name: 'vaultex_mailbox_ack', text: ACK_SQL, values: [accounts, devices, seqs] });
    const inserted = inserts.length > 0 ? seqsOf(inserts, (await c.query(insertQuery(inserts))).rows as Row[]) : [];
    const got: Set<string>[] = acks.map(() => new Set());
    const touched = new Set<number>();
    for (const r of done.rows as Row[]) {
      // k: the 1-based position in the delete's arrays (saves returning the id's bytes).
      const k = Number(r.k) - 1;
      got[owner[k]!]!.add(hexOf(ackedIds[k]!));
      touched.add(seqs[k]!);
    }
    // Seqs are integers from our own rows, safe to inline: the drop and the COMMIT share one round trip.
    const drop =
      touched.size === 0
        ? ''
        : `DELETE FROM messages m WHERE m.seq = ANY('{${[...touched].map((s) => Math.trunc(s)).join(',')}}'::bigint[])
           AND NOT EXISTS (SELECT 1 FROM message_targets t WHERE t.message_seq = m.seq); `;
    await c.query(`${drop}COMMIT`);
    c.off('error', ignoreClientError);
    c.release();
    // Report in request order, whatever order the DELETE returned rows in.
    return { seqs: inserted, acked: acks.map((ack, i) => ack.ids.filter((id) => got[i]!.has(hexOf(id)))) };
  } catch (e) {
    // A failed ROLLBACK means the connection is broken: drop it from the pool.
    const broken = await c.query('ROLLBACK').then(
      () => false,
      () => true,
    );
    c.off('error', ignoreClientError);
    c.release(broken);
    throw e;
  }
}

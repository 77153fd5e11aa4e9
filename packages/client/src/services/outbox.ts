/**
 * The persisted outbox. Everything that must reach other devices (messages, receipts,
 * syncs, session resets) is first written to the store as a job, in the same transaction
 * as the message it belongs to. A worker then, per job:
 *
 * 1. prepares it once: fetches bundles for devices without a session, encrypts the content
 *    for every recipient device (and the sent transcript for our other devices), seals each
 *    ciphertext, and stores the envelopes in the job together with the advanced sessions in
 *    one transaction — so after a crash the very same envelopes are sent again, never a
 *    second encryption of the same message;
 * 2. sends each part (recipient: sealed when its access key is known; our own devices:
 *    authenticated) and records each part done;
 * 3. removes the job and marks the message 'sent' in one transaction.
 *
 * Jobs to one account go out in creation order: a job waits while an older one to the same
 * account is pending. Transient failures retry with exponential backoff and full jitter;
 * permanent ones (an untrusted key, a failed transparency proof, an unknown recipient)
 * mark the message 'failed'.
 */

import { MAX_TTL_SECONDS } from '@vaultex/api';
import { decodeDeviceCertificate, decodeWire, encodeWire, isProtocolError, pad, seal } from '@vaultex/protocol';
import { decodeContent, encodeContent, MAX_RECEIPT_IDS } from '../content.js';
import type { ClientContext } from '../context.js';
import { ClientError } from '../errors.js';
import type { ClientStore } from '../storage/client-store.js';
import type { OutboxRecord } from '../storage/records.js';
import { backoffDelay, OUTBOX_BACKOFF } from '../transport/backoff.js';
import { isRelayError, RelayError } from '../transport/http.js';
import type { RelaySocket } from '../transport/socket.js';
import type { DeviceService } from './devices.js';
import type { SessionService } from './sessions.js';

/** Job kinds (the outbox record's `kind`). */
export type JobKind = 'message' | 'receipt' | 'control';

/** Envelopes for the devices of one account. */
export interface PreparedPart {
  readonly account: string;
  readonly done: boolean;
  readonly blobs: readonly { readonly deviceId: number; readonly blob: Uint8Array }[];
}

/** What a job sends. */
export interface OutboxJob {
  /** The recipient account (our own for jobs only our other devices get). */
  readonly to: string;
  /** Encoded content for the recipient's devices. */
  readonly content: Uint8Array;
  /** Encoded content for our other devices (a sent transcript). */
  readonly transcript?: Uint8Array;
  /** The local message whose status follows this job. */
  readonly messageId?: string;
  /** Envelopes, once encrypted. */
  readonly prepared?: readonly PreparedPart[];
  /** How long the relay may keep the copies (a disappearing message's timer); the relay's default otherwise. */
  readonly ttlSeconds?: number;
}

/** Encode a job as an outbox payload. */
export function encodeJob(job: OutboxJob): Uint8Array {
  // Version 2 only adds the relay TTL: jobs without one stay readable by older code.
  return encodeWire([
    job.ttlSeconds === undefined ? 1 : 2,
    job.to,
    job.content,
    job.transcript ?? null,
    job.messageId ?? null,
    job.prepared ? job.prepared.map((p) => [p.account, p.done, p.blobs.map((b) => [b.deviceId, b.blob])]) : null,
    ...(job.ttlSeconds === undefined ? [] : [job.ttlSeconds]),
  ]);
}

/** Decode an outbox payload. */
export function decodeJob(bytes: Uint8Array): OutboxJob {
  return decodeWire(bytes, {
    what: 'outbox job',
    versions: [1, 2],
    read: (r, version) => {
      const to = r.string('to', 32);
      const content = r.bytes('content');
      const transcript = r.optionalBytes('transcript');
      const messageId = r.raw('messageId');
      const prepared = r.raw('prepared');
      const ttlSeconds = version === 2 ? r.uint('ttlSeconds', MAX_TTL_SECONDS) : undefined;
      r.end();
      const job: OutboxJob = {
        to,
        content,
        ...(transcript ? { transcript } : {}),
        ...(typeof messageId === 'string' ? { messageId } : {}),
        ...(ttlSeconds ? { ttlSeconds } : {}),
      };
      if (prepared === null) return job;
      return { ...job, prepared: readParts(prepared) };
    },
  });
}

function readParts(value: unknown): PreparedPart[] {
  if (!Array.isArray(value)) throw new ClientError('STORE_CORRUPT', 'outbox job: bad prepared parts');
  return value.map((p) => {
    if (!Array.isArray(p) || p.length !== 3 || typeof p[0] !== 'string' || typeof p[1] !== 'boolean') {
      throw new ClientError('STORE_CORRUPT', 'outbox job: bad part');
    }
    const blobs = (p[2] as unknown[]).map((b) => {
      if (!Array.isArray(b) || typeof b[0] !== 'number' || !(b[1] instanceof Uint8Array)) {
        throw new ClientError('STORE_CORRUPT', 'outbox job: bad blob');
      }
      return { deviceId: b[0], blob: new Uint8Array(b[1]) };
    });
    return { account: p[0], done: p[1], blobs };
  });
}

/** Whether a failure will not go away by retrying. */
export function isPermanentFailure(e: unknown): boolean {
  if (e instanceof RelayError) {
    return ['BAD_REQUEST', 'UNKNOWN_RECIPIENT', 'PAYLOAD_TOO_LARGE', 'NOT_FOUND', 'TOO_MANY_DEVICES'].includes(
      e.apiCode,
    );
  }
  if (e instanceof ClientError) {
    return ['UNTRUSTED_IDENTITY', 'CONTACT_BLOCKED', 'NOT_FOUND', 'INVALID_RESPONSE', 'INVALID_ARGUMENT'].includes(
      e.code,
    );
  }
  // Failed transparency proofs, forged device lists, bad bundles: never retried silently.
  return isProtocolError(e);
}

type Outcome = 'done' | 'retry' | 'failed';

/** Jobs read per pass; a full page that made progress is followed by another pass at once. */
export const OUTBOX_PAGE = 1000;

/** The outbox worker. */
export class OutboxService {
  private running = false;
  private busy: Promise<void> | undefined;
  private again = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  socket: RelaySocket | undefined;
  /** Sends queued group messages (outbox records of kind 'group'); set by the client. */
  groupJobs:
    | ((rec: OutboxRecord, waiting: ReadonlySet<string>) => Promise<'done' | 'retry' | 'failed' | 'wait'>)
    | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly sessions: SessionService,
    private readonly devices: DeviceService,
  ) {}

  /**
   * Queue a job inside `tx` (the caller's transaction). Call {@link kick} after it commits.
   */
  async enqueue(kind: JobKind, job: OutboxJob, tx: ClientStore): Promise<void> {
    const now = this.ctx.clock();
    await tx.enqueueOutbox({
      id: this.ctx.newId(),
      createdAt: this.ctx.nextOutboxAt(),
      attempts: 0,
      nextAttemptAt: now,
      kind,
      payload: encodeJob(job),
    });
  }

  /** Start working (and keep working as jobs come in). */
  start(): void {
    this.running = true;
    this.kick();
  }

  /** Stop scheduling; waits for the job in progress. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.busy;
  }

  /** Run soon (new job, connection back). */
  kick(): void {
    if (!this.running) return;
    void this.run();
  }

  /** Run passes until nothing due is left that can make progress; returns when idle. */
  async flush(): Promise<void> {
    await this.run();
  }

  private run(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return this.busy;
    }
    this.busy = (async () => {
      try {
        do {
          this.again = false;
          const next = await this.pass();
          this.schedule(next);
        } while (this.again);
      } catch (error) {
        this.ctx.emitter.emit('error', { error, context: 'outbox' });
        this.schedule(this.ctx.clock() + OUTBOX_BACKOFF.baseMs);
      } finally {
        this.busy = undefined;
      }
    })();
    return this.busy;
  }

  private schedule(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.running || !Number.isFinite(at)) return;
    const delay = Math.max(0, at - this.ctx.clock());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delay);
  }

  /** One pass over the queue; returns when the next job becomes due (Infinity when none). */
  private async pass(): Promise<number> {
    const { ctx } = this;
    const records = await ctx.store.listDueOutbox(Number.MAX_SAFE_INTEGER, OUTBOX_PAGE);
    records.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const waiting = new Set<string>();
    const merged = new Set<string>();
    let next = Number.POSITIVE_INFINITY;
    let progressed = false;
    for (const rec of records) {
      if (merged.has(rec.id)) continue;
      // Upload state of an attachment (services/attachments.ts), not something to send.
      if (rec.kind === 'attachment-upload') continue;
      if (rec.kind === 'group') {
        // Group messages (one blob, many accounts) are sent by the group service, after
        // the pairwise jobs queued before them (our sender key) unless those wait.
        if (!this.groupJobs) continue;
        if (rec.nextAttemptAt > ctx.clock()) {
          next = Math.min(next, rec.nextAttemptAt);
          continue;
        }
        const outcome = await this.groupJobs(rec, waiting);
        if (outcome === 'done' || outcome === 'failed') progressed = true;
        if (outcome === 'retry') {
          const stored = await ctx.store.getOutbox(rec.id);
          if (stored) next = Math.min(next, stored.nextAttemptAt);
        }
        continue;
      }
      let job: OutboxJob;
      try {
        job = decodeJob(rec.payload);
      } catch (error) {
        ctx.emitter.emit('error', { error, context: 'outbox: unreadable job dropped' });
        await ctx.store.removeOutbox(rec.id);
        progressed = true;
        continue;
      }
      if (waiting.has(job.to)) continue;
      if (rec.nextAttemptAt > ctx.clock()) {
        waiting.add(job.to);
        next = Math.min(next, rec.nextAttemptAt);
        continue;
      }
      if (rec.kind === 'receipt' && !job.prepared) {
        const absorbed = await this.mergeReceipts(rec, job, records, merged);
        if (absorbed) job = absorbed;
      }
      const outcome = await this.process(rec, job);
      if (outcome !== 'retry') progressed = true;
      if (outcome === 'retry') {
        waiting.add(job.to);
        const stored = await ctx.store.getOutbox(rec.id);
        if (stored) next = Math.min(next, stored.nextAttemptAt);
      }
    }
    // More jobs than one page: without this, job OUTBOX_PAGE + 1 onwards would wait for
    // the next kick (a new send, a reconnect), which may never come.
    if (records.length === OUTBOX_PAGE && progressed) this.again = true;
    return next;
  }

  /** Fold later unprepared receipts of the same type to the same account into this one. */
  private async mergeReceipts(
    rec: OutboxRecord,
    job: OutboxJob,
    records: readonly OutboxRecord[],
    merged: Set<string>,
  ): Promise<OutboxJob | undefined> {
    const first = decodeContent(job.content);
    if (first.kind !== 'receipt') return undefined;
    const ids = [...first.ids];
    const absorbed: string[] = [];
    for (const other of records) {
      if (other.id === rec.id || other.kind !== 'receipt' || ids.length >= MAX_RECEIPT_IDS) continue;
      const o = decodeJob(other.payload);
      if (o.to !== job.to || o.prepared) continue;
      const c = decodeContent(o.content);
      if (c.kind !== 'receipt' || c.type !== first.type || ids.length + c.ids.length > MAX_RECEIPT_IDS) continue;
      ids.push(...c.ids);
      absorbed.push(other.id);
    }
    if (absorbed.length === 0) return undefined;
    const combined: OutboxJob = { ...job, content: encodeContent({ ...first, ids }) };
    await this.ctx.store.transaction(async (tx) => {
      for (const id of absorbed) await tx.removeOutbox(id);
      await tx.removeOutbox(rec.id);
      await tx.enqueueOutbox({ ...rec, payload: encodeJob(combined) });
    });
    for (const id of absorbed) merged.add(id);
    return combined;
  }

  private async process(rec: OutboxRecord, initial: OutboxJob): Promise<Outcome> {
    const { ctx } = this;
    let job = initial;
    try {
      if (!job.prepared) job = await this.prepare(rec, job);
      for (let i = 0; i < job.prepared!.length; i++) {
        if (job.prepared![i]!.done) continue;
        job = await this.sendPart(rec, job, i);
      }
      const moved = await ctx.store.transaction(async (tx) => {
        await tx.removeOutbox(rec.id);
        // A receipt may have overtaken the relay's answer: 'delivered' is not moved back.
        return job.messageId ? tx.updateMessageStatus(job.messageId, 'sent') : false;
      });
      if (moved) this.emitStatus(job, 'sent');
      return 'done';
    } catch (error) {
      if (isPermanentFailure(error)) {
        const moved = await ctx.store.transaction(async (tx) => {
          await tx.removeOutbox(rec.id);
          return job.messageId ? tx.updateMessageStatus(job.messageId, 'failed') : false;
        });
        if (moved) this.emitStatus(job, 'failed', error);
        else ctx.emitter.emit('error', { error, context: `outbox: ${rec.kind} dropped` });
        return 'failed';
      }
      const attempts = rec.attempts + 1;
      const retryAfter = error instanceof RelayError && error.retryAfter !== undefined ? error.retryAfter * 1000 : 0;
      const delay = Math.max(retryAfter, backoffDelay(rec.attempts, OUTBOX_BACKOFF, ctx.random));
      await ctx.store.rescheduleOutbox(rec.id, attempts, ctx.clock() + delay);
      return 'retry';
    }
  }

  private emitStatus(job: OutboxJob, status: 'sent' | 'failed', error?: unknown): void {
    this.ctx.emitter.emit('message-status', {
      id: job.messageId!,
      conversationId: `d:${job.to}`,
      status,
      ...(error === undefined ? {} : { error }),
    });
  }

  /** Checks the recipient, makes sure sessions exist, encrypts and stores the envelopes. */
  private async prepare(rec: OutboxRecord, job: OutboxJob): Promise<OutboxJob> {
    const { ctx } = this;
    const own = job.to === ctx.accountId;
    if (!own) await this.checkRecipient(job.to);
    const recipientDevices = await this.devices.devicesOf(job.to);
    const ownDevices = !own && job.transcript ? this.devices.otherDeviceIds() : [];
    await this.sessions.ensure(job.to, recipientDevices);
    if (ownDevices.length > 0) await this.sessions.ensure(ctx.accountId, ownDevices);
    return ctx.store.transaction(async (tx) => {
      const parts: PreparedPart[] = [];
      if (recipientDevices.length > 0) {
        parts.push({
          account: job.to,
          done: false,
          blobs: await this.encryptFor(job.to, recipientDevices, job.content, tx),
        });
      }
      if (ownDevices.length > 0 && job.transcript) {
        parts.push({
          account: ctx.accountId,
          done: false,
          blobs: await this.encryptFor(ctx.accountId, ownDevices, job.transcript, tx),
        });
      }
      const prepared: OutboxJob = { ...job, prepared: parts };
      await tx.removeOutbox(rec.id);
      await tx.enqueueOutbox({ ...rec, payload: encodeJob(prepared) });
      return prepared;
    });
  }

  /**
   * The recipient may be written to.
   * @throws ClientError NOT_FOUND, CONTACT_BLOCKED, UNTRUSTED_IDENTITY.
   */
  private async checkRecipient(accountId: string): Promise<void> {
    const contact = await this.ctx.store.getContact(accountId);
    if (!contact) throw new ClientError('NOT_FOUND', 'not a contact');
    if (contact.state === 'blocked') throw new ClientError('CONTACT_BLOCKED', 'the contact is blocked');
    if (contact.keyChange) {
      throw new ClientError('UNTRUSTED_IDENTITY', "the contact's identity key changed and was not accepted");
    }
  }

  /** Encrypt and seal `content` for devices of one account (sessions advance inside `tx`). */
  async encryptFor(
    accountId: string,
    deviceIds: readonly number[],
    content: Uint8Array,
    tx: ClientStore,
  ): Promise<{ deviceId: number; blob: Uint8Array }[]> {
    const { ctx } = this;
    const padded = pad(content);
    const sender = {
      secretKey: ctx.profile.deviceSecretKey,
      publicKey: ctx.profile.devicePublicKey,
      certificate: decodeDeviceCertificate(ctx.profile.certificate),
    };
    const blobs: { deviceId: number; blob: Uint8Array }[] = [];
    for (const deviceId of deviceIds) {
      const enc = await this.sessions.encrypt(accountId, deviceId, padded, tx);
      // No session: the device appeared meanwhile; the relay's MISMATCHED_DEVICES brings it back.
      if (!enc) continue;
      const blob = seal(
        { sender, recipientKey: enc.deviceKey, content: enc.ciphertext, contentType: enc.contentType },
        ctx.provider,
        ctx.random,
      );
      blobs.push({ deviceId, blob });
    }
    return blobs;
  }

  /** Send one part; adapts to device-list changes the relay reports. */
  private async sendPart(rec: OutboxRecord, initial: OutboxJob, index: number): Promise<OutboxJob> {
    const { ctx } = this;
    let job = initial;
    let sealedRefused = false;
    for (let attempt = 0; ; attempt++) {
      const part = job.prepared![index]!;
      const contact = part.account === ctx.accountId ? undefined : await ctx.store.getContact(part.account);
      const accessKey = sealedRefused ? undefined : contact?.accessKey;
      try {
        if (part.blobs.length > 0) await this.transmit(part, accessKey, job.ttlSeconds);
      } catch (e) {
        if (attempt < 3 && isRelayError(e, 'MISMATCHED_DEVICES')) {
          job = await this.repair(rec, job, index);
          continue;
        }
        if (attempt < 3 && accessKey && isRelayError(e, 'UNKNOWN_RECIPIENT')) {
          // The access key we hold is stale: fall back to an authenticated send.
          sealedRefused = true;
          if (contact) {
            const { accessKey: _old, ...rest } = contact;
            await ctx.store.putContact(rest);
          }
          continue;
        }
        throw e;
      }
      const parts = job.prepared!.map((p, i) => (i === index ? { ...p, done: true } : p));
      job = { ...job, prepared: parts };
      if (parts.some((p) => !p.done)) {
        await ctx.store.transaction(async (tx) => {
          await tx.removeOutbox(rec.id);
          await tx.enqueueOutbox({ ...rec, payload: encodeJob(job) });
        });
      }
      return job;
    }
  }

  /** The account's devices changed: drop envelopes of removed devices, add ones for new devices. */
  private async repair(rec: OutboxRecord, job: OutboxJob, index: number): Promise<OutboxJob> {
    const { ctx } = this;
    const part = job.prepared![index]!;
    const own = part.account === ctx.accountId;
    const wanted = await this.devices.devicesOf(part.account, true);
    const keep = part.blobs.filter((b) => wanted.includes(b.deviceId));
    for (const b of part.blobs) if (!wanted.includes(b.deviceId)) await this.sessions.drop(part.account, b.deviceId);
    const missing = wanted.filter((d) => !keep.some((b) => b.deviceId === d));
    if (missing.length > 0) await this.sessions.ensure(part.account, missing);
    const content = own && job.to !== ctx.accountId ? job.transcript! : job.content;
    return ctx.store.transaction(async (tx) => {
      const added = missing.length > 0 ? await this.encryptFor(part.account, missing, content, tx) : [];
      const parts = job.prepared!.map((p, i) => (i === index ? { ...p, blobs: [...keep, ...added] } : p));
      const repaired: OutboxJob = { ...job, prepared: parts };
      await tx.removeOutbox(rec.id);
      await tx.enqueueOutbox({ ...rec, payload: encodeJob(repaired) });
      return repaired;
    });
  }

  private async transmit(part: PreparedPart, accessKey: Uint8Array | undefined, ttlSeconds?: number): Promise<void> {
    const { ctx } = this;
    const messages = part.blobs.map((b) => ({
      blob: b.blob,
      targets: [{ accountId: part.account, deviceIds: [b.deviceId] }],
    }));
    const accessKeys = accessKey ? [{ accountId: part.account, accessKey }] : undefined;
    const ttl = ttlSeconds ? { ttlSeconds } : {};
    const socket = this.socket;
    if (socket?.online) {
      try {
        await socket.request({ messages, ...ttl, ...(accessKeys ? { accessKeys } : {}) });
        return;
      } catch (e) {
        if (!(e instanceof ClientError) || e.code !== 'NETWORK_ERROR') throw e;
        // The socket dropped mid-send: fall through to HTTP. A duplicate is dropped by the receiver.
      }
    }
    if (accessKeys) await ctx.relay.sealedSend({ messages, accessKeys, ...ttl });
    else await ctx.relay.send({ messages, ...ttl }, ctx.tokens);
  }
}

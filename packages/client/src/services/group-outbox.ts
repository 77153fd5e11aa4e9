/**
 * Sending a queued group message: the outbox job (one sender-key blob, encrypted when it
 * was queued, so a retry after a crash sends the very same bytes), the worker's step for
 * it, and the transmission as ONE stored relay message whose targets are every device of
 * every other member and our other devices, one copy per 1,024 targets.
 */
import { MAX_TTL_SECONDS } from '@vaultex/api';
import { bytesToHex, decodeWire, encodeWire, hexToBytes } from '@vaultex/protocol';
import type { ClientContext } from '../context.js';
import { ClientError, isClientError } from '../errors.js';
import { type GroupRecord, memberOf } from '../group-state.js';
import type { OutboxRecord } from '../storage/records.js';
import { backoffDelay, OUTBOX_BACKOFF } from '../transport/backoff.js';
import { isRelayError, RelayError } from '../transport/http.js';
import type { DeviceService } from './devices.js';
import { groupConversation } from './group-messages.js';
import { isPermanentFailure } from './outbox.js';

/** Most targets in one relay send (the API's MAX_TARGETS_PER_SEND) and device ids per target entry. */
const TARGETS_PER_SEND = 1024;
const DEVICES_PER_TARGET = 64;

/** Outcome of one group outbox job. */
export type GroupJobOutcome = 'done' | 'retry' | 'failed' | 'wait';

/** A queued group send: one blob for every member device. */
export interface GroupJob {
  readonly groupId: string;
  /** The local message whose status follows the job (a rich content's own id otherwise). */
  readonly messageId: string;
  readonly blob: Uint8Array;
  /** How long the relay may keep it (a disappearing message's timer); the relay's default otherwise. */
  readonly ttlSeconds?: number;
}

/** Encode a group job as an outbox payload. */
export function encodeGroupJob(job: GroupJob): Uint8Array {
  // Version 2 only adds the relay TTL: jobs without one stay readable by older code.
  const head = [job.ttlSeconds === undefined ? 1 : 2, hexToBytes(job.groupId), hexToBytes(job.messageId), job.blob];
  return encodeWire(job.ttlSeconds === undefined ? head : [...head, job.ttlSeconds]);
}

/**
 * Decode a group job.
 * @throws ProtocolError for a payload that is not one.
 */
export function decodeGroupJob(bytes: Uint8Array): GroupJob {
  return decodeWire(bytes, {
    what: 'group job',
    versions: [1, 2],
    read: (r, version) => {
      const groupId = bytesToHex(r.bytes('groupId', 16));
      const messageId = bytesToHex(r.bytes('messageId', 16));
      const blob = r.bytes('blob', { min: 1 });
      const ttlSeconds = version === 2 ? r.uint('ttlSeconds', MAX_TTL_SECONDS) : undefined;
      r.end();
      return { groupId, messageId, blob, ...(ttlSeconds ? { ttlSeconds } : {}) };
    },
  });
}

/**
 * Send one queued group message (called by the outbox worker in creation order).
 * 'wait' while a pairwise job to a member (our sender key) is waiting to be retried.
 */
export async function processGroupJob(
  ctx: ClientContext,
  devices: DeviceService,
  load: (groupId: string) => Promise<GroupRecord | undefined>,
  rec: OutboxRecord,
  waiting: ReadonlySet<string>,
): Promise<GroupJobOutcome> {
  let job: GroupJob;
  try {
    job = decodeGroupJob(rec.payload);
  } catch (error) {
    ctx.emitter.emit('error', { error, context: 'outbox: unreadable group job dropped' });
    await ctx.store.removeOutbox(rec.id);
    return 'failed';
  }
  try {
    const group = await load(job.groupId);
    if (!group || !memberOf(group.state, ctx.accountId)) {
      throw new ClientError('GROUP_FORBIDDEN', 'no longer a member of the group');
    }
    const accounts = group.state.members.map((m) => m.accountId).filter((a) => a !== ctx.accountId);
    if (accounts.some((a) => waiting.has(a))) return 'wait';
    await transmit(ctx, devices, job.blob, accounts, job.ttlSeconds);
    const moved = await ctx.store.transaction(async (tx) => {
      await tx.removeOutbox(rec.id);
      return tx.updateMessageStatus(job.messageId, 'sent');
    });
    if (moved) emitStatus(ctx, job, 'sent');
    return 'done';
  } catch (error) {
    if (isPermanentFailure(error) || isClientError(error, 'GROUP_FORBIDDEN')) {
      const moved = await ctx.store.transaction(async (tx) => {
        await tx.removeOutbox(rec.id);
        return tx.updateMessageStatus(job.messageId, 'failed');
      });
      if (moved) emitStatus(ctx, job, 'failed', error);
      return 'failed';
    }
    const retryAfter = error instanceof RelayError && error.retryAfter !== undefined ? error.retryAfter * 1000 : 0;
    const delay = Math.max(retryAfter, backoffDelay(rec.attempts, OUTBOX_BACKOFF, ctx.random));
    await ctx.store.rescheduleOutbox(rec.id, rec.attempts + 1, ctx.clock() + delay);
    return 'retry';
  }
}

/** Send one blob to every device of `accounts` and our other devices, 1,024 targets per stored copy. */
async function transmit(
  ctx: ClientContext,
  devices: DeviceService,
  blob: Uint8Array,
  accounts: readonly string[],
  ttlSeconds?: number,
): Promise<void> {
  const ttl = ttlSeconds ? { ttlSeconds } : {};
  const refresh = new Set<string>();
  for (let attempt = 0; ; attempt++) {
    const targets: { accountId: string; deviceIds: number[] }[] = [];
    for (const accountId of [...accounts, ctx.accountId]) {
      const ids = await devices.devicesOf(accountId, refresh.has(accountId));
      for (let i = 0; i < ids.length; i += DEVICES_PER_TARGET) {
        targets.push({ accountId, deviceIds: ids.slice(i, i + DEVICES_PER_TARGET) });
      }
    }
    try {
      let batch: typeof targets = [];
      let count = 0;
      for (const t of targets) {
        if (count + t.deviceIds.length > TARGETS_PER_SEND) {
          await ctx.relay.send({ messages: [{ blob, targets: batch }], ...ttl }, ctx.tokens);
          batch = [];
          count = 0;
        }
        batch.push(t);
        count += t.deviceIds.length;
      }
      if (batch.length > 0) await ctx.relay.send({ messages: [{ blob, targets: batch }], ...ttl }, ctx.tokens);
      return;
    } catch (e) {
      if (attempt >= 3 || !isRelayError(e, 'MISMATCHED_DEVICES')) throw e;
      // A resend of a batch that got through is dropped by the receivers (seen content id).
      for (const d of (e as RelayError).mismatchedDevices ?? []) refresh.add(d.accountId);
    }
  }
}

function emitStatus(
  ctx: ClientContext,
  job: { groupId: string; messageId: string },
  status: 'sent' | 'failed',
  error?: unknown,
): void {
  ctx.emitter.emit('message-status', {
    id: job.messageId,
    conversationId: groupConversation(job.groupId),
    status,
    ...(error === undefined ? {} : { error }),
  });
}

/**
 * The mailbox (seed 003): a send stores each blob once with its list of target devices
 * and is acknowledged to the sender only after its group commit; each target device
 * acknowledges by id, and the blob goes when no target is left or when it expires.
 * Sealed sends carry no sender and must present each recipient's access key; a wrong key
 * gets the same answer as an unknown account. Ephemeral sends reach only connected devices.
 */
import type { MismatchedDevices } from '@vaultex/api';
import { equalBytes } from '@vaultex/protocol';
import { type Context, coarsenUp } from './context.js';
import { fail } from './errors.js';
import { hex, unhex } from './ids.js';
import type { Recipient } from './recipients.js';
import type { NewMessage, Target } from './storage/storage.js';

/** A send as the HTTP route or the WebSocket frame parsed it. */
export interface SendInput {
  readonly messages: readonly {
    readonly blob: Uint8Array;
    readonly targets: readonly { readonly accountId: string; readonly deviceIds: readonly number[] }[];
  }[];
  readonly ttlSeconds?: number | undefined;
  readonly ephemeral?: boolean | undefined;
  /** Present for sealed sends: one access key per target account. */
  readonly accessKeys?: readonly { readonly accountId: string; readonly accessKey: Uint8Array }[] | undefined;
}

/** Sends and acknowledgements. */
export class Mailbox {
  constructor(private readonly ctx: Context) {}

  /**
   * Validate, store durably (group commit) and publish a send.
   * @param source - the authenticated sending device, or undefined for a sealed send.
   * @returns one message id (hex) per blob, in order; empty for an ephemeral send.
   * @throws ApiFailure RATE_LIMITED, PAYLOAD_TOO_LARGE, BAD_REQUEST, UNKNOWN_RECIPIENT, MISMATCHED_DEVICES.
   */
  async send(input: SendInput, source: Target | undefined): Promise<string[]> {
    const { ctx } = this;
    const sealed = source === undefined;
    if (sealed && input.accessKeys === undefined) throw fail('BAD_REQUEST', 'a sealed send needs accessKeys');
    if (!sealed && input.accessKeys !== undefined)
      throw fail('BAD_REQUEST', 'an authenticated send takes no accessKeys');
    for (const m of input.messages) {
      if (m.blob.length > ctx.config.limits.maxMessageBytes) {
        throw fail('PAYLOAD_TOO_LARGE', `a message blob may hold at most ${ctx.config.limits.maxMessageBytes} bytes`);
      }
    }
    const accounts = targetAccounts(input);
    if (!sealed) ctx.limiters.sends.enforce(hex(source.accountId));
    const devicesOf = new Map<string, ReadonlySet<number>>();
    for (const accountId of accounts) {
      // A cache hit needs no await: most sends go to a recently seen recipient.
      const hit = ctx.recipients.peek(accountId);
      const account = hit ? hit.value : await ctx.recipients.get(unhex(accountId), accountId);
      devicesOf.set(accountId, this.recipientDevices(accountId, account, input, sealed));
    }
    // Counted only once the access keys are right, so nobody without one can use up a recipient's budget.
    if (sealed) for (const accountId of accounts) ctx.limiters.sealedSends.enforce(accountId);
    this.checkTargets(input, devicesOf, source);

    if (input.ephemeral) {
      for (const m of input.messages) {
        for (const t of m.targets) {
          const id = unhex(t.accountId);
          for (const deviceId of t.deviceIds) {
            const reached = ctx.bus.publish(id, deviceId, {
              kind: 'ephemeral',
              blob: m.blob,
              ...(source ? { source } : {}),
            });
            ctx.metrics.ephemeralSent.inc(reached);
          }
        }
      }
      return [];
    }

    const ttlMs = Math.min(
      input.ttlSeconds === undefined ? ctx.config.messageTtlMs : input.ttlSeconds * 1000,
      ctx.config.maxMessageTtlMs,
    );
    const expiresAt = coarsenUp(ctx, ctx.clock() + ttlMs);
    const items: NewMessage[] = input.messages.map((m) => {
      const targets: Target[] = [];
      for (const t of m.targets) {
        const accountId = unhex(t.accountId);
        for (const deviceId of t.deviceIds) targets.push({ accountId, deviceId });
      }
      return source
        ? { id: ctx.random(16), blob: m.blob, expiresAt, source, targets }
        : { id: ctx.random(16), blob: m.blob, expiresAt, targets };
    });
    const seqs = await ctx.commit.insert(items);
    ctx.metrics.messagesStored.inc(items.length);
    items.forEach((item, i) => {
      const message = { seq: seqs[i]!, id: item.id, blob: item.blob, ...(source ? { source } : {}) };
      for (const t of item.targets) ctx.bus.publish(t.accountId, t.deviceId, { kind: 'message', message });
    });
    return items.map((item) => hex(item.id));
  }

  /**
   * Acknowledge messages for one device.
   * @returns the ids (hex) that were not pending for this device.
   */
  async ack(accountId: Uint8Array, deviceId: number, ids: readonly string[]): Promise<string[]> {
    const unique = [...new Set(ids)];
    const acked = await this.ctx.commit.ack({ accountId, deviceId, ids: unique.map((id) => unhex(id)) });
    this.ctx.metrics.messagesAcked.inc(acked.length);
    if (acked.length === unique.length) return [];
    const done = new Set(acked.map(hex));
    return unique.filter((id) => !done.has(id));
  }

  /** The recipient's device ids; checks the access key of a sealed send. */
  private recipientDevices(
    accountIdHex: string,
    account: Recipient | undefined,
    input: SendInput,
    sealed: boolean,
  ): ReadonlySet<number> {
    if (sealed) {
      const presented = input.accessKeys?.find((k) => k.accountId === accountIdHex)?.accessKey;
      // The key that last matched skips the hash; any other key (right or wrong) is hashed, so
      // a wrong key costs the same whether or not the account exists.
      const verified = account && presented ? this.ctx.recipients.verifiedKey(accountIdHex) : undefined;
      if (account && presented && verified && equalBytes(presented, verified)) return account.deviceIds;
      const expected = account?.accessKeyHash ?? null;
      // Hash whatever was presented even when there is nothing to compare with: same work either way.
      const hash = this.ctx.provider.sha256(presented ?? new Uint8Array(16));
      if (!account || expected === null || presented === undefined || !equalBytes(hash, expected)) {
        throw fail('UNKNOWN_RECIPIENT', 'unknown recipient or wrong access key');
      }
      this.ctx.recipients.rememberVerified(accountIdHex, presented);
    } else if (!account) {
      throw fail('UNKNOWN_RECIPIENT', 'unknown recipient');
    }
    return account.deviceIds;
  }

  /** Each blob targets a device once; per account, the send covers exactly its devices. */
  private checkTargets(
    input: SendInput,
    devicesOf: Map<string, ReadonlySet<number>>,
    source: Target | undefined,
  ): void {
    if (exactSingleTarget(input, devicesOf, source)) return;
    const covered = new Map<string, Set<number>>();
    for (const m of input.messages) {
      const seen = new Set<string>();
      for (const t of m.targets) {
        for (const deviceId of t.deviceIds) {
          const key = `${t.accountId}:${deviceId}`;
          if (seen.has(key)) throw fail('BAD_REQUEST', 'a message names the same target device twice');
          seen.add(key);
          const set = covered.get(t.accountId) ?? new Set<number>();
          covered.set(t.accountId, set);
          set.add(deviceId);
        }
      }
    }
    const sourceHex = source ? hex(source.accountId) : undefined;
    const mismatched: MismatchedDevices[] = [];
    for (const [accountId, targeted] of covered) {
      const expected = new Set(devicesOf.get(accountId));
      if (accountId === sourceHex) expected.delete(source!.deviceId);
      const missing = [...expected].filter((d) => !targeted.has(d)).sort((a, b) => a - b);
      const extra = [...targeted].filter((d) => !expected.has(d)).sort((a, b) => a - b);
      if (missing.length > 0 || extra.length > 0) mismatched.push({ accountId, missing, extra });
    }
    if (mismatched.length > 0) {
      throw fail('MISMATCHED_DEVICES', "the send does not match the recipients' devices", {
        mismatchedDevices: mismatched,
      });
    }
  }
}

/** The distinct target accounts of a send, in first-seen order. */
function targetAccounts(input: SendInput): string[] {
  const first = input.messages[0]?.targets;
  if (input.messages.length === 1 && first?.length === 1) return [first[0]!.accountId];
  return [...new Set(input.messages.flatMap((m) => m.targets.map((t) => t.accountId)))];
}

/**
 * The common send — one blob to one account — covering exactly that account's devices (the
 * sender's own device excluded) with no device named twice. False means "not this shape, or
 * not exact": the general check then decides and builds the error.
 */
function exactSingleTarget(
  input: SendInput,
  devicesOf: Map<string, ReadonlySet<number>>,
  source: Target | undefined,
): boolean {
  if (input.messages.length !== 1) return false;
  const targets = input.messages[0]!.targets;
  if (targets.length !== 1) return false;
  const { accountId, deviceIds } = targets[0]!;
  const expected = devicesOf.get(accountId);
  if (!expected) return false;
  const self = source && hex(source.accountId) === accountId ? source.deviceId : undefined;
  const want = expected.size - (self !== undefined && expected.has(self) ? 1 : 0);
  if (deviceIds.length !== want) return false;
  for (let i = 0; i < deviceIds.length; i++) {
    const d = deviceIds[i]!;
    if (d === self || !expected.has(d)) return false;
    for (let j = 0; j < i; j++) if (deviceIds[j] === d) return false;
  }
  return true;
}

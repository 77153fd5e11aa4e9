/**
 * The receive pipeline. For each stored message the relay delivers:
 *
 * 1. open the sealed-sender envelope with our device key (no state touched);
 * 2. check the sender: not blocked, its account key is the pinned one, and the sending
 *    device is in the account's signed device list (fetched again when unknown);
 * 3. in ONE store transaction: remember the relay's message id (a redelivery stops here),
 *    decrypt (accepting a new session from a prekey message and deleting its one-time
 *    prekeys), store the advanced session, apply the content (store the message, de-duplicated
 *    by its content id; queue a delivery receipt);
 * 4. after the commit: emit events, and let the socket acknowledge the message.
 *
 * A message that cannot be decrypted is acknowledged (keeping it cannot help), reported
 * as 'decrypt-failed', and the session with that device is started over: our session is
 * dropped and a 'session-reset' content goes out, which opens a new session from a fresh
 * bundle. Ephemeral messages (typing) take the same path without the seen-id step.
 */
import type { MessageSource } from '@vaultex/api';
import {
  bytesToHex,
  type DeviceList,
  equalBytes,
  isProtocolError,
  type UnsealedMessage,
  unpad,
  unseal,
} from '@vaultex/protocol';
import { decodeContent, encodeContent } from '../content.js';
import type { ClientContext } from '../context.js';
import { ClientError, isClientError } from '../errors.js';
import { isRelayError, RelayError } from '../transport/http.js';
import type { DeliveredMessage } from '../transport/socket.js';
import type { DeviceService } from './devices.js';
import type { Effects, MessageService } from './messages.js';
import type { OutboxService } from './outbox.js';
import type { SessionService } from './sessions.js';
import type { TrustService } from './trust.js';

/** A session with one device is reset at most this often. */
const RESET_INTERVAL_MS = 60_000;

/** Whether an error while checking a sender means "try again later" (leave the message pending). */
function isTransient(e: unknown): boolean {
  if (isClientError(e, 'NETWORK_ERROR')) return true;
  return e instanceof RelayError && ['RATE_LIMITED', 'UNAVAILABLE', 'INTERNAL', 'UNAUTHORIZED'].includes(e.apiCode);
}

/** Receives messages. */
export class Receiver {
  private readonly lastReset = new Map<string, number>();
  /** Handles a stored message if it is a group message; set by the client. */
  groupMessages: ((m: DeliveredMessage) => Promise<boolean>) | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly sessions: SessionService,
    private readonly devices: DeviceService,
    private readonly trust: TrustService,
    private readonly messages: MessageService,
    private readonly outbox: OutboxService,
  ) {}

  /**
   * Handle one stored message. Resolves when it may be acknowledged; throws (leaving it
   * pending on the relay) only for transient failures.
   */
  async onStored(m: DeliveredMessage): Promise<void> {
    const { ctx } = this;
    // Group messages are not sealed: the group service reads them (false: not one).
    if (m.source && this.groupMessages && (await this.groupMessages(m))) return;
    const opened = await this.open(m.blob);
    if (!opened) return this.seen(m.id);
    const { env, sender, deviceList } = opened;
    let effects: Effects | undefined;
    try {
      effects = await ctx.store.transaction(async (tx) => {
        if (!(await tx.markSeen(m.id, ctx.clock()))) return undefined;
        const dec = await this.sessions.decrypt(
          sender,
          env.senderDeviceId,
          env.senderDeviceKey,
          env.content,
          env.contentType,
          tx,
        );
        const raw = unpad(dec.plaintext);
        const content = decodeContent(raw);
        return this.messages.applyIncoming(
          content,
          raw,
          {
            accountId: sender,
            deviceId: env.senderDeviceId,
            accountKey: env.senderAccountKey,
            ...(deviceList ? { deviceList } : {}),
          },
          tx,
        );
      });
    } catch (e) {
      if (isProtocolError(e, 'DUPLICATE_MESSAGE')) return this.seen(m.id);
      if (isProtocolError(e)) {
        await this.seen(m.id);
        this.failed(sender, env.senderDeviceId, e.code);
        await this.resetSession(sender, env.senderDeviceId);
        return;
      }
      throw e;
    }
    this.finish(effects);
  }

  /** Handle an ephemeral message (typing); failures are ignored. */
  async onEphemeral(blob: Uint8Array, _source: MessageSource | undefined): Promise<void> {
    const { ctx } = this;
    try {
      const opened = await this.open(blob, false);
      if (!opened) return;
      const { env, sender } = opened;
      const effects = await ctx.store.transaction(async (tx) => {
        const dec = await this.sessions.decrypt(
          sender,
          env.senderDeviceId,
          env.senderDeviceKey,
          env.content,
          env.contentType,
          tx,
        );
        const raw = unpad(dec.plaintext);
        const content = decodeContent(raw);
        if (content.kind !== 'typing') return undefined;
        return this.messages.applyIncoming(
          content,
          raw,
          { accountId: sender, deviceId: env.senderDeviceId, accountKey: env.senderAccountKey },
          tx,
        );
      });
      this.finish(effects);
    } catch {
      // Typing indicators are best effort.
    }
  }

  /**
   * Fetch and handle everything pending over HTTP (for one-shot use without a socket).
   * @returns how many messages were handled.
   */
  async drainInbox(): Promise<number> {
    const { ctx } = this;
    let handled = 0;
    for (;;) {
      const page = await ctx.relay.inbox(ctx.tokens, 100);
      for (const m of page.messages) {
        await this.onStored({ id: m.id, blob: m.blob, ...(m.source ? { source: m.source } : {}) });
        try {
          await ctx.relay.ack(m.id, ctx.tokens);
        } catch (e) {
          // Already acknowledged over the socket meanwhile.
          if (!isRelayError(e, 'UNKNOWN_MESSAGE')) throw e;
        }
        handled++;
      }
      if (!page.more || page.messages.length === 0) return handled;
    }
  }

  private finish(effects: Effects | undefined): void {
    if (!effects) return;
    for (const emit of effects.events) emit();
    if (effects.kickOutbox) this.outbox.kick();
  }

  private async seen(id: string): Promise<void> {
    await this.ctx.store.markSeen(id, this.ctx.clock());
  }

  private failed(accountId: string | undefined, deviceId: number | undefined, code: string): void {
    this.ctx.emitter.emit('decrypt-failed', {
      ...(accountId ? { accountId } : {}),
      ...(deviceId !== undefined ? { deviceId } : {}),
      code,
    });
  }

  /**
   * Open the envelope and check its sender. Undefined means: drop it (and acknowledge).
   * @throws for transient failures while fetching the sender's device list.
   */
  private async open(
    blob: Uint8Array,
    fetchUnknown = true,
  ): Promise<
    | {
        env: UnsealedMessage;
        sender: string;
        deviceList: { list: DeviceList; bytes: Uint8Array } | undefined;
      }
    | undefined
  > {
    const { ctx } = this;
    let env: UnsealedMessage;
    try {
      env = unseal(blob, ctx.deviceKeyPair(), ctx.provider);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      this.failed(undefined, undefined, e.code);
      return undefined;
    }
    const sender = bytesToHex(env.senderUserId);
    if (sender === ctx.accountId && env.senderDeviceId === ctx.deviceId) return undefined;
    if (sender !== ctx.accountId) {
      const contact = await ctx.store.getContact(sender);
      if (contact?.state === 'blocked') return undefined;
      if (contact && !equalBytes(contact.identityKey, env.senderAccountKey)) {
        // Cannot happen while user IDs are hashes of keys; kept so a pin is never bypassed.
        await this.trust.recordKeyChange(contact, env.senderAccountKey);
        return undefined;
      }
      if (!fetchUnknown && !contact) return undefined;
    }
    let deviceList: { list: DeviceList; bytes: Uint8Array } | undefined;
    try {
      deviceList = fetchUnknown
        ? await this.devices.checkSenderDevice(sender, env.senderAccountKey, env.senderDeviceId, env.senderDeviceKey)
        : await this.knownDevice(sender, env);
    } catch (e) {
      if (isTransient(e)) throw e;
      this.failed(sender, env.senderDeviceId, e instanceof ClientError || isProtocolError(e) ? e.code : 'UNKNOWN');
      return undefined;
    }
    if (!deviceList) {
      this.failed(sender, env.senderDeviceId, 'UNKNOWN_DEVICE');
      return undefined;
    }
    return { env, sender, deviceList };
  }

  /** The stored device list, when it names the sender device (no network). */
  private async knownDevice(
    sender: string,
    env: UnsealedMessage,
  ): Promise<{ list: DeviceList; bytes: Uint8Array } | undefined> {
    const { ctx } = this;
    const bytes = sender === ctx.accountId ? ctx.profile.deviceList : (await ctx.store.getContact(sender))?.deviceList;
    if (!bytes) return undefined;
    const list = this.trust.verifyList(env.senderAccountKey, bytes);
    const ok = list.devices.some(
      (d) => d.deviceId === env.senderDeviceId && equalBytes(d.deviceKey, env.senderDeviceKey),
    );
    return ok ? { list, bytes } : undefined;
  }

  /** Drop the session with a device and send it a session reset (rate-limited). */
  private async resetSession(accountId: string, deviceId: number): Promise<void> {
    const { ctx } = this;
    const key = `${accountId}:${deviceId}`;
    const now = ctx.clock();
    if (now - (this.lastReset.get(key) ?? Number.NEGATIVE_INFINITY) < RESET_INTERVAL_MS) return;
    this.lastReset.set(key, now);
    const contact = accountId === ctx.accountId ? undefined : await ctx.store.getContact(accountId);
    const allowed = accountId === ctx.accountId || (contact?.state === 'accepted' && !contact.keyChange);
    await ctx.store.transaction(async (tx) => {
      await this.sessions.drop(accountId, deviceId, tx);
      if (!allowed) return;
      const content = encodeContent({ kind: 'session-reset', id: ctx.newId(), sentAt: now });
      await this.outbox.enqueue('control', { to: accountId, content }, tx);
    });
    if (allowed) this.outbox.kick();
  }
}

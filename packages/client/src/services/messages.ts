/**
 * One-to-one messaging: send (stored pending with its outbox job in one transaction),
 * list, mark read (read receipts when enabled), typing indicators (ephemeral, only to
 * devices we already have sessions with), and what an incoming content does to the store
 * (`applyIncoming`, run inside the receive transaction).
 */
import { type DeviceList, equalBytes } from '@vaultex/protocol';
import { type Avatar, checkAvatar } from '../avatar.js';
import { type Content, decodeContent, encodeContent, MAX_TEXT_BYTES, previewOf, type Reaction } from '../content.js';
import type { ClientContext } from '../context.js';
import { ClientError } from '../errors.js';
import type { ClientEvents, MessageView } from '../events.js';
import type { ClientStore } from '../storage/client-store.js';
import type {
  ContactRecord,
  ConversationRecord,
  MessageCursor,
  MessageRecord,
  RetentionPolicy,
} from '../storage/records.js';
import { type AttachmentPointer, checkPointer } from './attachments.js';
import { type ContactService, checkAccountId } from './contacts.js';
import type { DeviceService } from './devices.js';
import type { OutboxService } from './outbox.js';
import { type ProfileService, withAvatar } from './profile.js';
import { type ExportFormat, exportConversation, relayTtlSeconds, setRetention } from './retention.js';
import { isRichContent, type RichService } from './rich.js';

const utf8 = new TextEncoder();

/** Paging of {@link MessageService.list}. */
export interface MessagePage {
  /** Only messages older than this one (a previous page's last message). */
  readonly before?: MessageCursor;
  /** At most this many (default 50, at most 1000). */
  readonly limit?: number;
}

/** Who sent an incoming content, verified by the receive pipeline. */
export interface IncomingFrom {
  readonly accountId: string;
  readonly deviceId: number;
  readonly accountKey: Uint8Array;
  /** The sender's verified device list, when it was fetched for this message. */
  readonly deviceList?: { readonly list: DeviceList; readonly bytes: Uint8Array };
}

/** Events to emit and work to start once the receive transaction committed. */
export interface Effects {
  readonly events: (() => void)[];
  kickOutbox: boolean;
}

/** The conversation id of a direct conversation. */
export function directConversation(accountId: string): string {
  return `d:${accountId}`;
}

/**
 * The disappearing timer a stored text or attachment was sent with (seconds), looking inside
 * the local `annotated` wrapper; undefined for none or a body that does not decode.
 */
export function expireTimerOf(body: Uint8Array): number | undefined {
  try {
    let content = decodeContent(body);
    if (content.kind === 'annotated') content = decodeContent(content.content);
    return content.kind === 'text' || content.kind === 'attachment' ? content.expireTimer : undefined;
  } catch {
    return undefined;
  }
}

/** Turn a stored message into the application's view. */
export function messageView(rec: MessageRecord, request = false): MessageView {
  let content: Content | undefined;
  let reactions: readonly Reaction[] = [];
  try {
    content = decodeContent(rec.body);
    if (content.kind === 'annotated') {
      reactions = content.reactions;
      content = decodeContent(content.content);
    }
  } catch {
    content = undefined;
  }
  const base = {
    id: rec.id,
    conversationId: rec.conversationId,
    direction: rec.direction,
    senderAccountId: rec.senderAccountId,
    senderDeviceId: rec.senderDeviceId,
    sentAt: rec.sentAt,
    receivedAt: rec.receivedAt,
    status: rec.status,
    ...(request ? { request } : {}),
    ...(rec.editedAt !== undefined ? { editedAt: rec.editedAt } : {}),
    ...(rec.deletedAt !== undefined ? { deleted: true } : {}),
    ...(reactions.length > 0 ? { reactions: reactions.map((r) => ({ ...r })) } : {}),
    ...(rec.expiresAt !== undefined ? { expiresAt: rec.expiresAt } : {}),
  };
  if (content?.kind === 'attachment') {
    const a = content.attachment;
    return {
      ...base,
      kind: 'attachment',
      ...(content.caption !== undefined ? { text: content.caption } : {}),
      attachment: { name: a.name, mime: a.mime, size: a.size, ...(a.thumbnail ? { thumbnail: a.thumbnail } : {}) },
    };
  }
  if (content?.kind === 'text') {
    return { ...base, kind: 'text', text: content.body, ...(content.replyTo ? { replyTo: content.replyTo } : {}) };
  }
  return { ...base, kind: 'unsupported' };
}

/** Sending, listing and receiving messages. */
export class MessageService {
  /** Applies group contents ('group-update', 'sender-key'); set by the client. */
  groupContents: ((content: Content, from: IncomingFrom, tx: ClientStore) => Promise<Effects>) | undefined;
  /** Applies edits, deletes, reactions and timers; set by the client. */
  rich: RichService | undefined;
  /** Pushes and applies display names and avatars ('profile' contents); set by the client. */
  profiles: ProfileService | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly outbox: OutboxService,
    private readonly devices: DeviceService,
    private readonly contacts: ContactService,
  ) {}

  /**
   * Send a text. It is stored as 'pending' and queued in one transaction, then sent by the
   * outbox (now, or when the relay is reachable again).
   * @returns the message id.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND (not a contact), CONTACT_BLOCKED,
   *   UNTRUSTED_IDENTITY (a key change is pending).
   */
  async send(accountId: string, text: string, options: { replyTo?: string } = {}): Promise<string> {
    const { ctx } = this;
    checkAccountId(accountId);
    if (typeof text !== 'string' || text.length === 0 || utf8.encode(text).length > MAX_TEXT_BYTES) {
      throw new ClientError('INVALID_ARGUMENT', `text: 1..${MAX_TEXT_BYTES} UTF-8 bytes`);
    }
    if (options.replyTo !== undefined) checkAccountId(options.replyTo, 'replyTo');
    return this.queueDirect(accountId, (id, sentAt) => ({
      kind: 'text',
      id,
      sentAt,
      body: text,
      ...(options.replyTo ? { replyTo: options.replyTo } : {}),
      profile: { displayName: ctx.profile.displayName, accessKey: ctx.profile.accessKey },
    }));
  }

  /**
   * Send an uploaded file (`attachments.upload`) with an optional caption, like a text:
   * stored 'pending' and queued in one transaction.
   * @returns the message id.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND (not a contact), CONTACT_BLOCKED, UNTRUSTED_IDENTITY.
   */
  async sendAttachment(
    accountId: string,
    attachment: AttachmentPointer,
    options: { caption?: string } = {},
  ): Promise<string> {
    checkAccountId(accountId);
    checkPointer(attachment);
    if (
      options.caption !== undefined &&
      (typeof options.caption !== 'string' || utf8.encode(options.caption).length > MAX_TEXT_BYTES)
    ) {
      throw new ClientError('INVALID_ARGUMENT', `caption: at most ${MAX_TEXT_BYTES} UTF-8 bytes`);
    }
    return this.queueDirect(accountId, (id, sentAt) => ({
      kind: 'attachment',
      id,
      sentAt,
      attachment,
      ...(options.caption !== undefined ? { caption: options.caption } : {}),
    }));
  }

  /**
   * Store a text or attachment to a contact as 'pending' and queue it, in one transaction.
   * The message carries the conversation's timer (the receiver's starts when read; our copy's
   * when sent), and the relay's copy is bounded by it and by a 'ttl' retention.
   */
  private async queueDirect(
    accountId: string,
    build: (id: string, sentAt: number) => Extract<Content, { kind: 'text' | 'attachment' }>,
  ): Promise<string> {
    const { ctx } = this;
    if (accountId === ctx.accountId) throw new ClientError('INVALID_ARGUMENT', 'accountId: cannot message ourselves');
    const contact = await ctx.store.getContact(accountId);
    if (!contact) throw new ClientError('NOT_FOUND', 'not a contact: add them first');
    if (contact.state === 'blocked') throw new ClientError('CONTACT_BLOCKED', 'the contact is blocked');
    if (contact.keyChange) {
      throw new ClientError('UNTRUSTED_IDENTITY', "the contact's identity key changed: accept the change first");
    }
    const id = ctx.newId();
    const sentAt = ctx.nextSentAt();
    const conversationId = directConversation(accountId);
    await ctx.store.transaction(async (tx) => {
      const conv = await tx.getConversation(conversationId);
      const timer = conv?.disappearingSeconds;
      const value: Content = { ...build(id, sentAt), ...(timer ? { expireTimer: timer } : {}) };
      const content = encodeContent(value);
      const transcript = encodeContent({ kind: 'sent-transcript', id, sentAt, to: accountId, content });
      await tx.insertMessage({
        id,
        conversationId,
        senderAccountId: ctx.accountId,
        senderDeviceId: ctx.deviceId,
        direction: 'out',
        sentAt,
        receivedAt: sentAt,
        body: content,
        status: 'pending',
        ...(timer ? { expiresAt: sentAt + timer * 1000 } : {}),
      });
      await this.touchConversation(tx, conversationId, sentAt, previewOf(value), false);
      // Writing to someone who asked to talk to us accepts the request (and asks for their profile).
      if (contact.state === 'request') {
        await tx.putContact({ ...contact, state: 'accepted' });
        await this.profiles?.pushTo(accountId, true, tx);
      }
      const ttlSeconds = relayTtlSeconds(conv);
      const ttl = ttlSeconds ? { ttlSeconds } : {};
      await this.outbox.enqueue('message', { to: accountId, content, transcript, messageId: id, ...ttl }, tx);
    });
    this.outbox.kick();
    return id;
  }

  /**
   * Replace the text of one of our messages on every device of both sides; `conversationId`
   * is `d:<accountId>` or `g:<groupId>` (every member's devices).
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, MESSAGE_FORBIDDEN, CONTACT_BLOCKED, UNTRUSTED_IDENTITY,
   *   GROUP_FORBIDDEN.
   */
  edit(conversationId: string, messageId: string, text: string): Promise<void> {
    return this.richService().edit(conversationId, messageId, text);
  }

  /**
   * Delete one of our messages for everyone (direct or group conversation).
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, MESSAGE_FORBIDDEN, CONTACT_BLOCKED, UNTRUSTED_IDENTITY,
   *   GROUP_FORBIDDEN.
   */
  delete(conversationId: string, messageId: string): Promise<void> {
    return this.richService().delete(conversationId, messageId);
  }

  /**
   * React to a message (direct or group conversation); '' removes our reaction.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, MESSAGE_FORBIDDEN, CONTACT_BLOCKED, UNTRUSTED_IDENTITY,
   *   GROUP_FORBIDDEN.
   */
  react(conversationId: string, messageId: string, emoji: string): Promise<void> {
    return this.richService().react(conversationId, messageId, emoji);
  }

  /**
   * Set the conversation's disappearing-message timer in seconds (0: off), for both sides or,
   * in a group, for every member.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, CONTACT_BLOCKED, UNTRUSTED_IDENTITY, GROUP_FORBIDDEN.
   */
  setTimer(conversationId: string, seconds: number): Promise<void> {
    return this.richService().setTimer(conversationId, seconds);
  }

  /**
   * Set (or with `null` clear) the conversation's retention policy; local to this device.
   * 'ttl' bounds the relay lifetime of our sends (the disappearing timer wins when shorter),
   * 'history' puts the conversation into the encrypted history archive (`archive.push`).
   * @returns the updated conversation.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND.
   */
  setRetention(conversationId: string, policy: RetentionPolicy | null): Promise<ConversationRecord> {
    return setRetention(this.ctx, conversationId, policy);
  }

  /**
   * A readable export of a conversation: 'json' or 'text' (`[2026-11-21 22:00] Alice: hi`, UTC).
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND.
   */
  export(conversationId: string, format: ExportFormat = 'text'): Promise<string> {
    return exportConversation(this.ctx, conversationId, format);
  }

  private richService(): RichService {
    if (!this.rich) throw new ClientError('INVALID_ARGUMENT', 'rich messages are not wired in this client');
    return this.rich;
  }

  /**
   * Messages of a conversation, newest first.
   * @throws ClientError INVALID_ARGUMENT.
   */
  async list(conversationId: string, page: MessagePage = {}): Promise<MessageView[]> {
    if (typeof conversationId !== 'string' || !/^[dg]:[0-9a-f]{32,64}$/u.test(conversationId)) {
      throw new ClientError('INVALID_ARGUMENT', 'conversationId: d:<accountId> or g:<groupId>');
    }
    const limit = page.limit ?? 50;
    const records = await this.ctx.store.listMessages(conversationId, {
      limit,
      ...(page.before ? { before: page.before } : {}),
    });
    let request = false;
    if (conversationId.startsWith('d:')) {
      request = (await this.ctx.store.getContact(conversationId.slice(2)))?.state === 'request';
    }
    return records.map((r) => messageView(r, request && r.direction === 'in'));
  }

  /**
   * Change our display name, avatar (`null` removes it; at most 32 KiB of WebP, JPEG or PNG)
   * or settings, and tell our other devices. A new name or avatar is also pushed, end-to-end
   * encrypted, to every accepted contact.
   * @throws ClientError INVALID_ARGUMENT (nothing is changed).
   */
  async updateProfile(changes: {
    displayName?: string;
    readReceipts?: boolean;
    typingIndicators?: boolean;
    avatar?: Avatar | null;
  }): Promise<void> {
    const { ctx } = this;
    if (
      changes.displayName !== undefined &&
      (typeof changes.displayName !== 'string' || changes.displayName.length > 64)
    ) {
      throw new ClientError('INVALID_ARGUMENT', 'displayName: at most 64 characters');
    }
    const avatar =
      changes.avatar === undefined || changes.avatar === null ? changes.avatar : checkAvatar(changes.avatar);
    const settings = {
      ...ctx.profile.settings,
      ...(changes.readReceipts !== undefined ? { readReceipts: Boolean(changes.readReceipts) } : {}),
      ...(changes.typingIndicators !== undefined ? { typingIndicators: Boolean(changes.typingIndicators) } : {}),
    };
    const named = {
      ...ctx.profile,
      ...(changes.displayName !== undefined ? { displayName: changes.displayName } : {}),
      settings,
    };
    const profile = avatar === undefined ? named : withAvatar(named, avatar);
    const push = avatar !== undefined || profile.displayName !== ctx.profile.displayName;
    const others = this.devices.otherDeviceIds().length > 0;
    let pushed = false;
    await ctx.store.transaction(async (tx) => {
      await tx.putProfile(profile);
      if (push && this.profiles) pushed = await this.profiles.pushAll(profile, tx);
      if (!others) return;
      const content = encodeContent({
        kind: 'profile-sync',
        id: ctx.newId(),
        sentAt: ctx.clock(),
        displayName: profile.displayName,
        readReceipts: settings.readReceipts,
        typingIndicators: settings.typingIndicators,
      });
      await this.outbox.enqueue('control', { to: ctx.accountId, content }, tx);
    });
    ctx.commitProfile(profile);
    if (others || pushed) this.outbox.kick();
  }

  /** Conversations, most recent first. */
  conversations(limit?: number): Promise<ConversationRecord[]> {
    return this.ctx.store.listConversations(limit);
  }

  /**
   * Mark every incoming message of a conversation (direct or group) read, starting the timers
   * of disappearing ones; send read receipts when enabled (direct conversations only).
   * @returns how many messages changed.
   * @throws ClientError INVALID_ARGUMENT.
   */
  async markRead(conversationId: string): Promise<number> {
    const { ctx } = this;
    if (typeof conversationId !== 'string' || !/^[dg]:[0-9a-f]{32}$/u.test(conversationId)) {
      throw new ClientError('INVALID_ARGUMENT', 'conversationId: d:<accountId> or g:<groupId>');
    }
    const unread: MessageRecord[] = [];
    let before: MessageCursor | undefined;
    scan: for (;;) {
      const page = await ctx.store.listMessages(conversationId, { limit: 200, ...(before ? { before } : {}) });
      for (const m of page) {
        if (m.direction !== 'in') continue;
        if (m.status === 'read') break scan;
        unread.push(m);
      }
      if (page.length < 200) break;
      const last = page[page.length - 1]!;
      before = { sentAt: last.sentAt, id: last.id };
    }
    const peer = conversationId.slice(2);
    // Groups have no read receipts (yet): reading only starts disappearing timers and clears unread.
    const contact = conversationId.startsWith('d:') ? await ctx.store.getContact(peer) : undefined;
    const receipts = ctx.profile.settings.readReceipts && contact?.state === 'accepted' && !contact.keyChange;
    await ctx.store.transaction(async (tx) => {
      const conv = await tx.getConversation(conversationId);
      for (const m of unread) {
        await tx.updateMessageStatus(m.id, 'read');
        // A disappearing message's timer starts when it is read, with the timer it was sent under.
        const timer = m.expiresAt === undefined ? expireTimerOf(m.body) : undefined;
        if (timer) await tx.updateMessage(m.id, { expiresAt: ctx.clock() + timer * 1000 });
      }
      if (conv && conv.unread !== 0) await tx.putConversation({ ...conv, unread: 0 });
      if (receipts) {
        for (let i = 0; i < unread.length; i += 256) {
          const ids = unread.slice(i, i + 256).map((m) => m.id);
          const content = encodeContent({ kind: 'receipt', id: ctx.newId(), sentAt: ctx.clock(), type: 'read', ids });
          await this.outbox.enqueue('receipt', { to: peer, content }, tx);
        }
      }
    });
    if (receipts && unread.length > 0) this.outbox.kick();
    return unread.length;
  }

  /**
   * Tell a contact we started or stopped typing. Ephemeral: only their connected devices
   * get it, it is never stored, and it goes only to devices we already have sessions with.
   * @returns whether it was sent.
   */
  async typing(accountId: string, started: boolean): Promise<boolean> {
    const { ctx } = this;
    checkAccountId(accountId);
    if (!ctx.profile.settings.typingIndicators) return false;
    const contact = await ctx.store.getContact(accountId);
    if (contact?.state !== 'accepted' || contact.keyChange) return false;
    const devices = await this.devices.devicesOf(accountId);
    const withSessions = await ctx.store.listSessionDevices(accountId);
    if (devices.length === 0 || !devices.every((d) => withSessions.includes(d))) return false;
    const content = encodeContent({ kind: 'typing', id: ctx.newId(), sentAt: ctx.clock(), started });
    const blobs = await ctx.store.transaction((tx) => this.outbox.encryptFor(accountId, devices, content, tx));
    const messages = blobs.map((b) => ({ blob: b.blob, targets: [{ accountId, deviceIds: [b.deviceId] }] }));
    try {
      if (contact.accessKey) {
        await ctx.relay.sealedSend({
          messages,
          ephemeral: true,
          accessKeys: [{ accountId, accessKey: contact.accessKey }],
        });
      } else {
        await ctx.relay.send({ messages, ephemeral: true }, ctx.tokens);
      }
      return true;
    } catch {
      return false;
    }
  }

  private async touchConversation(
    tx: ClientStore,
    id: string,
    at: number,
    preview: string,
    incoming: boolean,
  ): Promise<void> {
    const conv = await tx.getConversation(id);
    const next: ConversationRecord = conv
      ? {
          ...conv,
          ...(at >= conv.lastMessageAt ? { lastMessageAt: at, lastMessagePreview: preview.slice(0, 200) } : {}),
          unread: conv.unread + (incoming ? 1 : 0),
        }
      : { id, kind: 'direct', lastMessageAt: at, lastMessagePreview: preview.slice(0, 200), unread: incoming ? 1 : 0 };
    await tx.putConversation(next);
  }

  private emit<E extends keyof ClientEvents>(effects: Effects, event: E, payload: ClientEvents[E]): void {
    effects.events.push(() => this.ctx.emitter.emit(event, payload));
  }

  /**
   * What an incoming content does, inside the receive transaction `tx`.
   */
  async applyIncoming(content: Content, raw: Uint8Array, from: IncomingFrom, tx: ClientStore): Promise<Effects> {
    const { ctx } = this;
    const effects: Effects = { events: [], kickOutbox: false };
    const own = from.accountId === ctx.accountId;
    const now = ctx.clock();
    switch (content.kind) {
      case 'text':
      case 'attachment':
      case 'unsupported': {
        if (own) return effects;
        const contact = await this.senderContact(from, content.kind === 'text' ? content : undefined, tx, effects);
        const id = content.kind === 'unsupported' && content.wireKind === 0 ? ctx.newId() : content.id;
        const conversationId = directConversation(from.accountId);
        const record: MessageRecord = {
          id,
          conversationId,
          senderAccountId: from.accountId,
          senderDeviceId: from.deviceId,
          direction: 'in',
          sentAt: content.sentAt,
          receivedAt: now,
          body: raw,
          status: 'delivered',
        };
        if (!(await tx.insertMessage(record))) return effects;
        await this.touchConversation(tx, conversationId, content.sentAt, previewOf(content), true);
        if (contact.state === 'accepted' && (content.kind === 'text' || content.kind === 'attachment')) {
          const receipt = encodeContent({
            kind: 'receipt',
            id: ctx.newId(),
            sentAt: now,
            type: 'delivered',
            ids: [id],
          });
          await this.outbox.enqueue('receipt', { to: from.accountId, content: receipt }, tx);
          effects.kickOutbox = true;
        }
        this.emit(effects, 'message', { message: messageView(record, contact.state === 'request') });
        return effects;
      }
      case 'receipt': {
        if (own) return effects;
        for (const id of content.ids) {
          const m = await tx.getMessage(id);
          if (m?.direction !== 'out' || m.conversationId !== directConversation(from.accountId)) continue;
          if (await tx.updateMessageStatus(id, content.type)) {
            this.emit(effects, 'message-status', { id, conversationId: m.conversationId, status: content.type });
          }
        }
        return effects;
      }
      case 'edit':
      case 'delete':
      case 'reaction':
      case 'timer': {
        // Ours arrive as sent transcripts; a stranger's are ignored (no message request for them).
        if (own || !this.rich || !(await tx.getContact(from.accountId))) return effects;
        await this.rich.apply(content, from.accountId, directConversation(from.accountId), tx, effects);
        return effects;
      }
      case 'annotated':
        // Local only: never acted on when it comes from the wire.
        return effects;
      case 'typing':
        this.emit(effects, 'typing', { accountId: from.accountId, deviceId: from.deviceId, started: content.started });
        return effects;
      case 'sent-transcript': {
        if (!own) return effects;
        const inner = decodeContent(content.content);
        const conversationId = directConversation(content.to);
        if (isRichContent(inner)) {
          if (this.rich) await this.rich.apply(inner, ctx.accountId, conversationId, tx, effects);
          return effects;
        }
        if (inner.kind !== 'text' && inner.kind !== 'attachment') return effects;
        // Our copy's timer runs from the send, as on the device that sent it.
        const timer = inner.expireTimer;
        const record: MessageRecord = {
          id: inner.id,
          conversationId,
          senderAccountId: ctx.accountId,
          senderDeviceId: from.deviceId,
          direction: 'out',
          sentAt: inner.sentAt,
          receivedAt: now,
          body: content.content,
          status: 'sent',
          ...(timer ? { expiresAt: inner.sentAt + timer * 1000 } : {}),
        };
        if (!(await tx.insertMessage(record))) return effects;
        await this.touchConversation(tx, conversationId, inner.sentAt, previewOf(inner), false);
        this.emit(effects, 'message', { message: messageView(record) });
        return effects;
      }
      case 'contact-sync':
        if (own) await this.contacts.applySync(content.contacts, tx);
        return effects;
      case 'profile-sync': {
        if (!own) return effects;
        const profile = {
          ...ctx.profile,
          displayName: content.displayName,
          ...(content.accessKey ? { accessKey: content.accessKey } : {}),
          settings: {
            ...ctx.profile.settings,
            readReceipts: content.readReceipts,
            typingIndicators: content.typingIndicators,
          },
        };
        await ctx.writeProfile(profile, tx);
        effects.events.push(() => ctx.commitProfile(profile));
        return effects;
      }
      case 'profile':
        if (this.profiles) await this.profiles.apply(content, from, tx, effects);
        return effects;
      case 'session-reset':
        // The prekey message that carried it already replaced the session.
        return effects;
      case 'group-update':
      case 'sender-key':
        return this.groupContents ? this.groupContents(content, from, tx) : effects;
      case 'sync-request':
        // A device of ours that starts without our contacts (restored from the seed phrase).
        if (own) {
          effects.events.push(() => {
            this.contacts
              .syncAll()
              .catch((error: unknown) => ctx.emitter.emit('error', { error, context: 'contact sync' }));
          });
        }
        return effects;
    }
  }

  /** The sender's contact record; an unknown sender becomes a message request. */
  private async senderContact(
    from: IncomingFrom,
    text: Extract<Content, { kind: 'text' }> | undefined,
    tx: ClientStore,
    effects: Effects,
  ): Promise<ContactRecord> {
    const { ctx } = this;
    const existing = await tx.getContact(from.accountId);
    const profile = text?.profile;
    if (!existing) {
      const record: ContactRecord = {
        accountId: from.accountId,
        identityKey: from.accountKey,
        displayName: profile?.displayName ?? '',
        state: 'request',
        verified: false,
        addedAt: ctx.clock(),
        ...(profile ? { accessKey: profile.accessKey } : {}),
        ...(from.deviceList ? { deviceList: from.deviceList.bytes } : {}),
      };
      await tx.putContact(record);
      await tx.appendKeyHistory(from.accountId, { identityKey: from.accountKey, seenAt: ctx.clock() });
      this.emit(effects, 'message-request', { accountId: from.accountId, displayName: record.displayName });
      return record;
    }
    if (!profile) return existing;
    const sameKey = existing.accessKey && equalBytes(existing.accessKey, profile.accessKey);
    const needsName = existing.displayName === '' && profile.displayName !== '';
    if (sameKey && !needsName) return existing;
    const updated: ContactRecord = {
      ...existing,
      accessKey: profile.accessKey,
      ...(needsName ? { displayName: profile.displayName } : {}),
    };
    await tx.putContact(updated);
    return updated;
  }
}

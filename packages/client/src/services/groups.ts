/**
 * Groups: create, rename, add and remove members, leave, send and receive.
 *
 * - Group state (title, members, admins) is a signed version (group-state.ts) sent as a
 *   'group-update' content over pairwise sessions to every member and our other devices.
 * - Each device has its own Sender Key per group (distribution id = group id). It goes
 *   to a member account as a 'sender-key' content, over the pairwise outbox, before our
 *   first group message to it. When a member leaves or is removed every remaining device
 *   rotates its chain and hands the new one only to the remaining members.
 * - A group message is `groupEncrypt(pad(content))`, stored ONCE on the relay with every
 *   member device as a target (authenticated send: the relay learns the sender, a known
 *   metadata limit, see docs/CLIENT.md). It is encrypted when queued, so a retry after a
 *   crash sends the very same bytes (group-outbox.ts). Texts, replies, attachments, edits,
 *   deletes, reactions and timers all take this path; group-messages.ts applies them.
 * - A group message whose sender key has not arrived yet is kept in memory and retried
 *   when that sender's distribution arrives.
 */
import {
  bytesToHex,
  createDistributionMessage,
  createSenderKey,
  deserializeSenderKeyState,
  groupDecrypt,
  groupEncrypt,
  hexToBytes,
  isProtocolError,
  pad,
  processDistributionMessage,
  readDistributionMessageHeader,
  readSenderKeyMessageHeader,
  rotateSenderKey,
  type SenderKeyState,
  serializeSenderKeyState,
  unpad,
} from '@vaultex/protocol';
import { type Content, decodeContent, encodeContent, MAX_TEXT_BYTES, previewOf } from '../content.js';
import type { ClientContext } from '../context.js';
import { ClientError } from '../errors.js';
import type { GroupView } from '../events.js';
import {
  checkTransition,
  decodeGroupRecord,
  decodeGroupState,
  encodeGroupRecord,
  encodeGroupState,
  type GroupMember,
  type GroupRecord,
  type GroupState,
  MAX_GROUP_MEMBERS,
  MAX_GROUP_TITLE,
  memberOf,
  signGroupState,
  verifyGroupState,
} from '../group-state.js';
import type { ClientStore } from '../storage/client-store.js';
import type { OutboxRecord } from '../storage/records.js';
import type { DeliveredMessage } from '../transport/socket.js';
import { type AttachmentPointer, checkPointer } from './attachments.js';
import { checkAccountId } from './contacts.js';
import type { DeviceService } from './devices.js';
import { applyGroupContent, groupConversation, touchGroup } from './group-messages.js';
import { encodeGroupJob, type GroupJobOutcome, processGroupJob } from './group-outbox.js';
import type { Effects, IncomingFrom } from './messages.js';
import type { OutboxService } from './outbox.js';
import { relayTtlSeconds } from './retention.js';
import type { RichService } from './rich.js';

export { groupConversation } from './group-messages.js';
export type { GroupJobOutcome } from './group-outbox.js';

/**
 * The group record lives in the store's opaque sender-key table under this reserved
 * (account, device) slot of the group's distribution id: an all-zero account id is not
 * the SHA-256 prefix of any key anyone can find.
 */
const RECORD_ACCOUNT = '0'.repeat(32);
const RECORD_DEVICE = 1;
/** Group messages waiting for their sender key, per sender device; the oldest are dropped beyond this. */
const MAX_PENDING = 200;

const utf8 = new TextEncoder();

function checkGroupId(value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{32}$/u.test(value)) {
    throw new ClientError('INVALID_ARGUMENT', 'groupId: 32 lower-case hex digits');
  }
  return value;
}

function checkTitle(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_GROUP_TITLE) {
    throw new ClientError('INVALID_ARGUMENT', `title: 1..${MAX_GROUP_TITLE} characters`);
  }
  return value;
}

/** Groups of one client. */
export class GroupService {
  private readonly pending = new Map<string, DeliveredMessage[]>();
  /** Applies edits, deletes, reactions and timers received in groups; set by the client. */
  rich: RichService | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly outbox: OutboxService,
    private readonly devices: DeviceService,
  ) {}

  /**
   * Create a group with us as its admin and the given contacts as members.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND (not a contact), CONTACT_BLOCKED, UNTRUSTED_IDENTITY.
   */
  async create(title: string, memberIds: readonly string[]): Promise<GroupView> {
    const { ctx } = this;
    checkTitle(title);
    if (!Array.isArray(memberIds)) throw new ClientError('INVALID_ARGUMENT', 'memberIds: an array of account ids');
    const others = [...new Set(memberIds.map((id) => checkAccountId(id, 'memberIds[]')))].filter(
      (id) => id !== ctx.accountId,
    );
    if (others.length + 1 > MAX_GROUP_MEMBERS) {
      throw new ClientError('INVALID_ARGUMENT', `memberIds: at most ${MAX_GROUP_MEMBERS - 1} others`);
    }
    await this.checkContacts(others);
    const groupId = ctx.newId();
    const members: GroupMember[] = [
      { accountId: ctx.accountId, admin: true },
      ...others.map((accountId) => ({ accountId, admin: false })),
    ];
    return this.commit(undefined, { groupId, title, members, version: 1 });
  }

  /**
   * Rename a group (admins only).
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, GROUP_FORBIDDEN.
   */
  async rename(groupId: string, title: string): Promise<GroupView> {
    checkTitle(title);
    const rec = await this.loadAsAdmin(groupId);
    return this.commit(rec, { ...rec.state, title, version: rec.state.version + 1 });
  }

  /**
   * Add contacts to a group (admins only).
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, GROUP_FORBIDDEN, CONTACT_BLOCKED, UNTRUSTED_IDENTITY.
   */
  async add(groupId: string, accountIds: readonly string[]): Promise<GroupView> {
    if (!Array.isArray(accountIds)) throw new ClientError('INVALID_ARGUMENT', 'accountIds: an array of account ids');
    const rec = await this.loadAsAdmin(groupId);
    const added = [...new Set(accountIds.map((id) => checkAccountId(id, 'accountIds[]')))].filter(
      (id) => !memberOf(rec.state, id),
    );
    if (added.length === 0) return this.view(rec.state);
    if (rec.state.members.length + added.length > MAX_GROUP_MEMBERS) {
      throw new ClientError('INVALID_ARGUMENT', `a group has at most ${MAX_GROUP_MEMBERS} members`);
    }
    await this.checkContacts(added);
    const members = [...rec.state.members, ...added.map((accountId) => ({ accountId, admin: false }))];
    return this.commit(rec, { ...rec.state, members, version: rec.state.version + 1 });
  }

  /**
   * Remove a member (admins only); every remaining device then rotates its sender key.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND (no such group or member), GROUP_FORBIDDEN.
   */
  async remove(groupId: string, accountId: string): Promise<GroupView> {
    checkAccountId(accountId);
    const rec = await this.loadAsAdmin(groupId);
    if (accountId === this.ctx.accountId) throw new ClientError('INVALID_ARGUMENT', 'accountId: use leave()');
    if (!memberOf(rec.state, accountId)) throw new ClientError('NOT_FOUND', 'not a member of the group');
    const members = rec.state.members.filter((m) => m.accountId !== accountId);
    return this.commit(rec, { ...rec.state, members, version: rec.state.version + 1 });
  }

  /**
   * Leave a group: the others are told (signed by us) and rotate their sender keys.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, GROUP_FORBIDDEN (not a member).
   */
  async leave(groupId: string): Promise<GroupView> {
    const rec = await this.loadAsMember(groupId);
    const members = rec.state.members.filter((m) => m.accountId !== this.ctx.accountId);
    return this.commit(rec, { ...rec.state, members, version: rec.state.version + 1 });
  }

  /** Our groups (including ones we left), most recently active first. */
  async list(): Promise<GroupView[]> {
    const out: GroupView[] = [];
    for (const conv of await this.ctx.store.listConversations()) {
      if (conv.kind !== 'group') continue;
      const rec = await this.load(conv.id.slice(2));
      if (rec) out.push(this.view(rec.state));
    }
    return out;
  }

  /**
   * One group, or undefined when we know no such group.
   * @throws ClientError INVALID_ARGUMENT.
   */
  async get(groupId: string): Promise<GroupView | undefined> {
    const rec = await this.load(checkGroupId(groupId));
    return rec ? this.view(rec.state) : undefined;
  }

  /**
   * Send a text to a group, optionally as a reply to an earlier message. Our sender key goes
   * first to members that lack it; the message is encrypted once and queued (status
   * 'pending', then 'sent').
   * @returns the message id.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, GROUP_FORBIDDEN (not a member).
   */
  async send(groupId: string, text: string, options: { replyTo?: string } = {}): Promise<string> {
    const { ctx } = this;
    if (typeof text !== 'string' || text.length === 0 || utf8.encode(text).length > MAX_TEXT_BYTES) {
      throw new ClientError('INVALID_ARGUMENT', `text: 1..${MAX_TEXT_BYTES} UTF-8 bytes`);
    }
    if (options.replyTo !== undefined) checkAccountId(options.replyTo, 'replyTo');
    const id = ctx.newId();
    const sentAt = ctx.nextSentAt();
    return this.sendMessage(groupId, {
      kind: 'text',
      id,
      sentAt,
      body: text,
      ...(options.replyTo !== undefined ? { replyTo: options.replyTo } : {}),
    });
  }

  /**
   * Send an uploaded file (`attachments.upload`) to a group, with an optional caption, like
   * a text.
   * @returns the message id.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, GROUP_FORBIDDEN (not a member).
   */
  async sendAttachment(
    groupId: string,
    attachment: AttachmentPointer,
    options: { caption?: string } = {},
  ): Promise<string> {
    const { ctx } = this;
    checkPointer(attachment);
    if (
      options.caption !== undefined &&
      (typeof options.caption !== 'string' || utf8.encode(options.caption).length > MAX_TEXT_BYTES)
    ) {
      throw new ClientError('INVALID_ARGUMENT', `caption: at most ${MAX_TEXT_BYTES} UTF-8 bytes`);
    }
    return this.sendMessage(groupId, {
      kind: 'attachment',
      id: ctx.newId(),
      sentAt: ctx.nextSentAt(),
      attachment,
      ...(options.caption !== undefined ? { caption: options.caption } : {}),
    });
  }

  /**
   * Check that we are a member of a group.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, GROUP_FORBIDDEN.
   */
  async checkMember(groupId: string): Promise<void> {
    await this.loadAsMember(groupId);
  }

  /** Store a text or attachment of ours as 'pending' and queue it, in one transaction. */
  private async sendMessage(groupId: string, value: Extract<Content, { kind: 'text' | 'attachment' }>) {
    const { ctx } = this;
    await this.loadAsMember(groupId);
    const conversationId = groupConversation(groupId);
    await ctx.store.transaction(async (tx) => {
      const rec = await this.loadAsMember(groupId, tx);
      const conv = await tx.getConversation(conversationId);
      const timer = conv?.disappearingSeconds;
      // The message carries the timer it was sent under; our copy's starts when sent (a
      // member's when read), as in direct conversations.
      const content = encodeContent(timer ? { ...value, expireTimer: timer } : value);
      await tx.insertMessage({
        id: value.id,
        conversationId,
        senderAccountId: ctx.accountId,
        senderDeviceId: ctx.deviceId,
        direction: 'out',
        sentAt: value.sentAt,
        receivedAt: value.sentAt,
        body: content,
        status: 'pending',
        ...(timer ? { expiresAt: value.sentAt + timer * 1000 } : {}),
      });
      await touchGroup(tx, rec.state, value.sentAt, previewOf(value), false);
      // The relay's copy is bounded by the same timer.
      await this.queue(groupId, value.id, content, tx, relayTtlSeconds(conv));
    });
    this.outbox.kick();
    return value.id;
  }

  /**
   * Encrypt an encoded content once with our sender key and queue it for every member
   * device and our other devices, inside the caller's transaction `tx` (kick the outbox
   * after it commits). Members that lack our current sender key get it first, pairwise.
   * Also used for edits, deletes, reactions and timers (rich.ts).
   * @throws ClientError NOT_FOUND, GROUP_FORBIDDEN (not a member).
   */
  async queue(
    groupId: string,
    messageId: string,
    content: Uint8Array,
    tx: ClientStore,
    ttlSeconds?: number,
  ): Promise<void> {
    const { ctx } = this;
    const rec = await this.loadAsMember(groupId, tx);
    let own = await this.ownKey(groupId, tx);
    if (!own) own = createSenderKey(hexToBytes(groupId), ctx.provider, ctx.random);
    const recipients = rec.state.members.map((m) => m.accountId).filter((a) => a !== ctx.accountId);
    if (this.devices.otherDeviceIds().length > 0) recipients.push(ctx.accountId);
    const missing = recipients.filter((a) => !rec.distributedTo.includes(a));
    if (missing.length > 0) {
      const distribution = createDistributionMessage(own);
      for (const to of missing) {
        const c = encodeContent({ kind: 'sender-key', id: ctx.newId(), sentAt: ctx.clock(), groupId, distribution });
        await this.outbox.enqueue('control', { to, content: c }, tx);
      }
      await this.save({ ...rec, distributedTo: [...rec.distributedTo, ...missing] }, tx);
    }
    const blob = groupEncrypt(own, pad(content), ctx.provider);
    await tx.putSenderKey(groupId, ctx.accountId, ctx.deviceId, serializeSenderKeyState(own));
    await tx.enqueueOutbox({
      id: ctx.newId(),
      createdAt: ctx.nextOutboxAt(),
      attempts: 0,
      nextAttemptAt: ctx.clock(),
      kind: 'group',
      payload: encodeGroupJob({ groupId, messageId, blob, ...(ttlSeconds ? { ttlSeconds } : {}) }),
    });
  }

  /**
   * What an incoming 'group-update' or 'sender-key' content does, inside the receive
   * transaction. A refused change changes nothing and raises 'group-rejected'.
   */
  async applyIncoming(content: Content, from: IncomingFrom, tx: ClientStore): Promise<Effects> {
    const effects: Effects = { events: [], kickOutbox: false };
    if (content.kind === 'group-update') await this.applyUpdate(content.state, from, tx, effects);
    if (content.kind === 'sender-key')
      await this.applySenderKey(content.groupId, content.distribution, from, tx, effects);
    return effects;
  }

  /**
   * Handle a stored relay message if it is a group message (authenticated, sender-key
   * format). Returns false for anything else (the pairwise pipeline takes it).
   */
  async onStored(m: DeliveredMessage): Promise<boolean> {
    if (!m.source) return false;
    let groupId: string;
    try {
      groupId = bytesToHex(readSenderKeyMessageHeader(m.blob).distributionId);
    } catch {
      return false;
    }
    await this.receive(m, groupId);
    return true;
  }

  /**
   * Send one queued group message (called by the outbox worker in creation order).
   * 'wait' while a pairwise job to a member (our sender key) is waiting to be retried.
   */
  processJob(rec: OutboxRecord, waiting: ReadonlySet<string>): Promise<GroupJobOutcome> {
    return processGroupJob(this.ctx, this.devices, (groupId) => this.load(groupId), rec, waiting);
  }

  // --- changes -------------------------------------------------------------------------

  /** Sign `next`, store it, tell every old and new member and our other devices. */
  private async commit(
    current: GroupRecord | undefined,
    next: Omit<GroupState, 'signature' | 'signedBy'>,
  ): Promise<GroupView> {
    const { ctx } = this;
    const state = signGroupState({ ...next, signedBy: ctx.accountId }, ctx.profile.accountSecretKey, ctx.provider);
    const recipients = new Set<string>([
      ...(current?.state.members ?? []).map((m) => m.accountId),
      ...state.members.map((m) => m.accountId),
    ]);
    recipients.delete(ctx.accountId);
    if (this.devices.otherDeviceIds().length > 0) recipients.add(ctx.accountId);
    const bytes = encodeGroupState(state);
    await ctx.store.transaction(async (tx) => {
      await this.adopt(current, state, tx);
      for (const to of recipients) {
        const content = encodeContent({ kind: 'group-update', id: ctx.newId(), sentAt: ctx.clock(), state: bytes });
        await this.outbox.enqueue('control', { to, content }, tx);
      }
    });
    this.outbox.kick();
    const view = this.view(state);
    ctx.emitter.emit('group-updated', { group: view, by: ctx.accountId });
    return view;
  }

  /**
   * Store an accepted state: rotate our sender key when someone left or was removed (the
   * new chain then goes only to the remaining members), drop it when we are out.
   */
  private async adopt(current: GroupRecord | undefined, state: GroupState, tx: ClientStore): Promise<void> {
    const { ctx } = this;
    const gone = (current?.state.members ?? []).filter((m) => !memberOf(state, m.accountId));
    let distributedTo = (current?.distributedTo ?? []).filter(
      (a) => a === ctx.accountId || memberOf(state, a) !== undefined,
    );
    if (!memberOf(state, ctx.accountId)) {
      await tx.deleteSenderKey(state.groupId, ctx.accountId, ctx.deviceId);
      distributedTo = [];
    } else if (gone.length > 0) {
      const own = await this.ownKey(state.groupId, tx);
      if (own) {
        const rotated = rotateSenderKey(own, ctx.provider, ctx.random);
        await tx.putSenderKey(state.groupId, ctx.accountId, ctx.deviceId, serializeSenderKeyState(rotated));
      }
      distributedTo = [];
    }
    await this.save({ state, distributedTo }, tx);
    const conv = await tx.getConversation(groupConversation(state.groupId));
    await tx.putConversation(
      conv
        ? { ...conv, title: state.title }
        : {
            id: groupConversation(state.groupId),
            kind: 'group',
            title: state.title,
            lastMessageAt: ctx.clock(),
            unread: 0,
          },
    );
  }

  private async applyUpdate(bytes: Uint8Array, from: IncomingFrom, tx: ClientStore, effects: Effects): Promise<void> {
    const { ctx } = this;
    let state: GroupState;
    try {
      state = decodeGroupState(bytes);
    } catch {
      this.reject(effects, '', from.accountId, 'malformed group state');
      return;
    }
    const refuse = (reason: string) => this.reject(effects, state.groupId, from.accountId, reason);
    if (state.signedBy !== from.accountId) return refuse('signed by another account than its sender');
    if (!verifyGroupState(state, from.accountKey, ctx.provider)) return refuse('bad signature');
    const current = await this.load(state.groupId, tx);
    if (current && state.version <= current.state.version) return; // a repeat or an old change
    if (!current && !memberOf(state, ctx.accountId) && from.accountId !== ctx.accountId) {
      return refuse('a group we are not in');
    }
    // Once out of a group we miss its changes: being added back is judged like a first state.
    const wasMember = current !== undefined && memberOf(current.state, ctx.accountId) !== undefined;
    const reason = checkTransition(wasMember || from.accountId === ctx.accountId ? current?.state : undefined, state);
    if (reason) return refuse(reason);
    await this.adopt(current, state, tx);
    const view = this.view(state);
    effects.events.push(() => ctx.emitter.emit('group-updated', { group: view, by: from.accountId }));
  }

  private async applySenderKey(
    groupId: string,
    distribution: Uint8Array,
    from: IncomingFrom,
    tx: ClientStore,
    effects: Effects,
  ): Promise<void> {
    const { ctx } = this;
    const rec = await this.load(groupId, tx);
    if (!rec || !memberOf(rec.state, ctx.accountId)) return;
    if (from.accountId !== ctx.accountId && !memberOf(rec.state, from.accountId)) {
      return this.reject(effects, groupId, from.accountId, 'sender key from a non-member');
    }
    if (from.accountId === ctx.accountId && from.deviceId === ctx.deviceId) return;
    try {
      const header = readDistributionMessageHeader(distribution);
      if (bytesToHex(header.distributionId) !== groupId) {
        return this.reject(effects, groupId, from.accountId, 'sender key for another group');
      }
      const stored = await tx.getSenderKey(groupId, from.accountId, from.deviceId);
      const existing = stored ? deserializeSenderKeyState(stored) : undefined;
      const state = processDistributionMessage(distribution, existing);
      await tx.putSenderKey(groupId, from.accountId, from.deviceId, serializeSenderKeyState(state));
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      return this.reject(effects, groupId, from.accountId, `bad sender key (${e.code})`);
    }
    const key = `${groupId}/${from.accountId}/${from.deviceId}`;
    effects.events.push(() => {
      const waiting = this.pending.get(key);
      if (!waiting) return;
      this.pending.delete(key);
      void (async () => {
        for (const m of waiting) await this.receive(m, groupId);
      })().catch((error: unknown) => ctx.emitter.emit('error', { error, context: 'group receive' }));
    });
  }

  // --- receiving group messages ----------------------------------------------------------

  private async receive(m: DeliveredMessage, groupId: string): Promise<void> {
    const { ctx } = this;
    const source = m.source!;
    const own = source.accountId === ctx.accountId;
    if (own && source.deviceId === ctx.deviceId) return;
    let missingKey = false;
    let events: (() => void)[] = [];
    try {
      events = await ctx.store.transaction(async (tx) => {
        if (!(await tx.markSeen(m.id, ctx.clock()))) return [];
        const rec = await this.load(groupId, tx);
        // Not in the group (any more), or the sender is not: nothing to read.
        if (!rec || !memberOf(rec.state, ctx.accountId)) return [];
        if (!own && !memberOf(rec.state, source.accountId)) return [];
        const stored = await tx.getSenderKey(groupId, source.accountId, source.deviceId);
        if (!stored) {
          missingKey = true;
          throw new ClientError('NOT_FOUND', 'no sender key yet');
        }
        const state = deserializeSenderKeyState(stored);
        const plain = groupDecrypt(state, m.blob, ctx.provider, ctx.clock);
        await tx.putSenderKey(groupId, source.accountId, source.deviceId, serializeSenderKeyState(state));
        const raw = unpad(plain);
        const content = decodeContent(raw);
        return (await applyGroupContent(ctx, this.rich, tx, rec.state, content, raw, source)).events;
      });
    } catch (e) {
      if (missingKey || isProtocolError(e, 'NO_SENDER_KEY')) {
        this.hold(m, groupId);
        return;
      }
      if (isProtocolError(e, 'DUPLICATE_MESSAGE')) {
        await ctx.store.markSeen(m.id, ctx.clock());
        return;
      }
      if (!isProtocolError(e)) throw e;
      await ctx.store.markSeen(m.id, ctx.clock());
      ctx.emitter.emit('decrypt-failed', { accountId: source.accountId, deviceId: source.deviceId, code: e.code });
      return;
    }
    for (const emit of events) emit();
  }

  /** Keep a group message until its sender's key arrives (memory only; bounded). */
  private hold(m: DeliveredMessage, groupId: string): void {
    const key = `${groupId}/${m.source!.accountId}/${m.source!.deviceId}`;
    const list = this.pending.get(key) ?? [];
    if (!list.some((p) => p.id === m.id)) list.push(m);
    if (list.length > MAX_PENDING) list.shift();
    this.pending.set(key, list);
  }

  // --- helpers -------------------------------------------------------------------------------

  private async checkContacts(accountIds: readonly string[]): Promise<void> {
    for (const id of accountIds) {
      const contact = await this.ctx.store.getContact(id);
      if (!contact) throw new ClientError('NOT_FOUND', 'a member is not a contact: add them first');
      if (contact.state === 'blocked') throw new ClientError('CONTACT_BLOCKED', 'a member is blocked');
      if (contact.keyChange) throw new ClientError('UNTRUSTED_IDENTITY', "a member's identity key changed");
    }
  }

  private async load(groupId: string, tx: ClientStore = this.ctx.store): Promise<GroupRecord | undefined> {
    const bytes = await tx.getSenderKey(groupId, RECORD_ACCOUNT, RECORD_DEVICE);
    return bytes ? decodeGroupRecord(bytes) : undefined;
  }

  private async save(rec: GroupRecord, tx: ClientStore): Promise<void> {
    await tx.putSenderKey(rec.state.groupId, RECORD_ACCOUNT, RECORD_DEVICE, encodeGroupRecord(rec));
  }

  private async loadAsMember(groupId: string, tx: ClientStore = this.ctx.store): Promise<GroupRecord> {
    const rec = await this.load(checkGroupId(groupId), tx);
    if (!rec) throw new ClientError('NOT_FOUND', 'no such group');
    if (!memberOf(rec.state, this.ctx.accountId)) throw new ClientError('GROUP_FORBIDDEN', 'not a member');
    return rec;
  }

  private async loadAsAdmin(groupId: string): Promise<GroupRecord> {
    const rec = await this.loadAsMember(groupId);
    if (!memberOf(rec.state, this.ctx.accountId)?.admin) throw new ClientError('GROUP_FORBIDDEN', 'not an admin');
    return rec;
  }

  private async ownKey(groupId: string, tx: ClientStore): Promise<SenderKeyState | undefined> {
    const bytes = await tx.getSenderKey(groupId, this.ctx.accountId, this.ctx.deviceId);
    return bytes ? deserializeSenderKeyState(bytes) : undefined;
  }

  private reject(effects: Effects, groupId: string, from: string, reason: string): void {
    effects.events.push(() => this.ctx.emitter.emit('group-rejected', { groupId, from, reason }));
  }

  private view(state: GroupState): GroupView {
    return {
      groupId: state.groupId,
      conversationId: groupConversation(state.groupId),
      title: state.title,
      members: state.members.map((m) => ({ accountId: m.accountId, admin: m.admin })),
      version: state.version,
      member: memberOf(state, this.ctx.accountId) !== undefined,
    };
  }
}

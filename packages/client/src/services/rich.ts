/**
 * Rich messages: edit, delete for everyone, reactions and the disappearing-message timer,
 * in direct conversations and groups. Each is a small content; in a direct conversation it
 * goes to the peer's devices with a sent transcript to our other devices (the outbox, as for
 * texts), in a group through the group's sender key to every member device and ours (as for
 * group texts). It is applied to the local store the same way on every device, so all of
 * them converge. Only the original
 * sender's edits and deletes are honoured; reactions are kept inside the stored body
 * (the local `annotated` content), so no store schema change was needed.
 */
import {
  type Content,
  decodeContent,
  encodeContent,
  MAX_REACTION_LENGTH,
  MAX_TEXT_BYTES,
  MAX_TIMER_SECONDS,
  previewOf,
  type Reaction,
} from '../content.js';
import type { ClientContext } from '../context.js';
import { ClientError } from '../errors.js';
import type { ClientStore } from '../storage/client-store.js';
import type { ConversationRecord, MessageRecord } from '../storage/records.js';
import { checkAccountId } from './contacts.js';
import type { GroupService } from './groups.js';
import { type Effects, messageView } from './messages.js';
import type { OutboxService } from './outbox.js';

const utf8 = new TextEncoder();

/** The contents this service applies. */
export type RichContent = Extract<Content, { kind: 'edit' | 'delete' | 'reaction' | 'timer' }>;

/** Whether a content is one of {@link RichContent}. */
export function isRichContent(content: Content): content is RichContent {
  return (
    content.kind === 'edit' || content.kind === 'delete' || content.kind === 'reaction' || content.kind === 'timer'
  );
}

/** A stored body split into its content and its reactions. */
function unwrap(body: Uint8Array): { content: Content; reactions: readonly Reaction[] } | undefined {
  try {
    const outer = decodeContent(body);
    if (outer.kind !== 'annotated') return { content: outer, reactions: [] };
    const inner = decodeContent(outer.content);
    return inner.kind === 'annotated' ? undefined : { content: inner, reactions: outer.reactions };
  } catch {
    return undefined;
  }
}

/** The stored body of a content with reactions (the plain content when there are none). */
function wrap(content: Content, reactions: readonly Reaction[]): Uint8Array {
  const bytes = encodeContent(content);
  if (reactions.length === 0) return bytes;
  return encodeContent({ kind: 'annotated', id: content.id, sentAt: content.sentAt, content: bytes, reactions });
}

/** Point the conversation's preview at its newest remaining message (none: no preview). */
async function refreshPreview(tx: ClientStore, conversationId: string): Promise<void> {
  const conv = await tx.getConversation(conversationId);
  if (!conv) return;
  const [newest] = await tx.listMessages(conversationId, { limit: 1 });
  const { lastMessagePreview: _old, ...rest } = conv;
  let preview = '';
  if (newest) {
    try {
      preview = previewOf(decodeContent(newest.body));
    } catch {
      preview = '';
    }
  }
  await tx.putConversation(preview ? { ...rest, lastMessagePreview: preview } : rest);
}

/** Where a conversation's rich contents go: a direct peer or a group. */
type Target = { readonly kind: 'direct'; readonly peer: string } | { readonly kind: 'group'; readonly groupId: string };

function targetOf(conversationId: unknown): Target {
  if (typeof conversationId !== 'string' || !/^[dg]:[0-9a-f]{32}$/u.test(conversationId)) {
    throw new ClientError('INVALID_ARGUMENT', 'conversationId: d:<accountId> or g:<groupId>');
  }
  const id = conversationId.slice(2);
  return conversationId.startsWith('d:') ? { kind: 'direct', peer: id } : { kind: 'group', groupId: id };
}

/** Edits, deletes, reactions and timers. */
export class RichService {
  /** Sends rich contents to groups; set by the client. */
  groups: GroupService | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly outbox: OutboxService,
  ) {}

  /**
   * Replace the text of one of our messages, on every device of both sides (every member's in a group).
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, MESSAGE_FORBIDDEN (not ours, deleted, not a text),
   *   CONTACT_BLOCKED, UNTRUSTED_IDENTITY (direct), GROUP_FORBIDDEN (a group we are not in).
   */
  async edit(conversationId: string, messageId: string, text: string): Promise<void> {
    if (typeof text !== 'string' || text.length === 0 || utf8.encode(text).length > MAX_TEXT_BYTES) {
      throw new ClientError('INVALID_ARGUMENT', `text: 1..${MAX_TEXT_BYTES} UTF-8 bytes`);
    }
    await this.perform(conversationId, messageId, (id, sentAt, target) => ({
      kind: 'edit',
      id,
      sentAt,
      target,
      body: text,
    }));
  }

  /**
   * Delete one of our messages for everyone: its text is wiped on every device of every side.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, MESSAGE_FORBIDDEN, CONTACT_BLOCKED,
   *   UNTRUSTED_IDENTITY (direct), GROUP_FORBIDDEN (a group we are not in).
   */
  async delete(conversationId: string, messageId: string): Promise<void> {
    await this.perform(conversationId, messageId, (id, sentAt, target) => ({ kind: 'delete', id, sentAt, target }));
  }

  /**
   * React to a message (ours or theirs); an empty emoji removes our reaction.
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, MESSAGE_FORBIDDEN (deleted), CONTACT_BLOCKED,
   *   UNTRUSTED_IDENTITY (direct), GROUP_FORBIDDEN (a group we are not in).
   */
  async react(conversationId: string, messageId: string, emoji: string): Promise<void> {
    if (typeof emoji !== 'string' || emoji.length > MAX_REACTION_LENGTH) {
      throw new ClientError('INVALID_ARGUMENT', `emoji: at most ${MAX_REACTION_LENGTH} characters ('' removes)`);
    }
    await this.perform(conversationId, messageId, (id, sentAt, target) => ({
      kind: 'reaction',
      id,
      sentAt,
      target,
      emoji,
    }));
  }

  /**
   * Set the conversation's disappearing-message timer (0 turns it off), for both sides (in a
   * group: for every member; any member may set it).
   * @throws ClientError INVALID_ARGUMENT, NOT_FOUND, CONTACT_BLOCKED, UNTRUSTED_IDENTITY (direct),
   *   GROUP_FORBIDDEN (a group we are not in).
   */
  async setTimer(conversationId: string, seconds: number): Promise<void> {
    if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_TIMER_SECONDS) {
      throw new ClientError('INVALID_ARGUMENT', `seconds: 0..${MAX_TIMER_SECONDS}`);
    }
    const { ctx } = this;
    const target = targetOf(conversationId);
    await this.checkTarget(target);
    const content: RichContent = { kind: 'timer', id: ctx.newId(), sentAt: ctx.nextSentAt(), seconds };
    const effects: Effects = { events: [], kickOutbox: true };
    await ctx.store.transaction(async (tx) => {
      await this.apply(content, ctx.accountId, conversationId, tx, effects);
      await this.queueTo(target, content, tx);
    });
    this.outbox.kick();
    for (const e of effects.events) e();
  }

  /**
   * Apply an edit, delete, reaction or timer of `author` in `conversationId` inside `tx`.
   * Contents that do not fit (another sender's edit or delete, an unknown target) are ignored.
   */
  async apply(
    content: RichContent,
    author: string,
    conversationId: string,
    tx: ClientStore,
    effects: Effects,
  ): Promise<void> {
    const { ctx } = this;
    if (content.kind === 'timer') {
      const conv = await tx.getConversation(conversationId);
      const { disappearingSeconds: _old, ...rest }: ConversationRecord = conv ?? {
        id: conversationId,
        kind: conversationId.startsWith('g:') ? 'group' : 'direct',
        lastMessageAt: content.sentAt,
        unread: 0,
      };
      await tx.putConversation(content.seconds > 0 ? { ...rest, disappearingSeconds: content.seconds } : rest);
      effects.events.push(() =>
        ctx.emitter.emit('timer-changed', { conversationId, seconds: content.seconds, by: author }),
      );
      return;
    }
    const target = await tx.getMessage(content.target);
    if (!target || target.conversationId !== conversationId || target.deletedAt !== undefined) return;
    const stored = unwrap(target.body);
    if (!stored) return;
    let changed: MessageRecord | undefined;
    switch (content.kind) {
      case 'edit': {
        if (target.senderAccountId !== author || stored.content.kind !== 'text') return;
        // Edits may arrive out of order across devices: the latest by the sender's clock wins.
        if (target.editedAt !== undefined && target.editedAt >= content.sentAt) return;
        const body = wrap({ ...stored.content, body: content.body }, stored.reactions);
        changed = { ...target, body, editedAt: content.sentAt };
        await tx.updateMessage(target.id, { body, editedAt: content.sentAt });
        break;
      }
      case 'delete': {
        if (target.senderAccountId !== author) return;
        // The tombstone keeps id and time (the conversation's order) and nothing of the text.
        const body = encodeContent({ kind: 'text', id: target.id, sentAt: target.sentAt, body: '' });
        const deletedAt = ctx.clock();
        changed = { ...target, body, deletedAt };
        await tx.updateMessage(target.id, { body, deletedAt });
        break;
      }
      case 'reaction': {
        const reactions = stored.reactions.filter((r) => r.accountId !== author);
        const mine = stored.reactions.find((r) => r.accountId === author);
        if ((mine?.emoji ?? '') === content.emoji) return;
        if (content.emoji !== '') {
          const at = stored.reactions.findIndex((r) => r.accountId === author);
          reactions.splice(at < 0 ? reactions.length : at, 0, { accountId: author, emoji: content.emoji });
        }
        const body = wrap(stored.content, reactions);
        changed = { ...target, body };
        await tx.updateMessage(target.id, { body });
        break;
      }
    }
    if (content.kind !== 'reaction') await refreshPreview(tx, conversationId);
    const view = messageView(changed);
    effects.events.push(() => ctx.emitter.emit('message-updated', { id: view.id, conversationId, message: view }));
  }

  /**
   * Wipe expired disappearing messages (the store's `expiresAt`), in batches.
   * @returns how many were wiped.
   */
  async sweep(): Promise<number> {
    const { ctx } = this;
    let total = 0;
    for (;;) {
      const gone = await ctx.store.transaction(async (tx) => {
        const expired = await tx.deleteExpiredMessages(ctx.clock(), 500);
        for (const id of new Set(expired.map((m) => m.conversationId))) await refreshPreview(tx, id);
        return expired;
      });
      for (const m of gone) ctx.emitter.emit('message-updated', { id: m.id, conversationId: m.conversationId });
      total += gone.length;
      if (gone.length < 500) return total;
    }
  }

  private async perform(
    conversationId: string,
    messageId: string,
    make: (id: string, sentAt: number, target: string) => RichContent,
  ): Promise<void> {
    const { ctx } = this;
    const to = targetOf(conversationId);
    checkAccountId(messageId, 'messageId');
    await this.checkTarget(to);
    const content = make(ctx.newId(), ctx.nextSentAt(), messageId);
    const effects: Effects = { events: [], kickOutbox: true };
    await ctx.store.transaction(async (tx) => {
      const target = await tx.getMessage(messageId);
      if (!target || target.conversationId !== conversationId) throw new ClientError('NOT_FOUND', 'no such message');
      if (target.deletedAt !== undefined) throw new ClientError('MESSAGE_FORBIDDEN', 'the message was deleted');
      if (content.kind !== 'reaction' && target.senderAccountId !== ctx.accountId) {
        throw new ClientError('MESSAGE_FORBIDDEN', 'only its sender may change a message');
      }
      if (content.kind === 'edit' && unwrap(target.body)?.content.kind !== 'text') {
        throw new ClientError('MESSAGE_FORBIDDEN', 'only texts can be edited');
      }
      await this.apply(content, ctx.accountId, conversationId, tx, effects);
      await this.queueTo(to, content, tx);
    });
    this.outbox.kick();
    for (const e of effects.events) e();
  }

  private async queueTo(target: Target, content: RichContent, tx: ClientStore): Promise<void> {
    if (target.kind === 'direct') return this.queue(target.peer, content, tx);
    await this.groupService().queue(target.groupId, content.id, encodeContent(content), tx);
  }

  /** Queue a rich content for the peer's devices, with a transcript for our other devices. */
  async queue(peer: string, content: RichContent, tx: ClientStore): Promise<void> {
    const bytes = encodeContent(content);
    const transcript = encodeContent({
      kind: 'sent-transcript',
      id: content.id,
      sentAt: content.sentAt,
      to: peer,
      content: bytes,
    });
    await this.outbox.enqueue('message', { to: peer, content: bytes, transcript }, tx);
  }

  private groupService(): GroupService {
    if (!this.groups) throw new ClientError('INVALID_ARGUMENT', 'groups are not wired in this client');
    return this.groups;
  }

  /** Direct: a contact, not blocked, no pending key change. Group: we are a member. */
  private async checkTarget(target: Target): Promise<void> {
    if (target.kind === 'group') return this.groupService().checkMember(target.groupId);
    const peer = target.peer;
    const contact = await this.ctx.store.getContact(peer);
    if (!contact) throw new ClientError('NOT_FOUND', 'not a contact');
    if (contact.state === 'blocked') throw new ClientError('CONTACT_BLOCKED', 'the contact is blocked');
    if (contact.keyChange) {
      throw new ClientError('UNTRUSTED_IDENTITY', "the contact's identity key changed: accept the change first");
    }
  }
}

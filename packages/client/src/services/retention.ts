/**
 * Per-conversation retention (a local setting, not sent to the peer) and the readable export
 * of a conversation. Retention decides the relay lifetime of what we send and whether the
 * conversation goes into the encrypted history archive; see {@link RetentionPolicy}.
 */
import type { ClientContext } from '../context.js';
import { ClientError } from '../errors.js';
import type { ConversationRecord, MessageRecord, RetentionPolicy } from '../storage/records.js';
import { checkRetention, MAX_RETENTION_TTL_SECONDS } from '../storage/validate.js';
import { messageView } from './messages.js';

/** The preset relay lifetimes of the 'ttl' policy offered by the apps (14 and 30 days). */
export const RETENTION_TTL_PRESETS = { days14: 14 * 24 * 3600, days30: 30 * 24 * 3600 } as const;

const CONVERSATION_ID = /^[dg]:[0-9a-f]{32}$/u;

/** A readable export format of {@link exportConversation}. */
export type ExportFormat = 'json' | 'text';

/**
 * The relay lifetime (`ttlSeconds`) for a send into `conv`: the 'ttl' policy's lifetime, the
 * disappearing timer, or the shorter of both (at most the relay's 366 days); undefined for
 * the relay default. Direct sends use it; group sends (group-outbox.ts) should too.
 */
export function relayTtlSeconds(conv: ConversationRecord | undefined): number | undefined {
  const timer = conv?.disappearingSeconds;
  const ttl = conv?.retention?.mode === 'ttl' ? conv.retention.ttlSeconds : undefined;
  const shortest = timer === undefined ? ttl : ttl === undefined ? timer : Math.min(timer, ttl);
  // The relay refuses longer lifetimes; a longer timer is still enforced by the devices.
  return shortest === undefined ? undefined : Math.min(shortest, MAX_RETENTION_TTL_SECONDS);
}

function checkConversationId(conversationId: unknown): string {
  if (typeof conversationId !== 'string' || !CONVERSATION_ID.test(conversationId)) {
    throw new ClientError('INVALID_ARGUMENT', 'conversationId: d:<accountId> or g:<groupId>');
  }
  return conversationId;
}

/**
 * Set (or with `null` clear) a conversation's retention policy. A direct conversation with a
 * contact is created when it has no messages yet; a group conversation must exist.
 * @returns the updated conversation.
 * @throws ClientError INVALID_ARGUMENT (ttlSeconds 60..366 days), NOT_FOUND.
 */
export async function setRetention(
  ctx: ClientContext,
  conversationId: string,
  policy: RetentionPolicy | null,
): Promise<ConversationRecord> {
  const id = checkConversationId(conversationId);
  const retention = policy === null ? undefined : checkRetention(policy, 'policy');
  return ctx.store.transaction(async (tx) => {
    let conv = await tx.getConversation(id);
    if (!conv) {
      const contact = id.startsWith('d:') ? await tx.getContact(id.slice(2)) : undefined;
      if (!contact) throw new ClientError('NOT_FOUND', 'no such conversation');
      conv = { id, kind: 'direct', title: contact.displayName, lastMessageAt: 0, unread: 0 };
    }
    const { retention: _old, ...rest } = conv;
    const next: ConversationRecord = retention ? { ...rest, retention } : rest;
    await tx.putConversation(next);
    return next;
  });
}

/** A message as the JSON export writes it. */
export interface ExportedMessage {
  readonly id: string;
  readonly senderId: string;
  readonly senderName: string;
  readonly direction: 'in' | 'out';
  /** ISO 8601, UTC. */
  readonly time: string;
  readonly text?: string;
  readonly replyTo?: string;
  readonly edited?: string;
  readonly deleted?: boolean;
  readonly reactions?: readonly { readonly senderId: string; readonly emoji: string }[];
  readonly attachment?: { readonly name: string; readonly size: number; readonly mime: string };
  readonly kind: 'text' | 'attachment' | 'unsupported';
}

/** The JSON export of one conversation. */
export interface ConversationExport {
  readonly format: 'vaultex-conversation';
  readonly version: 1;
  readonly exportedAt: string;
  readonly conversation: {
    readonly id: string;
    readonly kind: 'direct' | 'group';
    readonly title?: string;
    readonly retention?: RetentionPolicy;
  };
  readonly messages: readonly ExportedMessage[];
}

/** `2026-11-21 22:00` in UTC. */
function minuteUtc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
}

/** Every message of a conversation, oldest first. */
async function allMessages(ctx: ClientContext, conversationId: string): Promise<MessageRecord[]> {
  const out: MessageRecord[] = [];
  let before: { sentAt: number; id: string } | undefined;
  for (;;) {
    const page = await ctx.store.listMessages(conversationId, { limit: 1000, ...(before ? { before } : {}) });
    out.push(...page);
    const last = page.at(-1);
    if (page.length < 1000 || !last) break;
    before = { sentAt: last.sentAt, id: last.id };
  }
  return out.reverse();
}

/**
 * A readable export of one conversation: 'json' ({@link ConversationExport}) or 'text', one
 * line per message (`[2026-11-21 22:00] Alice: hi`, times in UTC). The export is plaintext:
 * the application decides where it goes.
 * @throws ClientError INVALID_ARGUMENT, NOT_FOUND for an unknown conversation.
 */
export async function exportConversation(
  ctx: ClientContext,
  conversationId: string,
  format: ExportFormat,
): Promise<string> {
  const id = checkConversationId(conversationId);
  if (format !== 'json' && format !== 'text') throw new ClientError('INVALID_ARGUMENT', "format: 'json' or 'text'");
  const conv = await ctx.store.getConversation(id);
  if (!conv) throw new ClientError('NOT_FOUND', 'no such conversation');
  const names = new Map<string, string>([[ctx.accountId, ctx.profile.displayName]]);
  for (const c of await ctx.store.listContacts()) names.set(c.accountId, c.displayName);
  const nameOf = (accountId: string): string => names.get(accountId) ?? accountId.slice(0, 8);
  const messages = (await allMessages(ctx, id)).map((rec): ExportedMessage => {
    const v = messageView(rec);
    return {
      id: v.id,
      kind: v.kind,
      senderId: v.senderAccountId,
      senderName: nameOf(v.senderAccountId),
      direction: v.direction,
      time: new Date(v.sentAt).toISOString(),
      ...(v.text !== undefined && !v.deleted ? { text: v.text } : {}),
      ...(v.replyTo ? { replyTo: v.replyTo } : {}),
      ...(v.editedAt !== undefined ? { edited: new Date(v.editedAt).toISOString() } : {}),
      ...(v.deleted ? { deleted: true } : {}),
      ...(v.reactions ? { reactions: v.reactions.map((r) => ({ senderId: r.accountId, emoji: r.emoji })) } : {}),
      ...(v.attachment
        ? { attachment: { name: v.attachment.name, size: v.attachment.size, mime: v.attachment.mime } }
        : {}),
    };
  });
  if (format === 'json') {
    const doc: ConversationExport = {
      format: 'vaultex-conversation',
      version: 1,
      exportedAt: new Date(ctx.clock()).toISOString(),
      conversation: {
        id: conv.id,
        kind: conv.kind,
        ...(conv.title !== undefined ? { title: conv.title } : {}),
        ...(conv.retention ? { retention: conv.retention } : {}),
      },
      messages,
    };
    return `${JSON.stringify(doc, null, 2)}\n`;
  }
  return messages.map((m) => `${textLine(m)}\n`).join('');
}

function textLine(m: ExportedMessage): string {
  const head = `[${minuteUtc(Date.parse(m.time))}] ${m.senderName}:`;
  if (m.deleted) return `${head} (deleted)`;
  const parts: string[] = [];
  if (m.replyTo) parts.push(`(reply to ${m.replyTo.slice(0, 8)})`);
  if (m.attachment) parts.push(`[file ${m.attachment.name}, ${m.attachment.size} bytes]`);
  if (m.text !== undefined) parts.push(m.text.replace(/\r?\n/gu, '\n    '));
  if (m.kind === 'unsupported') parts.push('(unsupported message)');
  if (m.edited) parts.push('(edited)');
  if (m.reactions) parts.push(`{${m.reactions.map((r) => r.emoji).join(' ')}}`);
  return `${head} ${parts.join(' ')}`;
}

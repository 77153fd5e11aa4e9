/**
 * What a decrypted group message does to the local store: texts (with their reply
 * reference) and attachments are stored; edits, deletes, reactions and timers are applied
 * with the same rules as in direct conversations (rich.ts), so every device of every member
 * converges. Sending is in groups.ts and group-outbox.ts.
 */
import { type Content, previewOf } from '../content.js';
import type { ClientContext } from '../context.js';
import type { GroupState } from '../group-state.js';
import type { ClientStore } from '../storage/client-store.js';
import type { MessageRecord } from '../storage/records.js';
import { type Effects, messageView } from './messages.js';
import { isRichContent, type RichService } from './rich.js';

/** The conversation id of a group. */
export function groupConversation(groupId: string): string {
  return `g:${groupId}`;
}

/** Move a group conversation's preview and unread count for a new message. */
export async function touchGroup(
  tx: ClientStore,
  state: GroupState,
  at: number,
  preview: string,
  incoming: boolean,
): Promise<void> {
  const id = groupConversation(state.groupId);
  const conv = await tx.getConversation(id);
  await tx.putConversation(
    conv
      ? {
          ...conv,
          ...(at >= conv.lastMessageAt ? { lastMessageAt: at, lastMessagePreview: preview.slice(0, 200) } : {}),
          unread: conv.unread + (incoming ? 1 : 0),
        }
      : {
          id,
          kind: 'group',
          title: state.title,
          lastMessageAt: at,
          lastMessagePreview: preview.slice(0, 200),
          unread: incoming ? 1 : 0,
        },
  );
}

/** Who sent a decrypted group content: the relay's `source`, bound by the sender-key signature. */
export interface GroupSource {
  readonly accountId: string;
  readonly deviceId: number;
}

/**
 * What a decrypted group content does, inside the receive transaction. Texts (with their
 * reply reference) and attachments are stored; edits, deletes, reactions and timers go to
 * the rich-message rules with the sender as author; other kinds are ignored.
 */
export async function applyGroupContent(
  ctx: ClientContext,
  rich: RichService | undefined,
  tx: ClientStore,
  state: GroupState,
  content: Content,
  raw: Uint8Array,
  source: GroupSource,
): Promise<Effects> {
  const effects: Effects = { events: [], kickOutbox: false };
  const conversationId = groupConversation(state.groupId);
  const own = source.accountId === ctx.accountId;
  if (isRichContent(content)) {
    if (rich) await rich.apply(content, source.accountId, conversationId, tx, effects);
    return effects;
  }
  if (content.kind !== 'text' && content.kind !== 'attachment') return effects;
  // Our other device's message starts its timer when sent, as on the sending device; a
  // member's starts when we read it (messages.markRead). Either way with the timer the
  // message was sent under, not the conversation's current one.
  const timer = own ? content.expireTimer : undefined;
  const record: MessageRecord = {
    id: content.id,
    conversationId,
    senderAccountId: source.accountId,
    senderDeviceId: source.deviceId,
    direction: own ? 'out' : 'in',
    sentAt: content.sentAt,
    receivedAt: ctx.clock(),
    body: raw,
    status: own ? 'sent' : 'delivered',
    ...(timer ? { expiresAt: content.sentAt + timer * 1000 } : {}),
  };
  if (!(await tx.insertMessage(record))) return effects;
  await touchGroup(tx, state, content.sentAt, previewOf(content), !own);
  const view = messageView(record);
  effects.events.push(() => ctx.emitter.emit('message', { message: view }));
  return effects;
}

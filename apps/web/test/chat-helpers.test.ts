/** The chat features' pure helpers: list rows for groups, reaction counts, ids, thumbnail types. */
import type { ContactView, ConversationRecord, GroupView } from '@vaultex/client/browser';
import { describe, expect, it } from 'vitest';
import { listEntries, senderName } from '../src/components/conversation-list.js';
import { groupReactions, snippet } from '../src/components/message-bubble.js';
import { conversationOf, isGroupSelection, thumbnailType } from '../src/state/chat-actions.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const ME = 'e'.repeat(32);
const G = `g:${'1'.repeat(32)}`;

function contact(accountId: string, displayName: string): ContactView {
  return { accountId, displayName, formatted: accountId, state: 'accepted' } as unknown as ContactView;
}

describe('chat helpers', () => {
  it('maps a selection to its conversation id', () => {
    expect(conversationOf(A)).toBe(`d:${A}`);
    expect(conversationOf(G)).toBe(G);
    expect(isGroupSelection(G)).toBe(true);
    expect(isGroupSelection(A)).toBe(false);
    expect(isGroupSelection(undefined)).toBe(false);
  });

  it('lists a group with its title and the last sender before the preview', () => {
    const contacts = [contact(A, 'Ann'), contact(B, 'Ben')];
    const conversations = [
      { id: G, kind: 'group', title: 'Old title', lastMessageAt: 20, lastMessagePreview: 'see you', unread: 2 },
      { id: `d:${A}`, kind: 'direct', lastMessageAt: 10, lastMessagePreview: 'hi', unread: 0 },
    ] as ConversationRecord[];
    const group = { groupId: G.slice(2), conversationId: G, title: 'Trip', members: [], version: 2, member: true };
    const rows = listEntries(contacts, conversations, {
      groups: { [G]: group as GroupView },
      lastSender: { [G]: B },
      me: ME,
    });
    expect(rows.map((r) => [r.id, r.name, r.preview, r.unread])).toEqual([
      [G, 'Trip', 'Ben: see you', 2],
      [A, 'Ann', 'hi', 0],
      [B, 'Ben', '', 0],
    ]);
    expect(senderName(contacts, ME, ME)).toBe('You');
    expect(senderName(contacts, 'c'.repeat(32), ME)).toBe('cccccccc');
  });

  it('counts reactions per emoji and marks mine', () => {
    const reactions = [
      { accountId: A, emoji: '👍' },
      { accountId: ME, emoji: '👍' },
      { accountId: B, emoji: '😂' },
    ];
    expect(groupReactions(reactions, ME)).toEqual([
      { emoji: '👍', count: 2, mine: true },
      { emoji: '😂', count: 1, mine: false },
    ]);
    expect(groupReactions(undefined, ME)).toEqual([]);
  });

  it('quotes texts, files and tombstones', () => {
    const base = { id: '1', direction: 'in', status: 'read' } as const;
    expect(snippet({ ...base, kind: 'text', text: 'hello' } as never)).toBe('hello');
    expect(snippet({ ...base, kind: 'text', text: '', deleted: true } as never)).toBe('Message deleted');
    expect(
      snippet({ ...base, kind: 'attachment', text: '', attachment: { name: 'a.pdf', mime: '', size: 1 } } as never),
    ).toBe('a.pdf');
  });

  it('tells WebP, PNG and JPEG thumbnails apart', () => {
    const webp = new Uint8Array([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50]);
    expect(thumbnailType(webp)).toBe('image/webp');
    expect(thumbnailType(new Uint8Array([0x89, 0x50, 0x4e, 0x47]))).toBe('image/png');
    expect(thumbnailType(new Uint8Array([0xff, 0xd8, 0xff]))).toBe('image/jpeg');
  });
});

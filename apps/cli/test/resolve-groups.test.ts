/**
 * Naming groups and conversations on the command line: titles, prefixes and ids, and the
 * tier rule when a contact and a group could both be meant.
 */
import type { ContactView, GroupView } from '@vaultex/client';
import { describe, expect, it } from 'vitest';
import { describeError, EXIT } from '../src/errors.js';
import { pickConversation, pickGroup } from '../src/resolve.js';

const group = (groupId: string, title: string) =>
  ({ groupId, title, conversationId: `g:${groupId}`, members: [], version: 1, member: true }) as GroupView;
const contact = (accountId: string, displayName: string) => ({ accountId, displayName }) as ContactView;

const groups = [
  group('cccc1111cccc1111cccc1111cccc1111', 'Climbing'),
  group('cccc2222cccc2222cccc2222cccc2222', 'Climbing club'),
  group('dddd3333dddd3333dddd3333dddd3333', 'Book club'),
];
const contacts = [
  contact('aaaa1111aaaa1111aaaa1111aaaa1111', 'Bob'),
  contact('bbbb2222bbbb2222bbbb2222bbbb2222', 'Bo'),
];

describe('naming groups', () => {
  it('by exact title, unique title prefix, id, g:id or id prefix', () => {
    expect(pickGroup(groups, 'climbing').title).toBe('Climbing');
    expect(pickGroup(groups, 'book').title).toBe('Book club');
    expect(pickGroup(groups, 'cccc2222cccc2222cccc2222cccc2222').title).toBe('Climbing club');
    expect(pickGroup(groups, 'g:dddd3333dddd3333dddd3333dddd3333').title).toBe('Book club');
    expect(pickGroup(groups, 'cccc2').title).toBe('Climbing club');
  });

  it('refuses ambiguous and unknown groups with their exit codes', () => {
    expect(() => pickGroup(groups, 'cccc')).toThrow(/several groups/u);
    try {
      pickGroup(groups, 'chess');
      expect.unreachable();
    } catch (e) {
      expect(describeError(e)).toMatchObject({ code: 'UNKNOWN_GROUP', exit: EXIT.NOT_FOUND });
    }
  });
});

describe('naming a contact or a group', () => {
  it('the most exact tier wins across both lists', () => {
    expect(pickConversation(contacts, groups, 'bo')).toMatchObject({ kind: 'contact', name: 'Bo' });
    expect(pickConversation(contacts, groups, 'book')).toMatchObject({
      kind: 'group',
      conversationId: 'g:dddd3333dddd3333dddd3333dddd3333',
    });
    expect(pickConversation(contacts, groups, 'aaaa')).toMatchObject({
      kind: 'contact',
      conversationId: 'd:aaaa1111aaaa1111aaaa1111aaaa1111',
    });
  });

  it('a prefix shared by a contact and a group is ambiguous; nothing is not found', () => {
    const withBoGroup = [...groups, group('eeee4444eeee4444eeee4444eeee4444', 'Boats')];
    expect(() => pickConversation([contacts[0]!], withBoGroup, 'bo')).toThrow(/several conversations/u);
    expect(describeError(catchIt(() => pickConversation(contacts, groups, 'zed'))).exit).toBe(EXIT.NOT_FOUND);
  });
});

function catchIt(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('no error');
}

/**
 * Conformance tests of the message flow: messages (de-duplication, keyset paging, status
 * monotonicity, edits, expiry), the outbox and the seen-id set.
 */

import { bytes, direct, hexId, type Suite, sampleMessage, sampleOutbox } from './conformance-support.js';
import { canAdvanceStatus } from './message-status.js';
import type { MessageRecord, MessageStatus } from './records.js';

const STATUSES: MessageStatus[] = ['pending', 'sent', 'delivered', 'read', 'failed'];

/** Newest first in (sentAt, id) order. */
function newestFirst(a: MessageRecord, b: MessageRecord): number {
  return b.sentAt - a.sentAt || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0);
}

/** Register the message, outbox and seen-id tests. */
export function messageTests({ t, withStore }: Suite): void {
  const { it, expect } = t;

  it('inserts a message once: a second insert with the same id changes nothing', () =>
    withStore(async (s) => {
      const m = sampleMessage(direct(1), 1, 100, { editedAt: 120, expiresAt: 9000, direction: 'out', status: 'sent' });
      expect(await s.insertMessage(m)).toBe(true);
      expect(await s.getMessage(m.id)).toEqual(m);
      expect(await s.insertMessage({ ...m, body: bytes(3, 3), sentAt: 1 })).toBe(false);
      expect(await s.getMessage(m.id)).toEqual(m);
      expect(await s.countMessages(direct(1))).toBe(1);
      expect(await s.getMessage(hexId(2))).toBeUndefined();
    }));

  it('pages messages newest first in a stable (sentAt, id) order', () =>
    withStore(async (s) => {
      const all: MessageRecord[] = [];
      // 40 messages with many equal timestamps, inserted in a scrambled order.
      for (let i = 0; i < 40; i++) {
        const n = (i * 17) % 40;
        const m = sampleMessage(direct(1), 1000 + n, 500 + Math.floor(n / 3));
        all.push(m);
        await s.insertMessage(m);
      }
      await s.insertMessage(sampleMessage(direct(2), 5000, 600));
      all.sort(newestFirst);
      expect(await s.countMessages(direct(1))).toBe(40);
      const pages: MessageRecord[][] = [];
      let before: { sentAt: number; id: string } | undefined;
      for (;;) {
        const page = await s.listMessages(direct(1), before ? { before, limit: 7 } : { limit: 7 });
        if (page.length === 0) break;
        pages.push(page);
        const last = page.at(-1)!;
        before = { sentAt: last.sentAt, id: last.id };
      }
      expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 7, 5]);
      expect(pages.flat()).toEqual(all);
      // A cursor between two messages of equal sentAt splits them by id.
      const tie = all.findIndex((m, i) => i > 0 && all[i - 1]!.sentAt === m.sentAt);
      const cursor = all[tie - 1]!;
      expect(await s.listMessages(direct(1), { before: { sentAt: cursor.sentAt, id: cursor.id }, limit: 2 })).toEqual(
        all.slice(tie, tie + 2),
      );
      expect(await s.listMessages(direct(3), { limit: 10 })).toEqual([]);
    }));

  it('moves message status only forward (failed only from pending)', () =>
    withStore(async (s) => {
      let n = 0;
      for (const from of STATUSES) {
        for (const to of STATUSES) {
          const m = sampleMessage(direct(1), ++n, n, { status: from });
          await s.insertMessage(m);
          const allowed = canAdvanceStatus(from, to);
          expect(`${from}->${to}: ${await s.updateMessageStatus(m.id, to)}`).toBe(`${from}->${to}: ${allowed}`);
          expect((await s.getMessage(m.id))?.status).toBe(allowed ? to : from);
        }
      }
      expect(canAdvanceStatus('sent', 'read')).toBe(true);
      expect(canAdvanceStatus('read', 'delivered')).toBe(false);
      expect(canAdvanceStatus('sent', 'failed')).toBe(false);
      expect(await s.updateMessageStatus(hexId(999), 'read')).toBe(false);
    }));

  it('updates edit, deletion and expiry fields and the body', () =>
    withStore(async (s) => {
      const m = sampleMessage(direct(1), 1, 100);
      await s.insertMessage(m);
      expect(await s.updateMessage(m.id, { body: bytes(5, 0x42), editedAt: 200 })).toBe(true);
      expect(await s.getMessage(m.id)).toEqual({ ...m, body: bytes(5, 0x42), editedAt: 200 });
      expect(await s.updateMessage(m.id, { deletedAt: 300, body: new Uint8Array(0) })).toBe(true);
      expect(await s.updateMessage(m.id, { expiresAt: 400 })).toBe(true);
      expect(await s.getMessage(m.id)).toEqual({
        ...m,
        body: new Uint8Array(0),
        editedAt: 200,
        deletedAt: 300,
        expiresAt: 400,
      });
      expect(await s.updateMessage(hexId(2), { editedAt: 1 })).toBe(false);
    }));

  it('deletes single messages and expired ones, earliest expiry first, bounded', () =>
    withStore(async (s) => {
      await s.insertMessage(sampleMessage(direct(1), 1, 100, { expiresAt: 300 }));
      await s.insertMessage(sampleMessage(direct(1), 2, 101, { expiresAt: 200 }));
      await s.insertMessage(sampleMessage(direct(2), 3, 102, { expiresAt: 250 }));
      await s.insertMessage(sampleMessage(direct(2), 4, 103, { expiresAt: 900 }));
      await s.insertMessage(sampleMessage(direct(2), 5, 104));
      expect(await s.deleteMessage(hexId(5))).toBe(true);
      expect(await s.deleteMessage(hexId(5))).toBe(false);
      expect(await s.deleteExpiredMessages(199)).toEqual([]);
      expect(await s.deleteExpiredMessages(300, 2)).toEqual([
        { id: hexId(2), conversationId: direct(1) },
        { id: hexId(3), conversationId: direct(2) },
      ]);
      expect(await s.deleteExpiredMessages(300)).toEqual([{ id: hexId(1), conversationId: direct(1) }]);
      expect(await s.getMessage(hexId(4))).toEqual(sampleMessage(direct(2), 4, 103, { expiresAt: 900 }));
      expect(await s.countMessages(direct(1))).toBe(0);
    }));

  it('queues outbox entries once and lists due ones by (nextAttemptAt, createdAt, id)', () =>
    withStore(async (s) => {
      const e = [
        sampleOutbox('e', 50, 5),
        sampleOutbox('b', 10, 2),
        sampleOutbox('a', 10, 2),
        sampleOutbox('c', 10, 1),
        sampleOutbox('later', 500, 0),
      ];
      for (const x of e) expect(await s.enqueueOutbox(x)).toBe(true);
      expect(await s.enqueueOutbox({ ...e[0]!, payload: bytes(2, 2) })).toBe(false);
      expect(await s.getOutbox('e')).toEqual(e[0]);
      expect((await s.listDueOutbox(100, 10)).map((x) => x.id)).toEqual(['c', 'a', 'b', 'e']);
      expect(await s.listDueOutbox(10, 2)).toEqual([e[3], e[2]]);
      expect(await s.listDueOutbox(9, 10)).toEqual([]);
      expect(await s.rescheduleOutbox('c', 1, 60)).toBe(true);
      expect(await s.getOutbox('c')).toEqual({ ...e[3]!, attempts: 1, nextAttemptAt: 60 });
      expect((await s.listDueOutbox(100, 10)).map((x) => x.id)).toEqual(['a', 'b', 'e', 'c']);
      expect(await s.rescheduleOutbox('missing', 1, 1)).toBe(false);
      expect(await s.removeOutbox('a')).toBe(true);
      expect(await s.removeOutbox('a')).toBe(false);
      expect((await s.listDueOutbox(1000, 10)).map((x) => x.id)).toEqual(['b', 'e', 'c', 'later']);
    }));

  it('remembers seen server ids until pruned', () =>
    withStore(async (s) => {
      expect(await s.markSeen('m1', 100)).toBe(true);
      expect(await s.markSeen('m1', 150)).toBe(false);
      expect(await s.markSeen('m2', 200)).toBe(true);
      expect(await s.markSeen('m3', 300)).toBe(true);
      expect(await s.pruneSeen(200)).toBe(1);
      expect(await s.markSeen('m2', 999)).toBe(false);
      expect(await s.markSeen('m1', 400)).toBe(true);
      expect(await s.pruneSeen(10_000)).toBe(3);
      expect(await s.markSeen('m3', 1)).toBe(true);
    }));
}

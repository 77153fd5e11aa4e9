/**
 * Conformance tests of the key-material and address-book records: profile, prekeys,
 * sessions, sender keys, contacts with key history, conversations, tree head.
 */
import { SCHEMA_VERSION } from './client-store.js';
import {
  bytes,
  direct,
  hexId,
  type Suite,
  sampleContact,
  sampleConversation,
  sampleMessage,
  samplePrekey,
  sampleProfile,
} from './conformance-support.js';

/** Register the record tests. */
export function recordTests({ t, withStore, rejects }: Suite): void {
  const { it, expect } = t;

  it('opens empty at the current schema version', () =>
    withStore(async (s) => {
      expect(s.schemaVersion).toBe(SCHEMA_VERSION);
      expect(await s.getProfile()).toBeUndefined();
      expect(await s.getTreeHead()).toBeUndefined();
      expect(await s.listContacts()).toEqual([]);
      expect(await s.listConversations()).toEqual([]);
      expect(await s.listDueOutbox(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
      expect(await s.countPrekeys('one-time')).toBe(0);
      expect(await s.listSessionDevices(hexId(1))).toEqual([]);
    }));

  it('stores and replaces the profile, with and without a device list', () =>
    withStore(async (s) => {
      const first = sampleProfile(1);
      await s.putProfile(first);
      const firstOut = await s.getProfile();
      expect(firstOut).toEqual(first);
      // Unset optional fields are absent, not undefined-valued.
      expect(Object.keys(firstOut ?? {}).includes('deviceList')).toBe(false);
      const second = sampleProfile(1, {
        deviceList: bytes(300, 8),
        deviceListCounter: 4,
        displayName: 'Renamed \u0000 名前 🚀',
        settings: { readReceipts: false, typingIndicators: true, discoverable: true },
        avatar: bytes(32 * 1024, 0x89),
        avatarMime: 'image/png',
      });
      await s.putProfile(second);
      const got = await s.getProfile();
      expect(got).toEqual(second);
      expect(got?.deviceList instanceof Uint8Array).toBe(true);
      expect(got?.avatar instanceof Uint8Array).toBe(true);
      // Removing the avatar drops both fields.
      await s.putProfile(first);
      expect(await s.getProfile()).toEqual(first);
      // The avatar comes with its type, in an accepted format and size, or not at all.
      await rejects(s.putProfile({ ...first, avatar: bytes(10, 1) }), 'INVALID_ARGUMENT');
      await rejects(s.putProfile({ ...first, avatar: bytes(10, 1), avatarMime: 'image/svg+xml' }), 'INVALID_ARGUMENT');
      await rejects(
        s.putProfile({ ...first, avatar: bytes(32 * 1024 + 1, 1), avatarMime: 'image/png' }),
        'INVALID_ARGUMENT',
      );
      expect(await s.getProfile()).toEqual(first);
    }));

  it('copies bytes in and out', () =>
    withStore(async (s) => {
      const profile = sampleProfile(1);
      const input = new Uint8Array(profile.accountSecretKey);
      await s.putProfile({ ...profile, accountSecretKey: input });
      input.fill(0xee);
      const out = await s.getProfile();
      expect(out?.accountSecretKey).toEqual(bytes(32, 2));
      out?.accountSecretKey.fill(0xdd);
      expect((await s.getProfile())?.accountSecretKey).toEqual(bytes(32, 2));

      const session = bytes(50, 1);
      await s.putSession(hexId(1), 1, session);
      session.fill(9);
      const got = await s.getSession(hexId(1), 1);
      got?.fill(7);
      expect(await s.getSession(hexId(1), 1)).toEqual(bytes(50, 1));
    }));

  it('keeps prekeys per kind: get, list by id without secrets, count without last-resort keys, delete', () =>
    withStore(async (s) => {
      await s.putPrekey(samplePrekey('one-time', 7));
      await s.putPrekey(samplePrekey('one-time', 3));
      await s.putPrekey(samplePrekey('signed', 3));
      await s.putPrekey(samplePrekey('kem', 1));
      await s.putPrekey(samplePrekey('kem', 2, { lastResort: true }));
      expect(await s.getPrekey('one-time', 3)).toEqual(samplePrekey('one-time', 3));
      expect(await s.getPrekey('signed', 3)).toEqual(samplePrekey('signed', 3));
      expect(await s.getPrekey('signed', 7)).toBeUndefined();
      expect(await s.listPrekeys('one-time')).toEqual([
        { kind: 'one-time', id: 3, createdAt: 1003, lastResort: false },
        { kind: 'one-time', id: 7, createdAt: 1007, lastResort: false },
      ]);
      expect(await s.listPrekeys('kem')).toEqual([
        { kind: 'kem', id: 1, createdAt: 1001, lastResort: false },
        { kind: 'kem', id: 2, createdAt: 1002, lastResort: true },
      ]);
      expect(await s.countPrekeys('one-time')).toBe(2);
      expect(await s.countPrekeys('kem')).toBe(1);
      expect(await s.countPrekeys('signed')).toBe(1);
      expect(await s.deletePrekey('one-time', 3)).toBe(true);
      expect(await s.deletePrekey('one-time', 3)).toBe(false);
      expect(await s.getPrekey('one-time', 3)).toBeUndefined();
      expect(await s.getPrekey('signed', 3)).toEqual(samplePrekey('signed', 3));
      await s.putPrekey(samplePrekey('signed', 3, { record: bytes(64, 0xaa), createdAt: 99 }));
      expect(await s.getPrekey('signed', 3)).toEqual(
        samplePrekey('signed', 3, { record: bytes(64, 0xaa), createdAt: 99 }),
      );
    }));

  it('keeps sessions per (account, device)', () =>
    withStore(async (s) => {
      const [a, b] = [hexId(1), hexId(2)];
      await s.putSession(a, 9, bytes(10, 9));
      await s.putSession(a, 2, bytes(10, 2));
      await s.putSession(a, 0xffff_ffff, bytes(10, 3));
      await s.putSession(b, 2, bytes(10, 4));
      expect(await s.listSessionDevices(a)).toEqual([2, 9, 0xffff_ffff]);
      expect(await s.getSession(a, 2)).toEqual(bytes(10, 2));
      await s.putSession(a, 2, bytes(12, 5));
      expect(await s.getSession(a, 2)).toEqual(bytes(12, 5));
      expect(await s.deleteSession(a, 9)).toBe(true);
      expect(await s.deleteSession(a, 9)).toBe(false);
      expect(await s.listSessionDevices(a)).toEqual([2, 0xffff_ffff]);
      expect(await s.deleteSessions(a)).toBe(2);
      expect(await s.listSessionDevices(a)).toEqual([]);
      expect(await s.getSession(b, 2)).toEqual(bytes(10, 4));
    }));

  it('keeps sender keys per (distribution, account, device)', () =>
    withStore(async (s) => {
      const [g1, g2] = [hexId(0xa1), hexId(0xa2)];
      await s.putSenderKey(g1, hexId(1), 1, bytes(20, 1));
      await s.putSenderKey(g1, hexId(1), 2, bytes(20, 2));
      await s.putSenderKey(g1, hexId(2), 1, bytes(20, 3));
      await s.putSenderKey(g2, hexId(1), 1, bytes(20, 4));
      expect(await s.getSenderKey(g1, hexId(1), 2)).toEqual(bytes(20, 2));
      expect(await s.getSenderKey(g2, hexId(1), 2)).toBeUndefined();
      expect(await s.deleteSenderKey(g1, hexId(1), 2)).toBe(true);
      expect(await s.deleteSenderKey(g1, hexId(1), 2)).toBe(false);
      expect(await s.deleteSenderKeys(g1)).toBe(2);
      expect(await s.getSenderKey(g1, hexId(2), 1)).toBeUndefined();
      expect(await s.getSenderKey(g2, hexId(1), 1)).toEqual(bytes(20, 4));
    }));

  it('keeps contacts, lists them by (addedAt, accountId), filters by state', () =>
    withStore(async (s) => {
      const blocked = sampleContact(3, { state: 'blocked', addedAt: 10 });
      const request = sampleContact(2, { state: 'request', addedAt: 10 });
      const full = sampleContact(1, {
        addedAt: 20,
        verified: true,
        keyChange: { newKey: bytes(32, 0x44), seenAt: 77 },
        accessKey: bytes(16, 0x55),
        deviceList: bytes(90, 0x66),
        displayName: 'Ünïcödé 👩‍💻',
        avatar: bytes(2000, 0x77),
        avatarMime: 'image/webp',
      });
      await s.putContact(full);
      await s.putContact(blocked);
      await s.putContact(request);
      expect(await s.getContact(hexId(1))).toEqual(full);
      expect(await s.getContact(hexId(9))).toBeUndefined();
      expect(await s.listContacts()).toEqual([request, blocked, full]);
      expect(await s.listContacts({ state: 'blocked' })).toEqual([blocked]);
      const accepted = sampleContact(3, { state: 'accepted', addedAt: 10 });
      await s.putContact(accepted);
      expect(await s.listContacts({ state: 'accepted' })).toEqual([accepted, full]);
      // Replacing drops optional fields that are no longer set.
      await s.putContact(sampleContact(1, { addedAt: 20 }));
      expect(await s.getContact(hexId(1))).toEqual(sampleContact(1, { addedAt: 20 }));
      await rejects(s.putContact(sampleContact(4, { avatarMime: 'image/jpeg' })), 'INVALID_ARGUMENT');
      expect(await s.getContact(hexId(4))).toBeUndefined();
    }));

  it('keeps an append-only key history per contact, dropped with the contact', async () => {
    await withStore(async (s) => {
      await s.putContact(sampleContact(1));
      await s.putContact(sampleContact(2));
      const e1 = { identityKey: bytes(32, 1), seenAt: 5 };
      const e2 = { identityKey: bytes(32, 2), seenAt: 3 };
      await s.appendKeyHistory(hexId(1), e1);
      await s.appendKeyHistory(hexId(1), e2);
      await s.appendKeyHistory(hexId(2), e2);
      expect(await s.listKeyHistory(hexId(1))).toEqual([e1, e2]);
      // Replacing the contact keeps the history.
      await s.putContact(sampleContact(1, { identityKey: bytes(32, 2) }));
      expect(await s.listKeyHistory(hexId(1))).toEqual([e1, e2]);
      expect(await s.deleteContact(hexId(1))).toBe(true);
      expect(await s.deleteContact(hexId(1))).toBe(false);
      expect(await s.listKeyHistory(hexId(1))).toEqual([]);
      expect(await s.listKeyHistory(hexId(2))).toEqual([e2]);
      await rejects(s.appendKeyHistory(hexId(1), e1), 'NOT_FOUND');
      await s.putContact(sampleContact(1));
      expect(await s.listKeyHistory(hexId(1))).toEqual([]);
    });
  });

  it('lists conversations by lastMessageAt descending, then id, with a limit', () =>
    withStore(async (s) => {
      const a = sampleConversation(1, { lastMessageAt: 50 });
      const b = sampleConversation(2, {
        lastMessageAt: 70,
        title: 'Bob',
        lastMessagePreview: 'see you \u{1f44b}',
        unread: 3,
        muted: true,
        disappearingSeconds: 3600,
      });
      const c = sampleConversation(3, { lastMessageAt: 50, muted: false });
      const g = { id: `g:${'ab'.repeat(32)}`, kind: 'group' as const, lastMessageAt: 60, unread: 1, title: 'Team' };
      for (const x of [a, b, c, g]) await s.putConversation(x);
      expect(await s.getConversation(b.id)).toEqual(b);
      expect(await s.getConversation(direct(9))).toBeUndefined();
      expect(await s.listConversations()).toEqual([b, g, a, c]);
      expect(await s.listConversations(2)).toEqual([b, g]);
      const moved = { ...a, lastMessageAt: 80, unread: 1 };
      await s.putConversation(moved);
      expect(await s.listConversations()).toEqual([moved, b, g, c]);
    }));

  it('deletes a conversation with its messages', () =>
    withStore(async (s) => {
      await s.putConversation(sampleConversation(1));
      await s.putConversation(sampleConversation(2));
      await s.insertMessage(sampleMessage(direct(1), 1, 100));
      await s.insertMessage(sampleMessage(direct(1), 2, 101));
      await s.insertMessage(sampleMessage(direct(2), 3, 102));
      expect(await s.deleteConversation(direct(1))).toBe(true);
      expect(await s.deleteConversation(direct(1))).toBe(false);
      expect(await s.getConversation(direct(1))).toBeUndefined();
      expect(await s.countMessages(direct(1))).toBe(0);
      expect(await s.getMessage(hexId(1))).toBeUndefined();
      expect(await s.countMessages(direct(2))).toBe(1);
    }));

  it('keeps the last verified tree head', () =>
    withStore(async (s) => {
      await s.putTreeHead(bytes(100, 1));
      expect(await s.getTreeHead()).toEqual(bytes(100, 1));
      await s.putTreeHead(bytes(90, 2));
      expect(await s.getTreeHead()).toEqual(bytes(90, 2));
    }));
}

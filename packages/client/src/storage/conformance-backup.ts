/**
 * Conformance tests of the retention policy of conversations and of the whole-store dump
 * (`exportAll` / `importAll`) that profile backups are made of.
 */
import type { ClientStore } from './client-store.js';
import {
  bytes,
  direct,
  hexId,
  type Suite,
  sampleContact,
  sampleConversation,
  sampleMessage,
  sampleOutbox,
  samplePrekey,
  sampleProfile,
} from './conformance-support.js';
import type { ConversationRecord, StoreDump } from './records.js';

const GROUP = 'cd'.repeat(16);

/** Lists sorted by their JSON form: adapters may export in different orders. */
function normalise(dump: StoreDump): Record<string, unknown> {
  const key = (v: unknown) =>
    JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? Array.from(x).join(',') : x));
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(dump)) {
    out[name] = Array.isArray(value) ? [...value].sort((a, b) => (key(a) < key(b) ? -1 : 1)) : value;
  }
  return out;
}

/** A store with at least one record of every kind, all reachable through known ids. */
async function fill(s: ClientStore): Promise<void> {
  const me = hexId(1);
  const bob = hexId(7);
  await s.putProfile(
    sampleProfile(1, {
      deviceList: bytes(200, 9),
      deviceListCounter: 3,
      avatar: bytes(500, 1),
      avatarMime: 'image/png',
    }),
  );
  await s.putTreeHead(bytes(90, 4));
  await s.putPrekey(samplePrekey('signed', 1));
  await s.putPrekey(samplePrekey('one-time', 2));
  await s.putPrekey(samplePrekey('kem', 3, { lastResort: true }));
  await s.putContact(
    sampleContact(7, { accessKey: bytes(16, 8), verified: true, avatar: bytes(700, 2), avatarMime: 'image/jpeg' }),
  );
  await s.appendKeyHistory(bob, { identityKey: bytes(32, 7), seenAt: 10 });
  await s.appendKeyHistory(bob, { identityKey: bytes(32, 8), seenAt: 20 });
  await s.putSession(bob, 1, bytes(300, 1));
  await s.putSession(bob, 2, bytes(300, 2));
  await s.putSession(me, 2, bytes(300, 3));
  await s.putSenderKey(GROUP, bob, 1, bytes(100, 5));
  await s.putSenderKey(GROUP, me, 1, bytes(100, 6));
  await s.putConversation(sampleConversation(7, { title: 'Bob', retention: { mode: 'history' } }));
  await s.putConversation({ id: `g:${GROUP}`, kind: 'group', lastMessageAt: 5, unread: 2, title: 'Team' });
  await s.insertMessage(sampleMessage(direct(7), 1, 100, { editedAt: 120 }));
  await s.insertMessage(sampleMessage(direct(7), 2, 101, { senderAccountId: me, direction: 'out', status: 'read' }));
  await s.insertMessage(sampleMessage(`g:${GROUP}`, 3, 102, { expiresAt: 9_999_999 }));
  await s.enqueueOutbox(sampleOutbox('job-1', 50, 40));
  await s.markSeen('relay-id-1', 30);
}

/** Register the backup tests. */
export function backupTests({ t, withStore, rejects }: Suite): void {
  const { it, expect } = t;

  it('keeps a conversation retention policy, and clears it', () =>
    withStore(async (s) => {
      const policies: ConversationRecord[] = [
        sampleConversation(1, { retention: { mode: 'burn-on-read' } }),
        sampleConversation(2, { retention: { mode: 'ttl', ttlSeconds: 14 * 86_400 }, disappearingSeconds: 60 }),
        sampleConversation(3, { retention: { mode: 'history' } }),
      ];
      for (const c of policies) await s.putConversation(c);
      for (const c of policies) expect(await s.getConversation(c.id)).toEqual(c);
      const { retention: _r, ...cleared } = policies[1] as ConversationRecord;
      await s.putConversation(cleared);
      const got = await s.getConversation(cleared.id);
      expect(got).toEqual(cleared);
      expect(Object.keys(got ?? {}).includes('retention')).toBe(false);
      const bad = [{ mode: 'forever' }, { mode: 'ttl' }, { mode: 'ttl', ttlSeconds: 0 }, 'history'];
      for (const retention of bad) {
        await rejects(s.putConversation({ ...sampleConversation(4), retention } as never), 'INVALID_ARGUMENT');
      }
      expect(await s.getConversation(direct(4))).toBeUndefined();
    }));

  it('exports every record and imports them into an empty store', () =>
    withStore(async (a) => {
      await fill(a);
      const dump = await a.exportAll();
      expect(dump.prekeys.length).toBe(3);
      expect(dump.sessions.length).toBe(3);
      expect(dump.senderKeys.length).toBe(2);
      expect(dump.keyHistory).toEqual([
        {
          accountId: hexId(7),
          entries: [
            { identityKey: bytes(32, 7), seenAt: 10 },
            { identityKey: bytes(32, 8), seenAt: 20 },
          ],
        },
      ]);
      expect(dump.messages.length).toBe(3);
      expect(dump.outbox.length).toBe(1);
      // Adapters that blind seen ids cannot export them; the others must.
      expect(dump.seen.length === 0 || dump.seen[0]?.id === 'relay-id-1').toBe(true);
      await withStore(async (b) => {
        await b.importAll(dump);
        expect(normalise(await b.exportAll())).toEqual(normalise(dump));
        expect(await b.getProfile()).toEqual(await a.getProfile());
        expect((await b.getProfile())?.avatar).toEqual(bytes(500, 1));
        expect((await b.getContact(hexId(7)))?.avatar).toEqual(bytes(700, 2));
        expect(await b.getSession(hexId(7), 2)).toEqual(bytes(300, 2));
        expect(await b.getSenderKey(GROUP, hexId(1), 1)).toEqual(bytes(100, 6));
        expect(await b.listMessages(direct(7), { limit: 10 })).toEqual(await a.listMessages(direct(7), { limit: 10 }));
        expect(await b.getConversation(direct(7))).toEqual(await a.getConversation(direct(7)));
        expect(await b.countPrekeys('one-time')).toBe(1);
        // A second import is refused: the store is no longer empty.
        await rejects(b.importAll(dump), 'PROFILE_EXISTS');
      });
    }));

  it('imports all or nothing: a malformed record leaves the store empty', () =>
    withStore(async (a) => {
      await fill(a);
      const dump = await a.exportAll();
      const broken: StoreDump = {
        ...dump,
        messages: [...dump.messages, { ...sampleMessage(direct(7), 9, 1), id: 'not-an-id' }],
      };
      await withStore(async (b) => {
        await rejects(b.importAll(broken), 'INVALID_ARGUMENT');
        expect(await b.getProfile()).toBeUndefined();
        expect(await b.listContacts()).toEqual([]);
        expect(await b.countPrekeys('one-time')).toBe(0);
      });
    }));
}

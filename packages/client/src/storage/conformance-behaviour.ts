/**
 * Conformance tests of store behaviour: transactions (commit, rollback on throw,
 * savepoints, isolation, closed handles), close/wipe, typed errors for bad input, and
 * persistence across reopen when the adapter can reopen.
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

/** Write one of everything (used by the rollback and persistence tests). */
async function writeEverything(s: ClientStore, n: number): Promise<void> {
  await s.putProfile(sampleProfile(n));
  await s.putPrekey(samplePrekey('kem', n, { lastResort: true }));
  await s.putSession(hexId(n), 1, bytes(30, n));
  await s.putSenderKey(hexId(0xa0), hexId(n), 1, bytes(30, n));
  await s.putContact(sampleContact(n));
  await s.appendKeyHistory(hexId(n), { identityKey: bytes(32, n), seenAt: n });
  await s.putConversation(sampleConversation(n));
  await s.insertMessage(sampleMessage(direct(n), n, 100 + n, { expiresAt: 10_000 }));
  await s.enqueueOutbox(sampleOutbox(`o${n}`, 10, 1));
  await s.markSeen(`seen${n}`, 50);
  await s.putTreeHead(bytes(64, n));
}

/** Read back what {@link writeEverything} wrote, as one comparable value. */
async function readEverything(s: ClientStore, n: number): Promise<unknown> {
  return {
    profile: await s.getProfile(),
    prekey: await s.getPrekey('kem', n),
    session: await s.getSession(hexId(n), 1),
    senderKey: await s.getSenderKey(hexId(0xa0), hexId(n), 1),
    contact: await s.getContact(hexId(n)),
    history: await s.listKeyHistory(hexId(n)),
    conversation: await s.getConversation(direct(n)),
    messages: await s.listMessages(direct(n), { limit: 10 }),
    outbox: await s.getOutbox(`o${n}`),
    seenAgain: await s.markSeen(`seen${n}`, 60),
    treeHead: await s.getTreeHead(),
  };
}

/** Register the behaviour tests. */
export function behaviourTests({ t, withStore, rejects, options }: Suite): void {
  const { it, expect, describe } = t;

  describe('transactions', () => {
    it('commits every write together and returns the body result', () =>
      withStore(async (s) => {
        const result = await s.transaction(async (tx) => {
          await writeEverything(tx, 1);
          return 'done';
        });
        expect(result).toBe('done');
        expect(await readEverything(s, 1)).toEqual({
          profile: sampleProfile(1),
          prekey: samplePrekey('kem', 1, { lastResort: true }),
          session: bytes(30, 1),
          senderKey: bytes(30, 1),
          contact: sampleContact(1),
          history: [{ identityKey: bytes(32, 1), seenAt: 1 }],
          conversation: sampleConversation(1),
          messages: [sampleMessage(direct(1), 1, 101, { expiresAt: 10_000 })],
          outbox: sampleOutbox('o1', 10, 1),
          seenAgain: false,
          treeHead: bytes(64, 1),
        });
      }));

    it('rolls back every write when the body throws, and rethrows the same error', () =>
      withStore(async (s) => {
        await writeEverything(s, 1);
        const before = await readEverything(s, 1);
        const boom = new Error('boom');
        let caught: unknown;
        try {
          await s.transaction(async (tx) => {
            await writeEverything(tx, 2);
            await tx.putProfile(sampleProfile(3));
            await tx.putTreeHead(bytes(10, 3));
            await tx.deleteSessions(hexId(1));
            await tx.deleteContact(hexId(1));
            await tx.updateMessageStatus(hexId(1), 'read');
            await tx.removeOutbox('o1');
            await tx.pruneSeen(1000);
            throw boom;
          });
        } catch (e) {
          caught = e;
        }
        expect(caught).toBe(boom);
        expect(await readEverything(s, 1)).toEqual(before);
        expect(await s.getContact(hexId(2))).toBeUndefined();
        expect(await s.getSession(hexId(2), 1)).toBeUndefined();
        expect(await s.countMessages(direct(2))).toBe(0);
        expect(await s.markSeen('seen2', 1)).toBe(true);
        expect(await s.listDueOutbox(1000, 10)).toEqual([sampleOutbox('o1', 10, 1)]);
      }));

    it('nests as savepoints: an inner throw undoes only the inner writes', () =>
      withStore(async (s) => {
        await s.transaction(async (tx) => {
          await tx.putSession(hexId(1), 1, bytes(5, 1));
          await tx
            .transaction(async (inner) => {
              await inner.putSession(hexId(1), 2, bytes(5, 2));
              await inner.putSession(hexId(1), 1, bytes(5, 9));
              throw new Error('inner');
            })
            .catch(() => undefined);
          await tx.transaction(async (inner) => {
            await inner.putSession(hexId(1), 3, bytes(5, 3));
          });
        });
        expect(await s.listSessionDevices(hexId(1))).toEqual([1, 3]);
        expect(await s.getSession(hexId(1), 1)).toEqual(bytes(5, 1));
      }));

    it('refuses a handle used after its transaction ended', () =>
      withStore(async (s) => {
        let leaked: ClientStore | undefined;
        await s.transaction(async (tx) => {
          leaked = tx;
        });
        await rejects(leaked!.putSession(hexId(1), 1, bytes(1, 1)), 'TRANSACTION_CLOSED');
        await rejects(leaked!.getProfile(), 'TRANSACTION_CLOSED');
        expect(await s.getSession(hexId(1), 1)).toBeUndefined();
      }));

    it('isolates: calls outside a transaction wait until it has finished', () =>
      withStore(async (s) => {
        await s.putSession(hexId(1), 1, bytes(4, 1));
        const events: string[] = [];
        let outside: Promise<Uint8Array | undefined> | undefined;
        await s
          .transaction(async (tx) => {
            await tx.putSession(hexId(1), 1, bytes(4, 2));
            outside = s.getSession(hexId(1), 1).then((v) => {
              events.push('outside read');
              return v;
            });
            await tx.getSession(hexId(1), 1);
            events.push('body done');
            throw new Error('undo');
          })
          .catch(() => events.push('rolled back'));
        expect(await outside).toEqual(bytes(4, 1));
        // Without serialisation the outside read would have run inside the open transaction.
        expect(events.filter((e) => e !== 'rolled back')).toEqual(['body done', 'outside read']);
      }));

    it('runs concurrent transactions one after the other', () =>
      withStore(async (s) => {
        const order: string[] = [];
        const run = (name: string) =>
          s.transaction(async (tx) => {
            order.push(`${name} start`);
            const n = (await tx.countMessages(direct(1))) + 1;
            await tx.insertMessage(sampleMessage(direct(1), n, n));
            order.push(`${name} end`);
          });
        await Promise.all([run('a'), run('b'), run('c')]);
        expect(order).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
        expect(await s.countMessages(direct(1))).toBe(3);
      }));
  });

  describe('lifecycle', () => {
    it('refuses calls after close, and close is idempotent', () =>
      withStore(async (s) => {
        await s.putTreeHead(bytes(3, 3));
        const pending = s.getTreeHead();
        await s.close();
        expect(await pending).toEqual(bytes(3, 3));
        await s.close();
        await rejects(s.getTreeHead(), 'STORE_CLOSED');
        await rejects(s.putTreeHead(bytes(3, 3)), 'STORE_CLOSED');
        await rejects(
          s.transaction(async () => undefined),
          'STORE_CLOSED',
        );
      }));

    it('wipes all data and closes', () =>
      withStore(async (s) => {
        await writeEverything(s, 1);
        await s.wipe();
        await rejects(s.getProfile(), 'STORE_CLOSED');
        if (options.reopen) {
          const again = await options.reopen(s);
          try {
            expect(await again.getProfile()).toBeUndefined();
            expect(await again.countMessages(direct(1))).toBe(0);
          } finally {
            await again.close();
          }
        }
      }));
  });

  describe('bad input', () => {
    it('refuses malformed ids, numbers, bytes and strings with INVALID_ARGUMENT and changes nothing', () =>
      withStore(async (s) => {
        await s.putProfile(sampleProfile(1));
        const acct = hexId(1);
        const cases: [string, () => Promise<unknown>][] = [
          ['upper-case account id', () => s.putSession(acct.toUpperCase().replace('0', 'A'), 1, bytes(1, 1))],
          ['short account id', () => s.getSession('abc', 1)],
          ['device 0', () => s.putSession(acct, 0, bytes(1, 1))],
          ['device 2^32', () => s.putSession(acct, 2 ** 32, bytes(1, 1))],
          ['device 1.5', () => s.getSession(acct, 1.5)],
          ['device NaN', () => s.getSession(acct, Number.NaN)],
          ['record Uint16Array', () => s.putSession(acct, 1, new Uint16Array(2) as unknown as Uint8Array)],
          ['record array', () => s.putSession(acct, 1, [1, 2] as unknown as Uint8Array)],
          ['profile null', () => s.putProfile(null as unknown as never)],
          ['profile key length', () => s.putProfile(sampleProfile(1, { accountSecretKey: bytes(31, 0) }))],
          ['profile access key', () => s.putProfile(sampleProfile(1, { accessKey: bytes(32, 0) }))],
          ['lone surrogate', () => s.putProfile(sampleProfile(1, { displayName: 'bad \ud800' }))],
          ['long name', () => s.putContact(sampleContact(1, { displayName: 'x'.repeat(257) }))],
          ['contact state', () => s.putContact(sampleContact(1, { state: 'friend' as never }))],
          ['identity key length', () => s.putContact(sampleContact(1, { identityKey: bytes(33, 1) }))],
          ['signed last resort', () => s.putPrekey(samplePrekey('signed', 1, { lastResort: true }))],
          ['prekey kind', () => s.getPrekey('ecdh' as never, 1)],
          ['prekey id', () => s.getPrekey('signed', -1)],
          ['conversation kind', () => s.putConversation(sampleConversation(1, { kind: 'group' }))],
          ['conversation id', () => s.getConversation('x:1')],
          ['group id odd hex', () => s.getConversation('g:abc')],
          ['message status', () => s.insertMessage(sampleMessage(direct(1), 1, 1, { status: 'seen' as never }))],
          ['message time', () => s.insertMessage(sampleMessage(direct(1), 1, -1))],
          ['status', () => s.updateMessageStatus(hexId(1), 'gone' as never)],
          ['empty changes', () => s.updateMessage(hexId(1), {})],
          ['limit 0', () => s.listMessages(direct(1), { limit: 0 })],
          ['limit 1001', () => s.listMessages(direct(1), { limit: 1001 })],
          ['cursor id', () => s.listMessages(direct(1), { limit: 1, before: { sentAt: 1, id: 'zz' } })],
          ['outbox id space', () => s.enqueueOutbox(sampleOutbox('a b', 1, 1))],
          ['outbox id empty', () => s.getOutbox('')],
          ['seen time', () => s.markSeen('m', Number.POSITIVE_INFINITY)],
          ['distribution id', () => s.deleteSenderKeys('g1')],
          ['transaction fn', () => s.transaction('nope' as never)],
          ['history entry', () => s.appendKeyHistory(acct, { identityKey: bytes(32, 1) } as never)],
        ];
        for (const [name, call] of cases) {
          let code = 'resolved';
          try {
            await call();
          } catch (e) {
            code = (e as { code?: string }).code ?? String(e);
          }
          expect(`${name}: ${code}`).toBe(`${name}: INVALID_ARGUMENT`);
        }
        expect(await s.getProfile()).toEqual(sampleProfile(1));
        expect(await s.listSessionDevices(acct)).toEqual([]);
        expect(await s.listContacts()).toEqual([]);
        expect(await s.listDueOutbox(100, 10)).toEqual([]);
      }));
  });

  if (options.reopen) {
    const reopen = options.reopen;
    it('keeps everything across close and reopen', async () => {
      await withStore(async (s) => {
        await writeEverything(s, 4);
        await s.transaction(async (tx) => {
          await tx.putSession(hexId(4), 2, bytes(8, 8));
        });
        const written = await readEverything(s, 4);
        await s.close();
        const again = await reopen(s);
        try {
          expect(await readEverything(again, 4)).toEqual(written);
          expect(await again.getSession(hexId(4), 2)).toEqual(bytes(8, 8));
        } finally {
          await again.close();
        }
      });
    });
  }
}

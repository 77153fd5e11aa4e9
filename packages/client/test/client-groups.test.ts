import { deserializeSenderKeyState, groupDecrypt, isProtocolError } from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientStore,
  decodeGroupRecord,
  encodeGroupRecord,
  type GroupView,
  isClientError,
  type VaultexClient,
} from '../src/index.js';
import { arrived, befriend, newClient, online, record, startRelay, type TestRelay, waitFor } from './core-support.js';

type Row = Record<string, unknown>;

/** The group record's reserved slot in the sender-key table (see services/groups.ts). */
const RECORD_ACCOUNT = '0'.repeat(32);

function hexOf(value: unknown): string {
  return Buffer.from(value as Uint8Array).toString('hex');
}

describe('groups', () => {
  let relay: TestRelay;
  const clients: { client: VaultexClient; store: ClientStore }[] = [];
  let a: VaultexClient;
  let b: VaultexClient;
  let c: VaultexClient;
  let d: VaultexClient;
  let groupId: string;

  /** Relay rows of authenticated sends after `seq`, with their target accounts. */
  function groupRows(afterSeq: number): { seq: number; source: string; blob: Uint8Array; targets: string[] }[] {
    const dump = relay.storage.dump();
    return dump
      .messages!.filter((m) => Number(m.seq) > afterSeq && m.source_account !== null)
      .map((m: Row) => ({
        seq: Number(m.seq),
        source: hexOf(m.source_account),
        blob: new Uint8Array(m.blob as Uint8Array),
        targets: dump
          .message_targets!.filter((t) => Number(t.message_seq) === Number(m.seq))
          .map((t) => hexOf(t.account_id)),
      }));
  }

  function lastSeq(): number {
    return Math.max(0, ...relay.storage.dump().messages!.map((m) => Number(m.seq)));
  }

  async function syncAll(...who: VaultexClient[]): Promise<void> {
    for (const x of who) await x.sync();
  }

  async function texts(x: VaultexClient): Promise<string[]> {
    return (await x.messages.list(`g:${groupId}`, { limit: 100 })).map((m) => m.text ?? '');
  }

  beforeAll(async () => {
    relay = await startRelay();
    for (const name of ['A', 'B', 'C', 'D']) clients.push(await newClient(relay, name));
    [a, b, c, d] = clients.map((x) => x.client) as [VaultexClient, VaultexClient, VaultexClient, VaultexClient];
    const all = [a, b, c, d];
    for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) await befriend(all[i]!, all[j]!);
  }, 60_000);

  afterAll(async () => {
    for (const x of clients) await x.client.stop();
    await relay?.close();
  });

  it('create: every member learns the group, its title and its admin', async () => {
    const updates = record(b, 'group-updated');
    const view = await a.groups.create('Four', [b.id().userId, c.id().userId, d.id().userId]);
    groupId = view.groupId;
    expect(view.members).toHaveLength(4);
    expect(view.members.find((m) => m.accountId === a.id().userId)?.admin).toBe(true);
    await syncAll(a, b, c, d);
    for (const x of [b, c, d]) {
      const g = (await x.groups.get(groupId)) as GroupView;
      expect(g.title).toBe('Four');
      expect(g.version).toBe(1);
      expect(g.member).toBe(true);
      expect(g.members.map((m) => m.accountId).sort()).toEqual(view.members.map((m) => m.accountId).sort());
    }
    expect(updates.at(-1)?.by).toBe(a.id().userId);
    expect((await b.groups.list()).map((g) => g.groupId)).toContain(groupId);
  });

  it('a group message is stored once on the relay with one target per other member device', async () => {
    const before = lastSeq();
    const id = await a.groups.send(groupId, 'hello all');
    await a.sync();
    const rows = groupRows(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.source).toBe(a.id().userId);
    expect(rows[0]!.targets.sort()).toEqual([b, c, d].map((x) => x.id().userId).sort());
    await syncAll(b, c, d);
    for (const x of [b, c, d]) expect(await texts(x)).toEqual(['hello all']);
    const [mine] = await a.messages.list(`g:${groupId}`);
    expect(mine?.id).toBe(id);
    expect(mine?.status).toBe('sent');
    expect((await b.messages.list(`g:${groupId}`))[0]?.senderAccountId).toBe(a.id().userId);
  });

  it('every member can send; an admin renames', async () => {
    await b.groups.send(groupId, 'from B');
    await b.sync();
    await syncAll(a, c, d);
    await c.groups.send(groupId, 'from C');
    await c.sync();
    await syncAll(a, b, d);
    for (const x of [a, b, c, d]) expect((await texts(x)).sort()).toEqual(['from B', 'from C', 'hello all']);
    await a.groups.rename(groupId, 'Four, renamed');
    await a.sync();
    await syncAll(b, c, d);
    for (const x of [a, b, c, d]) expect((await x.groups.get(groupId))?.title).toBe('Four, renamed');
  });

  it('a removed member receives nothing it can decrypt', async () => {
    const dId = d.id().userId;
    await a.groups.remove(groupId, dId);
    await a.sync();
    await syncAll(b, c, d);
    expect((await d.groups.get(groupId))?.member).toBe(false);
    expect((await b.groups.get(groupId))?.members.map((m) => m.accountId)).not.toContain(dId);
    await expect(d.groups.send(groupId, 'still here?')).rejects.toSatisfy((e) => isClientError(e, 'GROUP_FORBIDDEN'));

    const before = lastSeq();
    const dMessages = record(d, 'message');
    await a.groups.send(groupId, 'after removal, from A');
    await a.sync();
    await b.sync(); // B takes A's new key, then sends with its own rotated key
    await b.groups.send(groupId, 'after removal, from B');
    await b.sync();
    const rows = groupRows(before);
    expect(rows.map((r) => r.source).sort()).toEqual([a.id().userId, b.id().userId].sort());
    for (const r of rows) expect(r.targets).not.toContain(dId);
    expect(await d.sync()).toEqual({ received: 0 });
    expect(dMessages).toHaveLength(0);
    expect(await texts(d)).not.toContain('after removal, from A');

    // Even given the ciphertext, D's sender keys (from before the removal) do not open it.
    const dStore = clients[3]!.store;
    for (const r of rows) {
      const sender = r.source === a.id().userId ? a : b;
      const held = await dStore.getSenderKey(groupId, sender.id().userId, sender.id().deviceId);
      expect(held).toBeDefined();
      let code = '';
      try {
        groupDecrypt(deserializeSenderKeyState(held!), r.blob, nodeProvider, Date.now);
      } catch (e) {
        code = isProtocolError(e) ? e.code : 'other';
      }
      expect(code).toBe('NO_SENDER_KEY');
    }
    await syncAll(a, b, c);
    for (const x of [a, b, c]) {
      const t = await texts(x);
      expect(t).toContain('after removal, from A');
      expect(t).toContain('after removal, from B');
    }
  });

  it('a member leaves: the others see it, and it is no longer a target', async () => {
    const cId = c.id().userId;
    const left = await c.groups.leave(groupId);
    expect(left.member).toBe(false);
    await c.sync();
    await syncAll(a, b);
    for (const x of [a, b]) {
      const g = await x.groups.get(groupId);
      expect(g?.members.map((m) => m.accountId)).not.toContain(cId);
      expect(g?.version).toBe(left.version);
    }
    const before = lastSeq();
    await a.groups.send(groupId, 'just us two');
    await a.sync();
    const rows = groupRows(before);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.targets).toEqual([b.id().userId]);
    await syncAll(b, c);
    expect(await texts(b)).toContain('just us two');
    expect(await texts(c)).not.toContain('just us two');
  });

  it('an admin adds a member back: it reads what follows, not what it missed', async () => {
    const dId = d.id().userId;
    const view = await a.groups.add(groupId, [dId]);
    expect(view.members.find((m) => m.accountId === dId)?.admin).toBe(false);
    await a.sync();
    await syncAll(b, d);
    const g = await d.groups.get(groupId);
    expect(g?.member).toBe(true);
    expect(g?.version).toBe(view.version);
    await a.groups.send(groupId, 'welcome back D');
    await a.sync();
    await d.sync();
    await b.groups.send(groupId, 'hi again D');
    await b.sync();
    await syncAll(a, d);
    const t = await texts(d);
    expect(t).toContain('welcome back D');
    expect(t).toContain('hi again D');
    expect(t).not.toContain('just us two');
    expect(t).not.toContain('after removal, from A');
    await expect(b.groups.add(groupId, [c.id().userId])).rejects.toSatisfy((e) => isClientError(e, 'GROUP_FORBIDDEN'));
  });

  it("a non-admin's rename is refused locally and by the others", async () => {
    await expect(b.groups.rename(groupId, 'mine now')).rejects.toSatisfy((e) => isClientError(e, 'GROUP_FORBIDDEN'));
    // A modified client: B makes itself admin in its own store and renames anyway.
    const bStore = clients[1]!.store;
    const rec = decodeGroupRecord((await bStore.getSenderKey(groupId, RECORD_ACCOUNT, 1))!);
    const forged = {
      ...rec,
      state: { ...rec.state, members: rec.state.members.map((m) => ({ ...m, admin: true })) },
    };
    await bStore.putSenderKey(groupId, RECORD_ACCOUNT, 1, encodeGroupRecord(forged));
    await b.groups.rename(groupId, 'mine now');
    await b.sync();
    const rejected = record(a, 'group-rejected');
    await a.sync();
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ groupId, from: b.id().userId, reason: 'signer is not an admin' });
    expect((await a.groups.get(groupId))?.title).toBe('Four, renamed');
  });

  it('works live over the WebSocket too', async () => {
    a.start();
    d.start();
    await online(a);
    await online(d);
    const atD = record(d, 'message');
    const atA = record(a, 'message');
    const statusAtA = record(a, 'message-status');
    const id = await a.groups.send(groupId, 'live from A');
    const got = await arrived(atD, id, 'D receives live');
    expect(got.message.conversationId).toBe(`g:${groupId}`);
    expect(got.message.text).toBe('live from A');
    await waitFor(() => statusAtA.find((s) => s.id === id && s.status === 'sent'), 'sent');
    const reply = await d.groups.send(groupId, 'live from D');
    const back = await arrived(atA, reply, 'A receives live');
    expect(back.message.senderAccountId).toBe(d.id().userId);
  });
});

/**
 * A 1,000-member group against the real relay in this process (issue 5: "Groups of 1,000
 * members work", "1,000-member group send measured"). 999 members on memory stores with the
 * smallest prekey batches the relay accepts; the creator adds them as contacts and creates the
 * group. One message is stored ONCE on the relay (one row per 1,024 targets) with every member
 * device as a target, read from the relay's SQLite file opened read-only; a sample of members
 * decrypts it; a removed member is no target of the next message and cannot open it.
 * The send's wall time is printed, not asserted.
 */
import { deserializeSenderKeyState, groupDecrypt, isProtocolError } from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientStore, VaultexClient } from '../src/index.js';
import { newClient, shutdown, startRelay, type TestRelay } from './core-support.js';

const MEMBERS = 1000;
/** Account creations in flight at once: enough to overlap the relay's work with the client's. */
const PARALLEL = 8;
const SAMPLE = 5;

interface Member {
  readonly client: VaultexClient;
  readonly store: ClientStore;
}

/** One stored relay message, with its targets as `accountHex/deviceId`. */
interface Row {
  readonly seq: number;
  readonly blob: Uint8Array;
  readonly targets: readonly string[];
}

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe(`a group of ${MEMBERS} members`, () => {
  let relay: TestRelay;
  const members: Member[] = [];
  let creator: VaultexClient;
  let groupId: string;

  /** Messages the relay stored from `source` after `afterSeq`, read from its SQLite file (read-only). */
  function rowsFrom(source: string, afterSeq: number): Row[] {
    const db = new Database(relay.databaseFile, { readonly: true, fileMustExist: true });
    try {
      const messages = db
        .prepare('SELECT seq, blob FROM messages WHERE seq > ? AND source_account = ? ORDER BY seq')
        .all(afterSeq, Buffer.from(source, 'hex')) as { seq: number; blob: Uint8Array }[];
      const targets = db.prepare('SELECT account_id, device_id FROM message_targets WHERE message_seq = ?');
      return messages.map((m) => ({
        seq: m.seq,
        blob: new Uint8Array(m.blob),
        targets: (targets.all(m.seq) as { account_id: Uint8Array; device_id: number }[]).map(
          (t) => `${hexOf(t.account_id)}/${t.device_id}`,
        ),
      }));
    } finally {
      db.close();
    }
  }

  function lastSeq(): number {
    const db = new Database(relay.databaseFile, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT coalesce(max(seq), 0) AS n FROM messages').get() as { n: number }).n;
    } finally {
      db.close();
    }
  }

  /** The smallest prekey batches the relay accepts: a thousand accounts are set up in the suite's time. */
  const newMember = (name: string): Promise<Member> =>
    newClient(relay, name, { deviceName: name, options: { oneTimePreKeys: 1, kemPreKeys: 1 } });

  const deviceOf = (c: VaultexClient): string => `${c.id().userId}/${c.id().deviceId}`;

  beforeAll(async () => {
    relay = await startRelay();
    let t = performance.now();
    const slots: Member[] = new Array(MEMBERS - 1);
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        for (let i = next++; i < MEMBERS - 1; i = next++) slots[i] = await newMember(`m${i + 1}`);
      }),
    );
    members.push(...slots);
    console.log(`[group-scale] ${MEMBERS - 1} member accounts: ${(performance.now() - t).toFixed(0)} ms`);
    creator = (await newMember('creator')).client;
    t = performance.now();
    for (const m of members) await creator.contacts.add(m.client.id().contactCode);
    console.log(`[group-scale] contacts added: ${(performance.now() - t).toFixed(0)} ms`);
  }, 240_000);

  afterAll(() => shutdown(relay, [...members.map((m) => m.client), creator]));

  it('one message is stored once with every member device as a target, and members decrypt it', async () => {
    let t = performance.now();
    const view = await creator.groups.create(
      'thousand',
      members.map((m) => m.client.id().userId),
    );
    groupId = view.groupId;
    await creator.sync();
    expect(view.members).toHaveLength(MEMBERS);
    console.log(
      `[group-scale] group created (state to ${MEMBERS - 1} members): ${(performance.now() - t).toFixed(0)} ms`,
    );

    const before = lastSeq();
    t = performance.now();
    const id = await creator.groups.send(groupId, 'hello, thousand');
    await creator.sync();
    const sendMs = performance.now() - t;
    console.log(
      `[group-scale] GROUP SEND, ${MEMBERS} members (first message: sender key to each, then one blob): ${sendMs.toFixed(0)} ms`,
    );
    const [mine] = await creator.messages.list(`g:${groupId}`, { limit: 1 });
    expect(mine?.id).toBe(id);
    expect(mine?.status).toBe('sent');

    const rows = rowsFrom(creator.id().userId, before);
    expect(rows).toHaveLength(Math.ceil((MEMBERS - 1) / 1024));
    const targets = rows.flatMap((r) => r.targets);
    expect(new Set(targets).size).toBe(targets.length);
    expect([...targets].sort()).toEqual(members.map((m) => deviceOf(m.client)).sort());

    // Every member holds our sender key now: a further message is one encryption and one blob.
    const before2 = lastSeq();
    t = performance.now();
    await creator.groups.send(groupId, 'and again');
    await creator.sync();
    console.log(
      `[group-scale] GROUP SEND, ${MEMBERS} members (one more message): ${(performance.now() - t).toFixed(0)} ms`,
    );
    const again = rowsFrom(creator.id().userId, before2);
    expect(again).toHaveLength(1);
    expect(again[0]!.targets).toHaveLength(MEMBERS - 1);

    const sample = [...members.slice(0, SAMPLE - 1), members.at(-1)!];
    for (const m of sample) {
      await m.client.sync();
      const got = await m.client.messages.list(`g:${groupId}`, { limit: 10 });
      expect(got.map((x) => x.text)).toEqual(['and again', 'hello, thousand']);
      expect(got[0]?.senderAccountId).toBe(creator.id().userId);
    }
  }, 120_000);

  it('a removed member is no target of the next message and cannot decrypt it', async () => {
    const gone = members[1]!;
    const goneId = gone.client.id().userId;
    let t = performance.now();
    await creator.groups.remove(groupId, goneId);
    await creator.sync();
    console.log(
      `[group-scale] member removed (state to ${MEMBERS - 1} accounts): ${(performance.now() - t).toFixed(0)} ms`,
    );

    const before = lastSeq();
    t = performance.now();
    await creator.groups.send(groupId, 'after the removal');
    await creator.sync();
    console.log(
      `[group-scale] send after removal (new sender key to ${MEMBERS - 2} members, then one blob): ${(performance.now() - t).toFixed(0)} ms`,
    );
    const rows = rowsFrom(creator.id().userId, before);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.targets).toHaveLength(MEMBERS - 2);
    expect(rows[0]!.targets).not.toContain(deviceOf(gone.client));
    expect(rows[0]!.targets).toContain(deviceOf(members.at(-1)!.client));

    await gone.client.sync();
    const texts = (await gone.client.messages.list(`g:${groupId}`, { limit: 10 })).map((m) => m.text);
    expect(texts).toEqual(['and again', 'hello, thousand']);
    // Given the ciphertext anyway, the sender key it holds (from before the removal) does not open it.
    const held = await gone.store.getSenderKey(groupId, creator.id().userId, creator.id().deviceId);
    expect(held).toBeDefined();
    let code = '';
    try {
      groupDecrypt(deserializeSenderKeyState(held!), rows[0]!.blob, nodeProvider, Date.now);
    } catch (e) {
      code = isProtocolError(e) ? e.code : 'other';
    }
    expect(code).toBe('NO_SENDER_KEY');

    const stays = members.at(-1)!.client;
    await stays.sync();
    expect((await stays.messages.list(`g:${groupId}`, { limit: 10 })).map((m) => m.text)).toEqual([
      'after the removal',
      'and again',
      'hello, thousand',
    ]);
  }, 120_000);
});

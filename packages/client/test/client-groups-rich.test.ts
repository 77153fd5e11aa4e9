import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientStore,
  type Content,
  encodeContent,
  isClientError,
  type MessageView,
  type VaultexClient,
} from '../src/index.js';
import {
  linkDevice,
  newFriends,
  pattern,
  record,
  shutdown,
  startRelay,
  type TestRelay,
  waitFor,
} from './core-support.js';

describe('groups: replies, edits, deletes, reactions, timers and attachments', () => {
  let relay: TestRelay;
  let alice1: VaultexClient;
  let alice2: VaultexClient;
  let bob: VaultexClient;
  let carol: VaultexClient;
  let bobStore: ClientStore;
  /** Every device of every member, with its store and a name for failure messages. */
  const devices: { name: string; client: VaultexClient; store: ClientStore }[] = [];
  let groupId: string;
  let conv: string;

  /** Everyone syncs, twice: sends go out, then what they caused (sender keys first) comes in. */
  async function round(): Promise<void> {
    for (let i = 0; i < 2; i++) for (const d of devices) await d.client.sync();
  }

  async function view(client: VaultexClient, id: string): Promise<MessageView | undefined> {
    return (await client.messages.list(conv, { limit: 200 })).find((m) => m.id === id);
  }

  /** The view of one message on every device; fails naming the device that lacks it. */
  async function everywhere(id: string): Promise<{ name: string; view: MessageView }[]> {
    const out: { name: string; view: MessageView }[] = [];
    for (const d of devices) {
      const v = await view(d.client, id);
      expect(v, `${d.name} has ${id}`).toBeDefined();
      out.push({ name: d.name, view: v! });
    }
    return out;
  }

  beforeAll(async () => {
    relay = await startRelay();
    const [a, b, c] = await newFriends(relay, { name: 'Alice', deviceName: 'laptop' }, 'Bob', 'Carol');
    alice1 = a.client;
    bob = b.client;
    carol = c.client;
    bobStore = b.store;
    const phone = await linkDevice(relay, alice1);
    alice2 = phone.client;
    expect(await alice1.devices.refresh()).toHaveLength(2);
    devices.push(
      { name: 'alice-laptop', client: alice1, store: a.store },
      { name: 'alice-phone', client: alice2, store: phone.store },
      { name: 'bob', client: bob, store: bobStore },
      { name: 'carol', client: carol, store: c.store },
    );
    groupId = (await alice1.groups.create('Three people, four devices', [bob.id().userId, carol.id().userId])).groupId;
    conv = `g:${groupId}`;
    await round();
    for (const d of devices) expect((await d.client.groups.get(groupId))?.members, d.name).toHaveLength(3);
  }, 60_000);

  afterAll(async () => {
    await shutdown(
      relay,
      devices.map((d) => d.client),
    );
  });

  it("a reply, an edit from the author's other device and reactions reach every device of every member", async () => {
    const m1 = await alice1.groups.send(groupId, 'helo');
    await round();
    const reply = await bob.groups.send(groupId, 'welcome', { replyTo: m1 });
    await round();
    for (const { name, view: v } of await everywhere(reply)) {
      expect(v.text, name).toBe('welcome');
      expect(v.replyTo, name).toBe(m1);
      expect(v.senderAccountId, name).toBe(bob.id().userId);
    }

    // Alice's phone edits what her laptop sent: the author is the account.
    const carolUpdates = record(carol, 'message-updated');
    await alice2.messages.edit(conv, m1, 'hello');
    await round();
    for (const { name, view: v } of await everywhere(m1)) {
      expect(v.text, name).toBe('hello');
      expect(v.editedAt, name).toBeGreaterThan(0);
    }
    expect(carolUpdates.find((e) => e.id === m1)?.message?.text).toBe('hello');

    // One at a time, so every device sees them in the same order (the order first reacted).
    await bob.messages.react(conv, m1, '👍');
    await round();
    await carol.messages.react(conv, m1, '❤️');
    await round();
    await alice1.messages.react(conv, m1, '😀');
    await round();
    // One reaction per account: Alice's phone replaces the laptop's.
    await alice2.messages.react(conv, m1, '🎉');
    await round();
    for (const { name, view: v } of await everywhere(m1)) {
      expect(v.reactions, name).toEqual([
        { accountId: bob.id().userId, emoji: '👍' },
        { accountId: carol.id().userId, emoji: '❤️' },
        { accountId: alice1.id().userId, emoji: '🎉' },
      ]);
      expect(v.text, name).toBe('hello');
    }
    await carol.messages.react(conv, m1, '');
    await round();
    for (const { name, view: v } of await everywhere(m1)) expect(v.reactions, name).toHaveLength(2);
  });

  it('only the author edits or deletes: refused locally, ignored by every receiver', async () => {
    const id = await carol.groups.send(groupId, 'carol says');
    await round();
    await expect(bob.messages.edit(conv, id, 'bob says')).rejects.toSatisfy((e) =>
      isClientError(e, 'MESSAGE_FORBIDDEN'),
    );
    await expect(bob.messages.delete(conv, id)).rejects.toSatisfy((e) => isClientError(e, 'MESSAGE_FORBIDDEN'));
    await expect(alice1.messages.edit(conv, id, 'alice says')).rejects.toSatisfy((e) =>
      isClientError(e, 'MESSAGE_FORBIDDEN'),
    );

    // A modified client sends them anyway, through the group's sender key.
    const forged: Content[] = [
      { kind: 'edit', id: '0e'.repeat(16), sentAt: Date.now(), target: id, body: 'forged' },
      { kind: 'delete', id: '0d'.repeat(16), sentAt: Date.now(), target: id },
    ];
    for (const f of forged) {
      await bobStore.transaction((tx) => bob.groups.queue(groupId, f.id, encodeContent(f), tx));
    }
    const marker = await bob.groups.send(groupId, 'after the forgery');
    await round();
    await everywhere(marker);
    for (const { name, view: v } of await everywhere(id)) {
      expect(v.text, name).toBe('carol says');
      expect(v.deleted, name).toBeUndefined();
      expect(v.editedAt, name).toBeUndefined();
    }

    // The author deletes for everyone: the text is gone from every store.
    await carol.messages.delete(conv, id);
    await round();
    for (const { name, view: v } of await everywhere(id)) {
      expect(v.deleted, name).toBe(true);
      expect(v.text, name).toBe('');
    }
    for (const d of devices) {
      const stored = await d.store.getMessage(id);
      expect(new TextDecoder().decode(stored!.body), d.name).not.toContain('carol says');
    }
    await expect(bob.messages.react(conv, id, '😮')).rejects.toSatisfy((e) => isClientError(e, 'MESSAGE_FORBIDDEN'));
  });

  it('a group attachment round-trips to every device of every member intact', async () => {
    const bytes = pattern(200 * 1024 + 7, 3);
    const pointer = await bob.attachments.upload(bytes, { name: 'photo.bin', mime: 'image/x-test' });
    const id = await bob.groups.sendAttachment(groupId, pointer, { caption: 'look' });
    await round();
    for (const d of devices) {
      const v = (await view(d.client, id))!;
      expect(v?.kind, d.name).toBe('attachment');
      expect(v.text, d.name).toBe('look');
      expect(v.attachment, d.name).toMatchObject({ name: 'photo.bin', mime: 'image/x-test', size: bytes.length });
      const got = await d.client.attachments.download(await d.client.attachments.pointerOf(id));
      expect(Buffer.from(got).equals(Buffer.from(bytes)), d.name).toBe(true);
    }
    expect((await bobStore.getMessage(id))?.status).toBe('sent');
  });

  it('a timer set by any member applies to the group; its messages vanish from every store', async () => {
    const timers = devices.map((d) => record(d.client, 'timer-changed'));
    await carol.messages.setTimer(conv, 2);
    await round();
    for (const [i, d] of devices.entries()) {
      expect((await d.store.getConversation(conv))?.disappearingSeconds, d.name).toBe(2);
      expect(timers[i]!.at(-1), d.name).toEqual({ conversationId: conv, seconds: 2, by: carol.id().userId });
    }

    const before = Date.now();
    const id = await alice1.groups.send(groupId, 'self-destructs');
    await alice1.sync();
    // The relay's copy carries the timer as its TTL (rounded up to its bucket), not 30 days.
    const rows = relay.storage
      .dump()
      .messages!.filter((m) => m.source_account !== null)
      .filter((m) => Number(m.expires_at) >= before && Number(m.expires_at) <= before + 3_600_000);
    expect(rows.length).toBeGreaterThan(0);
    await round();
    const [laptop, phone, b, c] = devices;
    // Our copies count from sending; members' from reading.
    expect((await laptop!.store.getMessage(id))?.expiresAt).toBeGreaterThan(0);
    expect((await phone!.store.getMessage(id))?.expiresAt).toBeGreaterThan(0);
    expect((await b!.store.getMessage(id))?.expiresAt).toBeUndefined();
    expect(await bob.messages.markRead(conv)).toBeGreaterThan(0);
    expect(await carol.messages.markRead(conv)).toBeGreaterThan(0);
    expect((await b!.store.getMessage(id))?.expiresAt).toBeGreaterThan(Date.now());
    expect((await c!.store.getMessage(id))?.expiresAt).toBeGreaterThan(Date.now());

    const wiped = record(bob, 'message-updated');
    for (const d of devices) {
      await waitFor(
        async () => {
          await d.client.sync(); // sync ends with the sweeper
          return (await d.store.getMessage(id)) === undefined;
        },
        `${d.name} wipes it`,
        8_000,
      );
      expect((await d.store.getConversation(conv))?.lastMessagePreview ?? '', d.name).not.toContain('self-destructs');
    }
    expect(wiped.some((e) => e.id === id && e.message === undefined)).toBe(true);

    // Turned off (by another member), new messages stay.
    await bob.messages.setTimer(conv, 0);
    await round();
    for (const d of devices) expect((await d.store.getConversation(conv))?.disappearingSeconds, d.name).toBeUndefined();
    const kept = await alice2.groups.send(groupId, 'stays');
    await round();
    for (const d of devices) expect((await d.store.getMessage(kept))?.expiresAt, d.name).toBeUndefined();
  });

  it('a non-member gets GROUP_FORBIDDEN; bad arguments are refused', async () => {
    const [last] = await carol.messages.list(conv, { limit: 1 });
    await carol.groups.leave(groupId);
    await round();
    const forbidden = (e: unknown) => isClientError(e, 'GROUP_FORBIDDEN');
    await expect(carol.messages.react(conv, last!.id, '👍')).rejects.toSatisfy(forbidden);
    await expect(carol.messages.setTimer(conv, 60)).rejects.toSatisfy(forbidden);
    await expect(carol.groups.send(groupId, 'still here?')).rejects.toSatisfy(forbidden);
    await expect(carol.groups.send(groupId, 'reply?', { replyTo: last!.id })).rejects.toSatisfy(forbidden);
    const pointer = await carol.attachments.upload(new Uint8Array([1, 2, 3]));
    await expect(carol.groups.sendAttachment(groupId, pointer)).rejects.toSatisfy(forbidden);

    const invalid = (e: unknown) => isClientError(e, 'INVALID_ARGUMENT');
    await expect(bob.groups.send(groupId, 'x', { replyTo: 'nope' })).rejects.toSatisfy(invalid);
    await expect(bob.groups.sendAttachment(groupId, { ...pointer, id: 'short' })).rejects.toSatisfy(invalid);
    await expect(bob.messages.react(`g:${'ab'.repeat(16)}`, last!.id, '👍')).rejects.toSatisfy((e) =>
      isClientError(e, 'NOT_FOUND'),
    );
  });
});

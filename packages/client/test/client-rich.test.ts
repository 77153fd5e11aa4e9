import { encodeWire } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientStore,
  CONTENT_KIND,
  type Content,
  decodeContent,
  encodeContent,
  isClientError,
  MAX_TIMER_SECONDS,
  type MessageView,
  type VaultexClient,
} from '../src/index.js';
import {
  arrived,
  linkDevice,
  newFriends,
  online,
  record,
  shutdown,
  startOnline,
  startRelay,
  type TestRelay,
  waitFor,
} from './core-support.js';

describe('rich messages: edit, delete, reactions, disappearing', () => {
  let relay: TestRelay;
  let alice1: VaultexClient;
  let alice2: VaultexClient;
  let alice1Store: ClientStore;
  let alice2Store: ClientStore;
  let bob: VaultexClient;
  let bobStore: ClientStore;
  let toBob: string;
  let toAlice: string;
  const running: VaultexClient[] = [];

  async function view(client: VaultexClient, conversationId: string, id: string): Promise<MessageView | undefined> {
    return (await client.messages.list(conversationId, { limit: 100 })).find((m) => m.id === id);
  }

  beforeAll(async () => {
    relay = await startRelay();
    const [a, b] = await newFriends(relay, { name: 'Alice', deviceName: 'laptop' }, 'Bob');
    alice1 = a.client;
    alice1Store = a.store;
    bob = b.client;
    bobStore = b.store;
    const phone = await linkDevice(relay, alice1);
    alice2 = phone.client;
    alice2Store = phone.store;
    await alice1.devices.refresh();
    toBob = `d:${bob.id().userId}`;
    toAlice = `d:${alice1.id().userId}`;
    await startOnline(running, alice1, alice2, bob);
  });

  afterAll(() => shutdown(relay, running));

  it('edits and reactions reach every device of both sides', async () => {
    const bobGot = record(bob, 'message');
    const a2Got = record(alice2, 'message');
    const id = await alice1.messages.send(bob.id().userId, 'helo');
    await arrived(bobGot, id, 'Bob gets the text');
    await arrived(a2Got, id, 'the phone gets the transcript');

    const bobUpdates = record(bob, 'message-updated');
    await alice1.messages.edit(toBob, id, 'hello');
    const edited = await waitFor(() => bobUpdates.find((e) => e.id === id)?.message, 'Bob sees the edit');
    expect(edited.text).toBe('hello');
    expect(edited.editedAt).toBeGreaterThan(0);
    await waitFor(async () => (await view(alice2, toBob, id))?.text === 'hello', 'the phone sees the edit');
    expect((await view(bob, toAlice, id))?.text).toBe('hello');

    await bob.messages.react(toAlice, id, '👍');
    await alice2.messages.react(toBob, id, '❤️');
    const both = (v: MessageView | undefined) => v?.reactions?.length === 2;
    await waitFor(async () => both(await view(alice1, toBob, id)), 'the laptop sees both reactions');
    await waitFor(async () => both(await view(bob, toAlice, id)), 'Bob sees both reactions');
    await waitFor(async () => both(await view(alice2, toBob, id)), 'the phone sees both reactions');
    expect((await view(alice1, toBob, id))?.reactions).toEqual([
      { accountId: bob.id().userId, emoji: '👍' },
      { accountId: alice1.id().userId, emoji: '❤️' },
    ]);
    // The edit survived the reactions, and removing a reaction works.
    await bob.messages.react(toAlice, id, '');
    await waitFor(async () => (await view(alice1, toBob, id))?.reactions?.length === 1, 'the reaction is removed');
    expect((await view(alice1, toBob, id))?.text).toBe('hello');
  });

  it('only the sender can edit or delete: locally refused, and ignored by receivers', async () => {
    const bobGot = record(bob, 'message');
    const id = await alice1.messages.send(bob.id().userId, 'mine');
    await arrived(bobGot, id, 'Bob gets it');
    await expect(bob.messages.edit(toAlice, id, 'yours')).rejects.toSatisfy((e) =>
      isClientError(e, 'MESSAGE_FORBIDDEN'),
    );
    await expect(bob.messages.delete(toAlice, id)).rejects.toSatisfy((e) => isClientError(e, 'MESSAGE_FORBIDDEN'));

    // A modified client sends the edit anyway: every Alice device ignores it.
    const forged = { kind: 'edit' as const, id: '0f'.repeat(16), sentAt: Date.now(), target: id, body: 'forged' };
    await bobStore.transaction((tx) => bob.messages.rich!.queue(alice1.id().userId, forged, tx));
    const a1Got = record(alice1, 'message');
    const a2Got = record(alice2, 'message');
    const marker = await bob.messages.send(alice1.id().userId, 'after the forgery');
    await arrived(a1Got, marker, 'the laptop gets the marker');
    await arrived(a2Got, marker, 'the phone gets the marker');
    expect((await view(alice1, toBob, id))?.text).toBe('mine');
    expect((await view(alice2, toBob, id))?.text).toBe('mine');
    expect((await view(bob, toAlice, id))?.text).toBe('mine');
  });

  it('delete for everyone wipes the text on every device', async () => {
    const bobGot = record(bob, 'message');
    const id = await alice1.messages.send(bob.id().userId, 'oops, wrong chat');
    await arrived(bobGot, id, 'Bob gets it');
    await alice1.messages.delete(toBob, id);
    for (const [client, conv] of [
      [bob, toAlice],
      [alice2, toBob],
      [alice1, toBob],
    ] as const) {
      const v = await waitFor(async () => {
        const m = await view(client, conv, id);
        return m?.deleted ? m : undefined;
      }, 'the deletion arrives');
      expect(v.text).toBe('');
    }
    expect((await bobStore.getConversation(toAlice))?.lastMessagePreview ?? '').not.toContain('wrong chat');
    const stored = await bobStore.getMessage(id);
    expect(new TextDecoder().decode(stored!.body)).not.toContain('wrong chat');
    await expect(bob.messages.react(toAlice, id, '😮')).rejects.toSatisfy((e) => isClientError(e, 'MESSAGE_FORBIDDEN'));
  });

  it('a disappearing message is gone from both profiles and the relay after its timer', async () => {
    const bobTimer = record(bob, 'timer-changed');
    const a2Timer = record(alice2, 'timer-changed');
    await alice1.messages.setTimer(toBob, 2);
    await waitFor(() => bobTimer.find((e) => e.seconds === 2), 'Bob gets the timer');
    await waitFor(() => a2Timer.find((e) => e.seconds === 2), 'the phone gets the timer');
    expect((await bobStore.getConversation(toAlice))?.disappearingSeconds).toBe(2);

    // Bob is offline: the relay holds the message, bounded by the timer instead of 30 days.
    await bob.stop();
    const before = Date.now();
    const statuses = record(alice1, 'message-status');
    const id = await alice1.messages.send(bob.id().userId, 'self-destructs');
    await waitFor(() => statuses.find((e) => e.id === id && e.status === 'sent'), 'sent');
    // The relay rounds expiry up to its time bucket (minutes), far below its 30-day default.
    const short = relay.storage
      .dump()
      .messages!.filter((m) => Number(m.expires_at) >= before && Number(m.expires_at) <= before + 3_600_000);
    expect(short.length).toBeGreaterThan(0);
    expect((await alice1Store.getMessage(id))?.expiresAt).toBeGreaterThan(0);

    const bobGot = record(bob, 'message');
    bob.start();
    await online(bob);
    await arrived(bobGot, id, 'Bob gets it');
    expect((await bobStore.getMessage(id))?.expiresAt).toBeUndefined();
    expect(await bob.messages.markRead(toAlice)).toBeGreaterThan(0);
    expect((await bobStore.getMessage(id))?.expiresAt).toBeGreaterThan(Date.now());

    for (const store of [alice1Store, alice2Store, bobStore]) {
      await waitFor(async () => (await store.getMessage(id)) === undefined, 'the message is wiped', 8_000);
    }
    expect((await bobStore.getConversation(toAlice))?.lastMessagePreview ?? '').not.toContain('self-destructs');
    expect((await alice1Store.getConversation(toBob))?.lastMessagePreview ?? '').not.toContain('self-destructs');
    // Burn on read: the relay deleted its copy once Bob's device acknowledged it.
    const seqs = new Set(short.map((m) => String(m.seq)));
    await waitFor(() => !relay.storage.dump().messages!.some((m) => seqs.has(String(m.seq))), 'the relay copy is gone');

    // Turning it off stops new messages from disappearing.
    await bob.messages.setTimer(toAlice, 0);
    await waitFor(async () => (await alice1Store.getConversation(toBob))?.disappearingSeconds === undefined, 'off');
    const kept = await alice1.messages.send(bob.id().userId, 'stays');
    expect((await alice1Store.getMessage(kept))?.expiresAt).toBeUndefined();
  });

  it('refuses bad arguments', async () => {
    await expect(alice1.messages.react(toBob, '00'.repeat(16), 'x'.repeat(17))).rejects.toSatisfy((e) =>
      isClientError(e, 'INVALID_ARGUMENT'),
    );
    await expect(alice1.messages.setTimer(toBob, -1)).rejects.toSatisfy((e) => isClientError(e, 'INVALID_ARGUMENT'));
    await expect(alice1.messages.edit(`x:${'00'.repeat(16)}`, '00'.repeat(16), 'x')).rejects.toSatisfy((e) =>
      isClientError(e, 'INVALID_ARGUMENT'),
    );
    // Groups are supported (client-groups-rich.test.ts); an unknown one is not found.
    await expect(alice1.messages.edit(`g:${'00'.repeat(16)}`, '00'.repeat(16), 'x')).rejects.toSatisfy((e) =>
      isClientError(e, 'NOT_FOUND'),
    );
    await expect(alice1.messages.delete(toBob, '00'.repeat(16))).rejects.toSatisfy((e) =>
      isClientError(e, 'NOT_FOUND'),
    );
  });
});

describe('rich content formats', () => {
  const base = { id: 'ab'.repeat(16), sentAt: 1_700_000_000_000 };
  const target = 'cd'.repeat(16);

  it('round-trips edit, delete, reaction, timer and the stored annotation', () => {
    const contents: Content[] = [
      { ...base, kind: 'edit', target, body: 'new text' },
      { ...base, kind: 'delete', target },
      { ...base, kind: 'reaction', target, emoji: '👍🏽' },
      { ...base, kind: 'reaction', target, emoji: '' },
      { ...base, kind: 'timer', seconds: 86_400 },
      {
        ...base,
        kind: 'annotated',
        content: encodeContent({ ...base, kind: 'text', body: 'hi' }),
        reactions: [{ accountId: target, emoji: '❤️' }],
      },
    ];
    for (const c of contents) expect(decodeContent(encodeContent(c))).toEqual(c);
    expect(CONTENT_KIND).toMatchObject({ edit: 11, delete: 12, reaction: 13, timer: 14 });
  });

  it('refuses out-of-range fields', () => {
    expect(() => encodeContent({ ...base, kind: 'reaction', target, emoji: 'x'.repeat(17) })).toThrow();
    const longTimer = encodeWire([1, CONTENT_KIND.timer, new Uint8Array(16), 0, MAX_TIMER_SECONDS + 1]);
    expect(() => decodeContent(longTimer)).toThrow(/seconds/u);
    const longEmoji = encodeWire([1, CONTENT_KIND.reaction, new Uint8Array(16), 0, new Uint8Array(16), 'x'.repeat(17)]);
    expect(() => decodeContent(longEmoji)).toThrow(/emoji/u);
  });
});

/**
 * The disappearing timer is carried by each text and attachment (Signal's per-message
 * `expireTimer`): the receiver's copy disappears that long after it is read, whatever the
 * conversation's timer is by then, and a message sent without one never disappears.
 */
import { encodeWire } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ClientStore,
  CONTENT_KIND,
  type Content,
  decodeContent,
  encodeContent,
  MAX_TIMER_SECONDS,
  type VaultexClient,
} from '../src/index.js';
import { newFriends, shutdown, startRelay, type TestRelay, waitFor } from './core-support.js';

describe('the disappearing timer travels with each message', () => {
  let relay: TestRelay;
  let alice: VaultexClient;
  let bob: VaultexClient;
  let aliceStore: ClientStore;
  let bobStore: ClientStore;
  let groupId: string;

  async function round(): Promise<void> {
    for (let i = 0; i < 2; i++) for (const c of [alice, bob]) await c.sync();
  }

  /** Bob reads a conversation; returns when he read it (his clock). */
  async function read(conversationId: string): Promise<number> {
    const at = Date.now();
    expect(await bob.messages.markRead(conversationId)).toBeGreaterThan(0);
    return at;
  }

  /** Whether Bob still holds a message after his sweeper ran. */
  async function bobHolds(id: string): Promise<boolean> {
    await bob.sync(); // sync ends with the sweeper
    return (await bobStore.getMessage(id)) !== undefined;
  }

  beforeAll(async () => {
    relay = await startRelay();
    const [a, b] = await newFriends(relay, 'Alice', 'Bob');
    alice = a.client;
    aliceStore = a.store;
    bob = b.client;
    bobStore = b.store;
    groupId = (await alice.groups.create('two', [bob.id().userId])).groupId;
    await round();
  }, 60_000);

  afterAll(() => shutdown(relay, [alice, bob]));

  describe.each(['direct', 'group'] as const)('%s conversation', (kind) => {
    const conv = (): string => (kind === 'direct' ? `d:${alice.id().userId}` : `g:${groupId}`);
    const aliceConv = (): string => (kind === 'direct' ? `d:${bob.id().userId}` : `g:${groupId}`);
    const send = (text: string): Promise<string> =>
      kind === 'direct' ? alice.messages.send(bob.id().userId, text) : alice.groups.send(groupId, text);

    it('a message received before the timer was set does not disappear when read after it', async () => {
      const before = await send(`${kind}: sent without a timer`);
      await round();
      expect(await bobStore.getMessage(before)).toBeDefined();
      await alice.messages.setTimer(aliceConv(), 2);
      await round();
      expect((await bobStore.getConversation(conv()))?.disappearingSeconds).toBe(2);
      await read(conv());
      expect((await bobStore.getMessage(before))?.status).toBe('read');
      expect((await bobStore.getMessage(before))?.expiresAt).toBeUndefined();
      expect((await aliceStore.getMessage(before))?.expiresAt).toBeUndefined();

      // Sent under the 2 s timer, then the timer is turned off before Bob reads it.
      const timed = await send(`${kind}: sent with a 2 s timer`);
      await round();
      const mine = await aliceStore.getMessage(timed);
      expect(mine?.expiresAt).toBe(mine!.sentAt + 2000);
      expect((await bobStore.getMessage(timed))?.expiresAt).toBeUndefined();
      await bob.messages.setTimer(conv(), 0);
      await round();
      expect((await bobStore.getConversation(conv()))?.disappearingSeconds).toBeUndefined();
      const readAt = await read(conv());
      const expiresAt = (await bobStore.getMessage(timed))?.expiresAt;
      expect(expiresAt).toBeGreaterThanOrEqual(readAt + 2000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 2000);
      await waitFor(async () => !(await bobHolds(timed)), `${kind}: the 2 s message is wiped`, 8_000);
      // The one sent before any timer outlived it.
      expect(await bobHolds(before)).toBe(true);
      expect((await bobStore.getMessage(before))?.expiresAt).toBeUndefined();
    });

    it('a message keeps its long timer when the conversation timer is shortened before it is read', async () => {
      const week = 7 * 24 * 3600;
      await alice.messages.setTimer(aliceConv(), week);
      await round();
      const id = await send(`${kind}: a week`);
      await round();
      await bob.messages.setTimer(conv(), 30);
      await round();
      expect((await bobStore.getConversation(conv()))?.disappearingSeconds).toBe(30);
      const readAt = await read(conv());
      const expiresAt = (await bobStore.getMessage(id))?.expiresAt ?? 0;
      expect(expiresAt).toBeGreaterThanOrEqual(readAt + week * 1000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + week * 1000);
      await bob.messages.setTimer(conv(), 0);
      await round();
    });
  });

  it('an unread disappearing message is not pushed to the history archive', async () => {
    const conv = `d:${alice.id().userId}`;
    await bob.messages.setRetention(conv, { mode: 'history' });
    await alice.messages.setTimer(`d:${bob.id().userId}`, 60);
    await round();
    const id = await alice.messages.send(bob.id().userId, 'unread, disappearing');
    await round();
    expect((await bobStore.getMessage(id))?.expiresAt).toBeUndefined();
    await bob.archive.setup();
    // Of Bob's messages with Alice only the one sent before any timer goes ('a week' is read
    // and carries expiresAt; this one has no expiresAt until read, but carries its timer).
    expect(await bob.archive.push()).toMatchObject({ conversations: 1, messages: 1 });
    await alice.messages.setTimer(`d:${bob.id().userId}`, 0);
    await round();
  });
});

describe('expireTimer in the content format', () => {
  const base = { id: 'ab'.repeat(16), sentAt: 1_700_000_000_000 };
  const pointer = {
    id: 'A'.repeat(43),
    key: new Uint8Array(32).fill(1),
    size: 3,
    sha256: new Uint8Array(32).fill(2),
    name: 'a.txt',
    mime: 'text/plain',
  };

  it('round-trips on texts and attachments', () => {
    const contents: Content[] = [
      { ...base, kind: 'text', body: 'hi', expireTimer: 30 },
      { ...base, kind: 'text', body: 'hi', replyTo: 'cd'.repeat(16), expireTimer: MAX_TIMER_SECONDS },
      { ...base, kind: 'attachment', attachment: pointer, expireTimer: 604_800 },
      { ...base, kind: 'attachment', attachment: pointer, caption: 'c', expireTimer: 1 },
    ];
    for (const c of contents) expect(decodeContent(encodeContent(c))).toEqual(c);
  });

  it('is absent from contents without a timer: they encode exactly as before the field existed', () => {
    const text = encodeWire([1, CONTENT_KIND.text, new Uint8Array(16).fill(0xab), base.sentAt, 'hi', null, null]);
    expect(encodeContent({ ...base, kind: 'text', body: 'hi' })).toEqual(text);
    expect(encodeContent({ ...base, kind: 'text', body: 'hi', expireTimer: 0 })).toEqual(text);
    expect(decodeContent(text)).toEqual({ ...base, kind: 'text', body: 'hi' });
    const file = encodeWire([
      1,
      CONTENT_KIND.attachment,
      new Uint8Array(16).fill(0xab),
      base.sentAt,
      pointer.id,
      pointer.key,
      pointer.size,
      pointer.sha256,
      pointer.name,
      pointer.mime,
      null,
      null,
    ]);
    expect(encodeContent({ ...base, kind: 'attachment', attachment: pointer })).toEqual(file);
    expect(decodeContent(file)).toEqual({ ...base, kind: 'attachment', attachment: pointer });
  });

  it('ignores a nil timer and fields a newer sender adds after it', () => {
    const head = [1, CONTENT_KIND.text, new Uint8Array(16).fill(0xab), base.sentAt, 'hi', null, null];
    expect(decodeContent(encodeWire([...head, null, 'later']))).toEqual({ ...base, kind: 'text', body: 'hi' });
    expect(decodeContent(encodeWire([...head, 60, [1, 2], new Uint8Array(3)]))).toEqual({
      ...base,
      kind: 'text',
      body: 'hi',
      expireTimer: 60,
    });
  });

  it('refuses a malformed timer', () => {
    const head = [1, CONTENT_KIND.text, new Uint8Array(16).fill(0xab), base.sentAt, 'hi', null, null];
    for (const bad of [MAX_TIMER_SECONDS + 1, -1, 1.5, 'x']) {
      expect(() => decodeContent(encodeWire([...head, bad]))).toThrow(
        expect.objectContaining({ code: 'INVALID_MESSAGE' }),
      );
    }
    expect(() => encodeContent({ ...base, kind: 'text', body: 'hi', expireTimer: MAX_TIMER_SECONDS + 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
  });
});

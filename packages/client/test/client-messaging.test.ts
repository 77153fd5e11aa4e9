import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VaultexClient } from '../src/index.js';
import { arrived, befriend, newClient, online, record, startRelay, type TestRelay, waitFor } from './core-support.js';

describe('two clients', () => {
  let relay: TestRelay;
  let alice: VaultexClient;
  let bob: VaultexClient;

  beforeAll(async () => {
    relay = await startRelay();
    alice = (await newClient(relay, 'Alice')).client;
    bob = (await newClient(relay, 'Bob')).client;
    await befriend(alice, bob);
  });

  afterAll(async () => {
    await alice?.stop();
    await bob?.stop();
    await relay?.close();
  });

  it('exchange messages both ways with delivery and read receipts', async () => {
    alice.start();
    bob.start();
    await online(alice);
    await online(bob);
    const bobMessages = record(bob, 'message');
    const aliceStatus = record(alice, 'message-status');

    const id = await alice.messages.send(bob.id().userId, 'hello Bob');
    const got = await arrived(bobMessages, id, 'Bob receives');
    expect(got.message.text).toBe('hello Bob');
    expect(got.message.senderAccountId).toBe(alice.id().userId);
    expect(got.message.direction).toBe('in');

    await waitFor(() => aliceStatus.find((s) => s.id === id && s.status === 'delivered'), 'delivered receipt');
    const conv = `d:${alice.id().userId}`;
    expect(await bob.messages.markRead(conv)).toBe(1);
    await waitFor(() => aliceStatus.find((s) => s.id === id && s.status === 'read'), 'read receipt');
    const [mine] = await alice.messages.list(`d:${bob.id().userId}`);
    expect(mine?.status).toBe('read');

    const aliceMessages = record(alice, 'message');
    const reply = await bob.messages.send(alice.id().userId, 'hi Alice');
    const back = await arrived(aliceMessages, reply, 'Alice receives');
    expect(back.message.text).toBe('hi Alice');
    const list = await alice.messages.list(`d:${bob.id().userId}`);
    expect(list.map((m) => m.text)).toEqual(['hi Alice', 'hello Bob']);
  });

  it('read receipts and typing indicators can be turned off', async () => {
    await bob.updateProfile({ readReceipts: false, typingIndicators: false });
    expect(bob.profile.settings.readReceipts).toBe(false);
    const bobMessages = record(bob, 'message');
    const aliceStatus = record(alice, 'message-status');
    const id = await alice.messages.send(bob.id().userId, 'read quietly');
    await arrived(bobMessages, id, 'Bob receives');
    await waitFor(() => aliceStatus.find((s) => s.id === id && s.status === 'delivered'), 'delivered');
    expect(await bob.messages.markRead(`d:${alice.id().userId}`)).toBe(1);
    expect(await bob.messages.typing(alice.id().userId, true)).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(aliceStatus.some((s) => s.id === id && s.status === 'read')).toBe(false);
    await bob.updateProfile({ readReceipts: true, typingIndicators: true });
  });

  it('typing indicators arrive and are not stored', async () => {
    const typing = record(bob, 'typing');
    expect(await alice.messages.typing(bob.id().userId, true)).toBe(true);
    const t = await waitFor(() => typing.find((e) => e.accountId === alice.id().userId), 'typing');
    expect(t.started).toBe(true);
    expect((await bob.messages.list(`d:${alice.id().userId}`)).length).toBe(3);
  });
});

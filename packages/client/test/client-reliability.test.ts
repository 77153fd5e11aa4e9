import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchLike, VaultexClient } from '../src/index.js';
import { befriend, newClient, online, record, startRelay, type TestRelay, waitFor } from './core-support.js';

describe('reliability', () => {
  let relay: TestRelay;
  let alice: VaultexClient;
  let bob: VaultexClient;
  /** Bob's acknowledgements over HTTP are swallowed while this is set (the relay keeps redelivering). */
  let dropAcks = false;

  beforeAll(async () => {
    relay = await startRelay();
    alice = (await newClient(relay, 'Alice')).client;
    const bobFetch: FetchLike = (url, init) => {
      if (dropAcks && init.method === 'DELETE' && url.includes('/messages/inbox/')) {
        return Promise.resolve({ status: 204, ok: true, text: async () => '' });
      }
      return globalThis.fetch(url, init);
    };
    bob = (await newClient(relay, 'Bob', { fetch: bobFetch })).client;
    await befriend(alice, bob);
  });

  afterAll(async () => {
    await alice?.stop();
    await bob?.stop();
    await relay?.close();
  });

  it('Bob offline while Alice sends 50: he gets all 50, in order, once', async () => {
    alice.start();
    await online(alice);
    const status = record(alice, 'message-status');
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await alice.messages.send(bob.id().userId, `message ${i}`));
    await waitFor(() => ids.every((id) => status.some((s) => s.id === id && s.status === 'sent')), 'all sent', 30_000);

    const received = record(bob, 'message');
    bob.start();
    await waitFor(() => received.length >= 50, 'Bob gets 50', 30_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(received.map((e) => e.message.text)).toEqual(ids.map((_, i) => `message ${i}`));
    expect(received.map((e) => e.message.id)).toEqual(ids);
    const stored = await bob.messages.list(`d:${alice.id().userId}`, { limit: 100 });
    expect(stored.length).toBe(50);
    expect(stored.map((m) => m.text).reverse()).toEqual(ids.map((_, i) => `message ${i}`));
    // Delivery receipts come back, coalesced.
    await waitFor(
      () => ids.every((id) => status.some((s) => s.id === id && s.status === 'delivered')),
      'delivered receipts',
      30_000,
    );
    await bob.stop();
  });

  it('a message the relay delivers twice is stored once', async () => {
    const received = record(bob, 'message');
    dropAcks = true;
    const id = await alice.messages.send(bob.id().userId, 'twice');
    await waitFor(async () => (await bob.sync()).received > 0 && received.length > 0, 'first delivery');
    // The acknowledgement was lost: the relay delivers it again.
    const again = await bob.sync();
    expect(again.received).toBe(1);
    dropAcks = false;
    expect((await bob.sync()).received).toBe(1);
    expect((await bob.sync()).received).toBe(0);
    expect(received.filter((e) => e.message.id === id).length).toBe(1);
    const stored = await bob.messages.list(`d:${alice.id().userId}`, { limit: 100 });
    expect(stored.filter((m) => m.id === id).length).toBe(1);
  });

  it('a send made while the relay is down is delivered once it is back', async () => {
    bob.start();
    await online(bob);
    const received = record(bob, 'message');
    const status = record(alice, 'message-status');
    await relay.stop();
    await waitFor(() => alice.connection !== 'online', 'Alice sees the relay go');
    const id = await alice.messages.send(bob.id().userId, 'while down');
    await new Promise((r) => setTimeout(r, 300));
    expect(status.some((s) => s.id === id)).toBe(false);
    const [pending] = await alice.messages.list(`d:${bob.id().userId}`, { limit: 1 });
    expect(pending?.status).toBe('pending');
    await relay.restart();
    await waitFor(() => received.some((e) => e.message.id === id), 'delivered after restart', 40_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((e) => e.message.id === id).length).toBe(1);
    expect(status.some((s) => s.id === id && s.status === 'sent')).toBe(true);
  });
});

describe('a send whose answer is lost', () => {
  let relay: TestRelay;
  let carol: VaultexClient;
  let dave: VaultexClient;
  let loseNextAnswer = false;
  let sealedPosts = 0;

  beforeAll(async () => {
    relay = await startRelay();
    const carolFetch: FetchLike = async (url, init) => {
      const res = await globalThis.fetch(url, init);
      if (init.method === 'POST' && url.endsWith('/messages/sealed')) {
        sealedPosts++;
        if (loseNextAnswer) {
          loseNextAnswer = false;
          throw new TypeError('fetch failed: connection reset');
        }
      }
      return res;
    };
    carol = (await newClient(relay, 'Carol', { fetch: carolFetch })).client;
    dave = (await newClient(relay, 'Dave')).client;
    await befriend(carol, dave);
  });

  afterAll(async () => {
    await relay?.close();
  });

  it('is sent again as the same envelope and stored once', async () => {
    const status = record(carol, 'message-status');
    const received = record(dave, 'message');
    loseNextAnswer = true;
    const id = await carol.messages.send(dave.id().userId, 'exactly once');
    await carol.sync();
    expect(sealedPosts).toBe(1);
    expect(status.some((s) => s.id === id)).toBe(false);
    await waitFor(
      async () => {
        await carol.sync();
        return status.some((s) => s.id === id && s.status === 'sent');
      },
      'retried',
      20_000,
    );
    expect(sealedPosts).toBe(2);
    // The relay holds two copies; Dave handles both and keeps one.
    expect((await dave.sync()).received).toBe(2);
    expect(received.filter((e) => e.message.id === id).length).toBe(1);
    expect((await dave.messages.list(`d:${carol.id().userId}`)).length).toBe(1);
    // The session survived the duplicate: the conversation goes on both ways.
    const next = await carol.messages.send(dave.id().userId, 'and again');
    await carol.sync();
    await dave.sync();
    expect(received.map((e) => e.message.id)).toEqual([id, next]);
    const reply = await dave.messages.send(carol.id().userId, 'got both');
    await dave.sync();
    const carolGot = record(carol, 'message');
    await carol.sync();
    expect(carolGot.map((e) => e.message.id)).toEqual([reply]);
  });
});

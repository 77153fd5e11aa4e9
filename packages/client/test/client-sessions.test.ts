import { manualClock, SIGNED_PREKEY_ROTATION_MS } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientStore, openMemoryStore, VaultexClient } from '../src/index.js';
import { nodeDeps } from '../src/node/index.js';
import { befriend, newClient, record, startRelay, TEST_OPTIONS, type TestRelay, waitFor } from './core-support.js';

describe('sessions and prekeys', () => {
  let relay: TestRelay;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay?.close();
  });

  it('re-establishes a session that cannot decrypt any more', async () => {
    const alice = (await newClient(relay, 'Alice')).client;
    const b = await newClient(relay, 'Bob');
    const bob = b.client;
    const bobStore: ClientStore = b.store;
    await befriend(alice, bob);
    const bobGot = record(bob, 'message');
    await alice.messages.send(bob.id().userId, 'first');
    await alice.sync();
    await bob.sync();
    expect(bobGot.map((e) => e.message.text)).toEqual(['first']);
    await alice.messages.send(bob.id().userId, 'opens the ratchet');
    await bob.messages.send(alice.id().userId, 'reply');
    await bob.sync();
    await alice.sync();

    // Bob loses his session state (a restored backup, a damaged store...).
    await bobStore.deleteSessions(alice.id().userId);
    const failures = record(bob, 'decrypt-failed');
    await alice.messages.send(bob.id().userId, 'lost in the gap');
    await alice.sync();
    await bob.sync();
    // Everything Alice sent since (a message and a receipt) is unreadable; one reset answers it.
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(new Set(failures.map((f) => f.accountId))).toEqual(new Set([alice.id().userId]));
    // Bob's session reset reaches Alice as a new session; her next message gets through.
    await alice.sync();
    const after = await alice.messages.send(bob.id().userId, 'after the reset');
    await alice.sync();
    await bob.sync();
    expect(bobGot.map((e) => e.message.id)).toContain(after);
    const back = await bob.messages.send(alice.id().userId, 'and back');
    await bob.sync();
    const aliceGot = record(alice, 'message');
    await alice.sync();
    expect(aliceGot.map((e) => e.message.id)).toEqual([back]);
  });

  it('replenishes one-time prekeys and rotates the signed prekey on schedule', async () => {
    const clock = manualClock(Date.now());
    const store = await openMemoryStore();
    const { client } = await VaultexClient.create({
      store,
      serverUrl: relay.url,
      deps: nodeDeps({ clock }),
      options: { ...TEST_OPTIONS, preKeyLowWater: 8 },
    });
    // 5 on the relay, below the low-water mark of 8: a batch of 5 (and 2 KEM) is added.
    const first = await client.maintain();
    expect(first).toEqual({ oneTimeUploaded: 5, kemUploaded: 2, rotated: false, deleted: 0 });
    expect(await store.countPrekeys('one-time')).toBe(10);
    // 10 one-time keys on the relay now: none added (KEM keys: 4 < 8, two more).
    expect(await client.maintain()).toEqual({ oneTimeUploaded: 0, kemUploaded: 2, rotated: false, deleted: 0 });

    const signedBefore = await store.listPrekeys('signed');
    clock.advance(SIGNED_PREKEY_ROTATION_MS + 1);
    const rotated = await client.maintain();
    expect(rotated.rotated).toBe(true);
    expect((await store.listPrekeys('signed')).length).toBe(2);
    // Replaced keys stay for in-flight messages, then go.
    clock.advance(24 * 3600_000);
    expect((await client.maintain()).deleted).toBe(0);
    clock.advance(3 * 24 * 3600_000);
    expect((await client.maintain()).deleted).toBe(2);
    const signedAfter = await store.listPrekeys('signed');
    expect(signedAfter.length).toBe(1);
    expect(signedAfter[0]!.id).not.toBe(signedBefore[0]!.id);

    // A new contact still opens a session with the rotated keys.
    const peer = (await newClient(relay, 'Peer')).client;
    await befriend(peer, client);
    const got = record(client, 'message');
    await peer.messages.send(client.id().userId, 'after rotation');
    await peer.sync();
    await waitFor(async () => {
      await client.sync();
      return got.length > 0;
    }, 'received');
    expect(got[0]!.message.text).toBe('after rotation');
  });
});

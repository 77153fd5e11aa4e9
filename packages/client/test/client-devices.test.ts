import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isClientError, openMemoryStore, VaultexClient } from '../src/index.js';
import { nodeDeps } from '../src/node/index.js';
import {
  arrived,
  linkDevice,
  newFriends,
  record,
  shutdown,
  startOnline,
  startRelay,
  TEST_OPTIONS,
  type TestRelay,
  waitFor,
} from './core-support.js';

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

describe('devices', () => {
  let relay: TestRelay;
  let alice1: VaultexClient;
  let alice2: VaultexClient;
  let bob: VaultexClient;
  let bobSeed: string;
  const running: VaultexClient[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    const [a, b] = await newFriends(relay, { name: 'Alice', deviceName: 'laptop' }, 'Bob');
    alice1 = a.client;
    bob = b.client;
    bobSeed = b.seedPhrase!;
  });

  afterAll(() => shutdown(relay, running));

  const start = (...clients: VaultexClient[]) => startOnline(running, ...clients);

  it('links a second device with a code; it gets the contacts', async () => {
    const phone = await linkDevice(relay, alice1);
    expect(phone.code.startsWith('vaultex://link?d=')).toBe(true);
    alice2 = phone.client;
    expect(alice2.id().userId).toBe(alice1.id().userId);
    expect(alice2.id().deviceId).toBe(phone.deviceId);
    expect(alice2.id().displayName).toBe('Alice');
    expect((await alice2.contacts.list()).map((c) => c.accountId)).toEqual([bob.id().userId]);
    expect(alice2.devices.list().map((d) => d.name)).toEqual(
      [...alice2.devices.list()].sort((x, y) => x.deviceId - y.deviceId).map((d) => d.name),
    );
    expect(new Set(alice2.devices.list().map((d) => d.name))).toEqual(new Set(['laptop', 'phone']));
    // The approving device adopted the new list before approveLink returned.
    expect(alice1.devices.list().map((d) => d.deviceId)).toContain(phone.deviceId);
    const refreshed = await alice1.devices.refresh();
    expect(refreshed.length).toBe(2);
  });

  it('fans out to every device: transcripts to our other device, replies to both', async () => {
    await start(alice1, alice2, bob);
    const bobGot = record(bob, 'message');
    const a1Got = record(alice1, 'message');
    const a2Got = record(alice2, 'message');

    const m1 = await alice1.messages.send(bob.id().userId, 'from the laptop');
    await arrived(bobGot, m1, 'Bob gets it');
    const transcript = await arrived(a2Got, m1, 'the phone sees it');
    expect(transcript.message.direction).toBe('out');
    expect(transcript.message.text).toBe('from the laptop');

    const reply = await bob.messages.send(alice1.id().userId, 'to both');
    await arrived(a1Got, reply, 'laptop gets the reply');
    await arrived(a2Got, reply, 'phone gets the reply');

    const m2 = await alice2.messages.send(bob.id().userId, 'from the phone');
    const got = await arrived(bobGot, m2, 'Bob gets the phone message');
    expect(got.message.senderDeviceId).toBe(alice2.id().deviceId);
    await arrived(a1Got, m2, 'the laptop sees it');
    const list = await alice1.messages.list(`d:${bob.id().userId}`);
    expect(list.map((m) => m.text)).toEqual(['from the phone', 'to both', 'from the laptop']);
  });

  it('renames a device', async () => {
    await alice2.devices.rename(alice2.id().deviceId, 'pocket');
    expect(alice2.devices.list().find((d) => d.current)?.name).toBe('pocket');
    const seen = await alice1.devices.refresh();
    expect(seen.find((d) => d.deviceId === alice2.id().deviceId)?.name).toBe('pocket');
  });

  it('a revoked device receives nothing more', async () => {
    const states = record(alice2, 'connection');
    const a1Got = record(alice1, 'message');
    const a2Got = record(alice2, 'message');
    await alice1.devices.revoke(alice2.id().deviceId);
    expect(alice1.devices.list().length).toBe(1);
    await waitFor(() => states.find((s) => s.reason === 'revoked'), 'revoked');
    expect(alice2.revoked).toBe(true);

    const m = await bob.messages.send(alice1.id().userId, 'only for the laptop');
    await arrived(a1Got, m, 'laptop gets it');
    await new Promise((r) => setTimeout(r, 300));
    expect(a2Got.length).toBe(0);
    await expect(alice2.sync()).rejects.toSatisfy((e) => isClientError(e, 'DEVICE_REVOKED'));
  });

  it('restores from the seed phrase on a fresh profile and keeps talking', async () => {
    const restored = await VaultexClient.restore({
      store: await openMemoryStore(),
      serverUrl: relay.url,
      seedPhrase: bobSeed,
      deps: nodeDeps(),
      options: { ...TEST_OPTIONS, deviceName: 'new laptop' },
    });
    expect(restored.id().userId).toBe(bob.id().userId);
    expect(restored.id().deviceId).not.toBe(bob.id().deviceId);
    expect(restored.devices.list().length).toBe(2);
    await start(restored);
    const got = record(restored, 'message');
    const m = await alice1.messages.send(bob.id().userId, 'to every Bob');
    await arrived(got, m, 'the restored device gets it');
    // The old device told the new one about its contacts.
    await waitFor(async () => (await restored.contacts.get(alice1.id().userId))?.state === 'accepted', 'contacts');
    const a1Got = record(alice1, 'message');
    const reply = await restored.messages.send(alice1.id().userId, 'restored and back');
    const back = await arrived(a1Got, reply, 'Alice gets the reply');
    expect(back.message.senderDeviceId).toBe(restored.id().deviceId);
    // The restored device's new access key became the account's; the old device adopted it.
    await waitFor(() => equal(bob.profile.accessKey, restored.profile.accessKey), 'access key synced');
    const bobGot = record(bob, 'message');
    const m2 = await alice1.messages.send(bob.id().userId, 'after the key change');
    await arrived(bobGot, m2, 'the old device still receives');
  });
});

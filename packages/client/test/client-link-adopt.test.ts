import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isClientError, VaultexClient } from '../src/index.js';
import { nodeDeps } from '../src/node/index.js';
import { linkDevice, newFriends, record, shutdown, startRelay, type TestRelay } from './core-support.js';

// The approving device was alone: neither its group sends nor its direct sends name an own
// device the relay could find missing, so without adopting the new list at approval the new
// device would silently get nothing from it.
describe('the approving device knows the linked device at once', () => {
  let relay: TestRelay;
  let laptop: VaultexClient;
  let phone: VaultexClient;
  let bob: VaultexClient;
  let phoneId: number;

  const texts = async (x: VaultexClient, conversation: string) =>
    (await x.messages.list(conversation, { limit: 100 })).map((m) => `${m.direction}:${m.text}`);

  beforeAll(async () => {
    relay = await startRelay();
    const [a, b] = await newFriends(relay, { name: 'Alice', deviceName: 'laptop' }, 'Bob');
    laptop = a.client;
    bob = b.client;
    const changes = record(laptop, 'device-list-changed');
    const linked = await linkDevice(relay, laptop);
    phone = linked.client;
    phoneId = linked.deviceId;
    // No refresh: approveLink itself waited for the relay's list and adopted it.
    expect(laptop.devices.list().map((d) => d.deviceId)).toContain(phoneId);
    expect(changes.at(-1)?.devices.map((d) => d.deviceId)).toContain(phoneId);
  });

  afterAll(() => shutdown(relay, [laptop, phone, bob]));

  it('its next direct message reaches the new device as a sent transcript', async () => {
    await laptop.messages.send(bob.id().userId, 'right after linking');
    await laptop.sync();
    await phone.sync();
    await bob.sync();
    expect(await texts(bob, `d:${laptop.id().userId}`)).toEqual(['in:right after linking']);
    expect(await texts(phone, `d:${bob.id().userId}`)).toEqual(['out:right after linking']);
  });

  it('its next group message reaches the new device', async () => {
    const { groupId } = await laptop.groups.create('No refresh needed', [bob.id().userId]);
    await laptop.groups.send(groupId, 'to every device');
    await laptop.sync();
    // Twice: the sender key and group state arrive pairwise, the group message after them.
    for (let round = 0; round < 2; round++) {
      await phone.sync();
      await bob.sync();
    }
    expect(await texts(phone, `g:${groupId}`)).toEqual(['out:to every device']);
    expect(await texts(bob, `g:${groupId}`)).toEqual(['in:to every device']);
  });

  it('returns after waitMs when the new device never registers, and checks waitMs', async () => {
    const before = laptop.devices.list().length;
    const abandoned = VaultexClient.createLinkCode({ serverUrl: relay.url, deps: nodeDeps() });
    const t0 = Date.now();
    const id = await laptop.devices.approveLink(abandoned.code, { waitMs: 600 });
    const took = Date.now() - t0;
    expect(id).toBeGreaterThan(0);
    expect(took).toBeGreaterThanOrEqual(500);
    expect(took).toBeLessThan(5000);
    expect(laptop.devices.list()).toHaveLength(before);

    const quick = VaultexClient.createLinkCode({ serverUrl: relay.url, deps: nodeDeps() });
    const t1 = Date.now();
    await laptop.devices.approveLink(quick.code, { waitMs: 0 });
    expect(Date.now() - t1).toBeLessThan(2000);

    await expect(laptop.devices.approveLink(quick.code, { waitMs: -1 })).rejects.toSatisfy((e) =>
      isClientError(e, 'INVALID_ARGUMENT'),
    );
  });
});

import { readSenderKeyMessageHeader } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VaultexClient } from '../src/index.js';
import { linkDevice, newFriends, shutdown, startRelay, type TestRelay } from './core-support.js';

describe('groups across our devices', () => {
  let relay: TestRelay;
  let alice1: VaultexClient;
  let alice2: VaultexClient;
  let bob: VaultexClient;
  let groupId: string;

  const texts = async (x: VaultexClient) =>
    (await x.messages.list(`g:${groupId}`, { limit: 100 })).map((m) => `${m.direction}:${m.text}`);

  beforeAll(async () => {
    relay = await startRelay();
    const [a, b] = await newFriends(relay, { name: 'Alice', deviceName: 'laptop' }, 'Bob');
    alice1 = a.client;
    bob = b.client;
    alice2 = (await linkDevice(relay, alice1)).client;
    // The new device published the new list; approving it waited for that list and adopted it.
    expect(alice1.devices.list()).toHaveLength(2);
    await alice2.sync();
    await bob.sync();
  });

  afterAll(() => shutdown(relay, [alice1, alice2, bob]));

  it('our other device follows the group and reads and writes in it', async () => {
    groupId = (await alice1.groups.create('Two people, three devices', [bob.id().userId])).groupId;
    await alice1.sync();
    await alice2.sync();
    await bob.sync();
    expect((await alice2.groups.get(groupId))?.title).toBe('Two people, three devices');
    expect((await bob.groups.get(groupId))?.members).toHaveLength(2);

    const before = Math.max(0, ...relay.storage.dump().messages!.map((m) => Number(m.seq)));
    await alice1.groups.send(groupId, 'from the laptop');
    await alice1.sync();
    const dump = relay.storage.dump();
    const isGroupBlob = (blob: unknown) => {
      try {
        readSenderKeyMessageHeader(new Uint8Array(blob as Uint8Array));
        return true;
      } catch {
        return false;
      }
    };
    // Our sender key went to the phone pairwise (authenticated, as to any own device); the
    // group message itself is one row.
    const rows = dump.messages!.filter((m) => Number(m.seq) > before && isGroupBlob(m.blob));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.source_account).not.toBeNull();
    const targets = dump.message_targets!.filter((t) => Number(t.message_seq) === Number(rows[0]!.seq));
    expect(targets).toHaveLength(2); // Bob's device and Alice's phone: one stored copy
    await alice2.sync();
    await bob.sync();
    expect(await texts(bob)).toEqual(['in:from the laptop']);
    expect(await texts(alice2)).toEqual(['out:from the laptop']);

    await alice2.groups.send(groupId, 'from the phone');
    await alice2.sync();
    await bob.groups.send(groupId, 'from Bob');
    await bob.sync();
    for (const x of [alice1, alice2, bob]) await x.sync();
    for (const x of [alice1, alice2]) {
      expect((await texts(x)).sort()).toEqual(['in:from Bob', 'out:from the laptop', 'out:from the phone']);
    }
    expect((await texts(bob)).sort()).toEqual(['in:from the laptop', 'in:from the phone', 'out:from Bob']);
  });
});

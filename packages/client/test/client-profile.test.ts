import { encodeWire } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contactCodec, profileCodec } from '../src/browser/indexeddb/record-codec.js';
import {
  type Avatar,
  type ClientStore,
  decodeContent,
  encodeContent,
  isClientError,
  MAX_AVATAR_BYTES,
  type VaultexClient,
} from '../src/index.js';
import {
  arrived,
  linkDevice,
  newClient,
  newFriends,
  record,
  shutdown,
  startOnline,
  startRelay,
  type TestRelay,
  waitFor,
} from './core-support.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const png = (size: number, fill: number): Avatar => {
  const bytes = new Uint8Array(size).fill(fill);
  bytes.set(PNG_SIGNATURE);
  return { mime: 'image/png', bytes };
};
const hex16 = (n: number) => n.toString(16).padStart(2, '0').repeat(16);

describe('profile content', () => {
  const base = { id: hex16(0xab), sentAt: 1234, kind: 'profile' as const, displayName: 'Alice' };

  it('round-trips with an avatar, without one, and with a reply request', () => {
    for (const sample of [
      { ...base, avatar: png(MAX_AVATAR_BYTES, 7), reply: false },
      { ...base, avatar: null, reply: true },
    ]) {
      expect(decodeContent(encodeContent(sample))).toEqual(sample);
    }
  });

  it('refuses an avatar of another format, too large, or not what it claims to be', () => {
    const bad = [
      ['image/svg+xml', png(100, 1).bytes],
      ['image/png', png(MAX_AVATAR_BYTES + 1, 1).bytes],
      ['image/jpeg', png(100, 1).bytes],
      ['image/png', new Uint8Array(0)],
    ] as const;
    for (const [mime, bytes] of bad) {
      const raw = encodeWire([1, 16, new Uint8Array(16), 1, 'Mallory', [mime, bytes], false]);
      expect(() => decodeContent(raw)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    }
  });
});

describe('IndexedDB record values', () => {
  it('read version-1 profiles and contacts (no avatar) and round-trip the avatar', () => {
    const contact = {
      accountId: hex16(1),
      identityKey: new Uint8Array(32).fill(1),
      displayName: 'Bob',
      state: 'accepted' as const,
      verified: false,
      addedAt: 5,
    };
    const v1 = encodeWire([
      1,
      contact.accountId,
      contact.identityKey,
      'Bob',
      'accepted',
      false,
      null,
      null,
      null,
      null,
      5,
    ]);
    expect(contactCodec.decode(v1)).toEqual(contact);
    const withAvatar = { ...contact, avatar: png(300, 2).bytes, avatarMime: 'image/png' };
    expect(contactCodec.decode(contactCodec.encode(withAvatar))).toEqual(withAvatar);
    expect(contactCodec.decode(contactCodec.encode(contact))).toEqual(contact);
    const profileV1 = encodeWire([
      1,
      hex16(2),
      new Uint8Array(32),
      new Uint8Array(32),
      1,
      new Uint8Array(32),
      new Uint8Array(32),
      new Uint8Array(10),
      null,
      0,
      'https://relay.example',
      'Me',
      9,
      new Uint8Array(16),
      true,
      true,
      false,
    ]);
    const profile = profileCodec.decode(profileV1);
    expect(profile.displayName).toBe('Me');
    expect('avatar' in profile).toBe(false);
    const mine = { ...profile, avatar: png(50, 3).bytes, avatarMime: 'image/png' };
    expect(profileCodec.decode(profileCodec.encode(mine))).toEqual(mine);
  });
});

describe('profile pushes between clients', () => {
  let relay: TestRelay;
  let alice: VaultexClient;
  let alice2: VaultexClient;
  let bob: VaultexClient;
  let bobStore: ClientStore;
  let carol: VaultexClient;
  const running: VaultexClient[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    const [a, b] = await newFriends(relay, 'Alice', 'Bob');
    alice = a.client;
    bob = b.client;
    bobStore = b.store;
    carol = (await newClient(relay, 'Carol')).client;
    alice2 = (await linkDevice(relay, alice)).client;
    await alice.devices.refresh();
    await startOnline(running, alice, alice2, bob, carol);
  }, 60_000);

  afterAll(() => shutdown(relay, running));

  it('refuses a bad avatar and changes nothing', async () => {
    const bad: unknown[] = [
      { mime: 'image/gif', bytes: png(10, 1).bytes },
      { mime: 'image/png', bytes: png(MAX_AVATAR_BYTES + 1, 1).bytes },
      { mime: 'image/webp', bytes: png(10, 1).bytes },
      { mime: 'image/png', bytes: [1, 2, 3] },
      'avatar.png',
    ];
    for (const avatar of bad) {
      const error = await alice.updateProfile({ avatar: avatar as Avatar, displayName: 'Changed' }).catch((e) => e);
      expect(isClientError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
    expect(alice.profile.displayName).toBe('Alice');
    expect(alice.profile.avatar).toBeUndefined();
  });

  it("pushes Alice's avatar to Bob's store and to her other device; removal follows", async () => {
    const updates = record(bob, 'contact-updated');
    const avatar = png(20_000, 0x42);
    await alice.updateProfile({ avatar, displayName: 'Alice A.' });
    expect(alice.profile.avatar).toEqual(avatar.bytes);
    const got = await waitFor(async () => (await bobStore.getContact(alice.id().userId))?.avatar, "Bob's store");
    expect(got).toEqual(avatar.bytes);
    const contact = await bobStore.getContact(alice.id().userId);
    expect(contact?.avatarMime).toBe('image/png');
    expect(contact?.displayName).toBe('Alice A.');
    const event = await waitFor(() => updates.find((u) => u.contact.avatar), 'contact-updated');
    expect(event.contact.accountId).toBe(alice.id().userId);
    expect(event.contact.avatar?.bytes).toEqual(avatar.bytes);
    expect((await bob.contacts.get(alice.id().userId))?.avatar?.mime).toBe('image/png');
    await waitFor(() => alice2.profile.avatar, "Alice's phone");
    expect(alice2.profile.avatar).toEqual(avatar.bytes);
    expect(alice2.profile.displayName).toBe('Alice A.');

    await alice.updateProfile({ avatar: null });
    expect(alice.profile.avatar).toBeUndefined();
    await waitFor(async () => !(await bobStore.getContact(alice.id().userId))?.avatar, 'removed at Bob');
    expect((await bobStore.getContact(alice.id().userId))?.avatarMime).toBeUndefined();
    await waitFor(() => alice2.profile.avatar === undefined, 'removed on the phone');
  });

  it("ignores a message request's avatar until it is accepted, then both exchange theirs", async () => {
    await carol.contacts.add(bob.id().contactCode);
    const carolAvatar = png(1000, 0xc0);
    await carol.updateProfile({ avatar: carolAvatar });
    const bobAvatar = png(900, 0xb0);
    await bob.updateProfile({ avatar: bobAvatar });
    // Carol's jobs to Bob leave in order: when her text arrives, her profile came first.
    const bobGot = record(bob, 'message');
    const id = await carol.messages.send(bob.id().userId, 'hi, it is Carol');
    await arrived(bobGot, id, 'the request arrives');
    expect((await bobStore.getContact(carol.id().userId))?.state).toBe('request');
    // A profile from a request (not accepted) is ignored too.
    const newer = png(1100, 0xc1);
    await carol.updateProfile({ avatar: newer, displayName: 'Carol C.' });
    const id2 = await carol.messages.send(bob.id().userId, 'still me');
    await arrived(bobGot, id2, 'the second message arrives');
    const request = await bobStore.getContact(carol.id().userId);
    expect(request?.state).toBe('request');
    expect(request?.avatar).toBeUndefined();
    expect(request?.displayName).toBe('Carol');

    // Accepting sends Bob's profile and asks for Carol's.
    await bob.contacts.accept(carol.id().userId);
    const got = await waitFor(async () => (await bobStore.getContact(carol.id().userId))?.avatar, "Carol's avatar");
    expect(got).toEqual(newer.bytes);
    expect(carolAvatar.bytes).not.toEqual(newer.bytes);
    expect((await bobStore.getContact(carol.id().userId))?.displayName).toBe('Carol C.');
    const atCarol = await waitFor(async () => (await carol.contacts.get(bob.id().userId))?.avatar, "Bob's avatar");
    expect(atCarol.bytes).toEqual(bobAvatar.bytes);
  });
});

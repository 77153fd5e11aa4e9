import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientStore, type FetchLike, isClientError, type VaultexClient } from '../src/index.js';
import { befriend, newClient, record, startRelay, type TestRelay, waitFor } from './core-support.js';

type Row = Record<string, unknown>;

function flip(b64: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const i = alphabet.indexOf(b64[0]!);
  return alphabet[(i + 1) % 64]! + b64.slice(1);
}

describe('trust', () => {
  let relay: TestRelay;
  let alice: VaultexClient;
  let aliceStore: ClientStore;
  let bob: VaultexClient;
  /** How Alice's view of GET /keys/:id is altered (an attacking relay or network). */
  let tamper: ((body: Row) => Row) | undefined;

  beforeAll(async () => {
    relay = await startRelay();
    const aliceFetch: FetchLike = async (url, init) => {
      const res = await globalThis.fetch(url, init);
      if (!tamper || init.method !== 'GET' || !/\/api\/v1\/keys\/[0-9a-f]{32}/u.test(url)) return res;
      const body = tamper(JSON.parse(await res.text()) as Row);
      return { status: res.status, ok: res.ok, text: async () => JSON.stringify(body) };
    };
    ({ client: alice, store: aliceStore } = await newClient(relay, 'Alice', { fetch: aliceFetch }));
    bob = (await newClient(relay, 'Bob')).client;
    await befriend(alice, bob);
    // More accounts, so the transparency log has real audit paths.
    for (const name of ['P', 'Q', 'R']) await newClient(relay, name);
  });

  afterAll(async () => {
    await alice?.stop();
    await bob?.stop();
    await relay?.close();
  });

  it('a tampered inclusion proof refuses the send', async () => {
    const status = record(alice, 'message-status');
    tamper = (body) => {
      const t = body.transparency as { proof: string[]; index: number };
      if (t.proof.length > 0) t.proof[0] = flip(t.proof[0]!);
      else t.index += 1;
      return body;
    };
    const id = await alice.messages.send(bob.id().userId, 'not through a forged log');
    await alice.sync();
    const failed = await waitFor(() => status.find((s) => s.id === id && s.status === 'failed'), 'failed');
    expect((failed.error as { code?: string }).code).toBe('INVALID_PROOF');
    expect((await bob.sync()).received).toBe(0);
    tamper = undefined;
  });

  it('an identity key that does not give the account id is refused', async () => {
    const status = record(alice, 'message-status');
    tamper = (body) => ({ ...body, identityKey: flip(body.identityKey as string) });
    const id = await alice.messages.send(bob.id().userId, 'not to a forged key');
    await alice.sync();
    const failed = await waitFor(() => status.find((s) => s.id === id && s.status === 'failed'), 'failed');
    expect((failed.error as { code?: string }).code).toBe('INVALID_RESPONSE');
    tamper = undefined;
  });

  it('sealed sender: the relay stores no sender when the access key is known', async () => {
    const before = Math.max(0, ...relay.storage.dump().messages!.map((m) => Number(m.seq)));
    const status = record(alice, 'message-status');
    const id = await alice.messages.send(bob.id().userId, 'sealed');
    await alice.sync();
    await waitFor(() => status.find((s) => s.id === id && s.status === 'sent'), 'sent');
    const rows = relay.storage.dump().messages!.filter((m) => Number(m.seq) > before);
    expect(rows.length).toBeGreaterThan(0);
    for (const m of rows) {
      expect(m.source_account).toBeNull();
      expect(m.source_device).toBeNull();
    }
    const received = record(bob, 'message');
    await bob.sync();
    expect(received.map((e) => e.message.text)).toContain('sealed');
  });

  it('a changed identity key blocks sends until it is accepted', async () => {
    const bobId = bob.id().userId;
    // Alice's pin is for another key (as if the contact had been pinned with a different key).
    const store = aliceStore;
    const contact = (await store.getContact(bobId))!;
    const realKey = contact.identityKey;
    await store.deleteSessions(bobId);
    await store.putContact({ ...contact, identityKey: new Uint8Array(32).fill(7) });
    const changed = record(alice, 'identity-changed');
    const status = record(alice, 'message-status');

    const id = await alice.messages.send(bobId, 'before accepting');
    await alice.sync();
    const failed = await waitFor(() => status.find((s) => s.id === id && s.status === 'failed'), 'refused');
    expect((failed.error as { code?: string }).code).toBe('UNTRUSTED_IDENTITY');
    expect(changed.map((c) => c.accountId)).toEqual([bobId]);
    expect(Array.from(changed[0]!.newKey)).toEqual(Array.from(realKey));
    expect((await alice.contacts.get(bobId))?.keyChanged).toBe(true);
    await expect(alice.messages.send(bobId, 'still refused')).rejects.toSatisfy((e) =>
      isClientError(e, 'UNTRUSTED_IDENTITY'),
    );

    const accepted = await alice.contacts.acceptKeyChange(bobId);
    expect(accepted.keyChanged).toBe(false);
    expect(accepted.verified).toBe(false);
    const ok = await alice.messages.send(bobId, 'after accepting');
    await alice.sync();
    await waitFor(() => status.find((s) => s.id === ok && s.status === 'sent'), 'sent after accepting');
    const received = record(bob, 'message');
    await bob.sync();
    expect(received.map((e) => e.message.text)).toContain('after accepting');
  });

  it('safety numbers match on both sides and can be marked verified', async () => {
    const a = await alice.contacts.safetyNumber(bob.id().userId);
    const b = await bob.contacts.safetyNumber(alice.id().userId);
    expect(a.digits).toMatch(/^\d{60}$/u);
    expect(a.digits).toBe(b.digits);
    expect(a.qrText.startsWith('VAULTEX-SN:')).toBe(true);
    expect((await alice.contacts.markVerified(bob.id().userId)).verified).toBe(true);
  });

  it('message requests from strangers: flagged, accepted, blocked', async () => {
    const carol = (await newClient(relay, 'Carol')).client;
    await carol.contacts.add(bob.id().contactCode);
    const requests = record(bob, 'message-request');
    const messages = record(bob, 'message');
    const carolStatus = record(carol, 'message-status');
    const first = await carol.messages.send(bob.id().userId, 'hello, stranger here');
    await carol.sync();
    await bob.sync();
    expect(requests.map((r) => r.accountId)).toEqual([carol.id().userId]);
    expect(requests[0]!.displayName).toBe('Carol');
    expect(messages.find((m) => m.message.id === first)?.message.request).toBe(true);
    expect((await bob.contacts.get(carol.id().userId))?.state).toBe('request');
    // No delivery receipt to a request.
    await carol.sync();
    expect(carolStatus.some((s) => s.id === first && s.status === 'delivered')).toBe(false);

    await bob.contacts.accept(carol.id().userId);
    const reply = await bob.messages.send(carol.id().userId, 'welcome');
    await bob.sync();
    const carolMessages = record(carol, 'message');
    await carol.sync();
    expect(carolMessages.map((m) => m.message.id)).toContain(reply);

    await bob.contacts.block(carol.id().userId);
    await expect(bob.messages.send(carol.id().userId, 'no')).rejects.toSatisfy((e) =>
      isClientError(e, 'CONTACT_BLOCKED'),
    );
    const blocked = await carol.messages.send(bob.id().userId, 'are you there?');
    await carol.sync();
    await bob.sync();
    expect(messages.some((m) => m.message.id === blocked)).toBe(false);
    expect((await bob.sync()).received).toBe(0);
    await carol.stop();
  });

  it('discovery is opt-in and finds by display name', async () => {
    await bob.discovery.set(true, 'Bob Discoverable');
    const hits = await alice.discovery.search('discoverable');
    expect(hits.map((h) => h.accountId)).toEqual([bob.id().userId]);
    await bob.discovery.set(false);
    expect(await alice.discovery.search('discoverable')).toEqual([]);
  });
});

/**
 * The mailbox over HTTP and WebSocket: pending messages in order on connect then live
 * ones, ACK by id (refused for a device that is not a target), at-least-once redelivery
 * with stable ids, one stored blob for many targets deleted after the last ACK, expiry
 * by the pruner, sealed sends refused alike for a wrong key and an unknown account,
 * ephemeral sends never stored, device-set mismatches, and a device connected twice.
 */
import { toBase64Url as b64, fromHex } from '@vaultex/api';
import { manualClock } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, rng, startTestServer, type TestServer, TestUser, WsClient } from './support.js';

const clock = manualClock(1_800_000_000_000);
let t: TestServer;
let seed = 500;
const user = () => new TestUser(t.url, rng(++seed));
const blob = (text: string) => b64(new TextEncoder().encode(text));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function send(from: TestUser, to: TestUser, payload: string, extra: object = {}) {
  const r = await call(t.url, 'POST', '/api/v1/messages', {
    token: from.token(),
    body: { messages: [{ blob: blob(payload), targets: to.targets() }], ...extra },
  });
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return r.body.ids[0] as string;
}

beforeAll(async () => {
  t = await startTestServer({ limits: { registrationsPerHour: 1000, challengesPerMinute: 10_000 } }, { clock });
});
afterAll(async () => {
  await t?.close();
});

describe('delivery', () => {
  it('delivers pending messages in order on connect, then new ones live, with the sender as source', async () => {
    const alice = await user().register();
    const bob = await user().register();
    const ids = [await send(alice, bob, 'one'), await send(alice, bob, 'two'), await send(alice, bob, 'three')];
    const ws = await WsClient.device(t.wsUrl, bob.token());
    const pending = await ws.drain();
    expect(pending.map((m) => m.id)).toEqual(ids);
    expect(pending.map((m) => text(m.blob))).toEqual(['one', 'two', 'three']);
    expect(pending[0]!.source).toEqual({ accountId: alice.id, deviceId: 1 });
    const live = await send(alice, bob, 'four');
    const frame = await ws.next((f) => f.t === 'message');
    expect(frame.t === 'message' && frame.id).toBe(live);
    ws.close();
  });

  it('redelivers unacknowledged messages with the same id, and not after ACK', async () => {
    const alice = await user().register();
    const bob = await user().register();
    const id = await send(alice, bob, 'again');
    const first = await WsClient.device(t.wsUrl, bob.token());
    expect((await first.drain()).map((m) => m.id)).toEqual([id]);
    first.close();
    await first.waitClosed();
    const second = await WsClient.device(t.wsUrl, bob.token());
    expect((await second.drain()).map((m) => m.id)).toEqual([id]);
    second.send({ t: 'ack', ids: [id] });
    second.send({ t: 'ping' });
    await second.next((f) => f.t === 'pong');
    second.close();
    await second.waitClosed();
    const third = await WsClient.device(t.wsUrl, bob.token());
    expect(await third.drain()).toEqual([]);
    third.close();
  });

  it('refuses an ACK by a device that is not a target, and the message stays', async () => {
    const alice = await user().register();
    const bob = await user().register();
    const eve = await user().register();
    const id = await send(alice, bob, 'for bob');
    const ws = await WsClient.device(t.wsUrl, eve.token());
    await ws.drain();
    ws.send({ t: 'ack', ids: [id] });
    const err = await ws.next((f) => f.t === 'error');
    expect(err).toMatchObject({ t: 'error', code: 'UNKNOWN_MESSAGE', ids: [id] });
    const http = await call(t.url, 'DELETE', `/api/v1/messages/inbox/${id}`, { token: eve.token() });
    expect(http.status).toBe(404);
    expect(http.body.error.code).toBe('UNKNOWN_MESSAGE');
    ws.close();
    const inbox = await call(t.url, 'GET', '/api/v1/messages/inbox', { token: bob.token() });
    expect(inbox.body.messages.map((m: { id: string }) => m.id)).toEqual([id]);
  });

  it("never shows another account's inbox", async () => {
    const alice = await user().register();
    const bob = await user().register();
    const eve = await user().register();
    await send(alice, bob, 'private');
    const mine = await call(t.url, 'GET', '/api/v1/messages/inbox', { token: eve.token() });
    expect(mine.body).toEqual({ messages: [], more: false });
    const ws = await WsClient.device(t.wsUrl, eve.token());
    expect(await ws.drain()).toEqual([]);
    ws.close();
    const forged = await call(t.url, 'GET', '/api/v1/messages/inbox', { token: `${bob.token().slice(0, -2)}AA` });
    expect(forged.status).toBe(401);
  });

  it('serves the HTTP inbox in pages and acknowledges by DELETE', async () => {
    const alice = await user().register();
    const bob = await user().register();
    const ids = [await send(alice, bob, 'a'), await send(alice, bob, 'b')];
    const page = await call(t.url, 'GET', '/api/v1/messages/inbox?limit=1', { token: bob.token() });
    expect(page.body.more).toBe(true);
    expect(page.body.messages[0].id).toBe(ids[0]);
    expect(Buffer.from(page.body.messages[0].blob, 'base64url').toString()).toBe('a');
    expect((await call(t.url, 'DELETE', `/api/v1/messages/inbox/${ids[0]}`, { token: bob.token() })).status).toBe(204);
    const rest = await call(t.url, 'GET', '/api/v1/messages/inbox', { token: bob.token() });
    expect(rest.body).toMatchObject({ more: false, messages: [{ id: ids[1] }] });
  });

  it('accepts frames pipelined right after auth, before auth_ok', async () => {
    const alice = await user().register();
    const bob = await user().register();
    const id = await send(alice, bob, 'pipelined');
    const ws = await WsClient.connect(t.wsUrl);
    ws.send({ t: 'auth', token: bob.token() });
    ws.send({ t: 'ack', ids: [id] });
    ws.send({ t: 'ping' });
    expect((await ws.next((f) => f.t === 'auth_ok')).t).toBe('auth_ok');
    await ws.next((f) => f.t === 'pong');
    expect(ws.frames.some((f) => f.t === 'error')).toBe(false);
    const inbox = await call(t.url, 'GET', '/api/v1/messages/inbox', { token: bob.token() });
    expect(inbox.body.messages).toEqual([]);
    ws.close();
  });

  it('replaces an older connection of the same device (closed with 4409)', async () => {
    const bob = await user().register();
    const alice = await user().register();
    const old = await WsClient.device(t.wsUrl, bob.token());
    await old.drain();
    const fresh = await WsClient.device(t.wsUrl, bob.token());
    await fresh.drain();
    expect((await old.waitClosed()).code).toBe(4409);
    const id = await send(alice, bob, 'to the new one');
    const f = await fresh.next((x) => x.t === 'message');
    expect(f.t === 'message' && f.id).toBe(id);
    fresh.close();
  });
});

describe('multi-device and multi-recipient', () => {
  it('stores one blob for all targets and deletes it when the last device acknowledges', async () => {
    const alice = await user().register();
    await alice.link(2);
    const bob = await user().register();
    await bob.link(2);
    const r = await call(t.url, 'POST', '/api/v1/messages', {
      token: alice.token(1),
      body: {
        messages: [
          {
            blob: blob('group'),
            targets: [...bob.targets(), { accountId: alice.id, deviceIds: [2] }],
          },
        ],
      },
    });
    expect(r.status).toBe(200);
    const [id] = r.body.ids;
    const rows = () => t.storage.dump();
    const messageRows = rows().messages!.filter((m) => Buffer.from(m.id as Uint8Array).toString('hex') === id);
    expect(messageRows.length).toBe(1);
    const targets = () => rows().message_targets!.filter((x) => x.message_seq === messageRows[0]!.seq).length;
    expect(targets()).toBe(3);
    for (const [u, d] of [
      [bob, 1],
      [bob, 2],
    ] as const) {
      expect((await call(t.url, 'DELETE', `/api/v1/messages/inbox/${id}`, { token: u.token(d) })).status).toBe(204);
    }
    expect(targets()).toBe(1);
    expect((await call(t.url, 'DELETE', `/api/v1/messages/inbox/${id}`, { token: alice.token(2) })).status).toBe(204);
    expect(rows().messages!.some((m) => Buffer.from(m.id as Uint8Array).toString('hex') === id)).toBe(false);
  });

  it('sends different blobs to several accounts in one request', async () => {
    const alice = await user().register();
    const bob = await user().register();
    const carol = await user().register();
    const r = await call(t.url, 'POST', '/api/v1/messages', {
      token: alice.token(),
      body: {
        messages: [
          { blob: blob('for bob'), targets: bob.targets() },
          { blob: blob('for carol'), targets: carol.targets() },
        ],
      },
    });
    expect(r.body.ids.length).toBe(2);
    const b = await call(t.url, 'GET', '/api/v1/messages/inbox', { token: bob.token() });
    const c = await call(t.url, 'GET', '/api/v1/messages/inbox', { token: carol.token() });
    expect(Buffer.from(b.body.messages[0].blob, 'base64url').toString()).toBe('for bob');
    expect(Buffer.from(c.body.messages[0].blob, 'base64url').toString()).toBe('for carol');
  });

  it('refuses a send that misses or invents recipient devices, storing nothing', async () => {
    const alice = await user().register();
    const bob = await user().register();
    await bob.link(2);
    const before = t.storage.dump().messages!.length;
    const r = await call(t.url, 'POST', '/api/v1/messages', {
      token: alice.token(),
      body: { messages: [{ blob: blob('x'), targets: [{ accountId: bob.id, deviceIds: [1, 7] }] }] },
    });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({
      code: 'MISMATCHED_DEVICES',
      mismatchedDevices: [{ accountId: bob.id, missing: [2], extra: [7] }],
    });
    const unknown = await call(t.url, 'POST', '/api/v1/messages', {
      token: alice.token(),
      body: { messages: [{ blob: blob('x'), targets: [{ accountId: 'cd'.repeat(16), deviceIds: [1] }] }] },
    });
    expect(unknown.body.error.code).toBe('UNKNOWN_RECIPIENT');
    expect(t.storage.dump().messages!.length).toBe(before);
  });
});

describe('sealed sender', () => {
  it('delivers without a sender, given the access key', async () => {
    const bob = await user().register();
    const r = await call(t.url, 'POST', '/api/v1/messages/sealed', {
      body: {
        messages: [{ blob: blob('sealed'), targets: bob.targets() }],
        accessKeys: [{ accountId: bob.id, accessKey: b64(bob.accessKey) }],
      },
    });
    expect(r.status).toBe(200);
    const ws = await WsClient.device(t.wsUrl, bob.token());
    const [m] = await ws.drain();
    expect(m!.source).toBeUndefined();
    expect(text(m!.blob)).toBe('sealed');
    const row = t.storage.dump().messages!.find((x) => Buffer.from(x.id as Uint8Array).toString('hex') === m!.id)!;
    expect(row.source_account).toBeNull();
    expect(row.source_device).toBeNull();
    ws.close();
  });

  it('answers a wrong access key exactly like an unknown recipient', async () => {
    const bob = await user().register();
    const wrong = await call(t.url, 'POST', '/api/v1/messages/sealed', {
      body: {
        messages: [{ blob: blob('x'), targets: bob.targets() }],
        accessKeys: [{ accountId: bob.id, accessKey: b64(new Uint8Array(16).fill(9)) }],
      },
    });
    const ghost = 'ef'.repeat(16);
    const unknown = await call(t.url, 'POST', '/api/v1/messages/sealed', {
      body: {
        messages: [{ blob: blob('x'), targets: [{ accountId: ghost, deviceIds: [1] }] }],
        accessKeys: [{ accountId: ghost, accessKey: b64(new Uint8Array(16).fill(9)) }],
      },
    });
    expect(wrong.status).toBe(404);
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
    expect((await call(t.url, 'GET', '/api/v1/messages/inbox', { token: bob.token() })).body.messages).toEqual([]);
  });

  it('refuses sealed sends once the access key is removed, and sends over an anonymous socket', async () => {
    const bob = await user().register();
    const anon = await WsClient.connect(t.wsUrl);
    anon.send({ t: 'anonymous' });
    await anon.next((f) => f.t === 'auth_ok');
    anon.send({
      t: 'send',
      rid: 1,
      messages: [{ blob: new Uint8Array([1, 2, 3]), targets: bob.targets() }],
      accessKeys: [{ accountId: bob.id, accessKey: bob.accessKey }],
    });
    expect(await anon.next((f) => f.t === 'sent' || f.t === 'error')).toMatchObject({ t: 'sent', rid: 1 });
    anon.send({ t: 'send', rid: 2, messages: [{ blob: new Uint8Array([1]), targets: bob.targets() }] });
    expect(await anon.next((f) => f.t === 'error')).toMatchObject({ rid: 2, code: 'UNAUTHORIZED' });
    anon.send({ t: 'ack', ids: ['00'.repeat(16)] });
    expect(await anon.next((f) => f.t === 'error')).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(
      (await call(t.url, 'PUT', '/api/v1/accounts/me/access-key', { token: bob.token(), body: { accessKey: null } }))
        .status,
    ).toBe(204);
    anon.send({
      t: 'send',
      rid: 3,
      messages: [{ blob: new Uint8Array([1, 2, 3]), targets: bob.targets() }],
      accessKeys: [{ accountId: bob.id, accessKey: bob.accessKey }],
    });
    expect(await anon.next((f) => f.t === 'error')).toMatchObject({ rid: 3, code: 'UNKNOWN_RECIPIENT' });
    anon.close();
  });
});

describe('ephemeral sends', () => {
  it('reach connected devices only and are never stored', async () => {
    const alice = await user().register();
    const bob = await user().register();
    await bob.link(2);
    const online = await WsClient.device(t.wsUrl, bob.token(1));
    await online.drain();
    const before = t.storage.dump().messages!.length;
    const r = await call(t.url, 'POST', '/api/v1/messages', {
      token: alice.token(),
      body: { ephemeral: true, messages: [{ blob: blob('typing'), targets: bob.targets() }] },
    });
    expect(r.body).toEqual({ ids: [] });
    const f = await online.next((x) => x.t === 'ephemeral');
    expect(f.t === 'ephemeral' && text(f.blob)).toBe('typing');
    expect(t.storage.dump().messages!.length).toBe(before);
    const later = await WsClient.device(t.wsUrl, bob.token(2));
    expect(await later.drain()).toEqual([]);
    online.close();
    later.close();
  });
});

describe('expiry', () => {
  it('expires messages by the per-send TTL and the server maximum; the pruner deletes them', async () => {
    const alice = await user().register();
    const bob = await user().register();
    const short = await send(alice, bob, 'short', { ttlSeconds: 60 });
    const long = await send(alice, bob, 'long', { ttlSeconds: 365 * 24 * 3600 });
    clock.advance(2 * 60 * 60_000);
    const inbox = await call(t.url, 'GET', '/api/v1/messages/inbox', { token: await bob.login(1) });
    expect(inbox.body.messages.map((m: { id: string }) => m.id)).toEqual([long]);
    await t.server.prune();
    expect(
      t.storage.dump().messages!.some((m) => Buffer.from(m.id as Uint8Array).equals(Buffer.from(fromHex(short)!))),
    ).toBe(false);
    clock.advance(31 * 24 * 60 * 60_000);
    await t.server.prune();
    expect(
      t.storage.dump().messages!.some((m) => Buffer.from(m.id as Uint8Array).equals(Buffer.from(fromHex(long)!))),
    ).toBe(false);
  });
});

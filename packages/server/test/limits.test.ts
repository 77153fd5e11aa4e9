/**
 * Limits and hostile input: oversized frames (closed with 1009, nothing stored),
 * malformed and text frames (typed error, the connection survives), frames per second,
 * sends per account, connection attempts and registrations per salted IP hash, body
 * size, the auth timeout. Every refusal carries a typed code and, where it is a rate
 * limit, a retry-after.
 */
import { encodeFrame } from '@vaultex/api';
import { afterEach, describe, expect, it } from 'vitest';
import { call, rng, startTestServer, type TestServer, TestUser, WsClient } from './support.js';

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('WebSocket frames', () => {
  it('closes on an oversized frame with 1009 and stores nothing', async () => {
    t = await startTestServer({ limits: { wsMaxFrameBytes: 4096 } });
    const alice = await new TestUser(t.url, rng(1)).register();
    const bob = await new TestUser(t.url, rng(2)).register();
    const ws = await WsClient.device(t.wsUrl, alice.token());
    await ws.drain();
    ws.sendRaw(encodeFrame({ t: 'send', rid: 1, messages: [{ blob: new Uint8Array(8192), targets: bob.targets() }] }));
    expect((await ws.waitClosed()).code).toBe(1009);
    expect(t.storage.dump().messages).toEqual([]);
    // The server is fine: a new connection works.
    const again = await WsClient.device(t.wsUrl, alice.token());
    await again.drain();
    again.send({ t: 'ping' });
    expect((await again.next()).t).toBe('pong');
    again.close();
  });

  it('answers malformed and text frames with INVALID_FRAME and keeps the connection', async () => {
    t = await startTestServer();
    const alice = await new TestUser(t.url, rng(3)).register();
    const ws = await WsClient.device(t.wsUrl, alice.token());
    await ws.drain();
    ws.sendRaw(new Uint8Array([0x92, 0xa1]));
    expect(await ws.next()).toMatchObject({ t: 'error', code: 'INVALID_FRAME' });
    ws.sendRaw('{"t":"ping"}');
    expect(await ws.next()).toMatchObject({ t: 'error', code: 'INVALID_FRAME' });
    ws.sendRaw(encodeFrame({ t: 'ack', ids: ['not hex'] } as never));
    const err = await ws.next();
    expect(err).toMatchObject({ t: 'error', code: 'INVALID_FRAME' });
    expect(err.t === 'error' && err.message).toContain('ids');
    ws.sendRaw(encodeFrame({ t: 'unknown' } as never));
    expect(await ws.next()).toMatchObject({ t: 'error', code: 'INVALID_FRAME' });
    ws.send({ t: 'auth', token: alice.token() });
    expect(await ws.next()).toMatchObject({ t: 'error', code: 'INVALID_FRAME' });
    ws.send({ t: 'ping' });
    expect((await ws.next()).t).toBe('pong');
    expect(t.storage.dump().messages).toEqual([]);
    ws.close();
  });

  it('requires auth first: anything else, a bad token, or silence closes with 4401', async () => {
    t = await startTestServer({ wsAuthTimeoutMs: 200 });
    const first = await WsClient.connect(t.wsUrl);
    first.send({ t: 'ping' });
    expect(await first.next()).toMatchObject({ t: 'error', code: 'UNAUTHORIZED' });
    expect((await first.waitClosed()).code).toBe(4401);
    const bad = await WsClient.connect(t.wsUrl);
    bad.send({ t: 'auth', token: 'A'.repeat(43) });
    expect(await bad.next()).toMatchObject({ t: 'error', code: 'UNAUTHORIZED' });
    expect((await bad.waitClosed()).code).toBe(4401);
    const silent = await WsClient.connect(t.wsUrl);
    expect(await silent.waitClosed()).toEqual({ code: 4401, reason: 'AUTH_TIMEOUT' });
  });

  it('rate-limits frames per connection with a retry-after, then goes on', async () => {
    t = await startTestServer({ limits: { wsFramesPerSecond: 5 } });
    const alice = await new TestUser(t.url, rng(4)).register();
    const ws = await WsClient.device(t.wsUrl, alice.token());
    await ws.drain();
    for (let i = 0; i < 10; i++) ws.send({ t: 'ping' });
    const limited = await ws.next((f) => f.t === 'error');
    expect(limited).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limited.t === 'error' && limited.retryAfter).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 1100));
    ws.frames.length = 0;
    ws.send({ t: 'ping' });
    expect((await ws.next()).t).toBe('pong');
    ws.close();
  });

  it('keeps connections alive with pings and drops dead ones', async () => {
    t = await startTestServer({ keepaliveMs: 100 });
    const alice = await new TestUser(t.url, rng(5)).register();
    const live = await WsClient.device(t.wsUrl, alice.token());
    await live.drain();
    let pings = 0;
    live.socket.on('ping', () => pings++);
    await new Promise((r) => setTimeout(r, 350));
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(live.closed).toBeUndefined();
    live.close();
    // A client that never answers pings is terminated.
    const dead = await WsClient.connect(t.wsUrl, { autoPong: false });
    dead.send({ t: 'anonymous' });
    expect((await dead.waitClosed(2000)).code).toBe(1006);
  });
});

describe('HTTP limits', () => {
  it('limits sends per account per minute with Retry-After', async () => {
    t = await startTestServer({ limits: { sendsPerAccountPerMinute: 2 } });
    const alice = await new TestUser(t.url, rng(6)).register();
    const bob = await new TestUser(t.url, rng(7)).register();
    const body = { messages: [{ blob: 'AAAA', targets: bob.targets() }] };
    for (let i = 0; i < 2; i++)
      expect((await call(t.url, 'POST', '/api/v1/messages', { token: alice.token(), body })).status).toBe(200);
    const r = await call(t.url, 'POST', '/api/v1/messages', { token: alice.token(), body });
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe('RATE_LIMITED');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('limits registrations and challenges per salted IP hash', async () => {
    t = await startTestServer({ limits: { registrationsPerHour: 1, challengesPerMinute: 100 } });
    await new TestUser(t.url, rng(8)).register();
    const second = new TestUser(t.url, rng(9));
    const { body } = await second.registrationBody();
    const r = await call(t.url, 'POST', '/api/v1/accounts', { body });
    expect(r.status).toBe(429);
    expect(r.body.error).toMatchObject({ code: 'RATE_LIMITED' });
    expect(r.body.error.retryAfter).toBeGreaterThan(60);
  });

  it('limits WebSocket connection attempts per IP with HTTP 429', async () => {
    t = await startTestServer({ limits: { wsConnectionsPerMinute: 2 } });
    const a = await WsClient.connect(t.wsUrl);
    const b = await WsClient.connect(t.wsUrl);
    await expect(WsClient.connect(t.wsUrl)).rejects.toThrow('HTTP 429');
    a.close();
    b.close();
  });

  it('refuses oversized bodies and blobs with PAYLOAD_TOO_LARGE', async () => {
    t = await startTestServer({ limits: { httpBodyBytes: 64 * 1024, maxMessageBytes: 1024 } });
    const alice = await new TestUser(t.url, rng(10)).register({ oneTime: 1, kem: 0 });
    const bob = await new TestUser(t.url, rng(11)).register({ oneTime: 1, kem: 0 });
    const big = await call(t.url, 'POST', '/api/v1/messages', {
      token: alice.token(),
      body: { messages: [{ blob: 'A'.repeat(100_000), targets: bob.targets() }] },
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const blob = await call(t.url, 'POST', '/api/v1/messages', {
      token: alice.token(),
      body: { messages: [{ blob: 'A'.repeat(2000), targets: bob.targets() }] },
    });
    expect(blob.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(t.storage.dump().messages).toEqual([]);
  });

  it('answers unknown routes with NOT_FOUND', async () => {
    t = await startTestServer();
    const r = await call(t.url, 'GET', '/api/v1/nothing');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
});

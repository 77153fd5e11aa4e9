/**
 * The service endpoints, opt-in discovery, encrypted attachments, Prometheus metrics on
 * the loopback listener, and key-transparency heads with consistency proofs that the
 * protocol's client-side verifier accepts.
 */
import { ConsistencyResponse, TreeHeadResponse } from '@vaultex/api';
import { decodeTreeHead, manualClock, verifyHeadConsistency } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_VERSION } from '../src/index.js';
import { call, provider, rng, startTestServer, type TestServer, TestUser } from './support.js';

const clock = manualClock(1_800_000_000_000);
let t: TestServer;
let seed = 700;
const user = () => new TestUser(t.url, rng(++seed));

beforeAll(async () => {
  t = await startTestServer({ metricsPort: 0, attachmentChunkBytes: 1024, maxAttachmentBytes: 4096 }, { clock });
});
afterAll(async () => {
  await t?.close();
});

describe('service endpoints', () => {
  it('answers /health, /ping and the root page without authentication', async () => {
    for (const path of ['/health', '/api/v1/health']) {
      expect((await call(t.url, 'GET', path)).body).toEqual({ status: 'ok', version: SERVER_VERSION });
    }
    const ping = await call(t.url, 'GET', '/ping');
    expect(ping.body).toMatchObject({ service: 'vaultex', version: SERVER_VERSION });
    expect(ping.body.capabilities).toEqual(expect.arrayContaining(['sealed-sender', 'key-transparency']));
    const root = await call(t.url, 'GET', '/');
    expect(root.headers.get('content-type')).toContain('text/html');
    expect(root.body).toContain('VAULTEX relay is running');
  });

  it('serves Prometheus metrics on 127.0.0.1 only, not on the public port', async () => {
    expect(t.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/u);
    const text = await (await fetch(t.metricsUrl!)).text();
    expect(text).toContain('vaultex_http_requests_total');
    expect(text).toContain('vaultex_ws_connections');
    expect((await call(t.url, 'GET', '/metrics')).status).toBe(404);
  });
});

describe('discovery', () => {
  it('is off by default, opt-in, literal, and excludes the caller', async () => {
    const alice = await user().register();
    const bob = await user().register();
    const carol = await user().register();
    expect((await call(t.url, 'GET', '/api/v1/users/me/discoverable', { token: bob.token() })).body).toEqual({
      enabled: false,
    });
    for (const [u, name] of [
      [bob, 'Bob_Builder'],
      [carol, 'Bobby%Tables'],
    ] as const) {
      const r = await call(t.url, 'POST', '/api/v1/users/me/discoverable', {
        token: u.token(),
        body: { enabled: true, displayName: name },
      });
      expect(r.status).toBe(204);
    }
    expect((await call(t.url, 'GET', '/api/v1/users/me/discoverable', { token: bob.token() })).body).toEqual({
      enabled: true,
      displayName: 'Bob_Builder',
    });
    const search = async (q: string, who = alice) =>
      (await call(t.url, 'GET', `/api/v1/users?q=${encodeURIComponent(q)}`, { token: who.token() })).body.users.map(
        (u: { displayName: string }) => u.displayName,
      );
    expect(await search('bob')).toEqual(['Bob_Builder', 'Bobby%Tables']);
    expect(await search('b_b')).toEqual(['Bob_Builder']);
    expect(await search('y%t')).toEqual(['Bobby%Tables']);
    expect(await search('%%')).toEqual([]);
    expect(await search('bob', bob)).toEqual(['Bobby%Tables']);
    const found = (await call(t.url, 'GET', '/api/v1/users?q=builder', { token: alice.token() })).body.users[0];
    expect(found.accountId).toBe(bob.id);
    await call(t.url, 'POST', '/api/v1/users/me/discoverable', { token: bob.token(), body: { enabled: false } });
    expect(await search('builder')).toEqual([]);
    expect((await call(t.url, 'GET', '/api/v1/users?q=b', { token: alice.token() })).body.error.code).toBe(
      'BAD_REQUEST',
    );
  });
});

describe('attachments', () => {
  it('uploads in chunks, downloads by id, refuses misuse, and expires', async () => {
    const alice = await user().register();
    const data = Uint8Array.from({ length: 2500 }, (_, i) => (i * 7) & 0xff);
    const created = await call(t.url, 'POST', '/api/v1/attachments', {
      token: alice.token(),
      body: { size: data.length },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ chunkSize: 1024, chunks: 3 });
    const id = created.body.id as string;
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/u);
    const put = (index: number, bytes: Uint8Array) =>
      call(t.url, 'PUT', `/api/v1/attachments/${id}/chunks/${index}`, { token: alice.token(), raw: bytes });
    expect((await call(t.url, 'GET', `/api/v1/attachments/${id}`)).body.error.code).toBe('ATTACHMENT_INCOMPLETE');
    expect((await put(1, data.subarray(1024, 2048))).body.error.code).toBe('UPLOAD_CONFLICT');
    expect((await put(0, data.subarray(0, 1024))).body).toEqual({ received: 1024, complete: false });
    expect((await put(1, data.subarray(1024, 2048))).body).toEqual({ received: 2048, complete: false });
    const status = (token = alice.token()) => call(t.url, 'GET', `/api/v1/attachments/${id}/status`, { token });
    expect((await status()).body).toEqual({ received: 2048, complete: false });
    expect((await put(2, data.subarray(2048))).body).toEqual({ received: 2500, complete: true });
    expect((await put(3, data.subarray(0, 10))).body.error.code).toBe('UPLOAD_CONFLICT');
    expect((await status()).body).toEqual({ received: 2500, complete: true });
    expect((await call(t.url, 'GET', `/api/v1/attachments/${id}/status`)).status).toBe(401);
    const res = await fetch(`${t.url}/api/v1/attachments/${id}`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(data);
    const tooBig = await call(t.url, 'POST', '/api/v1/attachments', { token: alice.token(), body: { size: 5000 } });
    expect(tooBig.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const bigChunk = await call(t.url, 'PUT', `/api/v1/attachments/${id}/chunks/0`, {
      token: alice.token(),
      raw: new Uint8Array(2048),
    });
    expect(bigChunk.status).toBe(413);
    const guess = await call(t.url, 'GET', `/api/v1/attachments/${'A'.repeat(43)}`);
    expect(guess.body.error.code).toBe('NOT_FOUND');
    clock.advance(31 * 24 * 60 * 60_000);
    expect((await call(t.url, 'GET', `/api/v1/attachments/${id}`)).status).toBe(404);
    await t.server.prune();
    expect(t.storage.dump().attachment_chunks).toEqual([]);
  });
});

describe('key transparency', () => {
  it('appends every key change and proves each head consistent with the previous ones', async () => {
    const head = async () => TreeHeadResponse.parse((await call(t.url, 'GET', '/api/v1/transparency/head')).body);
    const h0 = await head();
    const u = await user().register();
    const h1 = await head();
    await u.link(2);
    const h2 = await head();
    const sizes = [h0, h1, h2].map((h) => decodeTreeHead(h.treeHead).treeSize);
    expect(sizes[1]! - sizes[0]!).toBe(1);
    expect(sizes[2]! - sizes[1]!).toBe(1);
    expect(h2.logPublicKey).toEqual(h0.logPublicKey);
    for (const [a, b] of [
      [h0, h1],
      [h1, h2],
      [h0, h2],
    ] as const) {
      const from = decodeTreeHead(a.treeHead);
      const to = decodeTreeHead(b.treeHead);
      const r = ConsistencyResponse.parse(
        (await call(t.url, 'GET', `/api/v1/transparency/consistency?from=${from.treeSize}&to=${to.treeSize}`)).body,
      );
      expect(() => verifyHeadConsistency(from, to, r.proof, h0.logPublicKey, provider)).not.toThrow();
    }
    const inclusion = await call(t.url, 'GET', `/api/v1/transparency/inclusion/${u.id}`, { token: u.token() });
    expect(inclusion.body.index).toBe(sizes[2]! - 1);
    const bad = await call(t.url, 'GET', '/api/v1/transparency/consistency?from=5&to=1');
    expect(bad.body.error.code).toBe('BAD_REQUEST');
  });

  it('keeps the log and its key across a restart', async () => {
    const before = (await call(t.url, 'GET', '/api/v1/transparency/head')).body;
    const { createServer } = await import('../src/index.js');
    const second = await createServer({
      storage: t.storage,
      config: { port: 0, host: '127.0.0.1', metricsPort: -1, logLevel: 'silent' },
      clock,
    });
    try {
      const { url } = await second.listen();
      const after = (await call(url, 'GET', '/api/v1/transparency/head')).body;
      expect(after.logPublicKey).toBe(before.logPublicKey);
      expect(decodeTreeHead(Buffer.from(after.treeHead, 'base64url')).rootHash).toEqual(
        decodeTreeHead(Buffer.from(before.treeHead, 'base64url')).rootHash,
      );
    } finally {
      await second.close();
    }
  });
});

/**
 * Prekeys over HTTP: signatures verified on upload, replacement, counts, bundles for
 * every device with one-time keys consumed atomically (two racing fetchers never get
 * the same key), the per-requester fetch limit, and the transparency proof that comes
 * with every bundle.
 */
import { BundleResponse, toBase64Url as b64, TreeHeadResponse } from '@vaultex/api';
import {
  decodeTreeHead,
  generateKemPreKey,
  generateSignedPreKey,
  verifyEntryInclusion,
  verifyPreKeyBundle,
} from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, provider, rng, startTestServer, type TestServer, TestUser } from './support.js';

let t: TestServer;
let seed = 300;
const user = () => new TestUser(t.url, rng(++seed));

beforeAll(async () => {
  t = await startTestServer({ limits: { prekeyFetchesPerHour: 1000 } });
});
afterAll(async () => {
  await t?.close();
});

describe('upload and count', () => {
  it('counts, adds, replaces and refuses bad signatures', async () => {
    const u = await user().register({ oneTime: 3, kem: 2 });
    const token = u.token();
    expect((await call(t.url, 'GET', '/api/v1/keys/count', { token })).body).toEqual({
      oneTimePreKeys: 3,
      kemPreKeys: 2,
    });
    const device = u.device(1);
    const spk = generateSignedPreKey(device, 77, 0, provider, u.random);
    const add = await call(t.url, 'PUT', '/api/v1/keys', {
      token,
      body: {
        signedPreKey: { id: 77, publicKey: b64(spk.keyPair.publicKey), signature: b64(spk.signature) },
        oneTimePreKeys: [{ id: 500, publicKey: b64(new Uint8Array(32).fill(5)) }],
      },
    });
    expect(add.status).toBe(204);
    expect((await call(t.url, 'GET', '/api/v1/keys/count', { token })).body.oneTimePreKeys).toBe(4);

    const kem = generateKemPreKey(device, 9, false, 0, provider, u.random);
    // Signed as one-time but uploaded as last-resort: the signature covers the flag.
    const wrongFlag = await call(t.url, 'PUT', '/api/v1/keys', {
      token,
      body: { lastResortKemPreKey: { id: 9, publicKey: b64(kem.keyPair.publicKey), signature: b64(kem.signature) } },
    });
    expect(wrongFlag.body.error.code).toBe('INVALID_SIGNATURE');
    const forged = await call(t.url, 'PUT', '/api/v1/keys', {
      token,
      body: { signedPreKey: { id: 78, publicKey: b64(spk.keyPair.publicKey), signature: b64(spk.signature) } },
    });
    expect(forged.body.error.code).toBe('INVALID_SIGNATURE');

    const replace = await call(t.url, 'PUT', '/api/v1/keys', {
      token,
      body: { replaceOneTimePreKeys: true, oneTimePreKeys: [{ id: 1, publicKey: b64(new Uint8Array(32).fill(1)) }] },
    });
    expect(replace.status).toBe(204);
    expect((await call(t.url, 'GET', '/api/v1/keys/count', { token })).body).toEqual({
      oneTimePreKeys: 1,
      kemPreKeys: 0,
    });
    const peer = await user().register();
    const bundle = await call(t.url, 'GET', `/api/v1/keys/${u.id}`, { token: peer.token() });
    expect(bundle.body.devices[0].signedPreKey.id).toBe(77);
  });

  it('refuses uploads beyond the per-device cap and repeated ids', async () => {
    const small = await startTestServer({ maxOneTimePreKeys: 4 });
    try {
      const u = await new TestUser(small.url, rng(42)).register({ oneTime: 3, kem: 1 });
      const keys = [10, 11].map((id) => ({ id, publicKey: b64(new Uint8Array(32).fill(id)) }));
      const r = await call(small.url, 'PUT', '/api/v1/keys', { token: u.token(), body: { oneTimePreKeys: keys } });
      expect(r.body.error.code).toBe('BAD_REQUEST');
      expect((await call(small.url, 'GET', '/api/v1/keys/count', { token: u.token() })).body.oneTimePreKeys).toBe(3);
      const dup = await call(small.url, 'PUT', '/api/v1/keys', {
        token: u.token(),
        body: { oneTimePreKeys: [keys[0], keys[0]] },
      });
      expect(dup.body.error.code).toBe('BAD_REQUEST');
    } finally {
      await small.close();
    }
  });
});

describe('bundles', () => {
  it('serves a verifiable bundle per device and consumes one-time keys', async () => {
    const bob = await user().register({ oneTime: 2, kem: 1 });
    await bob.link(2, { oneTime: 1, kem: 0 });
    const alice = await user().register();
    const first = await call(t.url, 'GET', `/api/v1/keys/${bob.id}`, { token: alice.token() });
    expect(first.status).toBe(200);
    const parsed = BundleResponse.parse(first.body);
    expect(parsed.devices.map((d) => d.deviceId)).toEqual([1, 2]);
    for (const d of parsed.devices) {
      expect(() =>
        verifyPreKeyBundle(
          {
            identityKey: d.identityKey,
            deviceId: d.deviceId,
            signedPreKey: d.signedPreKey,
            ...(d.oneTimePreKey ? { oneTimePreKey: d.oneTimePreKey } : {}),
            kemPreKey: d.kemPreKey,
          },
          provider,
        ),
      ).not.toThrow();
    }
    expect(parsed.devices[0]!.kemPreKey.lastResort).toBe(false);
    expect(parsed.devices[1]!.kemPreKey.lastResort).toBe(true);
    const one = await call(t.url, 'GET', `/api/v1/keys/${bob.id}?deviceId=2`, { token: alice.token() });
    expect(one.body.devices.length).toBe(1);
    expect(one.body.devices[0].oneTimePreKey).toBeUndefined();
    expect((await call(t.url, 'GET', '/api/v1/keys/count', { token: bob.token() })).body).toEqual({
      oneTimePreKeys: 1,
      kemPreKeys: 0,
    });
    const missing = await call(t.url, 'GET', `/api/v1/keys/${bob.id}?deviceId=9`, { token: alice.token() });
    expect(missing.body.error.code).toBe('NOT_FOUND');
    const nobody = await call(t.url, 'GET', `/api/v1/keys/${'ab'.repeat(16)}`, { token: alice.token() });
    expect(nobody.status).toBe(404);
  });

  it('two devices racing for the last one-time key: exactly one gets it', async () => {
    const victim = await user().register({ oneTime: 1, kem: 1 });
    const racer = await user().register();
    await racer.link(2);
    const [a, b] = await Promise.all([
      call(t.url, 'GET', `/api/v1/keys/${victim.id}`, { token: racer.token(1) }),
      call(t.url, 'GET', `/api/v1/keys/${victim.id}`, { token: racer.token(2) }),
    ]);
    const got = [a, b].map((r) => r.body.devices[0].oneTimePreKey?.id);
    expect(got.filter((x) => x !== undefined)).toEqual([1]);
    const kems = [a, b].map((r) => r.body.devices[0].kemPreKey.lastResort).sort();
    expect(kems).toEqual([false, true]);
  });

  it('comes with an inclusion proof that verifies against the signed tree head', async () => {
    const bob = await user().register();
    const alice = await user().register();
    const r = await call(t.url, 'GET', `/api/v1/keys/${bob.id}`, { token: alice.token() });
    const parsed = BundleResponse.parse(r.body);
    const head = TreeHeadResponse.parse((await call(t.url, 'GET', '/api/v1/transparency/head')).body);
    const { index, entry, proof, treeHead } = parsed.transparency;
    expect(() =>
      verifyEntryInclusion(entry, index, proof, decodeTreeHead(treeHead), head.logPublicKey, provider),
    ).not.toThrow();
    const tampered = entry.slice();
    tampered[tampered.length - 1]! ^= 1;
    expect(() =>
      verifyEntryInclusion(tampered, index, proof, decodeTreeHead(treeHead), head.logPublicKey, provider),
    ).toThrow();
  });

  it('rate-limits fetches per requester with a retry-after', async () => {
    const tight = await startTestServer({ limits: { prekeyFetchesPerHour: 2 } });
    try {
      const victim = await new TestUser(tight.url, rng(7)).register({ oneTime: 5 });
      const thief = await new TestUser(tight.url, rng(8)).register();
      const other = await new TestUser(tight.url, rng(9)).register();
      for (let i = 0; i < 2; i++) {
        expect((await call(tight.url, 'GET', `/api/v1/keys/${victim.id}`, { token: thief.token() })).status).toBe(200);
      }
      const refused = await call(tight.url, 'GET', `/api/v1/keys/${victim.id}`, { token: thief.token() });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('RATE_LIMITED');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.body.error.retryAfter).toBe(Number(refused.headers.get('retry-after')));
      // The victim keeps its remaining keys; another requester is not affected.
      expect((await call(tight.url, 'GET', '/api/v1/keys/count', { token: victim.token() })).body.oneTimePreKeys).toBe(
        3,
      );
      expect((await call(tight.url, 'GET', `/api/v1/keys/${victim.id}`, { token: other.token() })).status).toBe(200);
    } finally {
      await tight.close();
    }
  });
});

/**
 * Registration, login and devices over real HTTP: proofs of possession, single-use
 * challenges, hashed short-lived tokens (a token replayed after expiry is refused),
 * device linking and removal under signed device lists, and account deletion that
 * purges every row.
 */
import { toBase64Url as b64, deleteAccountProofMessage, linkProofMessage } from '@vaultex/api';
import { createDevice, encodeDeviceCertificate, manualClock } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, prekeysFor, provider, rng, startTestServer, type TestServer, TestUser, WsClient } from './support.js';

const clock = manualClock(1_800_000_000_000);
let t: TestServer;
let seed = 100;
const user = () => new TestUser(t.url, rng(++seed));

beforeAll(async () => {
  t = await startTestServer({ limits: { registrationsPerHour: 1000, challengesPerMinute: 10_000 } }, { clock });
});
afterAll(async () => {
  await t?.close();
});

describe('registration', () => {
  it('registers an account whose id is the user ID of its identity key', async () => {
    const u = user();
    const { body } = await u.registrationBody();
    const r = await call(t.url, 'POST', '/api/v1/accounts', { body });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ accountId: u.id, deviceId: 1 });
    expect((await call(t.url, 'POST', '/api/v1/accounts', { body })).body.error.code).toBe('CHALLENGE_FAILED');
  });

  it('refuses a second registration of the same key', async () => {
    const u = await user().register();
    const { body } = await u.registrationBody();
    const r = await call(t.url, 'POST', '/api/v1/accounts', { body });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe('ACCOUNT_EXISTS');
  });

  it.each([
    ['account signature', 'accountSignature', 'INVALID_SIGNATURE'],
    ['device signature', 'deviceSignature', 'INVALID_SIGNATURE'],
  ])('refuses a wrong %s and stores nothing', async (_name, field, code) => {
    const u = user();
    const { body } = await u.registrationBody();
    const bad = { ...body, [field]: b64(new Uint8Array(64).fill(7)) };
    const r = await call(t.url, 'POST', '/api/v1/accounts', { body: bad });
    expect(r.body.error.code).toBe(code);
    expect(await t.storage.getAccount(u.accountId)).toBeUndefined();
  });

  it('refuses a certificate signed by another account key', async () => {
    const u = user();
    const other = user();
    const { body } = await u.registrationBody();
    const foreign = createDevice(other.account, 1, 0, provider, other.random);
    const r = await call(t.url, 'POST', '/api/v1/accounts', {
      body: { ...body, deviceCertificate: b64(encodeDeviceCertificate(foreign.certificate)) },
    });
    expect(r.body.error.code).toBe('INVALID_CERTIFICATE');
  });

  it('refuses an expired challenge', async () => {
    const u = user();
    const { body } = await u.registrationBody();
    clock.advance(61_000);
    const r = await call(t.url, 'POST', '/api/v1/accounts', { body });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('CHALLENGE_FAILED');
  });

  it('refuses malformed bodies with BAD_REQUEST naming the field', async () => {
    const u = user();
    const { body } = await u.registrationBody();
    const r = await call(t.url, 'POST', '/api/v1/accounts', { body: { ...body, identityKey: 'not base64!' } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('BAD_REQUEST');
    expect(r.body.error.message).toContain('identityKey');
    const j = await call(t.url, 'POST', '/api/v1/accounts', { body: '{"broken' });
    expect(j.body.error.code).toBe('BAD_REQUEST');
    const media = await call(t.url, 'POST', '/api/v1/accounts', { body: 'x', contentType: 'text/plain' });
    expect(media.status).toBe(415);
    expect(media.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses prekeys not signed by the device key', async () => {
    const u = user();
    const { body } = await u.registrationBody();
    const stranger = createDevice(u.account, 9, 0, provider, u.random);
    const r = await call(t.url, 'POST', '/api/v1/accounts', {
      body: { ...body, prekeys: prekeysFor(stranger, u.random).upload },
    });
    expect(r.body.error.code).toBe('INVALID_SIGNATURE');
    expect(await t.storage.getAccount(u.accountId)).toBeUndefined();
  });
});

describe('sessions', () => {
  it('issues tokens stored only as hashes', async () => {
    const u = await user().register();
    const token = u.token();
    const rows = t.storage.dump().tokens!;
    const raw = Buffer.from(token, 'base64url');
    expect(rows.some((r) => Buffer.from(r.token_hash as Uint8Array).equals(raw))).toBe(false);
    expect(rows.some((r) => Buffer.from(r.token_hash as Uint8Array).equals(Buffer.from(provider.sha256(raw))))).toBe(
      true,
    );
  });

  it('refuses a token replayed after expiry, and a renewed one works', async () => {
    const u = await user().register();
    const old = u.token();
    expect((await call(t.url, 'GET', '/api/v1/keys/count', { token: old })).status).toBe(200);
    clock.advance(15 * 60_000 + 1);
    const replay = await call(t.url, 'GET', '/api/v1/keys/count', { token: old });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('UNAUTHORIZED');
    const renewed = await u.login(1);
    expect(renewed).not.toBe(old);
    expect((await call(t.url, 'GET', '/api/v1/keys/count', { token: renewed })).status).toBe(200);
  });

  it('refuses a login signed by the wrong key and a reused nonce', async () => {
    const u = await user().register();
    const nonce = await u.nonce();
    const body = {
      accountId: u.id,
      deviceId: 1,
      nonce: b64(nonce),
      signature: b64(provider.ed25519Sign(u.account.secretKey, nonce)),
    };
    expect((await call(t.url, 'POST', '/api/v1/auth/session', { body })).body.error.code).toBe('UNAUTHORIZED');
    expect((await call(t.url, 'POST', '/api/v1/auth/session', { body })).body.error.code).toBe('CHALLENGE_FAILED');
  });

  it('logs out: the token stops working at once', async () => {
    const u = await user().register();
    expect((await call(t.url, 'DELETE', '/api/v1/auth/session', { token: u.token() })).status).toBe(204);
    expect((await call(t.url, 'GET', '/api/v1/keys/count', { token: u.token() })).status).toBe(401);
  });

  it('refuses requests without a token', async () => {
    const r = await call(t.url, 'GET', '/api/v1/keys/count');
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('UNAUTHORIZED');
  });
});

describe('devices', () => {
  it('links a device, serves the account keys, and removes a device under a newer signed list', async () => {
    const u = await user().register();
    await u.link(2);
    const info = await call(t.url, 'GET', `/api/v1/accounts/${u.id}`, { token: u.token(2) });
    expect(info.status).toBe(200);
    expect(info.body.identityKey).toBe(b64(u.account.publicKey));
    const ws = await WsClient.device(t.wsUrl, u.token(2));
    await ws.drain();
    u.counter++;
    const list = u.deviceList([u.entry(u.device(1))]);
    const r = await call(t.url, 'PUT', `/api/v1/accounts/${u.id}/devices`, { body: { deviceList: b64(list) } });
    expect(r.status).toBe(204);
    // The removed device's connection is closed and its token refused.
    expect((await ws.waitClosed()).code).toBe(4401);
    expect((await call(t.url, 'GET', '/api/v1/keys/count', { token: u.token(2) })).status).toBe(401);
    expect((await t.storage.listDevices(u.accountId)).map((d) => d.deviceId)).toEqual([1]);
    // Replaying the same list (same counter) is stale.
    const replay = await call(t.url, 'PUT', `/api/v1/accounts/${u.id}/devices`, { body: { deviceList: b64(list) } });
    expect(replay.body.error.code).toBe('STALE_DEVICE_LIST');
  });

  it('refuses a device list that adds a device without its certificate and proof', async () => {
    const u = await user().register();
    const ghost = createDevice(u.account, 5, 0, provider, u.random);
    u.counter++;
    const list = u.deviceList([u.entry(u.device(1)), u.entry(ghost)]);
    const r = await call(t.url, 'PUT', `/api/v1/accounts/${u.id}/devices`, { body: { deviceList: b64(list) } });
    expect(r.body.error.code).toBe('INVALID_CERTIFICATE');
  });

  it('refuses a link whose new device did not sign the challenge', async () => {
    const u = await user().register();
    const d = createDevice(u.account, 3, 0, provider, u.random);
    u.counter++;
    const cert = encodeDeviceCertificate(d.certificate);
    const list = u.deviceList([u.entry(u.device(1)), u.entry(d)]);
    const nonce = await u.nonce();
    const r = await call(t.url, 'POST', `/api/v1/accounts/${u.id}/devices`, {
      body: {
        deviceCertificate: b64(cert),
        deviceList: b64(list),
        prekeys: prekeysFor(d, u.random).upload,
        nonce: b64(nonce),
        deviceSignature: b64(provider.ed25519Sign(u.device(1).secretKey, linkProofMessage(nonce, cert, list))),
      },
    });
    expect(r.body.error.code).toBe('INVALID_SIGNATURE');
    expect((await t.storage.listDevices(u.accountId)).length).toBe(1);
  });

  it('enforces the maximum number of devices', async () => {
    const small = await startTestServer({ maxDevices: 1 });
    try {
      const u = await new TestUser(small.url, rng(999)).register();
      await expect(u.link(2)).rejects.toThrow(/TOO_MANY_DEVICES/);
    } finally {
      await small.close();
    }
  });
});

describe('account deletion', () => {
  it('needs the account key and purges every row that names the account', async () => {
    const u = await user().register();
    await u.link(2);
    const peer = await user().register();
    await call(t.url, 'POST', '/api/v1/messages', {
      token: u.token(),
      body: { messages: [{ blob: 'AAAA', targets: peer.targets() }] },
    });
    await call(t.url, 'POST', '/api/v1/users/me/discoverable', {
      token: u.token(),
      body: { enabled: true, displayName: 'Deleted Person' },
    });
    const nonce = await u.nonce();
    const wrong = await call(t.url, 'DELETE', '/api/v1/accounts/me', {
      token: u.token(),
      body: { nonce: b64(nonce), accountSignature: b64(provider.ed25519Sign(u.device(1).secretKey, nonce)) },
    });
    expect(wrong.body.error.code).toBe('INVALID_SIGNATURE');
    const nonce2 = await u.nonce();
    const ok = await call(t.url, 'DELETE', '/api/v1/accounts/me', {
      token: u.token(),
      body: {
        nonce: b64(nonce2),
        accountSignature: b64(
          provider.ed25519Sign(u.account.secretKey, deleteAccountProofMessage(nonce2, u.accountId)),
        ),
      },
    });
    expect(ok.status).toBe(204);
    const needles = [
      Buffer.from(u.accountId),
      Buffer.from(u.account.publicKey),
      ...u.devices.map((d) => Buffer.from(d.publicKey)),
    ];
    const text = Buffer.from(u.id);
    for (const [table, rows] of Object.entries(t.storage.dump())) {
      for (const row of rows) {
        for (const value of Object.values(row)) {
          if (value instanceof Uint8Array) {
            for (const n of needles)
              expect(Buffer.from(value).includes(n), `${table} still names the account`).toBe(false);
          }
          if (typeof value === 'string') expect(value.includes(text.toString()), table).toBe(false);
        }
      }
    }
    expect((await call(t.url, 'GET', `/api/v1/accounts/${u.id}`, { token: peer.token() })).status).toBe(404);
    expect((await call(t.url, 'GET', '/api/v1/messages/inbox', { token: peer.token() })).body.messages).toEqual([]);
  });
});

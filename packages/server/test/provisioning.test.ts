import { deviceListReadProofMessage, PROVISIONING_TTL_MS, toBase64Url } from '@vaultex/api';
import { decodeDeviceList, manualClock } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, provider, rng, startTestServer, type TestServer, TestUser } from './support.js';

const clock = manualClock(1_800_000_000_000);
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ logLevel: 'silent' }, { clock });
});
afterAll(async () => {
  await t?.close();
});

const channel = (n: number) => n.toString(16).padStart(2, '0').repeat(16);
const b64 = (bytes: Uint8Array) => toBase64Url(bytes);

describe('provisioning mailbox', () => {
  it('holds one message per channel and hands it out once', async () => {
    const blob = b64(new Uint8Array(1000).fill(7));
    expect((await call(t.url, 'GET', `/api/v1/provisioning/${channel(1)}`)).status).toBe(404);
    expect((await call(t.url, 'PUT', `/api/v1/provisioning/${channel(1)}`, { body: { blob } })).status).toBe(204);
    const again = await call(t.url, 'PUT', `/api/v1/provisioning/${channel(1)}`, {
      body: { blob: b64(new Uint8Array(3)) },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('CHANNEL_TAKEN');
    const got = await call(t.url, 'GET', `/api/v1/provisioning/${channel(1)}`);
    expect(got.status).toBe(200);
    expect(got.body.blob).toBe(blob);
    const gone = await call(t.url, 'GET', `/api/v1/provisioning/${channel(1)}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('NOT_FOUND');
  });

  it('expires after 10 minutes and is pruned', async () => {
    await call(t.url, 'PUT', `/api/v1/provisioning/${channel(2)}`, { body: { blob: b64(new Uint8Array(5)) } });
    await call(t.url, 'PUT', `/api/v1/provisioning/${channel(3)}`, { body: { blob: b64(new Uint8Array(5)) } });
    clock.advance(PROVISIONING_TTL_MS + 1);
    expect((await call(t.url, 'GET', `/api/v1/provisioning/${channel(2)}`)).status).toBe(404);
    // An expired message does not hold the channel.
    expect(
      (await call(t.url, 'PUT', `/api/v1/provisioning/${channel(3)}`, { body: { blob: b64(new Uint8Array(2)) } }))
        .status,
    ).toBe(204);
    clock.advance(PROVISIONING_TTL_MS + 1);
    await t.server.prune();
    expect(t.storage.dump().provisioning).toEqual([]);
  });

  it('refuses bad channel ids and oversized messages', async () => {
    const badId = await call(t.url, 'PUT', '/api/v1/provisioning/XYZ', { body: { blob: 'AA' } });
    expect(badId.status).toBe(400);
    expect(badId.body.error.code).toBe('BAD_REQUEST');
    const big = await call(t.url, 'PUT', `/api/v1/provisioning/${channel(4)}`, {
      body: { blob: b64(new Uint8Array(64 * 1024 + 1)) },
    });
    expect(big.status).toBe(400);
    expect(t.storage.dump().provisioning).toEqual([]);
  });
});

describe('reading the device list with the account key', () => {
  let user: TestUser;
  beforeAll(async () => {
    user = await new TestUser(t.url, rng(41)).register();
  });

  async function read(sign: (proof: Uint8Array) => Uint8Array, nonce?: Uint8Array, accountId = user.id) {
    const n = nonce ?? (await user.nonce());
    const proof = deviceListReadProofMessage(n, Uint8Array.from(Buffer.from(accountId, 'hex')));
    return {
      nonce: n,
      reply: await call(t.url, 'POST', `/api/v1/accounts/${accountId}/device-list`, {
        body: { nonce: b64(n), accountSignature: b64(sign(proof)) },
      }),
    };
  }

  it('returns the key and list to the account key', async () => {
    const { reply, nonce } = await read((p) => provider.ed25519Sign(user.account.secretKey, p));
    expect(reply.status).toBe(200);
    expect(reply.body.accountId).toBe(user.id);
    expect(decodeDeviceList(Uint8Array.from(Buffer.from(reply.body.deviceList, 'base64url'))).devices.length).toBe(1);
    // The challenge is single use.
    const replay = await read((p) => provider.ed25519Sign(user.account.secretKey, p), nonce);
    expect(replay.reply.body.error.code).toBe('CHALLENGE_FAILED');
  });

  it('refuses other signers and unknown accounts', async () => {
    const other = new TestUser(t.url, rng(42));
    const wrong = await read((p) => provider.ed25519Sign(other.account.secretKey, p));
    expect(wrong.reply.status).toBe(400);
    expect(wrong.reply.body.error.code).toBe('INVALID_SIGNATURE');
    const unknown = await read((p) => provider.ed25519Sign(other.account.secretKey, p), undefined, other.id);
    expect(unknown.reply.status).toBe(404);
  });
});

/**
 * The shortcuts of the send path answer exactly as the general checks do: a single-target
 * send that does not cover the account's devices exactly (a device missing, one extra, one
 * named twice, the sender's own device) gets the general error, and a remembered access key
 * lets the same key through while any other key is still refused — before and after the
 * account's key changes.
 */
import { manualClock } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, rng, startTestServer, type TestServer, TestUser, WsClient } from './support.js';

const clock = manualClock(1_800_000_000_000);
let t: TestServer;
let seed = 9100;
const user = () => new TestUser(t.url, rng(++seed));

beforeAll(async () => {
  t = await startTestServer({ limits: { registrationsPerHour: 1000, challengesPerMinute: 10_000 } }, { clock });
});
afterAll(async () => {
  await t?.close();
});

/** An anonymous socket that makes sealed sends and returns each reply frame. */
async function sealedSender() {
  const ws = await WsClient.connect(t.wsUrl);
  ws.send({ t: 'anonymous' });
  await ws.next((f) => f.t === 'auth_ok');
  let rid = 0;
  return {
    ws,
    async send(to: TestUser, accessKey: Uint8Array, deviceIds: number[] = [1]) {
      const id = ++rid;
      ws.send({
        t: 'send',
        rid: id,
        messages: [{ blob: new Uint8Array([1]), targets: [{ accountId: to.id, deviceIds }] }],
        accessKeys: [{ accountId: to.id, accessKey }],
      });
      return ws.next((f) => (f.t === 'sent' || f.t === 'error') && f.rid === id);
    },
  };
}

describe('send fast paths', () => {
  it('refuses a wrong access key right after the right one, and the old key after a change', async () => {
    const bob = await user().register();
    const sender = await sealedSender();
    expect(await sender.send(bob, bob.accessKey)).toMatchObject({ t: 'sent' });
    expect(await sender.send(bob, bob.accessKey)).toMatchObject({ t: 'sent' });
    const wrong = bob.accessKey.slice();
    wrong[15]! ^= 1;
    expect(await sender.send(bob, wrong)).toMatchObject({ t: 'error', code: 'UNKNOWN_RECIPIENT' });
    const fresh = new Uint8Array(16).fill(0x42);
    const change = await call(t.url, 'PUT', '/api/v1/accounts/me/access-key', {
      token: bob.token(),
      body: { accessKey: Buffer.from(fresh).toString('base64url') },
    });
    expect(change.status).toBe(204);
    expect(await sender.send(bob, bob.accessKey)).toMatchObject({ t: 'error', code: 'UNKNOWN_RECIPIENT' });
    expect(await sender.send(bob, fresh)).toMatchObject({ t: 'sent' });
    sender.ws.close();
  });

  it('gives a single-target send that is not exact the general answer', async () => {
    const bob = await user().register();
    await bob.link(2);
    const sender = await sealedSender();
    expect(await sender.send(bob, bob.accessKey, [1, 2])).toMatchObject({ t: 'sent' });
    expect(await sender.send(bob, bob.accessKey, [2, 1])).toMatchObject({ t: 'sent' });
    expect(await sender.send(bob, bob.accessKey, [1])).toMatchObject({
      code: 'MISMATCHED_DEVICES',
      mismatchedDevices: [{ accountId: bob.id, missing: [2], extra: [] }],
    });
    expect(await sender.send(bob, bob.accessKey, [1, 2, 3])).toMatchObject({
      code: 'MISMATCHED_DEVICES',
      mismatchedDevices: [{ accountId: bob.id, missing: [], extra: [3] }],
    });
    expect(await sender.send(bob, bob.accessKey, [1, 1])).toMatchObject({ code: 'BAD_REQUEST' });
    sender.ws.close();

    // An authenticated send to the sender's own account excludes the sending device.
    const own = await call(t.url, 'POST', '/api/v1/messages', {
      token: bob.token(1),
      body: { messages: [{ blob: 'AQ', targets: [{ accountId: bob.id, deviceIds: [1, 2] }] }] },
    });
    expect(own.body.error).toMatchObject({
      code: 'MISMATCHED_DEVICES',
      mismatchedDevices: [{ accountId: bob.id, missing: [], extra: [1] }],
    });
    const toOther = await call(t.url, 'POST', '/api/v1/messages', {
      token: bob.token(1),
      body: { messages: [{ blob: 'AQ', targets: [{ accountId: bob.id, deviceIds: [2] }] }] },
    });
    expect(toOther.status).toBe(200);
  });
});

/**
 * Metadata minimisation, end to end: a real conversation (PQXDH + Double Ratchet
 * sessions from @vaultex/protocol, sealed-sender envelopes, an ephemeral typing
 * indicator), then a dump of the whole database and of every log line. No plaintext
 * canary appears anywhere; sealed messages name no sender; logs carry no account or
 * device identifiers and no client address; the database stores no IP.
 */
import { BundleResponse, toBase64Url as b64 } from '@vaultex/api';
import { acceptSession, initiateSession, type Session, seal, systemClock, unseal } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, provider, rng, startTestServer, type TestServer, TestUser, WsClient } from './support.js';

const CANARY = 'CANARY-7f3ac291-the-eagle-lands-at-dawn';
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ logLevel: 'trace' });
});
afterAll(async () => {
  await t?.close();
});

const deps = (label: number) => ({ provider, random: rng(label), clock: systemClock });
const encode = (s: string) => new TextEncoder().encode(s);
const decode = (b: Uint8Array) => new TextDecoder().decode(b);

async function sealedSend(from: TestUser, to: TestUser, session: Session, text: string): Promise<string> {
  const sender = from.device(1);
  const envelope = seal(
    {
      sender: { secretKey: sender.secretKey, publicKey: sender.publicKey, certificate: sender.certificate },
      recipientKey: to.device(1).publicKey,
      content: session.encrypt(encode(text)),
      contentType: 1,
    },
    provider,
    from.random,
  );
  const r = await call(t.url, 'POST', '/api/v1/messages/sealed', {
    body: {
      messages: [{ blob: b64(envelope), targets: to.targets() }],
      accessKeys: [{ accountId: to.id, accessKey: b64(to.accessKey) }],
    },
  });
  expect(r.status).toBe(200);
  return r.body.ids[0];
}

describe('a conversation leaves no plaintext and no sender behind', () => {
  it('holds for the whole database and every log line', async () => {
    const alice = await new TestUser(t.url, rng(1)).register();
    const bob = await new TestUser(t.url, rng(2)).register();

    // Alice opens a session from Bob's served bundle and sends sealed.
    const bundleJson = await call(t.url, 'GET', `/api/v1/keys/${bob.id}`, { token: alice.token() });
    const served = BundleResponse.parse(bundleJson.body).devices[0]!;
    const aliceSession = initiateSession(
      alice.device(1),
      {
        identityKey: served.identityKey,
        deviceId: served.deviceId,
        signedPreKey: served.signedPreKey,
        ...(served.oneTimePreKey ? { oneTimePreKey: served.oneTimePreKey } : {}),
        kemPreKey: served.kemPreKey,
      },
      deps(10),
    );
    await sealedSend(alice, bob, aliceSession, `${CANARY} hello bob`);

    const bobWs = await WsClient.device(t.wsUrl, bob.token());
    const [first] = await bobWs.drain();
    const opened = unseal(first!.blob, bob.device(1), provider);
    expect(opened.senderUserId).toEqual(alice.accountId);
    const accepted = acceptSession(bob.device(1), opened.content, bob.prekeys.get(1)!, deps(11));
    expect(decode(accepted.plaintext)).toBe(`${CANARY} hello bob`);
    bobWs.send({ t: 'ack', ids: [first!.id] });

    // Typing indicator (ephemeral) and a sealed reply.
    const aliceWs = await WsClient.device(t.wsUrl, alice.token());
    await aliceWs.drain();
    const typing = await call(t.url, 'POST', '/api/v1/messages', {
      token: bob.token(),
      body: { ephemeral: true, messages: [{ blob: b64(encode(`${CANARY} typing`)), targets: alice.targets() }] },
    });
    expect(typing.status).toBe(200);
    await aliceWs.next((f) => f.t === 'ephemeral');
    await sealedSend(bob, alice, accepted.session, `${CANARY} hi alice`);
    const reply = await aliceWs.next((f) => f.t === 'message');
    if (reply.t !== 'message') throw new Error('expected a message');
    expect(decode(aliceSession.decrypt(unseal(reply.blob, alice.device(1), provider).content))).toBe(
      `${CANARY} hi alice`,
    );
    // One more from Alice that Bob has not acknowledged yet: it is still stored.
    const pendingId = await sealedSend(alice, bob, aliceSession, `${CANARY} still pending`);
    await bobWs.next((f) => f.t === 'message' && f.id === pendingId);
    bobWs.close();
    aliceWs.close();
    await t.server.context.commit.flush();

    const dump = t.storage.dump();
    const logs = t.logs.join('');
    const rowsText = JSON.stringify(dump, (_k, v) =>
      v instanceof Uint8Array || (v && v.type === 'Buffer') ? Buffer.from(v.data ?? v).toString('latin1') : v,
    );

    // 1. No plaintext canary anywhere: database or logs.
    expect(rowsText).not.toContain(CANARY);
    expect(logs).not.toContain(CANARY);
    expect(dump.messages!.length).toBeGreaterThan(0);

    // 2. Sealed messages name no sender: no source columns, no sender key or id in any mailbox row.
    const senderNeedles = (u: TestUser) => [
      Buffer.from(u.accountId),
      Buffer.from(u.account.publicKey),
      Buffer.from(u.device(1).publicKey),
      Buffer.from(u.id),
      Buffer.from(b64(u.accountId)),
    ];
    for (const m of dump.messages!) {
      expect(m.source_account).toBeNull();
      expect(m.source_device).toBeNull();
      for (const n of [...senderNeedles(alice), ...senderNeedles(bob)]) {
        expect(Buffer.from(m.blob as Uint8Array).includes(n)).toBe(false);
      }
    }

    // 3. Logs carry no identifiers and no client address.
    for (const u of [alice, bob]) {
      for (const needle of [u.id, b64(u.accountId), b64(u.account.publicKey), b64(u.device(1).publicKey), u.token()]) {
        expect(logs).not.toContain(needle);
      }
    }
    const lines = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) {
      const json = JSON.stringify(line);
      expect(json).not.toMatch(/remoteAddress|remotePort|hostname|user-agent|authorization/iu);
      if (!String(line.msg).startsWith('Server listening')) expect(json).not.toContain('127.0.0.1');
    }

    // 4. The database stores no IP address.
    expect(rowsText).not.toContain('127.0.0.1');
  });
});

/**
 * The encrypted history archive over real HTTP: compare-and-swap uploads shared by every
 * device of an account, the size limit (declared and chunked bodies), key envelopes
 * (replace, read, consume one, delete all), typed refusals that change nothing, rate
 * limiting, account deletion, a restart on the same SQLite file, and what the database and
 * logs hold afterwards (the bytes as given, nothing else).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toBase64Url as b64, deleteAccountProofMessage, PingResponse } from '@vaultex/api';
import { manualClock } from '@vaultex/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, provider, type Reply, rng, startTestServer, type TestServer, TestUser } from './support.js';

const LIMIT = 4096;
const HOUR = 60 * 60_000;
const clock = manualClock(1_800_000_000_000 + 1234);
let t: TestServer;
let seed = 900;
const user = () => new TestUser(t.url, rng(++seed));

beforeAll(async () => {
  t = await startTestServer(
    { maxArchiveBytes: LIMIT, limits: { registrationsPerHour: 1000, challengesPerMinute: 10_000 } },
    { clock },
  );
});
afterAll(async () => {
  await t?.close();
});

const bytesOf = (n: number, fill: number) => new Uint8Array(n).fill(fill);

/** PUT /archive with an If-Match header (undefined: none) and raw bytes. */
async function putArchive(
  base: string,
  token: string | undefined,
  ifMatch: string | undefined,
  data: Uint8Array | ReadableStream<Uint8Array>,
  contentType = 'application/octet-stream',
): Promise<Reply> {
  const headers: Record<string, string> = { 'content-type': contentType };
  if (token) headers.authorization = `Bearer ${token}`;
  if (ifMatch !== undefined) headers['if-match'] = ifMatch;
  const body = data instanceof Uint8Array ? (data.slice().buffer as ArrayBuffer) : data;
  // A stream body is sent chunked (no Content-Length); fetch needs duplex for it.
  const res = await fetch(`${base}/api/v1/archive`, { method: 'PUT', headers, body, duplex: 'half' } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/** GET /archive: status, version header and bytes. */
async function getArchive(base: string, token: string) {
  const res = await fetch(`${base}/api/v1/archive`, { headers: { authorization: `Bearer ${token}` } });
  const data = new Uint8Array(await res.arrayBuffer());
  return {
    status: res.status,
    version: res.headers.get('x-archive-version'),
    data,
    type: res.headers.get('content-type'),
  };
}

function chunked(parts: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < parts.length) controller.enqueue(parts[i++]!);
      else controller.close();
    },
  });
}

describe('archive upload and download', () => {
  it('stores one archive per account, replaced only by the current version, for every device', async () => {
    const alice = await user().register();
    await alice.link(2);
    const bob = await user().register();
    expect((await getArchive(t.url, alice.token())).status).toBe(404);
    const miss = await call(t.url, 'GET', '/api/v1/archive', { token: alice.token() });
    expect(miss.body.error.code).toBe('NOT_FOUND');

    const first = bytesOf(1000, 1);
    expect(await putArchive(t.url, alice.token(), '0', first)).toMatchObject({ status: 200, body: { version: 1 } });
    const got = await getArchive(t.url, alice.token(2));
    expect(got).toMatchObject({ status: 200, version: '1', type: 'application/octet-stream' });
    expect(got.data).toEqual(first);

    // A device still on version 0 loses; the other device replaces version 1.
    const stale = await putArchive(t.url, alice.token(), '0', bytesOf(10, 2));
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('ARCHIVE_CONFLICT');
    const second = bytesOf(LIMIT, 3);
    expect((await putArchive(t.url, alice.token(2), '1', second)).body).toEqual({ version: 2 });
    expect((await putArchive(t.url, alice.token(), '1', bytesOf(10, 4))).body.error.code).toBe('ARCHIVE_CONFLICT');
    expect((await putArchive(t.url, alice.token(), '7', bytesOf(10, 4))).body.error.code).toBe('ARCHIVE_CONFLICT');
    const now = await getArchive(t.url, alice.token());
    expect(now.version).toBe('2');
    expect(now.data).toEqual(second);

    // Accounts do not share archives.
    expect((await getArchive(t.url, bob.token())).status).toBe(404);
    expect((await putArchive(t.url, bob.token(), '2', bytesOf(10, 5))).body.error.code).toBe('ARCHIVE_CONFLICT');
  });

  it('takes a chunked body without Content-Length up to the limit, and refuses one byte more', async () => {
    const u = await user().register();
    const parts = Array.from({ length: 8 }, (_, i) => bytesOf(LIMIT / 8, i + 1));
    expect((await putArchive(t.url, u.token(), '0', chunked(parts))).body).toEqual({ version: 1 });
    expect((await getArchive(t.url, u.token())).data).toEqual(Uint8Array.from(parts.flatMap((p) => [...p])));
    const over = await putArchive(t.url, u.token(), '1', chunked([...parts, bytesOf(1, 9)]));
    expect(over.status).toBe(413);
    expect(over.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const declared = await putArchive(t.url, u.token(), '1', bytesOf(LIMIT + 1, 9));
    expect(declared.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await getArchive(t.url, u.token())).toMatchObject({ status: 200, version: '1' });
  });

  it('refuses bad input with typed errors and changes nothing', async () => {
    const u = await user().register();
    const kept = bytesOf(100, 7);
    await putArchive(t.url, u.token(), '0', kept);
    const refusals: [Reply, number, string][] = [
      [await putArchive(t.url, u.token(), undefined, bytesOf(10, 1)), 400, 'BAD_REQUEST'],
      ...(await Promise.all(
        ['', 'abc', '-1', '01', '1.0', '1 2', '"1"', '1e3', '9999999999999999'].map(
          async (v) =>
            [await putArchive(t.url, u.token(), v, bytesOf(10, 1)), 400, 'BAD_REQUEST'] as [Reply, number, string],
        ),
      )),
      [await putArchive(t.url, u.token(), '1', new Uint8Array(0)), 400, 'BAD_REQUEST'],
      [await putArchive(t.url, u.token(), '1', bytesOf(10, 1), 'application/json'), 400, 'BAD_REQUEST'],
      [await putArchive(t.url, u.token(), '1', bytesOf(10, 1), 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
      [await call(t.url, 'PUT', '/api/v1/archive', { token: u.token(), body: { version: 1 } }), 400, 'BAD_REQUEST'],
      [await putArchive(t.url, undefined, '1', bytesOf(10, 1)), 401, 'UNAUTHORIZED'],
      [await putArchive(t.url, 'A'.repeat(43), '1', bytesOf(10, 1)), 401, 'UNAUTHORIZED'],
      [await call(t.url, 'GET', '/api/v1/archive'), 401, 'UNAUTHORIZED'],
      [await call(t.url, 'DELETE', '/api/v1/archive'), 401, 'UNAUTHORIZED'],
      [await call(t.url, 'GET', '/api/v1/archive/keys'), 401, 'UNAUTHORIZED'],
      [await call(t.url, 'PUT', '/api/v1/archive/keys', { body: { keys: [] } }), 401, 'UNAUTHORIZED'],
      [await call(t.url, 'DELETE', '/api/v1/archive/keys/1'), 401, 'UNAUTHORIZED'],
    ];
    for (const [reply, status, code] of refusals) {
      expect(reply.status, JSON.stringify(reply.body)).toBe(status);
      expect(reply.body.error.code).toBe(code);
    }
    const after = await getArchive(t.url, u.token());
    expect(after.version).toBe('1');
    expect(after.data).toEqual(kept);
  });

  it('lets exactly one of several concurrent uploads naming the same version win', async () => {
    const u = await user().register();
    await u.link(2);
    for (let round = 0; round < 5; round++) {
      const replies = await Promise.all(
        [1, 2, 1, 2].map((d, i) => putArchive(t.url, u.token(d), String(round), bytesOf(64, round * 10 + i))),
      );
      const winners = replies.flatMap((r, i) => (r.status === 200 ? [i] : []));
      expect(winners.length).toBe(1);
      expect(replies.filter((r) => r.status === 409).length).toBe(3);
      const stored = await getArchive(t.url, u.token());
      expect(stored.version).toBe(String(round + 1));
      expect(stored.data).toEqual(bytesOf(64, round * 10 + winners[0]!));
    }
  });

  it('advertises the archive and its size limit in /ping', async () => {
    const ping = PingResponse.parse((await call(t.url, 'GET', '/ping')).body);
    expect(ping.capabilities).toContain('archive');
    expect(ping.maxArchiveBytes).toBe(LIMIT);
  });
});

describe('archive key envelopes', () => {
  const envelope = (slot: number, n = 48) => b64(bytesOf(n, 0x40 + slot));

  it('replaces the whole set, lists it by slot, consumes one slot idempotently', async () => {
    const u = await user().register();
    const keys = (token = u.token()) => call(t.url, 'GET', '/api/v1/archive/keys', { token });
    expect((await keys()).body).toEqual({ keys: [] });
    const all = [8, 3, 0, 1, 2, 4, 5, 6, 7].map((slot) => ({ slot, envelope: envelope(slot) }));
    expect((await call(t.url, 'PUT', '/api/v1/archive/keys', { token: u.token(), body: { keys: all } })).status).toBe(
      204,
    );
    expect((await keys()).body.keys.map((k: { slot: number }) => k.slot)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await keys()).body.keys[3]).toEqual({ slot: 3, envelope: envelope(3) });

    for (let i = 0; i < 2; i++) {
      expect((await call(t.url, 'DELETE', '/api/v1/archive/keys/3', { token: u.token() })).status).toBe(204);
    }
    expect((await keys()).body.keys.map((k: { slot: number }) => k.slot)).toEqual([0, 1, 2, 4, 5, 6, 7, 8]);

    const fewer = [
      { slot: 0, envelope: envelope(0, 512) },
      { slot: 5, envelope: envelope(9) },
    ];
    await call(t.url, 'PUT', '/api/v1/archive/keys', { token: u.token(), body: { keys: fewer } });
    expect((await keys()).body).toEqual({ keys: fewer });

    // Another account sees none of them.
    const other = await user().register();
    expect((await keys(other.token())).body).toEqual({ keys: [] });
  });

  it('refuses bad envelopes and slots with BAD_REQUEST and keeps the stored set', async () => {
    const u = await user().register();
    const good = [{ slot: 0, envelope: envelope(0) }];
    await call(t.url, 'PUT', '/api/v1/archive/keys', { token: u.token(), body: { keys: good } });
    const bad: unknown[] = [
      {
        keys: [
          { slot: 1, envelope: envelope(1) },
          { slot: 1, envelope: envelope(2) },
        ],
      },
      { keys: [{ slot: 9, envelope: envelope(1) }] },
      { keys: [{ slot: -1, envelope: envelope(1) }] },
      { keys: [{ slot: 1.5, envelope: envelope(1) }] },
      { keys: [{ slot: 1, envelope: envelope(1, 513) }] },
      { keys: [{ slot: 1, envelope: '' }] },
      { keys: [{ slot: 1, envelope: 'not base64!' }] },
      { keys: [{ slot: 1, envelope: `${envelope(1)}=` }] },
      { keys: Array.from({ length: 10 }, (_, i) => ({ slot: i % 9, envelope: envelope(i) })) },
      { keys: 'none' },
      {},
    ];
    for (const body of bad) {
      const r = await call(t.url, 'PUT', '/api/v1/archive/keys', { token: u.token(), body });
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.body.error.code).toBe('BAD_REQUEST');
    }
    for (const slot of ['9', '-1', 'x', '01', '1.0']) {
      const r = await call(t.url, 'DELETE', `/api/v1/archive/keys/${slot}`, { token: u.token() });
      expect(r.body.error.code, slot).toBe('BAD_REQUEST');
    }
    expect((await call(t.url, 'GET', '/api/v1/archive/keys', { token: u.token() })).body).toEqual({ keys: good });
  });

  it('DELETE /archive removes the archive and every envelope; a new archive starts at version 1', async () => {
    const u = await user().register();
    await putArchive(t.url, u.token(), '0', bytesOf(20, 1));
    await putArchive(t.url, u.token(), '1', bytesOf(20, 2));
    await call(t.url, 'PUT', '/api/v1/archive/keys', {
      token: u.token(),
      body: { keys: [{ slot: 0, envelope: envelope(0) }] },
    });
    for (let i = 0; i < 2; i++) {
      expect((await call(t.url, 'DELETE', '/api/v1/archive', { token: u.token() })).status).toBe(204);
    }
    expect((await getArchive(t.url, u.token())).status).toBe(404);
    expect((await call(t.url, 'GET', '/api/v1/archive/keys', { token: u.token() })).body).toEqual({ keys: [] });
    expect((await putArchive(t.url, u.token(), '2', bytesOf(20, 3))).status).toBe(409);
    expect((await putArchive(t.url, u.token(), '0', bytesOf(20, 3))).body).toEqual({ version: 1 });
  });

  it('deleting the account deletes its archive and envelopes', async () => {
    const u = await user().register();
    await putArchive(t.url, u.token(), '0', bytesOf(20, 1));
    await call(t.url, 'PUT', '/api/v1/archive/keys', {
      token: u.token(),
      body: { keys: [{ slot: 0, envelope: envelope(0) }] },
    });
    const nonce = await u.nonce();
    const signature = provider.ed25519Sign(u.account.secretKey, deleteAccountProofMessage(nonce, u.accountId));
    const r = await call(t.url, 'DELETE', '/api/v1/accounts/me', {
      token: u.token(),
      body: { nonce: b64(nonce), accountSignature: b64(signature) },
    });
    expect(r.status).toBe(204);
    expect(await t.storage.getArchive(u.accountId)).toBeUndefined();
    expect(await t.storage.getArchiveKeys(u.accountId)).toEqual([]);
  });
});

describe('what the relay keeps of an archive', () => {
  it('the database holds the bytes only as given, with a coarse time; logs hold neither bytes nor envelopes', async () => {
    const u = await user().register();
    const canary = new TextEncoder().encode('ARCHIVE-CANARY-5d1e0c77-the-history-is-encrypted');
    const keyCanary = new TextEncoder().encode('ENVELOPE-CANARY-91b2');
    const counts = () => Object.fromEntries(Object.entries(t.storage.dump()).map(([k, rows]) => [k, rows.length]));
    const before = counts();
    await putArchive(t.url, u.token(), '0', canary);
    await call(t.url, 'PUT', '/api/v1/archive/keys', {
      token: u.token(),
      body: { keys: [{ slot: 4, envelope: b64(keyCanary) }] },
    });
    // The uploads wrote one archive row and one envelope row, and nothing else.
    expect(counts()).toEqual({ ...before, archives: before.archives! + 1, archive_keys: before.archive_keys! + 1 });
    const dump = t.storage.dump();
    const mine = dump.archives!.filter((row) =>
      Buffer.from(row.account_id as Uint8Array).equals(Buffer.from(u.accountId)),
    );
    expect(mine.length).toBe(1);
    expect(Object.keys(mine[0]!).sort()).toEqual(['account_id', 'data', 'updated_at', 'version']);
    expect(new Uint8Array(mine[0]!.data as Uint8Array)).toEqual(canary);
    expect(mine[0]!.version).toBe(1);
    // Coarsened to the hour like every stored time.
    expect(mine[0]!.updated_at).toBe(Math.floor(clock() / HOUR) * HOUR);
    const keyRows = dump.archive_keys!.filter((row) =>
      Buffer.from(row.account_id as Uint8Array).equals(Buffer.from(u.accountId)),
    );
    expect(keyRows.map((row) => Object.keys(row).sort())).toEqual([['account_id', 'envelope', 'slot']]);

    // Nowhere else: no other table holds the bytes or the envelope, and no log line does.
    const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
    for (const [table, rows] of Object.entries(dump)) {
      for (const row of rows) {
        for (const [column, value] of Object.entries(row)) {
          if (!(value instanceof Uint8Array)) continue;
          const text = latin1(value);
          if (!(table === 'archives' && column === 'data')) expect(text).not.toContain(latin1(canary));
          if (!(table === 'archive_keys' && column === 'envelope')) expect(text).not.toContain(latin1(keyCanary));
        }
      }
    }
    const logs = t.logs.join('');
    for (const needle of [latin1(canary), b64(canary), latin1(keyCanary), b64(keyCanary)]) {
      expect(logs).not.toContain(needle);
    }
    expect(logs).toContain('/api/v1/archive');
  });
});

describe('archive durability and limits', () => {
  it('survives a restart on the same SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vaultex-archive-'));
    try {
      const first = await startTestServer({ logLevel: 'silent' }, { dir });
      const u = await new TestUser(first.url, rng(990)).register();
      const data = Uint8Array.from({ length: 3000 }, (_, i) => (i * 31) & 0xff);
      expect((await putArchive(first.url, u.token(), '0', data)).body).toEqual({ version: 1 });
      const keys = [{ slot: 0, envelope: b64(bytesOf(60, 1)) }];
      await call(first.url, 'PUT', '/api/v1/archive/keys', { token: u.token(), body: { keys } });
      await first.close();

      const second = await startTestServer({ logLevel: 'silent' }, { dir });
      try {
        // Tokens are stored (hashed) in the same file: the session outlives the process.
        const token = u.token();
        const got = await getArchive(second.url, token);
        expect(got.version).toBe('1');
        expect(got.data).toEqual(data);
        expect((await call(second.url, 'GET', '/api/v1/archive/keys', { token })).body).toEqual({ keys });
        expect((await putArchive(second.url, token, '1', bytesOf(5, 5))).body).toEqual({ version: 2 });
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('counts uploads against the per-account upload budget', async () => {
    const limited = await startTestServer({ logLevel: 'silent', limits: { attachmentsPerHour: 3 } });
    try {
      const u = await new TestUser(limited.url, rng(991)).register();
      expect((await putArchive(limited.url, u.token(), '0', bytesOf(5, 1))).status).toBe(200);
      expect(
        (await call(limited.url, 'PUT', '/api/v1/archive/keys', { token: u.token(), body: { keys: [] } })).status,
      ).toBe(204);
      expect((await putArchive(limited.url, u.token(), '1', bytesOf(5, 2))).status).toBe(200);
      const refused = await putArchive(limited.url, u.token(), '2', bytesOf(5, 3));
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('RATE_LIMITED');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      const kept = await getArchive(limited.url, u.token());
      expect(kept.version).toBe('2');
      expect(kept.data).toEqual(bytesOf(5, 2));
      // Reading and consuming keys are not uploads.
      expect((await call(limited.url, 'GET', '/api/v1/archive/keys', { token: u.token() })).status).toBe(200);
      expect((await call(limited.url, 'DELETE', '/api/v1/archive/keys/0', { token: u.token() })).status).toBe(204);
    } finally {
      await limited.close();
    }
  });
});

/**
 * Issue 7, bad input at scale: a seeded, bounded fuzzer sends malformed HTTP bodies and
 * WebSocket frames to three relay processes on one PostgreSQL schema and one Redis.
 * Every HTTP answer is a JSON error whose code is in API_ERROR_CODES with that code's
 * status, every WebSocket answer is an error frame with a known code (or the documented
 * close for an oversize frame), every instance still answers /health, and the database
 * (row count and hash of every table) is unchanged.
 *
 * The full run is VAULTEX_FUZZ_COUNT=100000 (the number); `npm test` runs 20,000.
 */
import { randomBytes } from 'node:crypto';
import {
  API_ERROR_CODES,
  CLOSE_CODES,
  decodeServerFrame,
  encodeFrame,
  isApiErrorCode,
  type ServerFrame,
} from '@vaultex/api';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Cluster, databaseDigest, dropSchema, healthy, sleep } from './scale-services.js';
import { describeWith } from './scale-support.js';
import { rng, TestUser } from './support.js';

/** Malformed inputs in all, half HTTP and half WebSocket. */
const COUNT = Number(process.env.VAULTEX_FUZZ_COUNT ?? 20_000);
const SEED = 0x7a11_7e57;
const HTTP_WORKERS = 24;
const WS_WORKERS_PER_INSTANCE = 4;
const packr = new Packr({ useRecords: false });

/** mulberry32: small, seeded, good enough to pick inputs reproducibly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const b64 = (n: number) => Buffer.from(bytes(n)).toString('base64url');
  const hexId = () => Buffer.from(bytes(16)).toString('hex');
  /** A value of a random JSON type, sometimes nested. */
  const junk = (depth = 0): unknown =>
    pick([
      () => null,
      () => int(2) === 0,
      () => int(1e9) - 5e8,
      () => next() * 1e300,
      () => '',
      () => b64(int(40)),
      () => 'not base64url!*',
      () => hexId(),
      () => (depth < 2 ? Array.from({ length: int(4) }, () => junk(depth + 1)) : []),
      () => (depth < 2 ? { [b64(3)]: junk(depth + 1), t: junk(depth + 1) } : {}),
    ])();
  return { next, int, bytes, pick, b64, hexId, junk };
}
type Prng = ReturnType<typeof prng>;

interface HttpCase {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  /** An `If-Match` header (the archive's version). */
  ifMatch?: string;
  auth: boolean;
  /** A random bearer token nobody was given. */
  forged?: string;
}

/**
 * A malformed archive request. Never `If-Match: 0` with a good body: that is a valid first
 * upload, and the database must stay as it was.
 */
function archiveCase(r: Prng, json: () => string): HttpCase {
  return r.pick<() => HttpCase>([
    () => ({
      method: 'PUT',
      path: '/api/v1/archive',
      body: r.b64(r.int(64) + 1),
      contentType: 'application/octet-stream',
      auth: true,
      ...r.pick([{}, { ifMatch: r.pick(['', '-1', '1.5', 'abc', '0x1', '99999999999999999999', '07', '0,1']) }]),
    }),
    () => ({
      method: 'PUT',
      path: '/api/v1/archive',
      body: json(),
      contentType: r.pick(['application/json', 'text/plain']),
      ifMatch: '0',
      auth: true,
    }),
    () => ({ method: 'PUT', path: '/api/v1/archive/keys', body: json(), auth: true }),
    () => ({
      method: 'DELETE',
      path: `/api/v1/archive/keys/${encodeURIComponent(r.pick(['9', '-1', 'x', '1.5', r.b64(4)]))}`,
      auth: true,
    }),
    () => ({ method: 'GET', path: '/api/v1/archive', auth: r.int(2) === 0 }),
  ])();
}

/** A malformed attachment request: junk upload requests, chunks and downloads of ids nobody has. */
function attachmentCase(r: Prng, json: () => string, badId: () => string): HttpCase {
  const id = encodeURIComponent(r.pick([badId(), r.b64(32)]));
  return r.pick<() => HttpCase>([
    () => ({ method: 'POST', path: '/api/v1/attachments', body: json(), auth: true }),
    () => ({
      method: 'PUT',
      path: `/api/v1/attachments/${id}/chunks/${r.pick(['0', 'x', '-1', '99999999999'])}`,
      body: r.b64(r.int(100) + 1),
      contentType: 'application/octet-stream',
      auth: true,
    }),
    () => ({ method: 'GET', path: `/api/v1/attachments/${id}${r.pick(['', '/status'])}`, auth: r.int(2) === 0 }),
  ])();
}

/** One malformed HTTP request: wrong JSON, wrong types, huge/short base64url, bad ids, wrong media types. */
function httpCase(r: Prng): HttpCase {
  const c = httpShape(r);
  return !c.auth && r.int(4) === 0 ? { ...c, forged: r.b64(32) } : c;
}

function httpShape(r: Prng): HttpCase {
  // Path parameters stay within Fastify's 100-character limit: longer ones are the known
  // defect checked by the separate test below.
  const badId = () =>
    r.pick([
      r.b64(r.int(20)),
      r.hexId().slice(1),
      `${r.hexId()}zz`,
      '%00',
      'x'.repeat(r.int(60)),
      r.hexId().toUpperCase(),
    ]);
  const target = () => ({
    accountId: r.pick([r.hexId(), badId(), r.junk()]),
    deviceIds: r.pick([[1], [-1], [0], r.junk(), []]),
  });
  const jsonBodies = (): unknown =>
    r.pick([
      () => r.junk(),
      // Plausible fields with a wrong type, a short or a huge value.
      () => ({
        identityKey: r.b64(r.pick([0, 3, 31, 33])),
        deviceCertificate: r.junk(),
        deviceList: r.b64(r.int(64)),
        nonce: r.b64(32),
      }),
      () => ({
        accountId: r.pick([r.hexId(), badId()]),
        deviceId: r.junk(),
        nonce: r.b64(r.pick([0, 31, 32, 33])),
        signature: r.b64(64),
      }),
      () => ({ messages: [{ blob: r.pick([r.b64(0), 'a', r.b64(70_000), r.junk()]), targets: [target()] }] }),
      () => ({ messages: [{ blob: r.b64(r.int(100) + 1), targets: [target()] }], accessKeys: r.junk() }),
      () => ({ messages: r.junk() }),
      () => ({
        messages: Array.from({ length: r.int(3) + 1 }, () => ({
          blob: r.b64(8),
          targets: [{ accountId: r.hexId(), deviceIds: [1] }],
        })),
      }),
      () => ({
        signedPreKey: { id: r.junk(), publicKey: r.b64(r.pick([1, 32, 33])), signature: r.b64(64) },
        oneTimePreKeys: r.junk(),
      }),
    ])();
  const kind = r.int(100);
  const json = () => JSON.stringify(jsonBodies());
  if (kind < 1) return { method: 'POST', path: '/api/v1/messages', body: 'x'.repeat(1024 * 1024 + 10), auth: true };
  if (kind < 8)
    return {
      method: 'POST',
      path: '/api/v1/accounts',
      body: json(),
      contentType: r.pick(['text/plain', 'application/x-www-form-urlencoded', 'application/msgpack']),
      auth: false,
    };
  if (kind < 15) {
    const text = JSON.stringify(jsonBodies() ?? {});
    return {
      method: 'POST',
      path: r.pick(['/api/v1/accounts', '/api/v1/auth/session', '/api/v1/messages']),
      body: text.slice(0, r.int(text.length)) + r.pick(['{', ',', '"', '\u0000', '']),
      auth: r.int(2) === 0,
    };
  }
  if (kind < 40) return { method: 'POST', path: '/api/v1/messages', body: json(), auth: true };
  if (kind < 50) return { method: 'POST', path: '/api/v1/messages/sealed', body: json(), auth: false };
  if (kind < 60) return { method: 'POST', path: '/api/v1/accounts', body: json(), auth: false };
  if (kind < 68) return { method: 'POST', path: '/api/v1/auth/session', body: json(), auth: false };
  if (kind < 74) {
    // Every field of a prekey upload is optional, so only a present, broken field is malformed.
    const broken = r.pick([
      () => ({ signedPreKey: { id: r.int(100), publicKey: r.b64(r.pick([1, 32, 33])), signature: r.b64(64) } }),
      () => ({ oneTimePreKeys: r.pick([r.b64(5), 7, [{ id: -1, publicKey: r.b64(33) }]]) }),
      () => ({
        kemPreKeys: [{ id: r.int(100), publicKey: r.b64(r.int(2000)), signature: r.b64(r.pick([0, 63, 64])) }],
      }),
      () => r.pick([[], 3, 'keys', null]),
    ])();
    return { method: 'PUT', path: '/api/v1/keys', body: JSON.stringify(broken), auth: true };
  }
  if (kind < 80)
    return { method: 'GET', path: `/api/v1/keys/${encodeURIComponent(r.pick([badId(), r.hexId()]))}`, auth: true };
  if (kind < 85)
    return { method: 'GET', path: `/api/v1/accounts/${encodeURIComponent(badId())}`, auth: r.int(2) === 0 };
  if (kind < 88)
    return { method: 'GET', path: `/api/v1/transparency/inclusion/${encodeURIComponent(badId())}`, auth: false };
  if (kind < 91)
    return {
      method: 'DELETE',
      path: `/api/v1/messages/inbox/${encodeURIComponent(r.pick([badId(), r.hexId()]))}`,
      auth: true,
    };
  if (kind < 94)
    return { method: 'PUT', path: `/api/v1/provisioning/${encodeURIComponent(badId())}`, body: json(), auth: false };
  if (kind < 95) return archiveCase(r, json);
  if (kind < 96) return attachmentCase(r, json, badId);
  if (kind < 97) return { method: 'GET', path: `/api/v1/${r.b64(6)}`, auth: false };
  // Protected routes with a forged token.
  return { method: 'POST', path: '/api/v1/messages', body: json(), auth: false, contentType: 'application/json' };
}

/** One malformed WebSocket frame: garbage bytes, text, wrong shapes, sends to nobody, unknown ACKs, oversize. */
function wsFrame(r: Prng): { data: Uint8Array | string; oversize: boolean } {
  const kind = r.int(100);
  const pack = (v: unknown) => new Uint8Array(packr.pack(v));
  if (kind < 1) return { data: r.bytes(64 * 1024 + 1 + r.int(1000)), oversize: true };
  if (kind < 20) return { data: r.bytes(r.int(200) + 1), oversize: false };
  if (kind < 25) return { data: r.b64(r.int(50)), oversize: false };
  if (kind < 45) return { data: pack(r.junk()), oversize: false };
  if (kind < 60) {
    const t = r.pick(['send', 'ack', 'auth', 'anonymous', 'nope', 'message', 'sent', '']);
    return { data: pack({ t, rid: r.junk(), ids: r.junk(), messages: r.junk(), token: r.junk() }), oversize: false };
  }
  if (kind < 80) {
    // A well-formed send to an account that does not exist: refused, nothing stored.
    const frame = {
      t: 'send' as const,
      rid: r.int(1e6),
      messages: [{ blob: r.bytes(r.int(100) + 1), targets: [{ accountId: r.hexId(), deviceIds: [1 + r.int(3)] }] }],
    };
    return { data: encodeFrame(frame), oversize: false };
  }
  if (kind < 95) {
    return {
      data: encodeFrame({ t: 'ack', ids: Array.from({ length: r.int(5) + 1 }, () => r.hexId()) }),
      oversize: false,
    };
  }
  return { data: pack({ t: 'send', rid: -1, messages: [{ blob: r.b64(10), targets: 'all' }] }), oversize: false };
}

/** Counts per answer, and anything that was not a typed refusal. */
class Findings {
  readonly codes = new Map<string, number>();
  /** The first few inputs that got something other than a typed refusal. */
  readonly bad: string[] = [];
  failures = 0;
  count(code: string) {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }
  fail(what: string) {
    if (this.failures++ < 20) this.bad.push(what);
  }
}

describeWith('issue 7 bad input at scale', { database: true, redis: true }, ({ database, redis }) => {
  const schema = `vaultex_test_${randomBytes(6).toString('hex')}`;
  let cluster: Cluster;
  const users: TestUser[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start(database, schema, redis, { sweepMs: 5000 });
    for (let i = 0; i < 3 * WS_WORKERS_PER_INSTANCE + 1; i++) {
      users.push(await new TestUser(cluster.relays[i % 3]!.url, rng(6600 + i)).register({ oneTime: 2 }));
    }
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
    await dropSchema(database, schema);
  }, 30_000);

  it(
    `answers ${COUNT} malformed HTTP bodies and WebSocket frames with typed errors and changes nothing`,
    async () => {
      const r = prng(SEED);
      const http = new Findings();
      const ws = new Findings();
      const token = users[0]!.token();
      const httpCases = Array.from({ length: Math.ceil(COUNT / 2) }, () => httpCase(r));
      const wsCases = Array.from({ length: Math.floor(COUNT / 2) }, () => wsFrame(r));
      const before = await databaseDigest(database, schema);
      // The digest covers the data the setup wrote (accounts, devices, prekeys, tokens, the log).
      expect(Object.values(before).filter((d) => !d.startsWith('0 ')).length).toBeGreaterThan(4);
      const started = performance.now();

      let nextHttp = 0;
      const httpWorker = async (w: number) => {
        for (let i = nextHttp++; i < httpCases.length; i = nextHttp++) {
          const c = httpCases[i]!;
          const base = cluster.relays[(i + w) % 3]!.url;
          const headers: Record<string, string> = {};
          if (c.body !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
          if (c.auth) headers.authorization = `Bearer ${token}`;
          else if (c.forged) headers.authorization = `Bearer ${c.forged}`;
          if (c.ifMatch !== undefined) headers['if-match'] = c.ifMatch;
          const res = await fetch(`${base}${c.path}`, {
            method: c.method,
            headers,
            ...(c.body !== undefined ? { body: c.body } : {}),
          });
          const text = await res.text();
          let code: unknown;
          try {
            code = JSON.parse(text)?.error?.code;
          } catch {
            // not JSON: reported below
          }
          if (!isApiErrorCode(code)) http.fail(`${c.method} ${c.path} -> ${res.status} ${text.slice(0, 120)}`);
          else if (API_ERROR_CODES[code].status !== res.status)
            http.fail(`${c.method} ${c.path} -> ${res.status} with ${code}`);
          else http.count(code);
        }
      };

      let nextWs = 0;
      // Each socket is authenticated as a device that nothing is ever sent to.
      const wsWorker = async (user: TestUser, url: string) => {
        let socket: WebSocket | undefined;
        let inbox: ServerFrame[] = [];
        let wake: (() => void) | undefined;
        let closed: number | undefined;
        let draining = false;
        const open = async () => {
          closed = undefined;
          draining = true;
          inbox = [];
          const s = new WebSocket(url);
          socket = s;
          s.on('message', (d: Buffer) => {
            if (socket !== s) return;
            const f = decodeServerFrame(new Uint8Array(d));
            if (!f.ok) ws.fail(`undecodable server frame: ${f.error}`);
            // The periodic mailbox sweep ends with queue_empty too: it answers nothing.
            else if (f.frame.t !== 'queue_empty') inbox.push(f.frame);
            else if (draining) {
              draining = false;
              inbox.push(f.frame);
            }
            wake?.();
          });
          s.on('close', (code) => {
            if (socket !== s) return;
            closed = code;
            wake?.();
          });
          s.on('error', () => {});
          await new Promise<void>((resolve, reject) => {
            s.once('open', () => resolve());
            s.once('error', reject);
          });
          s.send(encodeFrame({ t: 'auth', token: user.token() }));
          const ok = await answer(5000);
          if (ok?.t !== 'auth_ok') throw new Error(`auth failed: ${JSON.stringify(ok)} (closed ${closed})`);
          // Nothing is pending for these devices.
          if ((await answer(5000))?.t !== 'queue_empty') throw new Error('no queue_empty');
        };
        const answer = async (timeoutMs: number): Promise<ServerFrame | undefined> => {
          const deadline = Date.now() + timeoutMs;
          while (inbox.length === 0 && closed === undefined && Date.now() < deadline) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, Math.max(1, deadline - Date.now()));
            });
            wake = undefined;
          }
          return inbox.shift();
        };
        await open();
        for (let i = nextWs++; i < wsCases.length; i = nextWs++) {
          const c = wsCases[i]!;
          socket!.send(c.data);
          const f = await answer(5000);
          if (c.oversize) {
            // The ws layer refuses the frame and closes with 1009 (message too big).
            if (f !== undefined || closed !== CLOSE_CODES.TOO_LARGE)
              ws.fail(`oversize -> ${JSON.stringify(f)} close ${closed}`);
            else ws.count('FRAME_TOO_LARGE');
            await open();
            continue;
          }
          if (f === undefined) ws.fail(`no answer to frame ${i} (closed ${closed})`);
          else if (f.t !== 'error' || !isApiErrorCode(f.code))
            ws.fail(`frame ${i} -> ${JSON.stringify(f).slice(0, 200)}`);
          else ws.count(f.code);
          if (closed !== undefined) await open();
        }
        socket!.close();
      };

      await Promise.all([
        ...Array.from({ length: HTTP_WORKERS }, (_, w) => httpWorker(w)),
        ...Array.from({ length: 3 * WS_WORKERS_PER_INSTANCE }, (_, w) =>
          wsWorker(users[w + 1]!, `${cluster.relays[w % 3]!.url.replace('http', 'ws')}/ws`),
        ),
      ]);
      const elapsed = Math.round(performance.now() - started);
      console.log(
        `fuzz: ${COUNT} inputs in ${elapsed} ms; HTTP ${JSON.stringify(Object.fromEntries(http.codes))}; WS ${JSON.stringify(Object.fromEntries(ws.codes))}`,
      );
      expect({ failures: http.failures, first: http.bad }).toEqual({ failures: 0, first: [] });
      expect({ failures: ws.failures, first: ws.bad }).toEqual({ failures: 0, first: [] });
      const answered = (f: Findings) => [...f.codes.values()].reduce((a, b) => a + b, 0);
      expect(answered(http)).toBe(httpCases.length);
      expect(answered(ws)).toBe(wsCases.length);
      for (const relay of cluster.relays) {
        expect(relay.alive).toBe(true);
        expect(await healthy(relay.url)).toBe(true);
      }
      await sleep(300);
      expect(await databaseDigest(database, schema)).toEqual(before);
    },
    60_000 + COUNT * 3,
  );

  // Fastify's router refuses these before any route runs; `frameworkErrors` in createServer
  // answers them in the API's error model.
  it('answers over-long path parameters and bad percent-encoding with typed errors', async () => {
    const token = users[0]!.token();
    const paths = [
      ['GET', `/api/v1/keys/${'a'.repeat(101)}`],
      ['GET', `/api/v1/accounts/${'a'.repeat(101)}`],
      ['DELETE', `/api/v1/messages/inbox/${'a'.repeat(101)}`],
      ['GET', '/api/v1/keys/%zz'],
      ['GET', '/api/v1/accounts/%E0%A4%A'],
    ] as const;
    for (const [method, path] of paths) {
      const res = await fetch(`${cluster.relays[0]!.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
      const body = (await res.json()) as { error?: { code?: unknown } };
      expect(isApiErrorCode(body.error?.code), `${path} -> ${res.status} ${JSON.stringify(body)}`).toBe(true);
      expect(res.status).toBe(400);
    }
  });
});

/**
 * Test support: start the real relay on 127.0.0.1 port 0 with a temporary SQLite file,
 * capture its logs, and talk to it over real HTTP (fetch) and WebSocket (ws) with real
 * keys from @vaultex/protocol.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  authProofMessage,
  type ClientFrame,
  type DevicePreKeys,
  decodeServerFrame,
  encodeFrame,
  fromHex,
  linkProofMessage,
  registrationProofMessage,
  type ServerFrame,
  toBase64Url,
  toHex,
} from '@vaultex/api';
import {
  createDevice,
  type DeviceIdentity,
  type DeviceListEntry,
  type Ed25519KeyPair,
  encodeDeviceCertificate,
  encodeDeviceList,
  generateEd25519KeyPair,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  type PreKeyLookup,
  type RandomSource,
  seededRandom,
  signDeviceList,
  userIdFromIdentityKey,
} from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';
import WebSocket from 'ws';
import type * as z from 'zod';
import { createServer, type RelayServer, type ServerConfigInput, SqliteStorage } from '../src/index.js';

export const provider = nodeProvider;

/** A deterministic random source from a label. */
export function rng(label: number): RandomSource {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, label);
  return seededRandom(seed);
}

/** A running relay with its database file and captured log lines. */
export interface TestServer {
  readonly server: RelayServer;
  readonly storage: SqliteStorage;
  readonly url: string;
  readonly wsUrl: string;
  readonly metricsUrl: string | undefined;
  readonly dir: string;
  readonly file: string;
  readonly logs: string[];
  close(): Promise<void>;
}

/** Start a relay on 127.0.0.1:0 with a fresh SQLite file. */
export async function startTestServer(
  config: ServerConfigInput = {},
  options: { clock?: () => number; dir?: string } = {},
): Promise<TestServer> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'vaultex-server-'));
  const file = join(dir, 'vaultex.db');
  const storage = SqliteStorage.open(file);
  const logs: string[] = [];
  const server = await createServer({
    config: { host: '127.0.0.1', port: 0, metricsPort: -1, logLevel: 'info', ...config },
    storage,
    ...(options.clock ? { clock: options.clock } : {}),
    logger: { stream: { write: (line: string) => void logs.push(line) } },
  });
  const { url, metricsUrl } = await server.listen();
  return {
    server,
    storage,
    url,
    wsUrl: `${url.replace('http', 'ws')}/ws`,
    metricsUrl,
    dir,
    file,
    logs,
    async close() {
      await server.close();
      await storage.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The outcome of an HTTP call. */
export interface Reply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read JSON bodies freely; schemas check them where it matters
  readonly body: any;
  readonly headers: Headers;
}

/** Call the relay with a JSON body (or raw bytes) and an optional bearer token. */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; raw?: Uint8Array; contentType?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | ArrayBuffer | undefined;
  if (options.raw !== undefined) {
    body = options.raw.slice().buffer as ArrayBuffer;
    headers['content-type'] = options.contentType ?? 'application/octet-stream';
  } else if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (e.g. the HTML page)
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const b64 = toBase64Url;

/** A device's prekeys: the public upload the API takes, and the private lookup a session needs. */
export function prekeysFor(
  device: Ed25519KeyPair,
  random: RandomSource,
  options: { oneTime?: number; kem?: number; start?: number } = {},
): { upload: DevicePreKeysJson; lookup: PreKeyLookup } {
  const start = options.start ?? 1;
  const spk = generateSignedPreKey(device, start, 0, provider, random);
  const lastResort = generateKemPreKey(device, start, true, 0, provider, random);
  const oneTime = generateOneTimePreKeys(start, options.oneTime ?? 5, provider, random);
  const kem = Array.from({ length: options.kem ?? 1 }, (_, i) =>
    generateKemPreKey(device, start + 1 + i, false, 0, provider, random),
  );
  const upload = {
    signedPreKey: { id: spk.id, publicKey: b64(spk.keyPair.publicKey), signature: b64(spk.signature) },
    lastResortKemPreKey: {
      id: lastResort.id,
      publicKey: b64(lastResort.keyPair.publicKey),
      signature: b64(lastResort.signature),
    },
    oneTimePreKeys: oneTime.map((k) => ({ id: k.id, publicKey: b64(k.keyPair.publicKey) })),
    kemPreKeys: kem.map((k) => ({ id: k.id, publicKey: b64(k.keyPair.publicKey), signature: b64(k.signature) })),
  };
  const lookup: PreKeyLookup = {
    signedPreKey: (id) => (id === spk.id ? spk : undefined),
    oneTimePreKey: (id) => oneTime.find((k) => k.id === id),
    kemPreKey: (id) => (id === lastResort.id ? lastResort : kem.find((k) => k.id === id)),
  };
  return { upload, lookup };
}

/** The JSON form of a device's prekeys. */
export type DevicePreKeysJson = z.input<typeof DevicePreKeys>;

/** A user with an account key and devices, driving the relay like a client would. */
export class TestUser {
  readonly account: Ed25519KeyPair;
  readonly accountId: Uint8Array;
  readonly devices: DeviceIdentity[] = [];
  readonly tokens = new Map<number, string>();
  readonly accessKey: Uint8Array;
  /** Private prekeys per device id (for sessions in tests). */
  readonly prekeys = new Map<number, PreKeyLookup>();
  counter = 1;

  constructor(
    private readonly base: string,
    readonly random: RandomSource,
  ) {
    this.account = generateEd25519KeyPair(provider, random);
    this.accountId = userIdFromIdentityKey(this.account.publicKey, provider);
    this.accessKey = random(16);
  }

  get id(): string {
    return toHex(this.accountId);
  }

  deviceList(entries: readonly DeviceListEntry[]): Uint8Array {
    return encodeDeviceList(signDeviceList(this.account, this.counter, entries, 0, provider));
  }

  entry(d: DeviceIdentity): DeviceListEntry {
    return { deviceId: d.deviceId, deviceKey: d.publicKey, name: `device ${d.deviceId}` };
  }

  async nonce(): Promise<Uint8Array> {
    const r = await call(this.base, 'POST', '/api/v1/auth/challenge');
    if (r.status !== 200) throw new Error(`challenge failed: ${r.status} ${JSON.stringify(r.body)}`);
    return Uint8Array.from(Buffer.from(r.body.nonce, 'base64url'));
  }

  /** The registration body for a first device (not sent). */
  async registrationBody(deviceId = 1, prekeyOptions: { oneTime?: number; kem?: number } = {}) {
    const device = createDevice(this.account, deviceId, 0, provider, this.random);
    const certificate = encodeDeviceCertificate(device.certificate);
    const list = this.deviceList([this.entry(device)]);
    const nonce = await this.nonce();
    const proof = registrationProofMessage(nonce, certificate, list);
    const keys = prekeysFor(device, this.random, prekeyOptions);
    this.prekeys.set(deviceId, keys.lookup);
    const body = {
      identityKey: b64(this.account.publicKey),
      deviceCertificate: b64(certificate),
      deviceList: b64(list),
      prekeys: keys.upload,
      accessKey: b64(this.accessKey),
      nonce: b64(nonce),
      accountSignature: b64(provider.ed25519Sign(this.account.secretKey, proof)),
      deviceSignature: b64(provider.ed25519Sign(device.secretKey, proof)),
    };
    return { device, body };
  }

  /** Register with one device and log it in. */
  async register(prekeyOptions: { oneTime?: number; kem?: number } = {}): Promise<this> {
    const { device, body } = await this.registrationBody(1, prekeyOptions);
    const r = await call(this.base, 'POST', '/api/v1/accounts', { body });
    if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
    this.devices.push(device);
    await this.login(device.deviceId);
    return this;
  }

  /** Link a further device and log it in. */
  async link(deviceId: number, prekeyOptions: { oneTime?: number; kem?: number } = {}): Promise<DeviceIdentity> {
    const device = createDevice(this.account, deviceId, 0, provider, this.random);
    this.counter++;
    const certificate = encodeDeviceCertificate(device.certificate);
    const list = this.deviceList([...this.devices, device].map((d) => this.entry(d)));
    const nonce = await this.nonce();
    const keys = prekeysFor(device, this.random, prekeyOptions);
    this.prekeys.set(deviceId, keys.lookup);
    const r = await call(this.base, 'POST', `/api/v1/accounts/${this.id}/devices`, {
      body: {
        deviceCertificate: b64(certificate),
        deviceList: b64(list),
        prekeys: keys.upload,
        nonce: b64(nonce),
        deviceSignature: b64(provider.ed25519Sign(device.secretKey, linkProofMessage(nonce, certificate, list))),
      },
    });
    if (r.status !== 201) throw new Error(`link failed: ${r.status} ${JSON.stringify(r.body)}`);
    this.devices.push(device);
    await this.login(deviceId);
    return device;
  }

  /** Sign a challenge with a device key and keep the token. */
  async login(deviceId = 1): Promise<string> {
    const device = this.device(deviceId);
    const nonce = await this.nonce();
    const r = await call(this.base, 'POST', '/api/v1/auth/session', {
      body: {
        accountId: this.id,
        deviceId,
        nonce: b64(nonce),
        signature: b64(provider.ed25519Sign(device.secretKey, authProofMessage(nonce, this.accountId, deviceId))),
      },
    });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
    this.tokens.set(deviceId, r.body.token);
    return r.body.token;
  }

  device(deviceId: number): DeviceIdentity {
    const d = this.devices.find((x) => x.deviceId === deviceId);
    if (!d) throw new Error(`no device ${deviceId}`);
    return d;
  }

  token(deviceId = 1): string {
    const t = this.tokens.get(deviceId);
    if (!t) throw new Error(`device ${deviceId} not logged in`);
    return t;
  }

  /** Targets covering every device of this user. */
  targets(): { accountId: string; deviceIds: number[] }[] {
    return [{ accountId: this.id, deviceIds: this.devices.map((d) => d.deviceId) }];
  }
}

/** A WebSocket client that queues decoded server frames. */
export class WsClient {
  readonly frames: ServerFrame[] = [];
  private waiters: { match: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void }[] = [];
  closed: { code: number; reason: string } | undefined;
  private closeWaiters: ((c: { code: number; reason: string }) => void)[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const decoded = decodeServerFrame(new Uint8Array(data));
      if (!decoded.ok) throw new Error(`server sent an invalid frame: ${decoded.error}`);
      const waiter = this.waiters.find((w) => w.match(decoded.frame));
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(decoded.frame);
      } else {
        this.frames.push(decoded.frame);
      }
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const w of this.closeWaiters) w(this.closed);
    });
  }

  /** Connect (rejects on an HTTP refusal). */
  static connect(url: string, options: WebSocket.ClientOptions = {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, options);
      socket.once('open', () => resolve(new WsClient(socket)));
      socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      socket.once('error', reject);
    });
  }

  /** Connect and authenticate as a device; resolves after auth_ok. */
  static async device(url: string, token: string): Promise<WsClient> {
    const c = await WsClient.connect(url);
    c.send({ t: 'auth', token });
    await c.next((f) => f.t === 'auth_ok');
    return c;
  }

  send(frame: ClientFrame): void {
    this.socket.send(encodeFrame(frame));
  }

  sendRaw(data: Uint8Array | string): void {
    this.socket.send(data);
  }

  /** The next frame matching `match` (already queued or future). */
  next(match: (f: ServerFrame) => boolean = () => true, timeoutMs = 5000): Promise<ServerFrame> {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
  }

  /** Collect `message` frames until `queue_empty`. */
  async drain(): Promise<Extract<ServerFrame, { t: 'message' }>[]> {
    const out: Extract<ServerFrame, { t: 'message' }>[] = [];
    for (;;) {
      const f = await this.next((x) => x.t === 'message' || x.t === 'queue_empty');
      if (f.t === 'queue_empty') return out;
      if (f.t === 'message') out.push(f);
    }
  }

  waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for close')), timeoutMs);
      this.closeWaiters.push((c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

export { b64, fromHex, toHex };

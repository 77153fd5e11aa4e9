/**
 * Test support for the client core: the real relay in-process (SQLite in a temp folder,
 * loopback, port 0, generous rate limits), clients on memory stores with the Node deps
 * (accounts, friends, linked devices), starting and stopping them, small waiting helpers
 * and deterministic payloads.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage, type StartedServer, startServer } from '@vaultex/server';
import {
  type ClientEventName,
  type ClientEvents,
  type ClientOptions,
  type ClientStore,
  type FetchLike,
  openMemoryStore,
  VaultexClient,
} from '../src/index.js';
import { nodeDeps } from '../src/node/index.js';

/** Small prekey batches: ML-KEM key generation dominates client set-up time. */
export const TEST_OPTIONS: ClientOptions = { oneTimePreKeys: 5, kemPreKeys: 2, keepaliveMs: 5000 };

/** A relay running in this process. */
export interface TestRelay {
  url: string;
  storage: SqliteStorage;
  server: StartedServer;
  /** The relay's data directory: a fresh temp folder that `close` removes. */
  dir: string;
  /** The relay's SQLite file in `dir`, for tests that read what it stored. */
  databaseFile: string;
  /** Stop listening (the database stays). */
  stop(): Promise<void>;
  /** Listen again on the same port and database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** The relay's rate limits, lifted far above what a test does (a thousand registrations from one address). */
const LIMITS = {
  registrationsPerHour: 100_000,
  challengesPerMinute: 100_000,
  prekeyFetchesPerHour: 100_000,
  wsConnectionsPerMinute: 100_000,
  sendsPerAccountPerMinute: 100_000,
  sealedSendsPerRecipientPerMinute: 100_000,
  wsFramesPerSecond: 10_000,
  searchesPerMinute: 10_000,
};

/** Start a relay on 127.0.0.1 with a fresh SQLite file. */
export async function startRelay(): Promise<TestRelay> {
  const dir = mkdtempSync(join(tmpdir(), 'vaultex-client-relay-'));
  const file = join(dir, 'vaultex.db');
  const storage = SqliteStorage.open(file);
  const config = (port: number) => ({
    host: '127.0.0.1',
    port,
    metricsPort: -1,
    logLevel: 'warn' as const,
    dataDir: dir,
    limits: LIMITS,
  });
  let server = await startServer({ storage, config: config(0) });
  const port = Number(new URL(server.url).port);
  let running = true;
  const relay: TestRelay = {
    url: server.url,
    storage,
    server,
    dir,
    databaseFile: file,
    async stop() {
      if (!running) return;
      running = false;
      await server.close();
    },
    async restart() {
      if (running) return;
      server = await startServer({ storage, config: config(port) });
      relay.server = server;
      running = true;
    },
    async close() {
      await relay.stop();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return relay;
}

/** A client on a memory store. */
export interface TestClient {
  client: VaultexClient;
  store: ClientStore;
  seedPhrase?: string;
}

/**
 * Create an account on `relay` with a memory store. `extra.options` override
 * {@link TEST_OPTIONS}; the device is named `<name>-1` unless `extra.deviceName` says otherwise.
 */
export async function newClient(
  relay: TestRelay,
  name: string,
  extra: { fetch?: FetchLike; deviceName?: string; options?: ClientOptions } = {},
): Promise<TestClient> {
  const store = await openMemoryStore();
  const { client, seedPhrase } = await VaultexClient.create({
    store,
    serverUrl: relay.url,
    displayName: name,
    deps: nodeDeps(extra.fetch ? { fetch: extra.fetch } : {}),
    options: { ...TEST_OPTIONS, deviceName: extra.deviceName ?? `${name}-1`, ...extra.options },
  });
  return { client, store, seedPhrase };
}

/** Someone to create: a display name, or a display name and this device's name. */
export type Person = string | { readonly name: string; readonly deviceName: string };

/** Create an account for each person (in order) on `relay`, then make every pair contacts. */
export async function newFriends<const P extends readonly Person[]>(
  relay: TestRelay,
  ...people: P
): Promise<{ [K in keyof P]: TestClient }> {
  const out: TestClient[] = [];
  for (const p of people) {
    out.push(
      typeof p === 'string' ? await newClient(relay, p) : await newClient(relay, p.name, { deviceName: p.deviceName }),
    );
  }
  for (let i = 0; i < out.length; i++) {
    for (let j = i + 1; j < out.length; j++) await befriend(out[i]!.client, out[j]!.client);
  }
  // The mapped tuple type is what the loop built; TypeScript cannot follow it through push.
  return out as { [K in keyof P]: TestClient };
}

/** A device linked to an existing account: its link code and the device ID the approver gave it. */
export interface LinkedDevice extends TestClient {
  code: string;
  deviceId: number;
}

/** Link a new device (memory store) to `primary`'s account: it shows a code, `primary` approves it. */
export async function linkDevice(
  relay: TestRelay,
  primary: VaultexClient,
  deviceName = 'phone',
): Promise<LinkedDevice> {
  const store = await openMemoryStore();
  const request = VaultexClient.createLinkCode({ serverUrl: relay.url, deps: nodeDeps() });
  const linking = VaultexClient.completeLink({
    store,
    request,
    deps: nodeDeps(),
    options: { ...TEST_OPTIONS, deviceName },
    pollMs: 50,
  });
  const deviceId = await primary.devices.approveLink(request.code);
  return { client: await linking, store, code: request.code, deviceId };
}

/** Make two clients contacts of each other (exchange codes). */
export async function befriend(a: VaultexClient, b: VaultexClient): Promise<void> {
  await a.contacts.add(b.id().contactCode);
  await b.contacts.add(a.id().contactCode);
}

/** Poll until `check` returns a truthy value. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 15_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Record every payload of one event. */
export function record<E extends ClientEventName>(client: VaultexClient, event: E): ClientEvents[E][] {
  const out: ClientEvents[E][] = [];
  client.on(event, (p) => out.push(p));
  return out;
}

/** Wait until message `id` is among the `message` events `got` recorded (see {@link record}); returns its event. */
export async function arrived(
  got: readonly ClientEvents['message'][],
  id: string,
  what: string,
): Promise<ClientEvents['message']> {
  return waitFor(() => got.find((e) => e.message.id === id), what);
}

/** Wait until the client's socket is online. */
export async function online(client: VaultexClient): Promise<void> {
  await waitFor(() => client.connection === 'online', 'online');
}

/** Start `clients`, note them in `running` (once each) and wait until all are online. */
export async function startOnline(running: VaultexClient[], ...clients: VaultexClient[]): Promise<void> {
  for (const c of clients) {
    if (!running.includes(c)) running.push(c);
    c.start();
  }
  await Promise.all(clients.map(online));
}

/** Stop the clients that exist, in order, then close the relay (if it started). */
export async function shutdown(
  relay: TestRelay | undefined,
  clients: Iterable<VaultexClient | undefined>,
): Promise<void> {
  for (const c of clients) await c?.stop();
  await relay?.close();
}

/** Deterministic bytes (a linear congruential generator): sizeable test payloads without randomness. */
export function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

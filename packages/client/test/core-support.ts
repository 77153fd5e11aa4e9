/**
 * Test support for the client core: the real relay in-process (SQLite in a temp folder,
 * loopback, port 0, generous rate limits), clients on memory stores with the Node deps,
 * and small waiting helpers.
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
  /** Stop listening (the database stays). */
  stop(): Promise<void>;
  /** Listen again on the same port and database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

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

/** Create an account on `relay` with a memory store. */
export async function newClient(
  relay: TestRelay,
  name: string,
  extra: { fetch?: FetchLike; deviceName?: string } = {},
): Promise<TestClient> {
  const store = await openMemoryStore();
  const { client, seedPhrase } = await VaultexClient.create({
    store,
    serverUrl: relay.url,
    displayName: name,
    deps: nodeDeps(extra.fetch ? { fetch: extra.fetch } : {}),
    options: { ...TEST_OPTIONS, deviceName: extra.deviceName ?? `${name}-1` },
  });
  return { client, store, seedPhrase };
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

/** Wait until the client's socket is online. */
export async function online(client: VaultexClient): Promise<void> {
  await waitFor(() => client.connection === 'online', 'online');
}

/**
 * Browser wiring of the client: the pure-TS noble provider, the page's fetch and
 * WebSocket, and one encrypted IndexedDB database per profile (mirrors node-client.ts).
 */
import { nobleProvider } from '@vaultex/protocol';
import { VaultexClient } from '../client.js';
import type { ClientDeps, ClientOptions } from '../context.js';
import { openWithStore } from '../open-with-store.js';
import type { StoreKdfParams } from '../storage/passphrase-key.js';
import type { WebSocketConstructor } from '../transport/socket.js';
import { openIndexedDbStore } from './indexeddb-store.js';

/** The browser dependencies: noble provider, global fetch and WebSocket, system clock and randomness. */
export function browserDeps(overrides: Partial<ClientDeps> = {}): ClientDeps {
  const globals = globalThis as { WebSocket?: WebSocketConstructor };
  return {
    provider: nobleProvider,
    ...(globals.WebSocket ? { WebSocket: globals.WebSocket } : {}),
    ...overrides,
  };
}

/** Where a browser profile lives. */
export interface BrowserProfileInput {
  /** The IndexedDB database name (one per account). */
  readonly name: string;
  readonly passphrase: string;
  /** Argon2id cost for a new profile database. */
  readonly argon2?: StoreKdfParams;
  readonly options?: ClientOptions;
  readonly deps?: Partial<ClientDeps>;
}

function store(input: BrowserProfileInput) {
  return openIndexedDbStore({
    name: input.name,
    passphrase: input.passphrase,
    ...(input.argon2 ? { argon2: input.argon2 } : {}),
  });
}

function common(input: BrowserProfileInput) {
  return { deps: browserDeps(input.deps), ...(input.options ? { options: input.options } : {}) };
}

/**
 * Open the account in a profile database.
 * @throws ClientError WRONG_PASSPHRASE, NO_PROFILE, STORAGE_FAILED.
 */
export async function openBrowserClient(input: BrowserProfileInput): Promise<VaultexClient> {
  return openWithStore(
    () => store(input),
    (s) => VaultexClient.open({ store: s, ...common(input) }),
  );
}

/**
 * Create an account in a new profile database.
 * @throws ClientError PROFILE_EXISTS, STORAGE_FAILED; RelayError; NETWORK_ERROR.
 */
export async function createBrowserClient(
  input: BrowserProfileInput & { readonly serverUrl: string; readonly displayName?: string },
): Promise<{ client: VaultexClient; seedPhrase: string }> {
  return openWithStore(
    () => store(input),
    (s) =>
      VaultexClient.create({
        store: s,
        serverUrl: input.serverUrl,
        ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
        ...common(input),
      }),
  );
}

/**
 * Restore an account from its seed phrase into a new profile database.
 * @throws InvalidSeedPhraseError; ClientError PROFILE_EXISTS; RelayError; NETWORK_ERROR.
 */
export async function restoreBrowserClient(
  input: BrowserProfileInput & {
    readonly serverUrl: string;
    readonly seedPhrase: string;
    readonly displayName?: string;
  },
): Promise<VaultexClient> {
  return openWithStore(
    () => store(input),
    (s) =>
      VaultexClient.restore({
        store: s,
        serverUrl: input.serverUrl,
        seedPhrase: input.seedPhrase,
        ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
        ...common(input),
      }),
  );
}

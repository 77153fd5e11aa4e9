/**
 * Node wiring of the client: the Node crypto provider, the `ws` WebSocket, the global
 * fetch and a SQLCipher profile folder per account.
 */
import { nodeProvider } from '@vaultex/protocol/node';
import WebSocket from 'ws';
import { VaultexClient } from '../client.js';
import type { ClientDeps, ClientOptions } from '../context.js';
import { openWithStore } from '../open-with-store.js';
import type { LinkRequest } from '../provisioning.js';
import type { StoreKdfParams } from '../storage/passphrase-key.js';
import type { WebSocketConstructor } from '../transport/socket.js';
import { openSqlCipherStore } from './sqlcipher-store.js';

/** The Node dependencies: node:crypto provider, `ws`, global fetch, system clock and randomness. */
export function nodeDeps(overrides: Partial<ClientDeps> = {}): ClientDeps {
  return {
    provider: nodeProvider,
    // ws implements the browser WebSocket API the client uses (binaryType, on* handlers, send, close).
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    ...overrides,
  };
}

/** Where a Node profile lives. */
export interface NodeProfileInput {
  /** The profile folder (one per account). */
  readonly profileDir: string;
  readonly passphrase: string;
  /** Argon2id cost for a new profile folder (tests use small ones). */
  readonly argon2?: StoreKdfParams;
  readonly options?: ClientOptions;
  readonly deps?: Partial<ClientDeps>;
}

async function store(input: NodeProfileInput) {
  return openSqlCipherStore({
    directory: input.profileDir,
    passphrase: input.passphrase,
    ...(input.argon2 ? { argon2: input.argon2 } : {}),
  });
}

function common(input: NodeProfileInput) {
  return { deps: nodeDeps(input.deps), ...(input.options ? { options: input.options } : {}) };
}

/**
 * Open the account in a profile folder.
 * @throws ClientError WRONG_PASSPHRASE, NO_PROFILE.
 */
export async function openNodeClient(input: NodeProfileInput): Promise<VaultexClient> {
  return openWithStore(
    () => store(input),
    (s) => VaultexClient.open({ store: s, ...common(input) }),
  );
}

/**
 * Create an account in a new profile folder.
 * @throws ClientError PROFILE_EXISTS; RelayError; NETWORK_ERROR.
 */
export async function createNodeClient(
  input: NodeProfileInput & { readonly serverUrl: string; readonly displayName?: string },
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
 * Restore an account from its seed phrase into a new profile folder.
 * @throws InvalidSeedPhraseError; ClientError PROFILE_EXISTS; RelayError.
 */
export async function restoreNodeClient(
  input: NodeProfileInput & { readonly serverUrl: string; readonly seedPhrase: string; readonly displayName?: string },
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

/**
 * Complete a device link into a new profile folder (after `VaultexClient.createLinkCode`).
 * @throws ClientError LINK_TIMEOUT, INVALID_LINK_CODE; RelayError.
 */
export async function linkNodeClient(
  input: NodeProfileInput & { readonly request: LinkRequest; readonly timeoutMs?: number },
): Promise<VaultexClient> {
  return openWithStore(
    () => store(input),
    (s) =>
      VaultexClient.completeLink({
        store: s,
        request: input.request,
        ...(input.timeoutMs !== undefined ? { timeoutMs: input.timeoutMs } : {}),
        ...common(input),
      }),
  );
}

/**
 * Restore a profile backup (`client.backup.export`) into a new profile folder.
 * @throws BackupDecryptionError (protocol) for a wrong password or damaged file; ClientError
 *   BACKUP_INVALID, PROFILE_EXISTS. The caller deletes the folder on failure.
 */
export async function importNodeBackup(
  input: NodeProfileInput & { readonly backup: Uint8Array; readonly password: string },
): Promise<VaultexClient> {
  return openWithStore(
    () => store(input),
    (s) => VaultexClient.importBackup({ store: s, backup: input.backup, password: input.password, ...common(input) }),
  );
}

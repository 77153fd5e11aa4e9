import type { ClientStore } from './storage/client-store.js';

/**
 * Hand an open store to `use` (a VaultexClient factory, which then owns it). If `use`
 * throws, the store is closed before the error propagates, so a failed create, restore,
 * open or link never leaves a profile locked open; a failure to close is dropped so the
 * caller sees the error that mattered.
 */
export async function withStore<T>(store: ClientStore, use: (store: ClientStore) => Promise<T>): Promise<T> {
  try {
    return await use(store);
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}

/** Open a store and hand it to `use` ({@link withStore}). Shared by the Node and browser entries. */
export async function openWithStore<T>(
  open: () => Promise<ClientStore>,
  use: (store: ClientStore) => Promise<T>,
): Promise<T> {
  return withStore(await open(), use);
}

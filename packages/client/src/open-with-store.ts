import type { ClientStore } from './storage/client-store.js';

/**
 * Open a store and hand it to `use` (a VaultexClient factory, which then owns it). If `use`
 * throws, the store is closed before the error propagates, so a failed create, restore,
 * open or link never leaves a profile locked open. Shared by the Node and browser entries.
 */
export async function openWithStore<T>(
  open: () => Promise<ClientStore>,
  use: (store: ClientStore) => Promise<T>,
): Promise<T> {
  const store = await open();
  try {
    return await use(store);
  } catch (e) {
    await store.close();
    throw e;
  }
}

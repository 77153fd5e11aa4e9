/**
 * `@vaultex/client/browser`: the browser-only entry point. Everything in the main entry,
 * plus the IndexedDB profile store.
 */
export * from '../index.js';
export { type IndexedDbStoreOptions, openIndexedDbStore } from './indexeddb-store.js';

/**
 * `@vaultex/client/browser`: the browser-only entry point. Everything in the main entry,
 * plus the IndexedDB profile store and the browser wiring.
 */
export * from '../index.js';
export {
  type BrowserProfileInput,
  browserDeps,
  createBrowserClient,
  openBrowserClient,
  restoreBrowserClient,
} from './browser-client.js';
export { type IndexedDbStoreOptions, openIndexedDbStore } from './indexeddb-store.js';

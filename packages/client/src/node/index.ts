/**
 * `@vaultex/client/node`: the Node-only entry point. Everything in the main entry, plus
 * the SQLCipher profile store.
 */
export * from '../index.js';
export {
  createNodeClient,
  importNodeBackup,
  linkNodeClient,
  type NodeProfileInput,
  nodeDeps,
  openNodeClient,
  restoreNodeClient,
} from './node-client.js';
export { deleteSqlCipherProfile, openSqlCipherStore, type SqlCipherStoreOptions } from './sqlcipher-store.js';

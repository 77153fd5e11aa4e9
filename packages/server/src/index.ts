/**
 * `@vaultex/server`: the VAULTEX relay. `startServer` runs it on SQLite (what `npm start`
 * and `vaultex serve` use); `createServer` builds it around any {@link Storage}.
 */
export { type Bus, type BusEvent, InProcessBus } from './bus.js';
export { loadConfig, parseConfig, ServerConfig, type ServerConfigInput } from './config.js';
export { ApiFailure } from './errors.js';
export type { LoggerOptions } from './logger.js';
export {
  createServer,
  type RelayServer,
  type ServerOptions,
  type StartedServer,
  type StartOptions,
  startServer,
} from './server.js';
export { escapeLike, SqliteStorage } from './storage/sqlite/sqlite-storage.js';
export type * from './storage/storage.js';
export { SERVER_VERSION } from './version.js';

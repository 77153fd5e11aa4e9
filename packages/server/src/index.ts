/**
 * `@vaultex/server`: the VAULTEX relay. `startServer` runs it on SQLite (what `npm start`
 * and `vaultex serve` use); `createServer` builds it around any {@link Storage}.
 */
export { type Bus, type BusEvent, InProcessBus } from './bus.js';
export { loadConfig, parseConfig, ServerConfig, type ServerConfigInput } from './config.js';
export { ApiFailure } from './errors.js';
export type { LoggerOptions } from './logger.js';
export { RedisBus, type RedisBusOptions, type RedisBusStats } from './redis-bus.js';
export { accountLimiters, RedisRateSync, type RedisRateSyncOptions } from './redis-rate-sync.js';
export {
  createServer,
  type RelayServer,
  type ServerOptions,
  type StartedServer,
  type StartOptions,
  startServer,
} from './server.js';
export { escapeLike } from './storage/checks.js';
export {
  type CopyOptions,
  type CopyReport,
  copySqliteToPostgres,
  type MigrateArgs,
  parseMigrateArgs,
  runMigrate,
} from './storage/postgres/copy-from-sqlite.js';
export { type PostgresOptions, PostgresStorage } from './storage/postgres/postgres-storage.js';
export { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
export type * from './storage/storage.js';
export { SERVER_VERSION } from './version.js';

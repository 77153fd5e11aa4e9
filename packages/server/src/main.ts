#!/usr/bin/env node
/**
 * The relay's command-line entry (`npm start`, `node packages/server/dist/main.js`):
 * configuration from VAULTEX_* variables and flags, graceful shutdown on SIGINT/SIGTERM.
 * `migrate --from sqlite:PATH --to postgres://URL` copies a SQLite database to PostgreSQL.
 */
import { loadConfig } from './config.js';
import { startServer } from './server.js';

// `migrate --from sqlite:PATH --to postgres://...`: copy the embedded database, then exit.
if (process.argv[2] === 'migrate') {
  const { runMigrate } = await import('./storage/postgres/copy-from-sqlite.js');
  process.exit(await runMigrate(process.argv.slice(3)));
}

const config = loadConfig(process.env, process.argv.slice(2));
const server = await startServer({ config });
server.context.log.info({ url: server.url, metrics: server.metricsUrl }, 'VAULTEX relay listening');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

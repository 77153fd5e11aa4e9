/**
 * `vaultex serve`: the relay and the web app (what `npm start` runs): SQLite under --data,
 * or PostgreSQL (--database-url) with Redis (--redis-url) to run several instances.
 * Configuration comes from VAULTEX_* variables, then the relay's own flags
 * (`--limits.ws-frames-per-second 30`...), then the flags below. Logs go to stderr;
 * stdout gets the address once listening (a JSON line with --json, so scripts and tests
 * can read the bound port) and the SHA-256 of the web bundle served, so users can compare
 * it with a published one.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerConfig } from '@vaultex/server';
import type { Command } from 'commander';
import { envOf, type RunState, untilSignal } from '../command-env.js';
import { CliError, EXIT } from '../errors.js';

interface ServeOptions {
  readonly port?: string;
  readonly host?: string;
  readonly data?: string;
  readonly databaseUrl?: string;
  readonly redisUrl?: string;
  readonly web?: string;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new CliError('USAGE', `Invalid --port '${value}': give 0..65535 (0 picks a free port).`);
  }
  return n;
}

/** The built web app of this checkout (apps/web/dist), when there is one. */
function defaultWebDir(): string | undefined {
  // apps/cli/{src,dist}/commands -> apps/web/dist.
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web', 'dist');
  return existsSync(join(dir, 'index.html')) ? dir : undefined;
}

/** SHA-256 over the bundle's files: sorted paths, each as `path NUL length NUL bytes`. */
export function webBundleHash(dir: string): string {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(dir);
  const hash = createHash('sha256');
  for (const full of files.map((f) => relative(dir, f).split(sep).join('/')).sort()) {
    const body = readFileSync(join(dir, full));
    hash.update(`${full}\0${body.length}\0`);
    hash.update(body);
  }
  return hash.digest('hex');
}

/** Register `serve`. */
export function registerServe(program: Command, state: RunState): void {
  program
    .command('serve')
    .summary('run the relay and the web app (SQLite under --data)')
    .description(
      'Run the VAULTEX relay: HTTP API, WebSocket and the web app on --host:--port, with its SQLite ' +
        'database under --data, or PostgreSQL (--database-url) and Redis (--redis-url) to run several ' +
        'instances behind a load balancer. Every relay setting can also be given as a VAULTEX_* variable ' +
        'or as a relay flag (e.g. --limits.ws-frames-per-second 30, --metrics-port -1); see docs/API.md ' +
        '"Limits". Prints the URL and the SHA-256 of the web bundle it serves. Stops cleanly on Ctrl-C ' +
        '(SIGINT) or SIGTERM.',
    )
    .option('--port <port>', 'port to listen on; 0 picks a free one (default 8080)')
    .option('--host <host>', "interface to bind; '0.0.0.0' to serve other machines (default localhost)")
    .option('--data <dir>', 'directory of the SQLite database (default ./data)')
    .option('--database-url <url>', 'PostgreSQL instead of SQLite (postgres://user@host:5432/db)')
    .option('--redis-url <url>', 'Redis for delivery events between instances (redis://host:6379)')
    .option('--web <dir>', 'the built web app to serve (default apps/web/dist of this checkout)')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (opts: ServeOptions, cmd: Command) => {
      const env = envOf(cmd, state);
      // Loaded here: client commands should not pay for loading the relay.
      const { loadConfig, parseConfig, SERVER_VERSION, startServer } = await import('@vaultex/server');
      let config: ServerConfig;
      try {
        const base = loadConfig(process.env, cmd.args);
        const webDir = opts.web ?? base.webDir ?? defaultWebDir();
        config = parseConfig({
          ...base,
          ...(opts.port !== undefined ? { port: port(opts.port) } : {}),
          ...(opts.host !== undefined ? { host: opts.host } : {}),
          ...(opts.data !== undefined ? { dataDir: opts.data } : {}),
          ...(opts.databaseUrl !== undefined ? { databaseUrl: opts.databaseUrl } : {}),
          ...(opts.redisUrl !== undefined ? { redisUrl: opts.redisUrl } : {}),
          ...(webDir !== undefined ? { webDir } : {}),
        });
      } catch (e) {
        if (e instanceof CliError) throw e;
        throw new CliError('USAGE', `${(e as Error).message}. See \`vaultex serve --help\`.`);
      }
      const web =
        config.webDir && existsSync(join(config.webDir, 'index.html'))
          ? { dir: resolve(config.webDir), sha256: webBundleHash(config.webDir) }
          : undefined;
      const stop = untilSignal();
      let server: Awaited<ReturnType<typeof startServer>>;
      try {
        server = await startServer({ config, logger: { stream: process.stderr } });
      } catch (e) {
        stop.dispose();
        if ((e as { code?: string }).code === 'EADDRINUSE') {
          throw new CliError(
            'USAGE',
            `Port ${config.port} (or metrics port ${config.metricsPort}) is in use. Pick another with --port or --metrics-port (-1 turns metrics off).`,
          );
        }
        throw e;
      }
      const bound = Number(new URL(server.url).port);
      const storage = config.databaseUrl ? 'PostgreSQL' : `SQLite in ${resolve(config.dataDir)}`;
      env.out.result(
        () =>
          [
            `VAULTEX relay ${SERVER_VERSION} listening on ${server.url} (${storage}${config.redisUrl ? ', Redis' : ''}).`,
            web
              ? `Web app: ${web.dir} (sha256 ${web.sha256}).`
              : 'No web app built (npm run build -w apps/web): / shows a placeholder page.',
            'Ctrl-C stops it.',
          ].join('\n'),
        {
          event: 'listening',
          url: server.url,
          port: bound,
          host: config.host,
          version: SERVER_VERSION,
          ...(config.databaseUrl ? { storage: 'postgres' } : { storage: 'sqlite', dataDir: resolve(config.dataDir) }),
          ...(config.redisUrl ? { redis: true } : {}),
          ...(web ? { webDir: web.dir, webSha256: web.sha256 } : {}),
          ...(server.metricsUrl ? { metricsUrl: server.metricsUrl } : {}),
        },
      );
      await stop.promise;
      stop.dispose();
      // A referenced timer keeps the process alive while the relay closes (its SQLite
      // writer thread is unreferenced), and bounds the wait.
      const watchdog = setTimeout(() => {
        process.stderr.write('vaultex: the relay did not stop within 15 s; exiting anyway.\n');
        process.exit(EXIT.INTERNAL);
      }, 15_000);
      await server.close();
      clearTimeout(watchdog);
      env.out.result('Relay stopped.', { event: 'stopped' });
    });
}

/**
 * `vaultex migrate`: move a single-node relay from SQLite to PostgreSQL. The copy is one
 * PostgreSQL transaction (all or nothing) and refuses a target that already holds data;
 * stop the relay first so nothing is accepted during the copy (docs/OPERATIONS.md).
 */
export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .summary('copy a SQLite relay database into PostgreSQL')
    .description(
      "Copy every row of a stopped relay's SQLite database into an empty PostgreSQL database, in one " +
        'transaction: it lands whole or not at all. Then start the relay with --database-url. ' +
        'Prints one JSON line with the rows copied per table.',
    )
    .requiredOption('--from <sqlite>', 'the SQLite database, e.g. sqlite:./data/vaultex.db')
    .requiredOption('--to <url>', 'the PostgreSQL database, e.g. postgres://vaultex@localhost:5432/vaultex')
    .action(async (opts: { from: string; to: string }) => {
      const { runMigrate } = await import('@vaultex/server');
      // runMigrate prints the result or the reason itself; the error here only sets the exit code.
      const code = await runMigrate(['--from', opts.from, '--to', opts.to]);
      if (code === 2) {
        throw new CliError('USAGE', 'Give --from sqlite:<path> and --to postgres://<user>@<host>:<port>/<db>.');
      }
      if (code !== 0) {
        throw new CliError(
          'MIGRATION_FAILED',
          'The migration failed and wrote nothing (reason above). Fix it, empty the target database if needed, and run it again.',
        );
      }
    });
}

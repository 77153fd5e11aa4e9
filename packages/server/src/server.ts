/**
 * The relay: `createServer` wires Fastify routes, the WebSocket gateway, the mailbox with
 * group commit, the transparency log, metrics and the pruner around an injected storage,
 * clock and randomness (tests pass deterministic ones). `startServer` is what `npm start`
 * and `vaultex serve` call: it opens SQLite under the data directory (or PostgreSQL at
 * `databaseUrl`, with a Redis bus at `redisUrl`) and listens.
 */
import { join } from 'node:path';
import { apiError } from '@vaultex/api';
import { type Clock, type CryptoProvider, type RandomSource, systemClock, systemRandom } from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { AccountService } from './accounts.js';
import { AuthService } from './auth.js';
import { type Bus, InProcessBus } from './bus.js';
import { parseConfig, type ServerConfig, type ServerConfigInput } from './config.js';
import { type Context, createLimiters } from './context.js';
import { ApiFailure } from './errors.js';
import { GroupCommit } from './group-commit.js';
import { IpHasher } from './ip-hash.js';
import { type LoggerOptions, loggerOptions } from './logger.js';
import { Mailbox } from './mailbox.js';
import { Metrics } from './metrics.js';
import { pooledRandom } from './random-pool.js';
import { RecipientCache } from './recipients.js';
import { RedisBus } from './redis-bus.js';
import { accountLimiters, ipLimiters, RedisRateSync } from './redis-rate-sync.js';
import { accountRoutes } from './routes/accounts.js';
import { archiveRoutes } from './routes/archive.js';
import { attachmentRoutes } from './routes/attachments.js';
import { authRoutes } from './routes/auth.js';
import { discoveryRoutes } from './routes/discovery.js';
import { keyRoutes } from './routes/keys.js';
import { messageRoutes } from './routes/messages.js';
import { metaRoutes } from './routes/meta.js';
import { provisioningRoutes } from './routes/provisioning.js';
import { clientIp, type Services } from './routes/support.js';
import { transparencyRoutes } from './routes/transparency.js';
import { loadWebApp, webFile } from './routes/web-app.js';
import { PostgresStorage } from './storage/postgres/postgres-storage.js';
import { SqliteStorage } from './storage/sqlite/sqlite-storage.js';
import type { Storage } from './storage/storage.js';
import { TransparencyLog } from './transparency.js';
import { SERVER_VERSION } from './version.js';
import { WsGateway } from './ws/gateway.js';

/** What {@link createServer} needs; everything but storage has a production default. */
export interface ServerOptions {
  readonly config?: ServerConfigInput;
  readonly storage: Storage;
  readonly clock?: Clock;
  readonly random?: RandomSource;
  readonly provider?: CryptoProvider;
  readonly bus?: Bus;
  readonly logger?: LoggerOptions;
}

/** A relay instance. */
export interface RelayServer {
  readonly app: FastifyInstance;
  readonly context: Context;
  /**
   * Listen on the configured host and port, start the metrics listener and the pruner.
   * @returns the base URL (`http://host:port`) and the metrics URL (undefined when disabled).
   */
  listen(): Promise<{ url: string; metricsUrl: string | undefined }>;
  /** Every HTTP route as `METHOD /path` (HEAD routes excluded), for the documentation check. */
  readonly routes: readonly string[];
  /** Run one pruning pass now (the background pruner runs it every `pruneIntervalMs`). */
  prune(): Promise<void>;
  /** Close connections, flush pending commits, stop listening. The storage stays open. */
  close(): Promise<void>;
}

/** Map Fastify's own errors (body parsing, limits) to API codes. */
function toFailure(error: FastifyError): ApiFailure | undefined {
  if (error instanceof ApiFailure) return error;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiFailure('PAYLOAD_TOO_LARGE', 'request body too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiFailure('UNSUPPORTED_MEDIA_TYPE', 'unsupported content type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ApiFailure('BAD_REQUEST', 'empty JSON body');
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new ApiFailure('BAD_REQUEST', 'malformed request');
  }
  return undefined;
}

function sendFailure(reply: FastifyReply, failure: ApiFailure): FastifyReply {
  if (failure.retryAfter !== undefined) reply.header('retry-after', String(failure.retryAfter));
  return reply.code(failure.status).send({ error: failure.detail() });
}

/**
 * Build a relay around the given storage (not listening yet).
 * @throws Error for an invalid configuration.
 */
export async function createServer(options: ServerOptions): Promise<RelayServer> {
  const config: ServerConfig = parseConfig(options.config ?? {});
  const clock = options.clock ?? systemClock;
  const random = options.random ?? pooledRandom(systemRandom);
  const provider = options.provider ?? nodeProvider;
  const app = Fastify({
    logger: loggerOptions({ level: config.logLevel, ...options.logger }),
    // Our own onResponse line replaces Fastify's, which would log the URL.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    bodyLimit: config.limits.httpBodyBytes,
    trustProxy: false,
    forceCloseConnections: true,
    // Our own onRequest hook answers UNAVAILABLE with the API's error body instead.
    return503OnClosing: false,
    // Malformed URLs (bad percent-encoding, an over-long path parameter) are refused by the
    // router before any route runs; answer them in the API's error model too, and without
    // echoing the path, which Fastify's own body does.
    frameworkErrors: (_error, _req, reply) => {
      // The reply's generic route types are not known here; it is a plain reply.
      void (reply as unknown as FastifyReply).code(400).send(apiError('BAD_REQUEST', 'malformed URL'));
    },
  });
  const metrics = new Metrics();
  if (options.bus instanceof RedisBus) metrics.trackRedisBus(options.bus);
  const storage = options.storage;
  // PostgreSQL: two batches may commit at once (their round trips and fsyncs overlap), and
  // acknowledgements commit apart from inserts (an insert holds the seq-order lock only for
  // its own statement and commit, not through an acknowledgement's round trips).
  const postgres = storage instanceof PostgresStorage;
  const commit = new GroupCommit(storage, config.groupCommit, postgres ? 2 : 1, postgres);
  commit.onCommit = (operations) => metrics.commitSize.observe(operations);
  const context: Context = {
    config,
    storage,
    clock,
    random,
    provider,
    bus: options.bus ?? new InProcessBus(),
    limiters: createLimiters(config, clock),
    metrics,
    log: app.log,
    ipHasher: new IpHasher(clock, random),
    commit,
    transparency: await TransparencyLog.open(storage, provider, clock, random, config.timeBucketMs),
    recipients: new RecipientCache(storage, clock),
    version: SERVER_VERSION,
  };
  const auth = new AuthService(context);
  const services: Services = {
    ctx: context,
    auth,
    accounts: new AccountService(context, auth),
    mailbox: new Mailbox(context),
  };

  // JSON everywhere, raw bytes for attachment chunks; nothing else.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((error: FastifyError, _req, reply) => {
    const failure = toFailure(error);
    if (failure) {
      if (failure.code === 'RATE_LIMITED') metrics.rateLimited.inc();
      return sendFailure(reply, failure);
    }
    app.log.error({ err: error }, 'request failed');
    return sendFailure(reply, new ApiFailure('INTERNAL', 'internal error'));
  });
  // The web app's files are served from memory by the not-found handler, so they add no
  // API routes (GET / is the meta route).
  const web = loadWebApp(config.webDir);
  app.setNotFoundHandler((req, reply) => {
    const file = req.method === 'GET' || req.method === 'HEAD' ? webFile(web, req.url) : undefined;
    if (file) return reply.code(200).headers(file.headers).send(file.body);
    return reply.code(404).send(apiError('NOT_FOUND', 'no such route'));
  });
  let closing = false;
  app.addHook('onRequest', async () => {
    if (closing) throw new ApiFailure('UNAVAILABLE', 'the server is shutting down');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: req.method, route, status: reply.statusCode });
    app.log.info({ method: req.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  const routes: string[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push(`${method} ${route.url}`);
  });
  metaRoutes(app, services, web);
  authRoutes(app, services);
  accountRoutes(app, services);
  keyRoutes(app, services);
  messageRoutes(app, services);
  discoveryRoutes(app, services);
  transparencyRoutes(app, services);
  attachmentRoutes(app, services);
  provisioningRoutes(app, services);
  archiveRoutes(app, services);

  const gateway = new WsGateway(context, auth, services.mailbox);
  app.server.on('upgrade', (req, socket, head) => {
    gateway.handleUpgrade(req, socket, head, clientIp(context, req.headers, req.socket.remoteAddress));
  });

  let pruner: NodeJS.Timeout | undefined;
  let metricsServer: import('node:http').Server | undefined;
  const prune = async (): Promise<void> => {
    const result = await storage.prune(clock());
    for (const [kind, n] of Object.entries(result)) if (n > 0) metrics.pruned.inc({ kind }, n);
    for (const limiter of Object.values(context.limiters)) limiter.sweep();
  };

  return {
    app,
    context,
    routes,
    prune,
    async listen() {
      await app.listen({ host: config.host, port: config.port });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      let metricsUrl: string | undefined;
      if (config.metricsPort >= 0) {
        const m = await metrics.listen(config.metricsPort);
        metricsServer = m.server;
        metricsUrl = m.url;
      }
      pruner = setInterval(() => {
        prune().catch((err: unknown) => app.log.error({ err }, 'pruning failed'));
      }, config.pruneIntervalMs);
      pruner.unref();
      return { url: `http://${host}:${port}`, metricsUrl };
    },
    async close() {
      closing = true;
      if (pruner) clearInterval(pruner);
      await gateway.close();
      await commit.flush();
      await app.close();
      if (metricsServer) await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
    },
  };
}

/** Options of {@link startServer}. */
export interface StartOptions extends Omit<ServerOptions, 'storage'> {
  /** Use this storage instead of opening SQLite under the data directory. */
  readonly storage?: Storage;
}

/** A started relay. */
export interface StartedServer extends RelayServer {
  readonly url: string;
  readonly metricsUrl: string | undefined;
}

/**
 * Open the database (PostgreSQL at `databaseUrl`, else SQLite at `<dataDir>/vaultex.db`
 * unless `databaseFile` says otherwise) and the Redis bus when `redisUrl` is set, build
 * the relay and listen. Closing it also closes the database and bus it opened.
 * @throws Error for an invalid configuration or when the port is taken.
 */
export async function startServer(options: StartOptions = {}): Promise<StartedServer> {
  const config = parseConfig(options.config ?? {});
  const storage =
    options.storage ??
    (config.databaseUrl
      ? await PostgresStorage.open(config.databaseUrl)
      : SqliteStorage.open(config.databaseFile ?? join(config.dataDir, 'vaultex.db')));
  let log: RelayServer['context']['log'] | undefined;
  const onError = (err: Error) => log?.warn({ err: { message: err.message } }, 'redis error');
  let bus: RedisBus | undefined;
  let rates: RedisRateSync | undefined;
  let server: RelayServer;
  try {
    if (config.redisUrl) {
      if (!options.bus) bus = await RedisBus.connect(config.redisUrl, { sweepMs: config.mailboxSweepMs, onError });
      rates = await RedisRateSync.connect(config.redisUrl, { onError });
    }
    server = await createServer({ ...options, config, storage, ...(bus ? { bus } : {}) });
  } catch (e) {
    await bus?.close();
    await rates?.close();
    if (!options.storage) await storage.close();
    throw e;
  }
  log = server.context.log;
  rates?.share(accountLimiters(server.context.limiters));
  if (rates && !(await rates.shareIpLimits(server.context.ipHasher, ipLimiters(server.context.limiters)))) {
    log.warn('per-IP limits hold per instance: the shared IP salt could not be read from Redis');
  }
  const { url, metricsUrl } = await server.listen();
  return {
    ...server,
    url,
    metricsUrl,
    async close() {
      await server.close();
      await bus?.close();
      await rates?.close();
      if (!options.storage) await storage.close();
    },
  };
}

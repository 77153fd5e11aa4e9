/**
 * Server configuration: every limit and policy with its documented default
 * (docs/OPERATIONS-style table in docs/API.md "Limits"). Values come from defaults, then
 * environment variables (`VAULTEX_*`), then command-line flags; the result is validated.
 */
import * as z from 'zod';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const Limits = z.object({
  /** WebSocket frames a connection may send per second (token bucket, burst = this). */
  wsFramesPerSecond: z.number().int().min(1).default(30),
  /** Largest WebSocket frame in bytes; bigger frames close the connection with 1009. */
  wsMaxFrameBytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 1024),
  /** Largest JSON request body in bytes. */
  httpBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Largest message blob in bytes (HTTP and WebSocket). */
  maxMessageBytes: z
    .number()
    .int()
    .min(256)
    .default(64 * 1024),
  /** Sends (requests or frames) per account per minute, authenticated sends. */
  sendsPerAccountPerMinute: z.number().int().min(1).default(1200),
  /** Sealed sends per target account per minute (there is no sender to count). */
  sealedSendsPerRecipientPerMinute: z.number().int().min(1).default(1200),
  /** WebSocket connection attempts per salted IP hash per minute. */
  wsConnectionsPerMinute: z.number().int().min(1).default(60),
  /** Registrations per salted IP hash per hour. */
  registrationsPerHour: z.number().int().min(1).default(10),
  /** Challenges (nonces) per salted IP hash per minute. */
  challengesPerMinute: z.number().int().min(1).default(60),
  /** Prekey bundle fetches per requesting account per hour, so nobody drains a victim's one-time keys. */
  prekeyFetchesPerHour: z.number().int().min(1).default(120),
  /** Discovery searches per account per minute. */
  searchesPerMinute: z.number().int().min(1).default(30),
  /** Attachments created per account per hour. */
  attachmentsPerHour: z.number().int().min(1).default(100),
  /** Attachment downloads per salted IP hash per minute. */
  downloadsPerMinute: z.number().int().min(1).default(300),
});

/** The validated configuration. */
export const ServerConfig = z.object({
  /** Interface to bind; `0.0.0.0` to serve other machines (normally behind a TLS proxy). */
  host: z.string().min(1).default('localhost'),
  /** HTTP and WebSocket port; 0 picks a free port (tests). */
  port: z.number().int().min(0).max(65535).default(8080),
  /** Directory of the SQLite database. */
  dataDir: z.string().min(1).default('./data'),
  /** SQLite file; default `<dataDir>/vaultex.db`. */
  databaseFile: z.string().min(1).optional(),
  /** PostgreSQL URL (`postgres://user@host:5432/db`); when set it replaces SQLite (several instances may share it). */
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//u, 'must be a postgres:// URL')
    .optional(),
  /** Redis URL (`redis://host:6379`); when set, instances exchange delivery events through Redis. */
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//u, 'must be a redis:// or rediss:// URL')
    .optional(),
  /** With Redis: each connected device re-reads its mailbox this often, in case a notification was lost. */
  mailboxSweepMs: z.number().int().min(100).default(60_000),
  /** Directory of the built web app (apps/web/dist) served at `/`; unset or missing: a placeholder page. */
  webDir: z.string().min(1).optional(),
  /** Prometheus metrics port on 127.0.0.1 only; 0 picks a free port; -1 disables. */
  metricsPort: z.number().int().min(-1).max(65535).default(9464),
  /** Log level: fatal, error, warn, info, debug, trace or silent. */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Take the client address for per-IP limits from X-Forwarded-For (behind a trusted proxy). */
  trustProxy: z.boolean().default(false),
  /** Most devices per account (at most 64, the protocol's ceiling). */
  maxDevices: z.number().int().min(1).max(64).default(10),
  /** Lifetime of a session token. */
  tokenTtlMs: z
    .number()
    .int()
    .min(1000)
    .default(15 * MINUTE),
  /** Lifetime of a challenge nonce. */
  challengeTtlMs: z.number().int().min(1000).default(MINUTE),
  /** Default time-to-live of a stored message. */
  messageTtlMs: z
    .number()
    .int()
    .min(1000)
    .default(30 * DAY),
  /** Longest time-to-live a sender may ask for (longer requests are capped). */
  maxMessageTtlMs: z
    .number()
    .int()
    .min(1000)
    .default(30 * DAY),
  /** Stored times (expiry, activity) are rounded to this granularity. */
  timeBucketMs: z
    .number()
    .int()
    .min(1)
    .default(60 * MINUTE),
  /** Interval of the background pruner (expired messages, tokens, challenges, attachments). */
  pruneIntervalMs: z.number().int().min(100).default(MINUTE),
  /** Interval of WebSocket keepalive pings; a connection silent for two intervals is dropped. */
  keepaliveMs: z.number().int().min(100).default(30_000),
  /** Time a new WebSocket has to send its first (auth or anonymous) frame. */
  wsAuthTimeoutMs: z.number().int().min(100).default(10_000),
  /** One-time prekeys of each kind kept per device (uploads beyond this are refused). */
  maxOneTimePreKeys: z.number().int().min(1).default(200),
  /** Largest attachment in bytes. */
  maxAttachmentBytes: z
    .number()
    .int()
    .min(1)
    .default(100 * 1024 * 1024),
  /** Commit the mailbox writes of one event-loop turn together (off: one transaction each; for comparison only). */
  groupCommit: z.boolean().default(true),
  /** Largest history archive in bytes (one per account, `PUT /archive`; advertised by `/ping`). */
  maxArchiveBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(64 * 1024 * 1024),
  /** Attachment chunk size in bytes. */
  attachmentChunkBytes: z
    .number()
    .int()
    .min(1024)
    .default(512 * 1024),
  /** Lifetime of an attachment. */
  attachmentTtlMs: z
    .number()
    .int()
    .min(1000)
    .default(30 * DAY),
  limits: Limits.default(Limits.parse({})),
});
export type ServerConfig = z.output<typeof ServerConfig>;
/** A partial configuration as callers write it (every field has a default). */
export type ServerConfigInput = z.input<typeof ServerConfig>;

/**
 * Validate a configuration, filling defaults.
 * @throws Error naming the invalid fields.
 */
export function parseConfig(input: ServerConfigInput = {}): ServerConfig {
  const parsed = ServerConfig.safeParse(input);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid server configuration: ${fields}`);
  }
  return parsed.data;
}

const ENV_PREFIX = 'VAULTEX_';

/** `fooBarBaz` -> `FOO_BAR_BAZ`. */
function screamingSnake(name: string): string {
  return name.replace(/[A-Z]/gu, (c) => `_${c}`).toUpperCase();
}

/** `--foo-bar` -> `fooBar`. */
function camel(flag: string): string {
  return flag.replace(/-([a-z])/gu, (_, c: string) => c.toUpperCase());
}

function coerce(value: string, example: unknown): unknown {
  if (typeof example === 'boolean') return value === 'true' || value === '1';
  if (typeof example === 'number') return Number(value);
  return value;
}

const DEFAULTS = parseConfig();
/** Every top-level field but `limits`, with an example value for coercion (optional fields have none: strings). */
const TOP_LEVEL: readonly (readonly [string, unknown])[] = Object.keys(ServerConfig.shape)
  .filter((key) => key !== 'limits')
  .map((key) => [key, DEFAULTS[key as keyof ServerConfig] ?? ''] as const);

/**
 * Build a configuration from environment variables and flags.
 * Environment: `VAULTEX_PORT`, `VAULTEX_DATA_DIR`, `VAULTEX_LIMITS_WS_FRAMES_PER_SECOND`, ...
 * (the field path in SCREAMING_SNAKE_CASE). Flags: `--port 8080`, `--data-dir ./data`,
 * `--limits.ws-frames-per-second 30`, `--flag=value` also accepted.
 * @throws Error for an unknown flag or an invalid value.
 */
export function loadConfig(env: Record<string, string | undefined>, argv: readonly string[]): ServerConfig {
  const top: Record<string, unknown> = {};
  const limits: Record<string, unknown> = {};
  for (const [key, example] of TOP_LEVEL) {
    const value = env[`${ENV_PREFIX}${screamingSnake(key)}`];
    if (value !== undefined) top[key] = coerce(value, example ?? '');
  }
  for (const [key, example] of Object.entries(DEFAULTS.limits)) {
    const value = env[`${ENV_PREFIX}LIMITS_${screamingSnake(key)}`];
    if (value !== undefined) limits[key] = coerce(value, example);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`flag --${name} needs a value`);
    if (name.startsWith('limits.')) {
      const key = camel(name.slice('limits.'.length));
      if (!(key in DEFAULTS.limits)) throw new Error(`unknown flag --${name}`);
      limits[key] = coerce(value, DEFAULTS.limits[key as keyof ServerConfig['limits']]);
    } else {
      const key = camel(name);
      const known = TOP_LEVEL.find(([k]) => k === key);
      if (!known) throw new Error(`unknown flag --${name}`);
      top[key] = coerce(value, known[1]);
    }
  }
  return parseConfig({ ...top, limits: { ...limits } } as ServerConfigInput);
}

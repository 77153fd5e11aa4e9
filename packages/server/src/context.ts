/**
 * What every part of the relay shares: configuration, injected storage/clock/randomness,
 * the crypto provider, the bus, rate limiters, metrics and the logger.
 */
import type { Clock, CryptoProvider, RandomSource } from '@vaultex/protocol';
import type { Bus } from './bus.js';
import type { ServerConfig } from './config.js';
import type { GroupCommit } from './group-commit.js';
import type { IpHasher } from './ip-hash.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import type { RecipientCache } from './recipients.js';
import type { Storage } from './storage/storage.js';
import type { TransparencyLog } from './transparency.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** The rate limiters, one family per limit of the configuration. */
export interface Limiters {
  readonly sends: RateLimiter;
  readonly sealedSends: RateLimiter;
  readonly wsConnections: RateLimiter;
  readonly registrations: RateLimiter;
  readonly challenges: RateLimiter;
  readonly prekeyFetches: RateLimiter;
  readonly searches: RateLimiter;
  readonly attachments: RateLimiter;
  readonly downloads: RateLimiter;
}

/** Build the limiters of a configuration. */
export function createLimiters(config: ServerConfig, clock: Clock): Limiters {
  const l = config.limits;
  return {
    sends: new RateLimiter('send', l.sendsPerAccountPerMinute, MINUTE, clock),
    sealedSends: new RateLimiter('sealed send', l.sealedSendsPerRecipientPerMinute, MINUTE, clock),
    wsConnections: new RateLimiter('connection', l.wsConnectionsPerMinute, MINUTE, clock),
    registrations: new RateLimiter('registration', l.registrationsPerHour, HOUR, clock),
    challenges: new RateLimiter('challenge', l.challengesPerMinute, MINUTE, clock),
    prekeyFetches: new RateLimiter('prekey fetch', l.prekeyFetchesPerHour, HOUR, clock),
    searches: new RateLimiter('search', l.searchesPerMinute, MINUTE, clock),
    attachments: new RateLimiter('attachment', l.attachmentsPerHour, HOUR, clock),
    downloads: new RateLimiter('download', l.downloadsPerMinute, MINUTE, clock),
  };
}

/** Shared dependencies of the relay's services. */
export interface Context {
  readonly config: ServerConfig;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly provider: CryptoProvider;
  readonly bus: Bus;
  readonly limiters: Limiters;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly ipHasher: IpHasher;
  readonly commit: GroupCommit;
  readonly transparency: TransparencyLog;
  readonly recipients: RecipientCache;
  readonly version: string;
}

/** Round a time down to the configured bucket (activity timestamps). */
export function coarsen(ctx: Pick<Context, 'config'>, ms: number): number {
  const b = ctx.config.timeBucketMs;
  return Math.floor(ms / b) * b;
}

/** Round a time up to the configured bucket (expiries: never earlier than promised). */
export function coarsenUp(ctx: Pick<Context, 'config'>, ms: number): number {
  const b = ctx.config.timeBucketMs;
  return Math.ceil(ms / b) * b;
}

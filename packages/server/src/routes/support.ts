/**
 * Helpers shared by the route modules: zod parsing into typed failures, bearer
 * authentication, the client address (used only to derive a salted hash), and the
 * services every route module receives.
 */
import { describeIssues } from '@vaultex/api';
import type { FastifyRequest } from 'fastify';
import type * as z from 'zod';
import type { AccountService } from '../accounts.js';
import { type AuthService, bearerToken } from '../auth.js';
import type { Context } from '../context.js';
import { fail } from '../errors.js';
import type { Mailbox } from '../mailbox.js';
import type { TokenRecord } from '../storage/storage.js';

/** What route modules get. */
export interface Services {
  readonly ctx: Context;
  readonly auth: AuthService;
  readonly accounts: AccountService;
  readonly mailbox: Mailbox;
}

/**
 * Parse untrusted input with a schema.
 * @throws ApiFailure BAD_REQUEST naming the fields (never echoing values).
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw fail('BAD_REQUEST', `${where}: ${describeIssues(result.error)}`);
  return result.data;
}

/**
 * The device behind the request's bearer token.
 * @throws ApiFailure UNAUTHORIZED.
 */
export function authenticated(services: Services, req: FastifyRequest): Promise<TokenRecord> {
  return services.auth.authenticate(bearerToken(req.headers.authorization));
}

/** The client address for per-IP limits: the socket's, or the proxy's X-Forwarded-For when trusted. Never stored. */
export function clientIp(
  ctx: Context,
  headers: Record<string, string | string[] | undefined>,
  socketIp: string | undefined,
): string {
  if (ctx.config.trustProxy) {
    const forwarded = headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first;
  }
  return socketIp ?? 'unknown';
}

/** The salted hash of the request's client address. */
export function ipKey(services: Services, req: FastifyRequest): string {
  return services.ctx.ipHasher.hash(clientIp(services.ctx, req.headers, req.socket.remoteAddress));
}

/** `/users*`: opt-in discovery by display name. */
import {
  API_PREFIX,
  DiscoverableRequest,
  DiscoverableResponse,
  UserSearchQuery,
  UserSearchResponse,
} from '@vaultex/api';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { hex } from '../ids.js';
import { authenticated, parse, type Services } from './support.js';

/** Most results of one search. */
const MAX_RESULTS = 20;

/** Register the discovery routes. */
export function discoveryRoutes(app: FastifyInstance, services: Services): void {
  const { ctx } = services;

  app.post(`${API_PREFIX}/users/me/discoverable`, async (req, reply) => {
    const session = await authenticated(services, req);
    const body = parse(DiscoverableRequest, req.body, 'body');
    await ctx.storage.setDiscoverable(session.accountId, body.enabled ? (body.displayName ?? null) : null);
    return reply.code(204).send();
  });

  app.get(`${API_PREFIX}/users/me/discoverable`, async (req) => {
    const session = await authenticated(services, req);
    const name = await ctx.storage.getDiscoverable(session.accountId);
    return z.encode(DiscoverableResponse, name === null ? { enabled: false } : { enabled: true, displayName: name });
  });

  app.get(`${API_PREFIX}/users`, async (req) => {
    const session = await authenticated(services, req);
    const { q } = parse(UserSearchQuery, req.query, 'query');
    ctx.limiters.searches.enforce(hex(session.accountId));
    const found = await ctx.storage.searchDiscoverable(q, MAX_RESULTS, session.accountId);
    return z.encode(UserSearchResponse, {
      users: found.map((u) => ({
        accountId: hex(u.accountId),
        identityKey: u.identityKey,
        displayName: u.displayName,
      })),
    });
  });
}

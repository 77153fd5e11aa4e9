/** `/transparency/*`: signed tree heads, inclusion and consistency proofs. */
import {
  AccountParams,
  API_PREFIX,
  ConsistencyQuery,
  ConsistencyResponse,
  InclusionResponse,
  TreeHeadResponse,
} from '@vaultex/api';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { unhex } from '../ids.js';
import { authenticated, parse, type Services } from './support.js';

/** Register the transparency routes. */
export function transparencyRoutes(app: FastifyInstance, services: Services): void {
  const { ctx } = services;

  app.get(`${API_PREFIX}/transparency/head`, async () =>
    z.encode(TreeHeadResponse, { treeHead: ctx.transparency.currentHead(), logPublicKey: ctx.transparency.publicKey }),
  );

  app.get(`${API_PREFIX}/transparency/consistency`, async (req) => {
    const { from, to } = parse(ConsistencyQuery, req.query, 'query');
    return z.encode(ConsistencyResponse, ctx.transparency.consistency(from, to));
  });

  app.get(`${API_PREFIX}/transparency/inclusion/:accountId`, async (req) => {
    await authenticated(services, req);
    const { accountId } = parse(AccountParams, req.params, 'path');
    return z.encode(InclusionResponse, await ctx.transparency.inclusion(unhex(accountId)));
  });
}

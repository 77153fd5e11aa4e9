/** `/auth/*`: challenges and device sessions. */
import { API_PREFIX, ChallengeResponse, SessionRequest, SessionResponse } from '@vaultex/api';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { bearerToken } from '../auth.js';
import { unhex } from '../ids.js';
import { authenticated, ipKey, parse, type Services } from './support.js';

/** Register the auth routes. */
export function authRoutes(app: FastifyInstance, services: Services): void {
  const { auth, ctx } = services;
  app.post(`${API_PREFIX}/auth/challenge`, async (req) => {
    ctx.limiters.challenges.enforce(ipKey(services, req));
    return z.encode(ChallengeResponse, await auth.challenge());
  });
  app.post(`${API_PREFIX}/auth/session`, async (req) => {
    const body = parse(SessionRequest, req.body, 'body');
    const session = await auth.login(unhex(body.accountId), body.deviceId, body.nonce, body.signature);
    return z.encode(SessionResponse, session);
  });
  app.delete(`${API_PREFIX}/auth/session`, async (req, reply) => {
    await authenticated(services, req);
    await auth.logout(bearerToken(req.headers.authorization)!);
    return reply.code(204).send();
  });
}

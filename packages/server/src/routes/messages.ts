/** `/messages*`: authenticated and sealed sends, the HTTP inbox and per-message acknowledgement. */
import {
  API_PREFIX,
  InboxQuery,
  InboxResponse,
  MessageParams,
  SealedSendRequest,
  SendRequest,
  SendResponse,
} from '@vaultex/api';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { fail } from '../errors.js';
import { hex } from '../ids.js';
import { authenticated, parse, type Services } from './support.js';

/** Register the message routes. */
export function messageRoutes(app: FastifyInstance, services: Services): void {
  const { ctx, mailbox } = services;

  app.post(`${API_PREFIX}/messages`, async (req) => {
    const session = await authenticated(services, req);
    const body = parse(SendRequest, req.body, 'body');
    const ids = await mailbox.send(body, { accountId: session.accountId, deviceId: session.deviceId });
    return z.encode(SendResponse, { ids });
  });

  // No sender authentication on purpose: the request must not say who sends.
  app.post(`${API_PREFIX}/messages/sealed`, async (req) => {
    const body = parse(SealedSendRequest, req.body, 'body');
    const ids = await mailbox.send(body, undefined);
    return z.encode(SendResponse, { ids });
  });

  app.get(`${API_PREFIX}/messages/inbox`, async (req) => {
    const session = await authenticated(services, req);
    const { limit = 100 } = parse(InboxQuery, req.query, 'query');
    const page = await ctx.storage.pendingMessages(session.accountId, session.deviceId, 0, limit + 1, ctx.clock());
    return z.encode(InboxResponse, {
      messages: page.slice(0, limit).map((m) => ({
        id: hex(m.id),
        blob: m.blob,
        ...(m.source ? { source: { accountId: hex(m.source.accountId), deviceId: m.source.deviceId } } : {}),
      })),
      more: page.length > limit,
    });
  });

  app.delete(`${API_PREFIX}/messages/inbox/:id`, async (req, reply) => {
    const session = await authenticated(services, req);
    const { id } = parse(MessageParams, req.params, 'path');
    const unknown = await mailbox.ack(session.accountId, session.deviceId, [id]);
    if (unknown.length > 0) throw fail('UNKNOWN_MESSAGE', 'not pending for this device');
    return reply.code(204).send();
  });
}

/**
 * `/archive*`: the encrypted history archive of an account (any of its devices) and the
 * key envelopes that open it. The relay stores the client's ciphertext as given, replaces
 * it only by compare-and-swap on its version (`If-Match`), and never logs it. Uploads are
 * authenticated, rate-limited and checked before their body is read; Fastify's raw-body
 * parser refuses a body over `maxArchiveBytes`.
 */
import {
  API_PREFIX,
  ARCHIVE_VERSION_HEADER,
  ArchiveIfMatch,
  ArchiveKeysResponse,
  ArchiveSlotParams,
  PutArchiveKeysRequest,
  PutArchiveResponse,
} from '@vaultex/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as z from 'zod';
import { coarsen } from '../context.js';
import { fail } from '../errors.js';
import { hex } from '../ids.js';
import type { TokenRecord } from '../storage/storage.js';
import { authenticated, parse, type Services } from './support.js';

const OCTET_STREAM = 'application/octet-stream';

/** Register the archive routes. */
export function archiveRoutes(app: FastifyInstance, services: Services): void {
  const { ctx } = services;

  // Checked before the body is read, so a refused upload costs no buffer.
  const uploads = new WeakMap<FastifyRequest, { session: TokenRecord; expected: number }>();
  const admit = async (req: FastifyRequest) => {
    const session = await authenticated(services, req);
    const expected = parse(ArchiveIfMatch, req.headers['if-match'], 'if-match header');
    ctx.limiters.attachments.enforce(hex(session.accountId));
    uploads.set(req, { session, expected });
  };

  app.put(`${API_PREFIX}/archive`, { onRequest: admit, bodyLimit: ctx.config.maxArchiveBytes }, async (req) => {
    const upload = uploads.get(req);
    if (!upload) throw fail('UNAUTHORIZED', 'not authenticated');
    if (!(req.body instanceof Uint8Array)) throw fail('UNSUPPORTED_MEDIA_TYPE', 'the archive is sent as bytes');
    if (req.body.length === 0) throw fail('BAD_REQUEST', 'the archive is empty');
    const { session, expected } = upload;
    const result = await ctx.storage.putArchive(session.accountId, expected, req.body, coarsen(ctx, ctx.clock()));
    if (result === 'conflict') throw fail('ARCHIVE_CONFLICT', 'the archive changed: fetch it, merge and retry');
    return z.encode(PutArchiveResponse, { version: result });
  });

  app.get(`${API_PREFIX}/archive`, async (req, reply) => {
    const session = await authenticated(services, req);
    const archive = await ctx.storage.getArchive(session.accountId);
    if (!archive) throw fail('NOT_FOUND', 'no archive');
    return reply
      .type(OCTET_STREAM)
      .header(ARCHIVE_VERSION_HEADER, String(archive.version))
      .header('cache-control', 'no-store')
      .send(Buffer.from(archive.data.buffer, archive.data.byteOffset, archive.data.byteLength));
  });

  app.delete(`${API_PREFIX}/archive`, async (req, reply) => {
    const session = await authenticated(services, req);
    await ctx.storage.deleteArchive(session.accountId);
    return reply.code(204).send();
  });

  app.put(`${API_PREFIX}/archive/keys`, async (req, reply) => {
    const session = await authenticated(services, req);
    const { keys } = parse(PutArchiveKeysRequest, req.body, 'body');
    ctx.limiters.attachments.enforce(hex(session.accountId));
    await ctx.storage.replaceArchiveKeys(session.accountId, keys);
    return reply.code(204).send();
  });

  app.get(`${API_PREFIX}/archive/keys`, async (req) => {
    const session = await authenticated(services, req);
    const keys = await ctx.storage.getArchiveKeys(session.accountId);
    return z.encode(ArchiveKeysResponse, { keys });
  });

  app.delete(`${API_PREFIX}/archive/keys/:slot`, async (req, reply) => {
    const session = await authenticated(services, req);
    const { slot } = parse(ArchiveSlotParams, req.params, 'path');
    await ctx.storage.deleteArchiveKey(session.accountId, slot);
    return reply.code(204).send();
  });
}

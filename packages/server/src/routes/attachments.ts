/**
 * `/attachments*`: encrypted blobs uploaded in numbered chunks by an authenticated
 * device, downloaded by anyone holding the unguessable id until they expire. The stored
 * row names no account.
 */
import { Readable } from 'node:stream';
import {
  API_PREFIX,
  AttachmentParams,
  ChunkParams,
  ChunkResponse,
  CreateAttachmentRequest,
  CreateAttachmentResponse,
  fromBase64Url,
  toBase64Url,
} from '@vaultex/api';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import { coarsenUp } from '../context.js';
import { fail } from '../errors.js';
import { hex } from '../ids.js';
import { authenticated, ipKey, parse, type Services } from './support.js';

/** Register the attachment routes. */
export function attachmentRoutes(app: FastifyInstance, services: Services): void {
  const { ctx } = services;
  const chunkSize = ctx.config.attachmentChunkBytes;

  app.post(`${API_PREFIX}/attachments`, async (req, reply) => {
    const session = await authenticated(services, req);
    const { size } = parse(CreateAttachmentRequest, req.body, 'body');
    if (size > ctx.config.maxAttachmentBytes) {
      throw fail('PAYLOAD_TOO_LARGE', `attachments may hold at most ${ctx.config.maxAttachmentBytes} bytes`);
    }
    ctx.limiters.attachments.enforce(hex(session.accountId));
    const id = ctx.random(32);
    const expiresAt = coarsenUp(ctx, ctx.clock() + ctx.config.attachmentTtlMs);
    await ctx.storage.createAttachment(id, { size, chunkSize, received: 0, nextIndex: 0, expiresAt });
    return reply.code(201).send(
      z.encode(CreateAttachmentResponse, {
        id: toBase64Url(id),
        chunkSize,
        chunks: Math.ceil(size / chunkSize),
        expiresAt,
      }),
    );
  });

  app.put(`${API_PREFIX}/attachments/:id/chunks/:index`, { bodyLimit: chunkSize }, async (req) => {
    await authenticated(services, req);
    const { id, index } = parse(ChunkParams, req.params, 'path');
    if (!(req.body instanceof Uint8Array)) {
      throw fail('UNSUPPORTED_MEDIA_TYPE', 'chunks are sent as application/octet-stream');
    }
    const key = fromBase64Url(id)!;
    if (!(await ctx.storage.getAttachment(key, ctx.clock()))) throw fail('NOT_FOUND', 'no such attachment');
    const result = await ctx.storage.appendAttachmentChunk(key, index, req.body);
    if (result === 'missing') throw fail('NOT_FOUND', 'no such attachment');
    if (result === 'conflict')
      throw fail('UPLOAD_CONFLICT', 'not the next chunk, wrong chunk size, or upload complete');
    return z.encode(ChunkResponse, { received: result.received, complete: result.received === result.size });
  });

  // Lets an uploader resume after a restart or a lost answer: chunks are whole, so the
  // next index is `received / chunkSize`.
  app.get(`${API_PREFIX}/attachments/:id/status`, async (req) => {
    await authenticated(services, req);
    const { id } = parse(AttachmentParams, req.params, 'path');
    const attachment = await ctx.storage.getAttachment(fromBase64Url(id)!, ctx.clock());
    if (!attachment) throw fail('NOT_FOUND', 'no such attachment');
    return z.encode(ChunkResponse, {
      received: attachment.received,
      complete: attachment.received === attachment.size,
    });
  });

  app.get(`${API_PREFIX}/attachments/:id`, async (req, reply) => {
    ctx.limiters.downloads.enforce(ipKey(services, req));
    const { id } = parse(AttachmentParams, req.params, 'path');
    const key = fromBase64Url(id)!;
    const attachment = await ctx.storage.getAttachment(key, ctx.clock());
    if (!attachment) throw fail('NOT_FOUND', 'no such attachment');
    if (attachment.received !== attachment.size) throw fail('ATTACHMENT_INCOMPLETE', 'the upload is not complete');
    const chunks = attachment.nextIndex;
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < chunks; i++) {
        const chunk = await ctx.storage.readAttachmentChunk(key, i);
        if (!chunk) return;
        yield chunk;
      }
    }
    return reply
      .type('application/octet-stream')
      .header('content-length', attachment.size)
      .header('cache-control', 'no-store')
      .send(Readable.from(body(), { objectMode: false }));
  });
}

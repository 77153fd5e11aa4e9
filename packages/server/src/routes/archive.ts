/**
 * `/archive*`: the encrypted history archive of an account (any of its devices) and the
 * key envelopes that open it. The relay stores the client's ciphertext as given, replaces
 * it only by compare-and-swap on its version (`If-Match`), and never logs it. Uploads are
 * authenticated, rate-limited and checked before their body is read, and the body streams
 * into one buffer bounded by `maxArchiveBytes`.
 */
import type { Readable } from 'node:stream';
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
/** First allocation when the client sends no Content-Length (chunked). */
const INITIAL_BYTES = 64 * 1024;

/**
 * A content-type parser that reads a raw body into one buffer of at most `limit` bytes:
 * the declared Content-Length is refused up front when too large and allocated once; a
 * chunked body grows the buffer by doubling, never past the limit.
 */
export function boundedBodyParser(limit: number) {
  return (req: FastifyRequest, payload: Readable, done: (error: Error | null, body?: Uint8Array) => void): void => {
    const declared = req.headers['content-length'];
    const expected = declared === undefined ? undefined : Number(declared);
    if (expected !== undefined && !(Number.isSafeInteger(expected) && expected >= 0)) {
      done(fail('BAD_REQUEST', 'invalid Content-Length'));
      return;
    }
    if (expected !== undefined && expected > limit) {
      done(fail('PAYLOAD_TOO_LARGE', `the archive may hold at most ${limit} bytes`));
      return;
    }
    // Only [0, length) is ever exposed, so the buffer need not be zeroed.
    let buffer = Buffer.allocUnsafeSlow(expected ?? Math.min(limit, INITIAL_BYTES));
    let length = 0;
    const finish = (error: Error | null, body?: Uint8Array) => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onError);
      done(error, body);
    };
    const onData = (chunk: Buffer | string) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (length + data.length > limit || (expected !== undefined && length + data.length > expected)) {
        finish(fail('PAYLOAD_TOO_LARGE', `the archive may hold at most ${limit} bytes`));
        return;
      }
      if (length + data.length > buffer.length) {
        const grown = Buffer.allocUnsafeSlow(Math.min(limit, Math.max(buffer.length * 2, length + data.length)));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      data.copy(buffer, length);
      length += data.length;
    };
    const onEnd = () => {
      if (expected !== undefined && length !== expected) {
        finish(fail('BAD_REQUEST', 'the body is shorter than its Content-Length'));
        return;
      }
      finish(null, new Uint8Array(buffer.buffer, buffer.byteOffset, length));
    };
    const onError = () => finish(fail('BAD_REQUEST', 'the upload was interrupted'));
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onError);
    payload.resume();
  };
}

/** Register the archive routes (in their own context: the raw-body parser applies to them only). */
export function archiveRoutes(app: FastifyInstance, services: Services): void {
  const { ctx } = services;
  const limit = ctx.config.maxArchiveBytes;

  void app.register(async (scope) => {
    scope.removeContentTypeParser(OCTET_STREAM);
    scope.addContentTypeParser(OCTET_STREAM, boundedBodyParser(limit));

    // Checked before the body is read, so a refused upload costs no buffer.
    const uploads = new WeakMap<FastifyRequest, { session: TokenRecord; expected: number }>();
    const admit = async (req: FastifyRequest) => {
      const session = await authenticated(services, req);
      const expected = parse(ArchiveIfMatch, req.headers['if-match'], 'if-match header');
      ctx.limiters.attachments.enforce(hex(session.accountId));
      uploads.set(req, { session, expected });
    };

    scope.put(`${API_PREFIX}/archive`, { onRequest: admit }, async (req) => {
      const upload = uploads.get(req);
      if (!upload) throw fail('UNAUTHORIZED', 'not authenticated');
      if (!(req.body instanceof Uint8Array)) throw fail('UNSUPPORTED_MEDIA_TYPE', 'the archive is sent as bytes');
      if (req.body.length === 0) throw fail('BAD_REQUEST', 'the archive is empty');
      const { session, expected } = upload;
      const result = await ctx.storage.putArchive(session.accountId, expected, req.body, coarsen(ctx, ctx.clock()));
      if (result === 'conflict') throw fail('ARCHIVE_CONFLICT', 'the archive changed: fetch it, merge and retry');
      return z.encode(PutArchiveResponse, { version: result });
    });

    scope.get(`${API_PREFIX}/archive`, async (req, reply) => {
      const session = await authenticated(services, req);
      const archive = await ctx.storage.getArchive(session.accountId);
      if (!archive) throw fail('NOT_FOUND', 'no archive');
      return reply
        .type(OCTET_STREAM)
        .header(ARCHIVE_VERSION_HEADER, String(archive.version))
        .header('cache-control', 'no-store')
        .send(Buffer.from(archive.data.buffer, archive.data.byteOffset, archive.data.byteLength));
    });

    scope.delete(`${API_PREFIX}/archive`, async (req, reply) => {
      const session = await authenticated(services, req);
      await ctx.storage.deleteArchive(session.accountId);
      return reply.code(204).send();
    });

    scope.put(`${API_PREFIX}/archive/keys`, async (req, reply) => {
      const session = await authenticated(services, req);
      const { keys } = parse(PutArchiveKeysRequest, req.body, 'body');
      ctx.limiters.attachments.enforce(hex(session.accountId));
      await ctx.storage.replaceArchiveKeys(session.accountId, keys);
      return reply.code(204).send();
    });

    scope.get(`${API_PREFIX}/archive/keys`, async (req) => {
      const session = await authenticated(services, req);
      const keys = await ctx.storage.getArchiveKeys(session.accountId);
      return z.encode(ArchiveKeysResponse, { keys });
    });

    scope.delete(`${API_PREFIX}/archive/keys/:slot`, async (req, reply) => {
      const session = await authenticated(services, req);
      const { slot } = parse(ArchiveSlotParams, req.params, 'path');
      await ctx.storage.deleteArchiveKey(session.accountId, slot);
      return reply.code(204).send();
    });
  });
}

/** `/`, `/health` and `/ping` (also under /api/v1): unauthenticated service endpoints. */
import { API_PREFIX, ARCHIVE_CAPABILITY, HealthResponse, PingResponse, SERVICE_NAME } from '@vaultex/api';
import type { FastifyInstance } from 'fastify';
import * as z from 'zod';
import type { Services } from './support.js';
import { type WebApp, webFile } from './web-app.js';

/** Features a client can detect with `/ping`. */
export const CAPABILITIES = [
  'accounts-v1',
  'multi-device',
  'pqxdh',
  'sealed-sender',
  'multi-recipient',
  'ephemeral',
  'key-transparency',
  'attachments',
  'discovery',
  ARCHIVE_CAPABILITY,
] as const;

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>VAULTEX relay</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem">
<h1>VAULTEX relay is running</h1>
<p>This server stores and forwards end-to-end encrypted messages. It never sees plaintext.</p>
<p>Service check: <a href="/ping">/ping</a> &middot; health: <a href="/health">/health</a></p>
</body></html>
`;

/** Register the service routes; `/` serves the web app when one is loaded. */
export function metaRoutes(app: FastifyInstance, { ctx }: Services, web?: WebApp): void {
  // The web app when it was built (config.webDir), else a page saying the relay runs.
  app.get('/', async (req, reply) => {
    const file = webFile(web, req.url);
    if (file) return reply.headers(file.headers).send(file.body);
    return reply.type('text/html; charset=utf-8').send(PAGE);
  });
  for (const prefix of ['', API_PREFIX]) {
    app.get(`${prefix}/health`, async () => z.encode(HealthResponse, { status: 'ok', version: ctx.version }));
    app.get(`${prefix}/ping`, async () =>
      z.encode(PingResponse, {
        service: SERVICE_NAME,
        version: ctx.version,
        minClientVersion: '0.1.0',
        capabilities: [...CAPABILITIES],
        maxArchiveBytes: ctx.config.maxArchiveBytes,
      }),
    );
  }
}

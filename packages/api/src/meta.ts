/** Unauthenticated service endpoints: health for operators, ping for client pre-flight. */
import * as z from 'zod';

/** Version prefix of every HTTP route. */
export const API_PREFIX = '/api/v1';
/** Path of the WebSocket endpoint. */
export const WS_PATH = '/ws';
/** The `service` field of `/ping`: how a client recognises a VAULTEX relay. */
export const SERVICE_NAME = 'vaultex';

/** `GET /health` response. */
export const HealthResponse = z.object({ status: z.literal('ok'), version: z.string() });
export type HealthResponse = z.output<typeof HealthResponse>;

/** `GET /ping` response: confirm a URL is a VAULTEX relay and detect features. */
export const PingResponse = z.object({
  service: z.literal(SERVICE_NAME),
  version: z.string(),
  minClientVersion: z.string(),
  capabilities: z.array(z.string()),
  /** Largest archive this relay stores (`PUT /archive`), when it has the `archive` capability. */
  maxArchiveBytes: z.number().int().min(1).optional(),
});
export type PingResponse = z.output<typeof PingResponse>;

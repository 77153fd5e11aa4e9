/**
 * Logging without metadata: Fastify's per-request logging is off, and the one line the
 * server writes per request carries the method, the route pattern (never the URL, which
 * may hold an account id), the status and the duration. No IP address, host header,
 * token, account id or device id is ever logged, so a log cannot tie a sender to a
 * recipient.
 */
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

/** Where and how much to log. */
export interface LoggerOptions {
  readonly level?: string;
  /** A destination stream (default: stdout). Tests pass one to inspect every line. */
  readonly stream?: { write(line: string): void };
}

/** Fastify/pino logger options with serializers that drop addresses and headers. */
export function loggerOptions(options: LoggerOptions): FastifyServerOptions['logger'] {
  return {
    level: options.level ?? 'info',
    ...(options.stream ? { stream: options.stream } : {}),
    base: { service: 'vaultex' },
    serializers: {
      // Only what is safe: never remoteAddress, remotePort, hostname, headers or url.
      req: (req: { method?: string; routeOptions?: { url?: string } }) => ({
        method: req.method,
        route: req.routeOptions?.url,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: (err: { name?: string; message?: string; code?: string; stack?: string }) => ({
        type: err.name ?? 'Error',
        code: err.code,
        message: err.message ?? '',
        stack: err.stack ?? '',
      }),
    },
  };
}

/** The logger type handed to the server's parts. */
export type Logger = FastifyBaseLogger;

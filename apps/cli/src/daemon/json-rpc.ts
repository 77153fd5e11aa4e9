/**
 * A JSON-RPC 2.0 engine (https://www.jsonrpc.org/specification), independent of any
 * transport: give it the text of one message, get back the text of the response (or
 * nothing, for notifications). It implements the specification exactly:
 *
 * - a Request is an object with `jsonrpc: "2.0"`, a string `method`, optional `params`
 *   (object or array) and an optional `id` (string, number or null); without `id` it is a
 *   notification and gets no response, not even an error;
 * - batches are arrays; an empty array is one Invalid Request; a batch of notifications
 *   gets no response; the responses of a batch form one array;
 * - errors: -32700 parse error, -32600 invalid request, -32601 method not found (names
 *   starting with `rpc.` are reserved), -32602 invalid params, -32603 internal error;
 *   failures of a method itself use `mapError` (server errors -32000..-32099).
 *
 * Params are validated with a zod schema per method; only by-name params (an object) are
 * accepted, and an absent or empty-array params means `{}`.
 */
import type * as z from 'zod';

/** The error codes the specification defines. */
export const RPC_ERROR = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
} as const;

/** An error to answer with. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }
}

/** A request id. */
export type RpcId = string | number | null;

/** The error member of a response. */
export interface RpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/** A response object. */
export type RpcResponse =
  | { readonly jsonrpc: '2.0'; readonly id: RpcId; readonly result: unknown }
  | { readonly jsonrpc: '2.0'; readonly id: RpcId; readonly error: RpcErrorObject };

/** One method: its params schema and what it does. */
export interface RpcMethod {
  /** Validate the params; returns the value the handler gets. */
  parse(params: unknown): { ok: true; value: unknown } | { ok: false; issues: unknown };
  call(params: unknown): unknown;
  readonly summary: string;
}

/**
 * Define a method with a zod schema for its params.
 * @example method('Add two numbers', z.object({ a: z.number(), b: z.number() }), ({ a, b }) => a + b)
 */
export function method<S extends z.ZodType>(
  summary: string,
  schema: S,
  handler: (params: z.output<S>) => unknown,
): RpcMethod {
  return {
    summary,
    parse(params) {
      const r = schema.safeParse(params);
      return r.success
        ? { ok: true, value: r.data }
        : { ok: false, issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) };
    },
    call: (params) => handler(params as z.output<S>),
  };
}

/** Options of the engine. */
export interface EngineOptions {
  /** Turn a method's failure into a response error (default: -32603 with the message). */
  readonly mapError?: (error: unknown) => RpcErrorObject;
}

type Parsed =
  | { kind: 'request'; id: RpcId | undefined; method: string; params: unknown }
  | { kind: 'invalid'; id: RpcId };

const isId = (v: unknown): v is RpcId => typeof v === 'string' || typeof v === 'number' || v === null;

function parseRequest(value: unknown): Parsed {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'invalid', id: null };
  const v = value as Record<string, unknown>;
  const hasId = Object.hasOwn(v, 'id');
  if (hasId && !isId(v.id)) return { kind: 'invalid', id: null };
  const id = hasId ? (v.id as RpcId) : null;
  if (v.jsonrpc !== '2.0' || typeof v.method !== 'string') return { kind: 'invalid', id };
  if (Object.hasOwn(v, 'params') && (typeof v.params !== 'object' || v.params === null)) return { kind: 'invalid', id };
  return { kind: 'request', id: hasId ? id : undefined, method: v.method, params: v.params };
}

function errorResponse(id: RpcId, error: RpcErrorObject): RpcResponse {
  return {
    jsonrpc: '2.0',
    id,
    error: { code: error.code, message: error.message, ...(error.data !== undefined ? { data: error.data } : {}) },
  };
}

/** The protocol engine. */
export class JsonRpcEngine {
  readonly #methods: ReadonlyMap<string, RpcMethod>;
  readonly #mapError: (error: unknown) => RpcErrorObject;

  constructor(methods: Readonly<Record<string, RpcMethod>>, options: EngineOptions = {}) {
    this.#methods = new Map(Object.entries(methods));
    this.#mapError =
      options.mapError ??
      ((e) => ({ code: RPC_ERROR.INTERNAL_ERROR, message: e instanceof Error ? e.message : 'internal error' }));
  }

  /** The method names with their summaries. */
  get methods(): { name: string; summary: string }[] {
    return [...this.#methods].map(([name, m]) => ({ name, summary: m.summary }));
  }

  /**
   * Handle the text of one message (a request or a batch).
   * @returns the response text, or undefined when nothing is to be sent back.
   */
  async handleText(text: string): Promise<string | undefined> {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return JSON.stringify(errorResponse(null, { code: RPC_ERROR.PARSE_ERROR, message: 'Parse error' }));
    }
    const response = await this.handleValue(value);
    return response === undefined ? undefined : JSON.stringify(response);
  }

  /** Handle one parsed message; batch members run in order. */
  async handleValue(value: unknown): Promise<RpcResponse | RpcResponse[] | undefined> {
    if (!Array.isArray(value)) return this.#one(value);
    if (value.length === 0) {
      return errorResponse(null, { code: RPC_ERROR.INVALID_REQUEST, message: 'Invalid Request: empty batch' });
    }
    const responses: RpcResponse[] = [];
    for (const item of value) {
      const r = await this.#one(item);
      if (r) responses.push(r);
    }
    return responses.length > 0 ? responses : undefined;
  }

  async #one(value: unknown): Promise<RpcResponse | undefined> {
    const req = parseRequest(value);
    if (req.kind === 'invalid') {
      return errorResponse(req.id, { code: RPC_ERROR.INVALID_REQUEST, message: 'Invalid Request' });
    }
    const answer = (error: RpcErrorObject): RpcResponse | undefined =>
      req.id === undefined ? undefined : errorResponse(req.id, error);
    const m = req.method.startsWith('rpc.') ? undefined : this.#methods.get(req.method);
    if (!m) return answer({ code: RPC_ERROR.METHOD_NOT_FOUND, message: `Method not found: ${req.method}` });
    let params = req.params ?? {};
    if (Array.isArray(params)) {
      if (params.length > 0) {
        return answer({
          code: RPC_ERROR.INVALID_PARAMS,
          message: 'Invalid params: pass params by name (an object)',
        });
      }
      params = {};
    }
    const parsed = m.parse(params);
    if (!parsed.ok)
      return answer({ code: RPC_ERROR.INVALID_PARAMS, message: 'Invalid params', data: { issues: parsed.issues } });
    let result: unknown;
    try {
      result = await m.call(parsed.value);
    } catch (e) {
      return answer(e instanceof RpcError ? { code: e.code, message: e.message, data: e.data } : this.#mapError(e));
    }
    return req.id === undefined
      ? undefined
      : { jsonrpc: '2.0', id: req.id, result: result === undefined ? null : result };
  }
}

/** The text of a notification from the server. */
export function notificationText(methodName: string, params: unknown): string {
  return JSON.stringify({ jsonrpc: '2.0', method: methodName, params });
}

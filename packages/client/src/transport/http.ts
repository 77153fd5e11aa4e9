/**
 * The relay's HTTP API over an injected `fetch`. Every request body is built with the
 * @vaultex/api schema (`z.encode`: bytes -> base64url) and every response is parsed with
 * one (`safeParse`): a body that does not match is a typed INVALID_RESPONSE, never a
 * half-read object. Error bodies become {@link RelayError}s carrying the server's code,
 * `retryAfter` and `mismatchedDevices`.
 */
import {
  AccountResponse,
  API_PREFIX,
  ApiError,
  type ApiErrorCode,
  type ApiErrorDetail,
  BundleResponse,
  ChallengeResponse,
  ChunkResponse,
  ConsistencyResponse,
  CreateAttachmentRequest,
  CreateAttachmentResponse,
  DeviceListReadRequest,
  DiscoverableRequest,
  DiscoverableResponse,
  InboxResponse,
  InclusionResponse,
  LinkDeviceRequest,
  LinkDeviceResponse,
  type MismatchedDevices,
  PreKeyCount,
  PreKeyUpload,
  ProvisioningMessage,
  RegisterRequest,
  RegisterResponse,
  SealedSendRequest,
  SendRequest,
  SendResponse,
  SessionRequest,
  SessionResponse,
  TreeHeadResponse,
  UpdateDeviceListRequest,
  UserSearchResponse,
} from '@vaultex/api';
import * as z from 'zod';
import { ClientError } from '../errors.js';

/** The part of a fetch Response the client reads. */
export interface FetchResponse {
  readonly status: number;
  readonly ok: boolean;
  text(): Promise<string>;
  /** Needed only to download attachments and the history archive. */
  arrayBuffer?(): Promise<ArrayBuffer>;
  /** Needed only by the history archive (its version header). */
  readonly headers?: { get(name: string): string | null };
}

/** The part of `fetch` the client uses (the global one in Node 20 and browsers fits). */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string | Uint8Array<ArrayBuffer> },
) => Promise<FetchResponse>;

/** A refusal by the relay: the API error code, HTTP status and the details it sent. */
export class RelayError extends ClientError {
  /** The relay's error code (`API_ERROR_CODES`). */
  readonly apiCode: ApiErrorCode;
  /** HTTP status (0 for a WebSocket error frame). */
  readonly status: number;
  /** Seconds to wait before retrying, for RATE_LIMITED. */
  readonly retryAfter: number | undefined;
  /** For MISMATCHED_DEVICES: which devices a send missed or named wrongly. */
  readonly mismatchedDevices: readonly MismatchedDevices[] | undefined;

  constructor(detail: ApiErrorDetail, status: number) {
    super('RELAY_REFUSED', `relay refused (${detail.code}): ${detail.message}`);
    this.name = 'RelayError';
    this.apiCode = detail.code;
    this.status = status;
    this.retryAfter = detail.retryAfter;
    this.mismatchedDevices = detail.mismatchedDevices;
  }
}

/** True for a relay refusal with one of the given API codes. */
export function isRelayError(error: unknown, ...codes: ApiErrorCode[]): error is RelayError {
  return error instanceof RelayError && (codes.length === 0 || codes.includes(error.apiCode));
}

/** Supplies bearer tokens; `invalidate` drops one the relay refused. */
export interface TokenSource {
  token(): Promise<string>;
  invalidate(token: string): void;
}

interface CallOptions {
  readonly body?: unknown;
  /** A binary body (`application/octet-stream`) instead of JSON. */
  readonly raw?: Uint8Array<ArrayBuffer>;
  readonly auth?: TokenSource;
  readonly query?: Record<string, string | number | undefined>;
}

/** JSON form of a schema's input (what goes on the wire). */
type Wire<S extends z.ZodType> = z.input<S>;

/** Low-level HTTP calls with schema-checked bodies. */
export class HttpClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly fetchFn: FetchLike,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/u, '');
  }

  /**
   * One request. Retries once with a fresh token when an authenticated call gets UNAUTHORIZED
   * (the token expired between issue and use).
   * @throws RelayError for a refusal; ClientError NETWORK_ERROR when the relay cannot be
   *   reached; ClientError INVALID_RESPONSE for a body that does not match its schema.
   */
  async call<S extends z.ZodType>(
    method: string,
    path: string,
    response: S | undefined,
    options: CallOptions = {},
  ): Promise<z.output<S>> {
    for (let attempt = 0; ; attempt++) {
      const token = options.auth ? await options.auth.token() : undefined;
      try {
        return await this.once(method, path, response, options, token);
      } catch (e) {
        if (attempt === 0 && token !== undefined && isRelayError(e, 'UNAUTHORIZED')) {
          options.auth!.invalidate(token);
          continue;
        }
        throw e;
      }
    }
  }

  private async once<S extends z.ZodType>(
    method: string,
    path: string,
    response: S | undefined,
    options: CallOptions,
    token: string | undefined,
  ): Promise<z.output<S>> {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (options.raw !== undefined) {
      body = options.raw;
      headers['content-type'] = 'application/octet-stream';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let url = `${this.baseUrl}${path}`;
    if (options.query) {
      const params = Object.entries(options.query)
        .filter((e): e is [string, string | number] => e[1] !== undefined)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
      if (params.length > 0) url += `?${params.join('&')}`;
    }
    let res: FetchResponse;
    let text: string;
    try {
      res = await this.fetchFn(url, { method, headers, ...(body !== undefined ? { body } : {}) });
      text = await res.text();
    } catch (e) {
      throw new ClientError('NETWORK_ERROR', `cannot reach the relay (${method} ${pathPattern(path)})`, { cause: e });
    }
    if (!res.ok) throw relayError(res.status, text);
    if (response === undefined) return undefined as z.output<S>;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ClientError('INVALID_RESPONSE', `relay answered ${pathPattern(path)} with invalid JSON`);
    }
    const parsed = response.safeParse(json);
    if (!parsed.success) {
      throw new ClientError('INVALID_RESPONSE', `relay answered ${pathPattern(path)} with an unexpected body`);
    }
    return parsed.data;
  }

  /**
   * An authenticated request whose answer is read as bytes together with its headers (the
   * history archive routes). Retries once with a fresh token like {@link call}.
   * @throws RelayError for a refusal; ClientError NETWORK_ERROR; ClientError INVALID_ARGUMENT
   *   when the injected fetch cannot read binary bodies or headers.
   */
  async exchange(
    method: string,
    path: string,
    options: { auth: TokenSource; raw?: Uint8Array<ArrayBuffer>; json?: unknown; headers?: Record<string, string> },
  ): Promise<{ bytes: Uint8Array; header(name: string): string | undefined }> {
    for (let attempt = 0; ; attempt++) {
      const token = await options.auth.token();
      const headers: Record<string, string> = { ...options.headers, authorization: `Bearer ${token}` };
      let body: string | Uint8Array<ArrayBuffer> | undefined;
      if (options.raw !== undefined) {
        body = options.raw;
        headers['content-type'] = 'application/octet-stream';
      } else if (options.json !== undefined) {
        body = JSON.stringify(options.json);
        headers['content-type'] = 'application/json';
      }
      let res: FetchResponse;
      let bytes: Uint8Array | undefined;
      let text = '';
      try {
        res = await this.fetchFn(`${this.baseUrl}${path}`, {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
        });
        if (res.ok && res.arrayBuffer) bytes = new Uint8Array(await res.arrayBuffer());
        else text = await res.text();
      } catch (e) {
        throw new ClientError('NETWORK_ERROR', `cannot reach the relay (${method} ${pathPattern(path)})`, { cause: e });
      }
      if (!res.ok) {
        const error = relayError(res.status, text);
        if (attempt === 0 && isRelayError(error, 'UNAUTHORIZED')) {
          options.auth.invalidate(token);
          continue;
        }
        throw error;
      }
      if (!bytes || !res.headers) {
        throw new ClientError('INVALID_ARGUMENT', 'deps.fetch: responses need arrayBuffer() and headers');
      }
      const got = res.headers;
      return { bytes, header: (name) => got.get(name) ?? undefined };
    }
  }

  /**
   * A GET whose answer is binary.
   * @throws RelayError for a refusal; ClientError NETWORK_ERROR; ClientError INVALID_ARGUMENT
   *   when the injected fetch cannot read binary bodies.
   */
  async getBytes(path: string): Promise<Uint8Array> {
    let res: FetchResponse;
    let bytes: Uint8Array | undefined;
    let text = '';
    try {
      res = await this.fetchFn(`${this.baseUrl}${path}`, { method: 'GET', headers: {} });
      if (res.ok && res.arrayBuffer) bytes = new Uint8Array(await res.arrayBuffer());
      else text = await res.text();
    } catch (e) {
      throw new ClientError('NETWORK_ERROR', `cannot reach the relay (GET ${pathPattern(path)})`, { cause: e });
    }
    if (!res.ok) throw relayError(res.status, text);
    if (!bytes) throw new ClientError('INVALID_ARGUMENT', 'deps.fetch: responses need arrayBuffer() for downloads');
    return bytes;
  }
}

/** The path without ids, for error messages that must not carry identifiers. */
function pathPattern(path: string): string {
  return path.replace(/[0-9a-f]{32}/gu, ':id').replace(/\/[A-Za-z0-9_-]{22,}/gu, '/:id');
}

function relayError(status: number, text: string): RelayError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ApiError.safeParse(json);
  if (parsed.success) return new RelayError(parsed.data.error, status);
  const code: ApiErrorCode = status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'UNAVAILABLE' : 'BAD_REQUEST';
  return new RelayError({ code, message: `HTTP ${status}` }, status);
}

const P = API_PREFIX;

/**
 * The relay's routes as typed methods (docs/API.md). Byte fields are Uint8Array on this
 * side; the schemas turn them into base64url.
 */
export class RelayHttp {
  /** The attachment routes. */
  readonly attachments: AttachmentHttp;

  constructor(readonly http: HttpClient) {
    this.attachments = new AttachmentHttp(http);
  }

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** `POST /auth/challenge`. */
  challenge(): Promise<ChallengeResponse> {
    return this.http.call('POST', `${P}/auth/challenge`, ChallengeResponse);
  }

  /** `POST /auth/session`. */
  login(req: SessionRequest): Promise<SessionResponse> {
    return this.http.call('POST', `${P}/auth/session`, SessionResponse, { body: enc(SessionRequest, req) });
  }

  /** `POST /accounts`. */
  register(req: RegisterRequest): Promise<RegisterResponse> {
    return this.http.call('POST', `${P}/accounts`, RegisterResponse, { body: enc(RegisterRequest, req) });
  }

  /** `GET /accounts/:id`. */
  account(accountId: string, auth: TokenSource): Promise<AccountResponse> {
    return this.http.call('GET', `${P}/accounts/${accountId}`, AccountResponse, { auth });
  }

  /**
   * `POST /accounts/:id/device-list`: the account's key and device list, for a device that
   * holds the account key but is not linked yet (restore from the seed phrase).
   */
  readDeviceList(
    accountId: string,
    req: { nonce: Uint8Array; accountSignature: Uint8Array },
  ): Promise<AccountResponse> {
    return this.http.call('POST', `${P}/accounts/${accountId}/device-list`, AccountResponse, {
      body: enc(DeviceListReadRequest, req),
    });
  }

  /** `POST /accounts/:id/devices` (link a device; no token). */
  linkDevice(accountId: string, req: LinkDeviceRequest): Promise<LinkDeviceResponse> {
    return this.http.call('POST', `${P}/accounts/${accountId}/devices`, LinkDeviceResponse, {
      body: enc(LinkDeviceRequest, req),
    });
  }

  /** `PUT /accounts/:id/devices` (a newer list that only removes devices). */
  async updateDeviceList(accountId: string, deviceList: Uint8Array): Promise<void> {
    await this.http.call('PUT', `${P}/accounts/${accountId}/devices`, undefined, {
      body: enc(UpdateDeviceListRequest, { deviceList }),
    });
  }

  /** `PUT /accounts/me/access-key`. */
  async setAccessKey(accessKey: Uint8Array | null, auth: TokenSource): Promise<void> {
    await this.http.call('PUT', `${P}/accounts/me/access-key`, undefined, {
      auth,
      body: { accessKey: accessKey === null ? null : z.encode(SendAccessKey, accessKey) },
    });
  }

  /** `PUT /keys`. */
  async uploadPreKeys(upload: PreKeyUpload, auth: TokenSource): Promise<void> {
    await this.http.call('PUT', `${P}/keys`, undefined, { auth, body: enc(PreKeyUpload, upload) });
  }

  /** `GET /keys/count`. */
  preKeyCount(auth: TokenSource): Promise<PreKeyCount> {
    return this.http.call('GET', `${P}/keys/count`, PreKeyCount, { auth });
  }

  /** `GET /keys/:id` (consumes one-time prekeys). */
  bundles(accountId: string, auth: TokenSource, deviceId?: number): Promise<BundleResponse> {
    return this.http.call('GET', `${P}/keys/${accountId}`, BundleResponse, { auth, query: { deviceId } });
  }

  /** `POST /messages` (authenticated send). */
  send(req: SendRequest, auth: TokenSource): Promise<SendResponse> {
    return this.http.call('POST', `${P}/messages`, SendResponse, { auth, body: enc(SendRequest, req) });
  }

  /** `POST /messages/sealed` (no authentication; access keys instead). */
  sealedSend(req: SealedSendRequest): Promise<SendResponse> {
    return this.http.call('POST', `${P}/messages/sealed`, SendResponse, { body: enc(SealedSendRequest, req) });
  }

  /** `GET /messages/inbox`. */
  inbox(auth: TokenSource, limit?: number): Promise<InboxResponse> {
    return this.http.call('GET', `${P}/messages/inbox`, InboxResponse, { auth, query: { limit } });
  }

  /** `DELETE /messages/inbox/:id`. */
  async ack(id: string, auth: TokenSource): Promise<void> {
    await this.http.call('DELETE', `${P}/messages/inbox/${id}`, undefined, { auth });
  }

  /** `POST /users/me/discoverable`. */
  async setDiscoverable(req: DiscoverableRequest, auth: TokenSource): Promise<void> {
    await this.http.call('POST', `${P}/users/me/discoverable`, undefined, {
      auth,
      body: enc(DiscoverableRequest, req),
    });
  }

  /** `GET /users/me/discoverable`. */
  discoverable(auth: TokenSource): Promise<DiscoverableResponse> {
    return this.http.call('GET', `${P}/users/me/discoverable`, DiscoverableResponse, { auth });
  }

  /** `GET /users?q=`. */
  search(q: string, auth: TokenSource): Promise<UserSearchResponse> {
    return this.http.call('GET', `${P}/users`, UserSearchResponse, { auth, query: { q } });
  }

  /** `GET /transparency/head`. */
  treeHead(): Promise<TreeHeadResponse> {
    return this.http.call('GET', `${P}/transparency/head`, TreeHeadResponse);
  }

  /** `GET /transparency/inclusion/:id`. */
  inclusion(accountId: string, auth: TokenSource): Promise<InclusionResponse> {
    return this.http.call('GET', `${P}/transparency/inclusion/${accountId}`, InclusionResponse, { auth });
  }

  /** `GET /transparency/consistency?from&to`. */
  consistency(from: number, to: number): Promise<ConsistencyResponse> {
    return this.http.call('GET', `${P}/transparency/consistency`, ConsistencyResponse, { query: { from, to } });
  }

  /** `PUT /provisioning/:channelId` (device linking mailbox; no token). */
  async putProvisioning(channelId: string, blob: Uint8Array): Promise<void> {
    await this.http.call('PUT', `${P}/provisioning/${channelId}`, undefined, {
      body: enc(ProvisioningMessage, { blob }),
    });
  }

  /** `GET /provisioning/:channelId`: the blob, or undefined while there is none (404). */
  async getProvisioning(channelId: string): Promise<Uint8Array | undefined> {
    try {
      return (await this.http.call('GET', `${P}/provisioning/${channelId}`, ProvisioningMessage)).blob;
    } catch (e) {
      if (isRelayError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }
}

/** The attachment routes (docs/API.md, Attachments). */
export class AttachmentHttp {
  constructor(private readonly http: HttpClient) {}

  /** `POST /attachments`. */
  create(size: number, auth: TokenSource): Promise<CreateAttachmentResponse> {
    return this.http.call('POST', `${P}/attachments`, CreateAttachmentResponse, {
      auth,
      body: enc(CreateAttachmentRequest, { size }),
    });
  }

  /** `PUT /attachments/:id/chunks/:index`. */
  putChunk(id: string, index: number, chunk: Uint8Array<ArrayBuffer>, auth: TokenSource): Promise<ChunkResponse> {
    return this.http.call('PUT', `${P}/attachments/${id}/chunks/${index}`, ChunkResponse, { auth, raw: chunk });
  }

  /** `GET /attachments/:id/status`. */
  status(id: string, auth: TokenSource): Promise<ChunkResponse> {
    return this.http.call('GET', `${P}/attachments/${id}/status`, ChunkResponse, { auth });
  }

  /** `GET /attachments/:id` (no token: the id is the capability). */
  download(id: string): Promise<Uint8Array> {
    return this.http.getBytes(`${P}/attachments/${id}`);
  }
}

const SendAccessKey = SealedSendRequest.shape.accessKeys.element.shape.accessKey;

/** A request body in its wire (JSON) form. */
function enc<S extends z.ZodType>(schema: S, value: z.output<S>): Wire<S> {
  return z.encode(schema, value) as Wire<S>;
}

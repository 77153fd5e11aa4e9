/**
 * The registry of API error codes. Every refusal of the relay, over HTTP or as a
 * WebSocket `error` frame, carries one of these codes; each has its HTTP status and the
 * sentence that documents it (mirrored in docs/API.md, which a test checks).
 */
import * as z from 'zod';
import { AccountId, DeviceId } from './common.js';

/** Every API error code with its HTTP status and one-sentence documentation. */
export const API_ERROR_CODES = {
  BAD_REQUEST: {
    status: 400,
    doc: 'The body, query or path failed validation (the message names the field), or the JSON did not parse.',
  },
  INVALID_SIGNATURE: {
    status: 400,
    doc: 'A proof of possession or a prekey signature did not verify against the key it claims.',
  },
  INVALID_CERTIFICATE: {
    status: 400,
    doc: 'A device certificate or signed device list is malformed, not signed by the account key, or does not match the request.',
  },
  CHALLENGE_FAILED: {
    status: 401,
    doc: 'The signed nonce is unknown, expired or was already used: request a new challenge.',
  },
  UNAUTHORIZED: {
    status: 401,
    doc: 'The session token is missing, unknown or expired, or the login signature is wrong: sign a new challenge.',
  },
  NOT_FOUND: { status: 404, doc: 'No such route, account, device or attachment (or it expired).' },
  UNKNOWN_RECIPIENT: {
    status: 404,
    doc: 'A target account does not exist or, for a sealed send, the access key is wrong: both get this same answer.',
  },
  UNKNOWN_MESSAGE: {
    status: 404,
    doc: 'An acknowledged message id is not pending for this device (never targeted at it, already acknowledged or expired).',
  },
  ACCOUNT_EXISTS: { status: 409, doc: 'An account with this identity key is already registered.' },
  STALE_DEVICE_LIST: {
    status: 409,
    doc: 'The signed device list does not have a higher counter than the one the server holds.',
  },
  TOO_MANY_DEVICES: { status: 409, doc: 'The device list holds more devices than this server allows.' },
  MISMATCHED_DEVICES: {
    status: 409,
    doc: "A send does not target exactly the recipient account's current devices; `mismatchedDevices` lists what is missing and extra.",
  },
  UPLOAD_CONFLICT: {
    status: 409,
    doc: 'An attachment chunk is not the next expected one, would exceed the declared size, or the upload is already complete.',
  },
  ATTACHMENT_INCOMPLETE: { status: 409, doc: 'The attachment is still being uploaded and cannot be downloaded yet.' },
  ARCHIVE_CONFLICT: {
    status: 409,
    doc: 'The If-Match version of an archive upload is not the stored one (another device uploaded first): fetch, merge and retry.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    doc: 'The request body, message blob or attachment exceeds the configured size limit.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    doc: 'The Content-Type is not the one the endpoint takes (application/json, or application/octet-stream for chunks).',
  },
  RATE_LIMITED: {
    status: 429,
    doc: 'A rate limit was reached; `retryAfter` (and the Retry-After header) says how many seconds to wait.',
  },
  INVALID_FRAME: {
    status: 400,
    doc: 'A WebSocket frame was text, not MessagePack, or failed its schema; the frame is ignored and the connection stays open.',
  },
  FRAME_TOO_LARGE: {
    status: 413,
    doc: 'A WebSocket frame exceeded the frame size limit; the server closes the connection with code 1009.',
  },
  REPLACED: {
    status: 409,
    doc: 'The same device opened a newer WebSocket connection; the older one is closed with code 4409.',
  },
  CHANNEL_TAKEN: {
    status: 409,
    doc: 'A provisioning channel already holds a message: the new device must show a new link code.',
  },
  INTERNAL: { status: 500, doc: 'An unexpected server failure; nothing was stored for this request.' },
  UNAVAILABLE: { status: 503, doc: 'The server is shutting down or its storage is unavailable; retry later.' },
} as const satisfies Record<string, { status: number; doc: string }>;

/** A code from the registry. */
export type ApiErrorCode = keyof typeof API_ERROR_CODES;

/** The codes as a tuple, for schemas. */
export const API_ERROR_CODE_LIST = Object.keys(API_ERROR_CODES) as [ApiErrorCode, ...ApiErrorCode[]];

/** True when `value` is a code of the registry. */
export function isApiErrorCode(value: unknown): value is ApiErrorCode {
  return typeof value === 'string' && Object.hasOwn(API_ERROR_CODES, value);
}

/** Which devices of one account a send missed or named wrongly. */
export const MismatchedDevices = z.object({
  accountId: AccountId,
  /** Devices of the account that the send did not target. */
  missing: z.array(DeviceId),
  /** Targeted devices the account does not have. */
  extra: z.array(DeviceId),
});
export type MismatchedDevices = z.infer<typeof MismatchedDevices>;

/** The error object carried by HTTP error bodies and WebSocket `error` frames. */
export const ApiErrorDetail = z.object({
  code: z.enum(API_ERROR_CODE_LIST),
  /** A human sentence; never contains keys, tokens, blobs or identifiers of other users. */
  message: z.string(),
  /** Seconds to wait before retrying (RATE_LIMITED). */
  retryAfter: z.number().int().min(0).optional(),
  /** For MISMATCHED_DEVICES. */
  mismatchedDevices: z.array(MismatchedDevices).optional(),
});
export type ApiErrorDetail = z.infer<typeof ApiErrorDetail>;

/** The body of every HTTP error response: `{ error: { code, message, retryAfter? } }`. */
export const ApiError = z.object({ error: ApiErrorDetail });
export type ApiError = z.infer<typeof ApiError>;

/**
 * Build an error body.
 * @example apiError('RATE_LIMITED', 'too many sends', { retryAfter: 3 })
 */
export function apiError(
  code: ApiErrorCode,
  message: string,
  extra?: { retryAfter?: number; mismatchedDevices?: MismatchedDevices[] },
): ApiError {
  return { error: { code, message, ...extra } };
}

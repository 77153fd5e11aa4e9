/**
 * The server's one error type: an {@link ApiFailure} carries an API error code from
 * @vaultex/api's registry and becomes `{ error: { code, message, ... } }` with the
 * registry's HTTP status, or an `error` frame on the WebSocket.
 */
import { API_ERROR_CODES, type ApiErrorCode, type ApiErrorDetail, type MismatchedDevices } from '@vaultex/api';

/** A refusal with a typed code. Messages never contain keys, tokens, blobs or other users' ids. */
export class ApiFailure extends Error {
  readonly code: ApiErrorCode;
  readonly retryAfter: number | undefined;
  readonly mismatchedDevices: MismatchedDevices[] | undefined;

  constructor(
    code: ApiErrorCode,
    message: string,
    extra?: { retryAfter?: number; mismatchedDevices?: MismatchedDevices[] },
  ) {
    super(message);
    this.name = 'ApiFailure';
    this.code = code;
    this.retryAfter = extra?.retryAfter;
    this.mismatchedDevices = extra?.mismatchedDevices;
  }

  /** The HTTP status of the code. */
  get status(): number {
    return API_ERROR_CODES[this.code].status;
  }

  /** The error object of bodies and frames. */
  detail(): ApiErrorDetail {
    return {
      code: this.code,
      message: this.message,
      ...(this.retryAfter !== undefined ? { retryAfter: this.retryAfter } : {}),
      ...(this.mismatchedDevices !== undefined ? { mismatchedDevices: this.mismatchedDevices } : {}),
    };
  }
}

/** Shorthand: `throw fail('NOT_FOUND', 'no such account')`. */
export function fail(
  code: ApiErrorCode,
  message: string,
  extra?: { retryAfter?: number; mismatchedDevices?: MismatchedDevices[] },
): ApiFailure {
  return new ApiFailure(code, message, extra);
}

/**
 * Challenge-response authentication: single-use nonces with a short life (stored as
 * their SHA-256), device logins that yield opaque 32-byte tokens (stored as their
 * SHA-256, expiring after 15 minutes by default, renewed by signing a new challenge).
 */
import { authProofMessage, fromBase64Url, toBase64Url } from '@vaultex/api';
import { type Context, coarsen } from './context.js';
import { fail } from './errors.js';
import type { TokenRecord } from './storage/storage.js';

/** Issue and check challenges and session tokens. */
export class AuthService {
  constructor(private readonly ctx: Context) {}

  /** A new nonce, valid once until `expiresAt`. */
  async challenge(): Promise<{ nonce: Uint8Array; expiresAt: number }> {
    const nonce = this.ctx.random(32);
    const expiresAt = this.ctx.clock() + this.ctx.config.challengeTtlMs;
    await this.ctx.storage.putChallenge(this.ctx.provider.sha256(nonce), expiresAt);
    return { nonce, expiresAt };
  }

  /**
   * Use up a challenge.
   * @throws ApiFailure CHALLENGE_FAILED when it is unknown, expired or used.
   */
  async consume(nonce: Uint8Array): Promise<void> {
    if (!(await this.ctx.storage.consumeChallenge(this.ctx.provider.sha256(nonce), this.ctx.clock()))) {
      throw fail('CHALLENGE_FAILED', 'unknown, expired or already used challenge');
    }
  }

  /**
   * Log a device in: it signed `authProofMessage(nonce, accountId, deviceId)` with its device key.
   * @throws ApiFailure CHALLENGE_FAILED or UNAUTHORIZED.
   */
  async login(
    accountId: Uint8Array,
    deviceId: number,
    nonce: Uint8Array,
    signature: Uint8Array,
  ): Promise<{ token: string; expiresAt: number }> {
    await this.consume(nonce);
    const device = await this.ctx.storage.getDevice(accountId, deviceId);
    const message = authProofMessage(nonce, accountId, deviceId);
    if (!device || !this.ctx.provider.ed25519Verify(device.deviceKey, message, signature)) {
      throw fail('UNAUTHORIZED', 'unknown device or wrong signature');
    }
    const token = this.ctx.random(32);
    const now = this.ctx.clock();
    const expiresAt = now + this.ctx.config.tokenTtlMs;
    await this.ctx.storage.putToken(this.ctx.provider.sha256(token), { accountId, deviceId, expiresAt });
    await this.ctx.storage.touchDevice(accountId, deviceId, coarsen(this.ctx, now));
    return { token: toBase64Url(token), expiresAt };
  }

  /**
   * The device a bearer token belongs to.
   * @throws ApiFailure UNAUTHORIZED when missing, malformed, unknown or expired.
   */
  async authenticate(token: string | undefined): Promise<TokenRecord> {
    const bytes = token === undefined ? undefined : fromBase64Url(token);
    if (bytes === undefined || bytes.length !== 32) throw fail('UNAUTHORIZED', 'missing or malformed session token');
    const record = await this.ctx.storage.getToken(this.ctx.provider.sha256(bytes));
    if (!record || record.expiresAt <= this.ctx.clock()) throw fail('UNAUTHORIZED', 'unknown or expired session token');
    return record;
  }

  /** End a session (its token stops working at once). */
  async logout(token: string): Promise<void> {
    const bytes = fromBase64Url(token);
    if (bytes !== undefined) await this.ctx.storage.deleteToken(this.ctx.provider.sha256(bytes));
  }
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer ([A-Za-z0-9_-]{1,128})$/u.exec(header);
  return match?.[1];
}

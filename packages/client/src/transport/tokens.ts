/**
 * Session tokens for one device: challenge, sign with the device key, log in. A token is
 * reused until shortly before it expires, renewed early, and dropped when the relay
 * refuses it; concurrent callers share one renewal.
 */
import { authProofMessage, fromHex } from '@vaultex/api';
import type { Clock, CryptoProvider } from '@vaultex/protocol';
import type { RelayHttp, TokenSource } from './http.js';

/** Renew this long before the relay's expiry, so a token never dies in flight. */
const RENEW_MARGIN_MS = 60_000;

/** Who logs in. */
export interface DeviceCredentials {
  /** Account id (user ID, 32 hex digits). */
  readonly accountId: string;
  readonly deviceId: number;
  /** The device's Ed25519 secret key. */
  readonly deviceSecretKey: Uint8Array;
}

/** Issues and renews bearer tokens for one device. */
export class TokenManager implements TokenSource {
  private current: { token: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly relay: RelayHttp,
    private readonly credentials: DeviceCredentials,
    private readonly provider: CryptoProvider,
    private readonly clock: Clock,
  ) {}

  /**
   * A valid token, renewed when it is about to expire.
   * @throws RelayError when the relay refuses the login (e.g. the device was removed).
   */
  token(): Promise<string> {
    const now = this.clock();
    if (this.current && this.current.expiresAt - RENEW_MARGIN_MS > now) return Promise.resolve(this.current.token);
    this.pending ??= this.login().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forget a token the relay refused. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private async login(): Promise<string> {
    const { accountId, deviceId, deviceSecretKey } = this.credentials;
    const { nonce } = await this.relay.challenge();
    const signature = this.provider.ed25519Sign(
      deviceSecretKey,
      authProofMessage(nonce, fromHex(accountId)!, deviceId),
    );
    const session = await this.relay.login({ accountId, deviceId, nonce, signature });
    this.current = { token: session.token, expiresAt: session.expiresAt };
    return session.token;
  }
}

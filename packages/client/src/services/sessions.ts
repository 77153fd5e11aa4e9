/**
 * Pairwise sessions with every device we talk to. The store keeps, per (account, device),
 * a record `[1, [session...]]`: the current session first, then up to four older ones.
 * Older sessions are kept because two devices that start a session with each other at the
 * same time each end up with two (the one they initiated and the one they accepted); the
 * first message that decrypts under an older session promotes it, and both sides converge,
 * as Signal's session records do.
 */
import type { BundleResponse, DeviceBundle } from '@vaultex/api';
import {
  acceptSession,
  decodeWire,
  encodeWire,
  equalBytes,
  InvalidMessageError,
  InvalidSessionError,
  initiateSession,
  isProtocolError,
  type PreKeyBundle,
  Session,
  type SessionDeps,
  type UsedPreKeys,
} from '@vaultex/protocol';
import type { ClientContext } from '../context.js';
import type { ClientStore } from '../storage/client-store.js';
import type { PreKeyService } from './prekeys.js';
import type { TrustService, VerifiedAccount } from './trust.js';

/** Sessions kept per device, the current one included. */
export const MAX_SESSIONS_PER_DEVICE = 5;
/** Sealed-sender content type of a ratchet message. */
export const CONTENT_TYPE_MESSAGE = 1;
/** Sealed-sender content type of a prekey message. */
export const CONTENT_TYPE_PREKEY = 2;

/** Encode a session record. */
export function encodeSessionRecord(sessions: readonly Uint8Array[]): Uint8Array {
  return encodeWire([1, sessions.slice(0, MAX_SESSIONS_PER_DEVICE)]);
}

/** Decode a session record into serialised sessions, current first. */
export function decodeSessionRecord(bytes: Uint8Array): Uint8Array[] {
  return decodeWire(bytes, {
    what: 'session record',
    versions: [1],
    read: (r) => {
      const list = r.bytesArray('sessions', 64);
      r.end();
      return list;
    },
  });
}

function toBundle(d: DeviceBundle): PreKeyBundle {
  return {
    identityKey: d.identityKey,
    deviceId: d.deviceId,
    signedPreKey: d.signedPreKey,
    ...(d.oneTimePreKey ? { oneTimePreKey: d.oneTimePreKey } : {}),
    kemPreKey: d.kemPreKey,
  };
}

/** An encrypted message for one device. */
export interface Encrypted {
  readonly ciphertext: Uint8Array;
  readonly contentType: number;
  /** The device key of the session (the sealed-sender recipient key). */
  readonly deviceKey: Uint8Array;
}

/** The outcome of a decrypt. */
export interface Decrypted {
  readonly plaintext: Uint8Array;
  /** Set when a new session was accepted from a prekey message. */
  readonly usedPreKeys?: UsedPreKeys;
}

/** Session establishment, encryption and decryption. */
export class SessionService {
  constructor(
    private readonly ctx: ClientContext,
    private readonly trust: TrustService,
    private readonly prekeys: PreKeyService,
  ) {}

  /** The protocol dependencies. */
  deps(): SessionDeps {
    return { provider: this.ctx.provider, random: this.ctx.random, clock: this.ctx.clock };
  }

  private async load(accountId: string, deviceId: number, store: ClientStore): Promise<Session[]> {
    const bytes = await store.getSession(accountId, deviceId);
    if (!bytes) return [];
    return decodeSessionRecord(bytes).map((s) => Session.deserialize(s, this.deps()));
  }

  private async save(accountId: string, deviceId: number, sessions: Session[], store: ClientStore): Promise<void> {
    await store.putSession(accountId, deviceId, encodeSessionRecord(sessions.map((s) => s.serialize())));
  }

  /** Device ids of the account we hold a session with. */
  devicesWithSessions(accountId: string): Promise<number[]> {
    return this.ctx.store.listSessionDevices(accountId);
  }

  /**
   * Make sure a session exists with each of `deviceIds`: fetch the bundles of those that
   * lack one (one request), verify them (trust, device list, transparency) and initiate.
   * @returns the verified account when bundles were fetched.
   * @throws as {@link TrustService.verifyBundles}; RelayError / NETWORK_ERROR from the fetch.
   */
  async ensure(accountId: string, deviceIds: readonly number[]): Promise<VerifiedAccount | undefined> {
    const { ctx } = this;
    const have = new Set(await ctx.store.listSessionDevices(accountId));
    const missing = deviceIds.filter((d) => !have.has(d));
    if (missing.length === 0) return undefined;
    // A single missing device is asked for alone, so the other devices' one-time keys are not spent.
    const res: BundleResponse = await ctx.relay.bundles(
      accountId,
      ctx.tokens,
      missing.length === 1 ? missing[0] : undefined,
    );
    const verified = await this.trust.verifyBundles(accountId, res);
    const local = ctx.deviceKeyPair();
    await ctx.store.transaction(async (tx) => {
      for (const d of res.devices) {
        if (!missing.includes(d.deviceId)) continue;
        const session = initiateSession(local, toBundle(d), this.deps());
        const older = await this.load(accountId, d.deviceId, tx);
        await this.save(accountId, d.deviceId, [session, ...older], tx);
      }
    });
    return verified;
  }

  /**
   * Encrypt for one device with its current session, writing the advanced session to `tx`.
   * @returns undefined when there is no session with the device.
   */
  async encrypt(
    accountId: string,
    deviceId: number,
    plaintext: Uint8Array,
    tx: ClientStore,
  ): Promise<Encrypted | undefined> {
    const sessions = await this.load(accountId, deviceId, tx);
    const current = sessions[0];
    if (!current) return undefined;
    const contentType = current.awaitingReply ? CONTENT_TYPE_PREKEY : CONTENT_TYPE_MESSAGE;
    const ciphertext = current.encrypt(plaintext);
    await this.save(accountId, deviceId, sessions, tx);
    return { ciphertext, contentType, deviceKey: current.remoteIdentityKey };
  }

  /**
   * Decrypt a message from one device inside `tx`: try the current and older sessions,
   * and accept a new session from a prekey message none of them owns (consuming its
   * one-time prekeys). The device key must be the session's remote key.
   * @throws DuplicateMessageError for a replay; InvalidMessageError / InvalidPrekeyError /
   *   TooManySkippedError / InvalidSessionError when it cannot be decrypted.
   */
  async decrypt(
    accountId: string,
    deviceId: number,
    deviceKey: Uint8Array,
    ciphertext: Uint8Array,
    contentType: number,
    tx: ClientStore,
  ): Promise<Decrypted> {
    const sessions = (await this.load(accountId, deviceId, tx)).filter((s) =>
      equalBytes(s.remoteIdentityKey, deviceKey),
    );
    let firstError: unknown;
    for (let i = 0; i < sessions.length; i++) {
      const session = sessions[i]!;
      try {
        const plaintext = session.decrypt(ciphertext);
        sessions.splice(i, 1);
        await this.save(accountId, deviceId, [session, ...sessions], tx);
        return { plaintext };
      } catch (e) {
        // A duplicate is final: the message was already handled under this session.
        if (isProtocolError(e, 'DUPLICATE_MESSAGE')) throw e;
        firstError ??= e;
      }
    }
    if (contentType !== CONTENT_TYPE_PREKEY) {
      throw firstError ?? new InvalidSessionError('no session with this device');
    }
    const lookup = await this.prekeys.lookupFor(ciphertext, tx);
    const accepted = acceptSession(this.ctx.deviceKeyPair(), ciphertext, lookup, this.deps());
    if (!equalBytes(accepted.session.remoteIdentityKey, deviceKey)) {
      throw new InvalidMessageError('prekey message identity is not the sealed sender device key');
    }
    await this.prekeys.consume(accepted.usedPreKeys, tx);
    await this.save(accountId, deviceId, [accepted.session, ...sessions], tx);
    return { plaintext: accepted.plaintext, usedPreKeys: accepted.usedPreKeys };
  }

  /** Forget the sessions with one device (it was removed, or its session broke). */
  async drop(accountId: string, deviceId: number, tx?: ClientStore): Promise<void> {
    await (tx ?? this.ctx.store).deleteSession(accountId, deviceId);
  }
}

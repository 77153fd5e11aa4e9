/**
 * Accounts and devices: registration with proof of possession of both the account key
 * and the first device key, device linking and removal under device lists signed by
 * the account key (with a counter that only goes up), and deletion that purges every
 * row. Every identity-key and device-list change is appended to the transparency log.
 */
import {
  type DevicePreKeys,
  deleteAccountProofMessage,
  type LinkDeviceRequest,
  linkProofMessage,
  type RegisterRequest,
  registrationProofMessage,
} from '@vaultex/api';
import {
  createLogEntry,
  type DeviceCertificate,
  type DeviceList,
  decodeDeviceCertificate,
  decodeDeviceList,
  encodeLogEntry,
  equalBytes,
  isProtocolError,
  logEntryLeafHash,
  userIdFromIdentityKey,
  verifyDeviceCertificate,
  verifyDeviceList,
} from '@vaultex/protocol';
import type { AuthService } from './auth.js';
import { type Context, coarsen } from './context.js';
import { fail } from './errors.js';
import { hex } from './ids.js';
import { verifyPreKeys } from './prekeys.js';
import type { AccountRecord, DeviceRecord, LogAppend } from './storage/storage.js';

function certificate(bytes: Uint8Array, accountKey: Uint8Array, ctx: Context): DeviceCertificate {
  try {
    const cert = decodeDeviceCertificate(bytes);
    verifyDeviceCertificate(cert, ctx.provider, accountKey);
    return cert;
  } catch (e) {
    if (isProtocolError(e)) throw fail('INVALID_CERTIFICATE', `device certificate: ${e.message}`);
    throw e;
  }
}

function deviceList(bytes: Uint8Array, accountKey: Uint8Array, ctx: Context): DeviceList {
  let list: DeviceList;
  try {
    list = decodeDeviceList(bytes);
    verifyDeviceList(list, ctx.provider, accountKey);
  } catch (e) {
    if (isProtocolError(e)) throw fail('INVALID_CERTIFICATE', `device list: ${e.message}`);
    throw e;
  }
  if (list.devices.length > ctx.config.maxDevices) {
    throw fail('TOO_MANY_DEVICES', `this server allows at most ${ctx.config.maxDevices} devices`);
  }
  return list;
}

/** Registration, linking, removal, deletion. */
export class AccountService {
  constructor(
    private readonly ctx: Context,
    private readonly auth: AuthService,
  ) {}

  /**
   * Register an account with its first device.
   * @throws ApiFailure INVALID_CERTIFICATE, TOO_MANY_DEVICES, CHALLENGE_FAILED, INVALID_SIGNATURE, ACCOUNT_EXISTS.
   */
  async register(req: RegisterRequest): Promise<{ accountId: string; deviceId: number }> {
    const { ctx } = this;
    const cert = certificate(req.deviceCertificate, req.identityKey, ctx);
    const list = deviceList(req.deviceList, req.identityKey, ctx);
    const only = list.devices[0];
    if (list.devices.length !== 1 || only?.deviceId !== cert.deviceId || !equalBytes(only.deviceKey, cert.deviceKey)) {
      throw fail('INVALID_CERTIFICATE', 'the device list must name exactly the certified device');
    }
    await this.auth.consume(req.nonce);
    const proof = registrationProofMessage(req.nonce, req.deviceCertificate, req.deviceList);
    if (
      !ctx.provider.ed25519Verify(req.identityKey, proof, req.accountSignature) ||
      !ctx.provider.ed25519Verify(cert.deviceKey, proof, req.deviceSignature)
    ) {
      throw fail('INVALID_SIGNATURE', 'registration proof does not verify with the account and device keys');
    }
    const prekeys = verifyPreKeys(cert.deviceKey, req.prekeys, ctx.provider);
    this.checkOneTimeCount(req.prekeys);
    const now = coarsen(ctx, ctx.clock());
    const accountId = userIdFromIdentityKey(req.identityKey, ctx.provider);
    const account: AccountRecord = {
      id: accountId,
      identityKey: req.identityKey,
      deviceList: req.deviceList,
      deviceListCounter: list.counter,
      accessKeyHash: req.accessKey ? ctx.provider.sha256(req.accessKey) : null,
      createdAt: now,
    };
    const log = this.logAppend(req.identityKey, req.deviceList);
    const result = await ctx.storage.createAccount({
      account,
      device: this.deviceRecord(accountId, cert, req.deviceCertificate, now),
      prekeys,
      log,
    });
    if (result === 'exists') throw fail('ACCOUNT_EXISTS', 'this identity key is already registered');
    ctx.recipients.invalidate(hex(accountId));
    ctx.transparency.appended(result.logIndex, log.leafHash);
    return { accountId: hex(accountId), deviceId: cert.deviceId };
  }

  /**
   * Link a device: a certificate and a newer device list that adds it, and the new device's proof.
   * @throws ApiFailure NOT_FOUND, INVALID_CERTIFICATE, STALE_DEVICE_LIST, TOO_MANY_DEVICES, CHALLENGE_FAILED, INVALID_SIGNATURE.
   */
  async link(accountId: Uint8Array, req: LinkDeviceRequest): Promise<{ deviceId: number }> {
    const { ctx } = this;
    const account = await this.account(accountId);
    const cert = certificate(req.deviceCertificate, account.identityKey, ctx);
    const list = deviceList(req.deviceList, account.identityKey, ctx);
    const current = await ctx.storage.listDevices(accountId);
    if (current.some((d) => d.deviceId === cert.deviceId)) {
      throw fail('INVALID_CERTIFICATE', `device ${cert.deviceId} already exists`);
    }
    const added = list.devices.find((d) => d.deviceId === cert.deviceId);
    if (!added || !equalBytes(added.deviceKey, cert.deviceKey)) {
      throw fail('INVALID_CERTIFICATE', 'the device list does not contain the certified device');
    }
    const removed = this.checkListAgainst(list, current, account, cert.deviceId);
    await this.auth.consume(req.nonce);
    const proof = linkProofMessage(req.nonce, req.deviceCertificate, req.deviceList);
    if (!ctx.provider.ed25519Verify(cert.deviceKey, proof, req.deviceSignature)) {
      throw fail('INVALID_SIGNATURE', 'link proof does not verify with the new device key');
    }
    const prekeys = verifyPreKeys(cert.deviceKey, req.prekeys, ctx.provider);
    this.checkOneTimeCount(req.prekeys);
    const now = coarsen(ctx, ctx.clock());
    await this.applyChange(account, list, req.deviceList, removed, {
      record: this.deviceRecord(accountId, cert, req.deviceCertificate, now),
      prekeys,
    });
    return { deviceId: cert.deviceId };
  }

  /**
   * Replace the device list with a newer one that only removes devices.
   * @throws ApiFailure NOT_FOUND, INVALID_CERTIFICATE, STALE_DEVICE_LIST.
   */
  async updateDeviceList(accountId: Uint8Array, encoded: Uint8Array): Promise<void> {
    const account = await this.account(accountId);
    const list = deviceList(encoded, account.identityKey, this.ctx);
    const current = await this.ctx.storage.listDevices(accountId);
    const removed = this.checkListAgainst(list, current, account, undefined);
    await this.applyChange(account, list, encoded, removed, undefined);
  }

  /**
   * Delete an account and everything it left on the server.
   * @throws ApiFailure NOT_FOUND, CHALLENGE_FAILED, INVALID_SIGNATURE.
   */
  async delete(accountId: Uint8Array, nonce: Uint8Array, signature: Uint8Array): Promise<void> {
    const account = await this.account(accountId);
    await this.auth.consume(nonce);
    if (!this.ctx.provider.ed25519Verify(account.identityKey, deleteAccountProofMessage(nonce, accountId), signature)) {
      throw fail('INVALID_SIGNATURE', 'deletion proof does not verify with the account key');
    }
    const devices = await this.ctx.storage.listDevices(accountId);
    await this.ctx.storage.deleteAccount(accountId);
    this.ctx.recipients.invalidate(hex(accountId));
    for (const d of devices) this.ctx.bus.publish(accountId, d.deviceId, { kind: 'revoked' });
  }

  /**
   * The account or NOT_FOUND.
   * @throws ApiFailure NOT_FOUND.
   */
  async account(accountId: Uint8Array): Promise<AccountRecord> {
    const account = await this.ctx.storage.getAccount(accountId);
    if (!account) throw fail('NOT_FOUND', 'no such account');
    return account;
  }

  /** Every listed device must exist with the same key (except `adding`); returns the removed device ids. */
  private checkListAgainst(
    list: DeviceList,
    current: readonly DeviceRecord[],
    account: AccountRecord,
    adding: number | undefined,
  ): number[] {
    if (list.counter <= account.deviceListCounter) {
      throw fail('STALE_DEVICE_LIST', 'the device list counter must be higher than the stored one');
    }
    for (const entry of list.devices) {
      if (entry.deviceId === adding) continue;
      const existing = current.find((d) => d.deviceId === entry.deviceId);
      if (!existing || !equalBytes(existing.deviceKey, entry.deviceKey)) {
        throw fail('INVALID_CERTIFICATE', `device ${entry.deviceId} is not linked: link it with its certificate`);
      }
    }
    return current.filter((d) => !list.devices.some((e) => e.deviceId === d.deviceId)).map((d) => d.deviceId);
  }

  private async applyChange(
    account: AccountRecord,
    list: DeviceList,
    encoded: Uint8Array,
    removed: number[],
    device: { record: DeviceRecord; prekeys: ReturnType<typeof verifyPreKeys> } | undefined,
  ): Promise<void> {
    const log = this.logAppend(account.identityKey, encoded);
    const result = await this.ctx.storage.changeDeviceList({
      accountId: account.id,
      expectedCounter: account.deviceListCounter,
      deviceList: encoded,
      counter: list.counter,
      removedDeviceIds: removed,
      log,
      ...(device ? { device } : {}),
    });
    if (result === 'stale') throw fail('STALE_DEVICE_LIST', 'the device list changed meanwhile');
    this.ctx.recipients.invalidate(hex(account.id));
    this.ctx.transparency.appended(result.logIndex, log.leafHash);
    for (const deviceId of removed) this.ctx.bus.publish(account.id, deviceId, { kind: 'revoked' });
  }

  private checkOneTimeCount(prekeys: DevicePreKeys): void {
    const max = this.ctx.config.maxOneTimePreKeys;
    if ((prekeys.oneTimePreKeys?.length ?? 0) > max || (prekeys.kemPreKeys?.length ?? 0) > max) {
      throw fail('BAD_REQUEST', `at most ${max} one-time prekeys of each kind`);
    }
  }

  private logAppend(identityKey: Uint8Array, encodedList: Uint8Array): LogAppend {
    const entry = encodeLogEntry(
      createLogEntry(identityKey, encodedList, coarsen(this.ctx, this.ctx.clock()), this.ctx.provider),
    );
    return { entry, leafHash: logEntryLeafHash(entry, this.ctx.provider) };
  }

  private deviceRecord(accountId: Uint8Array, cert: DeviceCertificate, encoded: Uint8Array, now: number): DeviceRecord {
    return {
      accountId,
      deviceId: cert.deviceId,
      deviceKey: cert.deviceKey,
      certificate: encoded,
      createdAt: now,
      lastSeenAt: now,
    };
  }
}

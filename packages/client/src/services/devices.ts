/**
 * Devices: our own account's signed device list (list, rename, revoke, approve a link),
 * and the device lists of the accounts we talk to. No device is primary: every device
 * holds the account key and signs the next list (counter + 1). The relay takes a list only
 * when its counter is higher than the stored one, so a stale device refreshes and retries.
 */
import {
  type DeviceList,
  type DeviceListEntry,
  encodeDeviceList,
  encodeTreeHead,
  equalBytes,
  signDeviceList,
} from '@vaultex/protocol';
import type { SyncedContact } from '../content.js';
import type { ClientContext } from '../context.js';
import { ClientError } from '../errors.js';
import type { DeviceInfo } from '../events.js';
import { parseLinkCode, sealProvisioning } from '../provisioning.js';
import type { ContactRecord } from '../storage/records.js';
import { isRelayError } from '../transport/http.js';
import type { SessionService } from './sessions.js';
import { decodePin, type TrustService, type VerifiedAccount } from './trust.js';

/** Device names are at most this long (the device list's limit). */
export const MAX_DEVICE_NAME = 64;

/**
 * How long {@link DeviceService.approveLink} waits, by default, for the new device to appear
 * in the relay's list: it registers within seconds of fetching the provisioning message.
 */
export const LINK_WAIT_MS = 30_000;
/** How often approveLink asks the relay for our list while it waits. */
const LINK_POLL_MS = 250;

/** Options of {@link DeviceService.approveLink}. */
export interface ApproveLinkOptions {
  /**
   * How long to wait for the new device to register (default {@link LINK_WAIT_MS}); 0 returns
   * at once. Until this device knows the new one, its group messages and sent transcripts skip it.
   */
  readonly waitMs?: number;
}

function randomDeviceId(ctx: ClientContext, taken: readonly number[]): number {
  for (;;) {
    const b = ctx.random(4);
    const id = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if (id !== 0 && !taken.includes(id)) return id;
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_DEVICE_NAME) {
    throw new ClientError('INVALID_ARGUMENT', `name: 1..${MAX_DEVICE_NAME} characters`);
  }
  return name;
}

/** Our devices and other accounts' device lists. */
export class DeviceService {
  /** Called when our list gained devices (they get a contacts snapshot). */
  onOwnDevicesAdded: (() => void) | undefined;
  constructor(
    private readonly ctx: ClientContext,
    private readonly trust: TrustService,
    private readonly sessions: SessionService,
  ) {}

  /** Our devices, from the stored signed list. */
  list(): DeviceInfo[] {
    const list = this.ctx.ownDeviceList();
    return (list?.devices ?? []).map((d) => ({
      deviceId: d.deviceId,
      name: d.name,
      deviceKey: d.deviceKey,
      current: d.deviceId === this.ctx.deviceId,
    }));
  }

  /** Our other devices' ids. */
  otherDeviceIds(): number[] {
    return (this.ctx.ownDeviceList()?.devices ?? []).map((d) => d.deviceId).filter((id) => id !== this.ctx.deviceId);
  }

  /**
   * Fetch an account's key and device list and verify them (key -> id, TOFU pin, list
   * signature, transparency inclusion).
   * @throws ClientError INVALID_RESPONSE / UNTRUSTED_IDENTITY; protocol errors for bad proofs or lists.
   */
  async fetchAccount(accountId: string): Promise<VerifiedAccount> {
    const { ctx } = this;
    const res = await ctx.relay.account(accountId, ctx.tokens);
    const verified = await this.trust.verifyAccount(accountId, res);
    const inclusion = await ctx.relay.inclusion(accountId, ctx.tokens);
    await this.trust.verifyInclusion(inclusion, verified.identityKey, verified.deviceListBytes);
    return verified;
  }

  /**
   * Our own list from the relay; adopted when newer. Sessions with removed devices are dropped.
   * @returns whether it changed.
   */
  async refreshOwn(): Promise<boolean> {
    const verified = await this.fetchAccount(this.ctx.accountId);
    return this.adoptOwn(verified.deviceList, verified.deviceListBytes);
  }

  /** Store a newer own device list. */
  async adoptOwn(list: DeviceList, bytes: Uint8Array): Promise<boolean> {
    const { ctx } = this;
    if (list.counter <= ctx.profile.deviceListCounter && ctx.profile.deviceList) return false;
    const before = ctx.ownDeviceList();
    const profile = { ...ctx.profile, deviceList: bytes, deviceListCounter: list.counter };
    await ctx.writeProfile(profile);
    for (const d of before?.devices ?? []) {
      const still = list.devices.find((e) => e.deviceId === d.deviceId);
      if (!still || !equalBytes(still.deviceKey, d.deviceKey)) await this.sessions.drop(ctx.accountId, d.deviceId);
    }
    ctx.emitter.emit('device-list-changed', { devices: this.list() });
    const added = list.devices.some(
      (d) => d.deviceId !== ctx.deviceId && !before?.devices.some((b) => b.deviceId === d.deviceId),
    );
    if (added && before) this.onOwnDevicesAdded?.();
    return true;
  }

  /** Store a newer device list of a contact; sessions with removed devices are dropped. */
  async adoptContactList(contact: ContactRecord, list: DeviceList, bytes: Uint8Array): Promise<ContactRecord> {
    const old = contact.deviceList ? this.trust.verifyList(contact.identityKey, contact.deviceList) : undefined;
    if (old && old.counter >= list.counter) return contact;
    const updated: ContactRecord = { ...contact, deviceList: bytes };
    await this.ctx.store.putContact(updated);
    for (const d of old?.devices ?? []) {
      const still = list.devices.find((e) => e.deviceId === d.deviceId);
      if (!still || !equalBytes(still.deviceKey, d.deviceKey)) await this.sessions.drop(contact.accountId, d.deviceId);
    }
    return updated;
  }

  /**
   * The current device ids of an account: ours from the profile, a contact's from its
   * record (fetched and stored when missing, or when `refresh`).
   */
  async devicesOf(accountId: string, refresh = false): Promise<number[]> {
    const { ctx } = this;
    if (accountId === ctx.accountId) {
      if (refresh || !ctx.profile.deviceList) await this.refreshOwn();
      return this.otherDeviceIds();
    }
    const contact = await ctx.store.getContact(accountId);
    if (contact?.deviceList && !refresh) {
      return this.trust.verifyList(contact.identityKey, contact.deviceList).devices.map((d) => d.deviceId);
    }
    const verified = await this.fetchAccount(accountId);
    if (contact) await this.adoptContactList(contact, verified.deviceList, verified.deviceListBytes);
    return verified.deviceList.devices.map((d) => d.deviceId);
  }

  /**
   * Whether `deviceId` with `deviceKey` is in the account's current list. An unknown device
   * makes us fetch the list again (a device linked a moment ago is not in the stored one).
   * @returns the verified list that contains it, or undefined.
   */
  async checkSenderDevice(
    accountId: string,
    accountKey: Uint8Array,
    deviceId: number,
    deviceKey: Uint8Array,
  ): Promise<{ list: DeviceList; bytes: Uint8Array } | undefined> {
    const { ctx } = this;
    const contains = (list: DeviceList): boolean =>
      list.devices.some((d) => d.deviceId === deviceId && equalBytes(d.deviceKey, deviceKey));
    const contact = accountId === ctx.accountId ? undefined : await ctx.store.getContact(accountId);
    const storedBytes = accountId === ctx.accountId ? ctx.profile.deviceList : contact?.deviceList;
    if (storedBytes) {
      const list = this.trust.verifyList(accountKey, storedBytes);
      if (contains(list)) return { list, bytes: storedBytes };
    }
    const verified = await this.fetchAccount(accountId);
    if (accountId === ctx.accountId) await this.adoptOwn(verified.deviceList, verified.deviceListBytes);
    else if (contact) await this.adoptContactList(contact, verified.deviceList, verified.deviceListBytes);
    return contains(verified.deviceList) ? { list: verified.deviceList, bytes: verified.deviceListBytes } : undefined;
  }

  /**
   * Rename one of our devices (a new signed list, counter + 1).
   * @throws ClientError INVALID_ARGUMENT / NOT_FOUND; RelayError.
   */
  async rename(deviceId: number, name: string): Promise<void> {
    checkName(name);
    await this.changeList((devices) => {
      if (!devices.some((d) => d.deviceId === deviceId)) throw new ClientError('NOT_FOUND', 'no such device');
      return devices.map((d) => (d.deviceId === deviceId ? { ...d, name } : d));
    });
  }

  /**
   * Remove one of our other devices: it loses its tokens, prekeys and pending messages at
   * once and receives nothing more.
   * @throws ClientError INVALID_ARGUMENT for this device itself, NOT_FOUND; RelayError.
   */
  async revoke(deviceId: number): Promise<void> {
    if (deviceId === this.ctx.deviceId) {
      throw new ClientError('INVALID_ARGUMENT', 'deviceId: a device cannot revoke itself; use another device');
    }
    await this.changeList((devices) => {
      if (!devices.some((d) => d.deviceId === deviceId)) throw new ClientError('NOT_FOUND', 'no such device');
      return devices.filter((d) => d.deviceId !== deviceId);
    });
    await this.sessions.drop(this.ctx.accountId, deviceId);
  }

  private async changeList(change: (devices: readonly DeviceListEntry[]) => DeviceListEntry[]): Promise<void> {
    const { ctx } = this;
    for (let attempt = 0; ; attempt++) {
      const current = ctx.ownDeviceList();
      if (!current) throw new ClientError('NO_PROFILE', 'no device list yet');
      const next = signDeviceList(
        ctx.accountKeyPair(),
        current.counter + 1,
        change(current.devices),
        ctx.clock(),
        ctx.provider,
      );
      const bytes = encodeDeviceList(next);
      try {
        await ctx.relay.updateDeviceList(ctx.accountId, bytes);
      } catch (e) {
        if (attempt === 0 && isRelayError(e, 'STALE_DEVICE_LIST', 'INVALID_CERTIFICATE')) {
          // Another device changed the list meanwhile: start from the relay's.
          await this.refreshOwn();
          continue;
        }
        throw e;
      }
      await this.adoptOwn(next, bytes);
      return;
    }
  }

  /**
   * Existing device: answer a link code shown by a new device. Hands over, encrypted to
   * the code's key, the account key, an assigned device id, the current device list, the
   * profile and a contacts snapshot; the new device links itself. Then waits (bounded by
   * `options.waitMs`) until the relay's signed list names the new device and adopts that list,
   * so this device's next group message and sent transcript reach the new device without a
   * manual refresh. A device that has not registered when the wait ends is still linked once
   * it does; this device then learns of it from the relay (a refresh, `MISMATCHED_DEVICES`,
   * or the new device's first message).
   * @returns the device id assigned to the new device.
   * @throws ClientError INVALID_LINK_CODE, INVALID_ARGUMENT; RelayError.
   */
  async approveLink(code: string, options: ApproveLinkOptions = {}): Promise<number> {
    const { ctx } = this;
    const waitMs = options.waitMs ?? LINK_WAIT_MS;
    if (!Number.isSafeInteger(waitMs) || waitMs < 0) {
      throw new ClientError('INVALID_ARGUMENT', 'waitMs: a non-negative integer of milliseconds');
    }
    const link = parseLinkCode(code);
    await this.refreshOwn().catch(() => false);
    const list = ctx.ownDeviceList();
    if (!list || !ctx.profile.deviceList) throw new ClientError('NO_PROFILE', 'no device list yet');
    const deviceId = randomDeviceId(
      ctx,
      list.devices.map((d) => d.deviceId),
    );
    const contacts: SyncedContact[] = (await ctx.store.listContacts()).map((c) => ({
      accountId: c.accountId,
      identityKey: c.identityKey,
      displayName: c.displayName,
      state: c.state,
      verified: c.verified,
      ...(c.accessKey ? { accessKey: c.accessKey } : {}),
    }));
    const pinBytes = await ctx.store.getTreeHead();
    const pin = pinBytes ? decodePin(pinBytes) : undefined;
    const blob = sealProvisioning(
      {
        accountSecretKey: ctx.profile.accountSecretKey,
        deviceId,
        deviceList: ctx.profile.deviceList,
        displayName: ctx.profile.displayName,
        accessKey: ctx.profile.accessKey,
        settings: ctx.profile.settings,
        ...(pin
          ? {
              transparency: {
                logPublicKey: pin.logPublicKey,
                treeHead: encodeTreeHead(pin.head),
              },
            }
          : {}),
        contacts,
      },
      link,
      ctx.provider,
      ctx.random,
    );
    await ctx.relay.putProvisioning(link.channelId, blob);
    await this.awaitOwnDevice(deviceId, waitMs);
    return deviceId;
  }

  /**
   * Poll the relay until our signed list names `deviceId` (adopting it: contact sync follows)
   * or `waitMs` passed. Bounded by the clock and by a number of rounds, so an injected clock
   * that stands still cannot make it spin forever. Failures end nothing: the provisioning
   * message is already delivered, and the list is only a moment behind.
   */
  private async awaitOwnDevice(deviceId: number, waitMs: number): Promise<void> {
    const { ctx } = this;
    const known = () => ctx.ownDeviceList()?.devices.some((d) => d.deviceId === deviceId) ?? false;
    const deadline = ctx.clock() + waitMs;
    const rounds = Math.ceil(waitMs / LINK_POLL_MS);
    for (let round = 0; round < rounds && !known(); round++) {
      await new Promise((r) => setTimeout(r, LINK_POLL_MS));
      await this.refreshOwn().catch(() => false);
      if (ctx.clock() >= deadline) break;
    }
  }
}

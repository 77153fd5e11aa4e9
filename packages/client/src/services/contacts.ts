/**
 * Contacts: added from a contact code (or a discovery result), message requests from
 * unknown senders (accept / block), the block list, the TOFU pin with its pending key
 * change, safety numbers and the verified flag. Changes are synced to our other devices
 * with a contact-sync content. Opt-in discovery lives here too.
 */
import {
  bytesToHex,
  equalBytes,
  formatUserId,
  hexToBytes,
  type SafetyNumber,
  safetyNumberQrText,
} from '@vaultex/protocol';
import type { Avatar } from '../avatar.js';
import { type ContactCode, encodeContactCode, parseContactCode } from '../contact-code.js';
import { encodeContent, MAX_SYNC_CONTACTS, type SyncedContact } from '../content.js';
import type { ClientContext } from '../context.js';
import { ClientError } from '../errors.js';
import type { ClientStore } from '../storage/client-store.js';
import type { ContactRecord, ContactState } from '../storage/records.js';
import type { DeviceService } from './devices.js';
import type { OutboxService } from './outbox.js';
import type { ProfileService } from './profile.js';
import type { TrustService } from './trust.js';

/** A contact as applications see it. */
export interface ContactView {
  readonly accountId: string;
  /** The user ID as shown to people: `7F3A·C291·…`. */
  readonly formatted: string;
  readonly displayName: string;
  readonly state: ContactState;
  readonly verified: boolean;
  /** A key change is pending: sends are refused until it is accepted. */
  readonly keyChanged: boolean;
  readonly identityKey: Uint8Array;
  readonly addedAt: number;
  /** The profile picture they pushed to us, if any. */
  readonly avatar?: Avatar;
}

/** A safety number with its scannable forms. */
export interface SafetyNumberView extends SafetyNumber {
  /** The QR payload as text (`VAULTEX-SN:…`), for scanners that return text. */
  readonly qrText: string;
}

/** A discovery search hit. */
export interface DiscoveredUser {
  readonly accountId: string;
  readonly formatted: string;
  readonly identityKey: Uint8Array;
  readonly displayName?: string;
}

/** Check an account id argument. */
export function checkAccountId(value: unknown, field = 'accountId'): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{32}$/u.test(value)) {
    throw new ClientError('INVALID_ARGUMENT', `${field}: 32 lower-case hex digits`);
  }
  return value;
}

/** The application's view of a contact record. */
export function contactView(c: ContactRecord): ContactView {
  return {
    accountId: c.accountId,
    formatted: formatUserId(hexToBytes(c.accountId)),
    displayName: c.displayName,
    state: c.state,
    verified: c.verified,
    keyChanged: c.keyChange !== undefined,
    identityKey: c.identityKey,
    addedAt: c.addedAt,
    ...(c.avatar && c.avatarMime ? { avatar: { mime: c.avatarMime as Avatar['mime'], bytes: c.avatar } } : {}),
  };
}

/** Contact management. */
export class ContactService {
  /** Pushes our profile to contacts we accept; set by the client. */
  profiles: ProfileService | undefined;

  constructor(
    private readonly ctx: ClientContext,
    private readonly trust: TrustService,
    private readonly devices: DeviceService,
    private readonly outbox: OutboxService,
  ) {}

  /** Our own contact code (link and QR payload). */
  ownCode(): string {
    const p = this.ctx.profile;
    const code: ContactCode = {
      accountId: p.userId,
      identityKey: p.accountPublicKey,
      accessKey: p.accessKey,
      serverUrl: p.serverUrl,
      ...(p.displayName ? { displayName: p.displayName } : {}),
    };
    return encodeContactCode(code);
  }

  /**
   * Add (or accept) a contact from a contact code, or from a discovery result (which has
   * no access key: sends to it are authenticated until it shares one).
   * @throws ClientError INVALID_CONTACT_CODE, INVALID_ARGUMENT (our own code);
   *   UNTRUSTED_IDENTITY when a known contact shows another key.
   */
  async add(from: string | DiscoveredUser, options: { displayName?: string } = {}): Promise<ContactView> {
    const { ctx } = this;
    let code: { accountId: string; identityKey: Uint8Array; accessKey?: Uint8Array; displayName?: string };
    if (typeof from === 'string') {
      code = parseContactCode(from, ctx.provider);
    } else {
      checkAccountId(from?.accountId, 'user.accountId');
      this.trust.checkAccountKey(from.accountId, from.identityKey);
      code = {
        accountId: from.accountId,
        identityKey: from.identityKey,
        ...(from.displayName ? { displayName: from.displayName } : {}),
      };
    }
    if (code.accountId === ctx.accountId) throw new ClientError('INVALID_ARGUMENT', 'that is our own contact code');
    const now = ctx.clock();
    const existing = await ctx.store.getContact(code.accountId);
    if (existing && !equalBytes(existing.identityKey, code.identityKey)) {
      await this.trust.recordKeyChange(existing, code.identityKey);
      throw new ClientError('UNTRUSTED_IDENTITY', 'this code shows another key than the one pinned for the contact');
    }
    const displayName = options.displayName ?? code.displayName ?? existing?.displayName ?? '';
    const record: ContactRecord = {
      ...(existing ?? { accountId: code.accountId, identityKey: code.identityKey, verified: false, addedAt: now }),
      displayName,
      state: 'accepted',
      ...(code.accessKey
        ? { accessKey: code.accessKey }
        : existing?.accessKey
          ? { accessKey: existing.accessKey }
          : {}),
    };
    await ctx.store.transaction(async (tx) => {
      await tx.putContact(record);
      if (!existing) await tx.appendKeyHistory(record.accountId, { identityKey: record.identityKey, seenAt: now });
    });
    await this.syncToOwnDevices([record]);
    // Accepting someone who wrote to us, or adding someone while we have a picture: send
    // them our profile and ask for theirs (a stranger who does not know us ignores it).
    if (!record.keyChange && (existing ? existing.state !== 'accepted' : ctx.profile.avatar !== undefined)) {
      await this.profiles?.sendTo(record.accountId);
    }
    return contactView(record);
  }

  /** Contacts, optionally of one state. */
  async list(state?: ContactState): Promise<ContactView[]> {
    const records = await this.ctx.store.listContacts(state ? { state } : undefined);
    return records.map(contactView);
  }

  /** One contact, or undefined. */
  async get(accountId: string): Promise<ContactView | undefined> {
    const c = await this.ctx.store.getContact(checkAccountId(accountId));
    return c && contactView(c);
  }

  private async require(accountId: string): Promise<ContactRecord> {
    const c = await this.ctx.store.getContact(checkAccountId(accountId));
    if (!c) throw new ClientError('NOT_FOUND', 'no such contact');
    return c;
  }

  private async setState(accountId: string, state: ContactState): Promise<ContactView> {
    const c = await this.require(accountId);
    const updated: ContactRecord = { ...c, state };
    await this.ctx.store.putContact(updated);
    await this.syncToOwnDevices([updated]);
    if (state === 'accepted' && c.state !== 'accepted' && !c.keyChange) await this.profiles?.sendTo(accountId);
    return contactView(updated);
  }

  /**
   * Accept a message request.
   * @throws ClientError NOT_FOUND.
   */
  accept(accountId: string): Promise<ContactView> {
    return this.setState(accountId, 'accepted');
  }

  /**
   * Block: their messages are acknowledged and dropped; we send them nothing.
   * @throws ClientError NOT_FOUND.
   */
  block(accountId: string): Promise<ContactView> {
    return this.setState(accountId, 'blocked');
  }

  /**
   * Unblock (back to accepted).
   * @throws ClientError NOT_FOUND.
   */
  unblock(accountId: string): Promise<ContactView> {
    return this.setState(accountId, 'accepted');
  }

  /**
   * Accept a pending key change: the new key becomes the pin, the contact is no longer
   * verified, and sessions start over with the new key's devices.
   * @throws ClientError NOT_FOUND; INVALID_ARGUMENT when no change is pending.
   */
  async acceptKeyChange(accountId: string): Promise<ContactView> {
    const c = await this.require(accountId);
    if (!c.keyChange) throw new ClientError('INVALID_ARGUMENT', 'no key change is pending for this contact');
    const { keyChange, deviceList: _old, ...rest } = c;
    const updated: ContactRecord = { ...rest, identityKey: keyChange.newKey, verified: false };
    await this.ctx.store.transaction(async (tx) => {
      await tx.putContact(updated);
      await tx.deleteSessions(accountId);
    });
    return contactView(updated);
  }

  /**
   * The safety number of our account and the contact's pinned key.
   * @throws ClientError NOT_FOUND.
   */
  async safetyNumber(accountId: string): Promise<SafetyNumberView> {
    const c = await this.require(accountId);
    const sn = this.trust.safetyNumber(c.accountId, c.identityKey);
    return { ...sn, qrText: safetyNumberQrText(sn.qrPayload) };
  }

  /**
   * Mark the safety number as compared (or not).
   * @throws ClientError NOT_FOUND; INVALID_ARGUMENT while a key change is pending.
   */
  async markVerified(accountId: string, verified = true): Promise<ContactView> {
    const c = await this.require(accountId);
    if (c.keyChange && verified) {
      throw new ClientError('INVALID_ARGUMENT', 'accept the pending key change before verifying the contact');
    }
    const updated = { ...c, verified };
    await this.ctx.store.putContact(updated);
    await this.syncToOwnDevices([updated]);
    return contactView(updated);
  }

  /** Send our other devices every contact (a device was added). */
  async syncAll(): Promise<void> {
    const all = await this.ctx.store.listContacts();
    for (let i = 0; i < all.length; i += MAX_SYNC_CONTACTS) {
      await this.syncToOwnDevices(all.slice(i, i + MAX_SYNC_CONTACTS));
    }
  }

  /** Tell our other devices about changed contacts. */
  async syncToOwnDevices(contacts: readonly ContactRecord[]): Promise<void> {
    const { ctx } = this;
    if (this.devices.otherDeviceIds().length === 0 || contacts.length === 0) return;
    const synced: SyncedContact[] = contacts.map((c) => ({
      accountId: c.accountId,
      identityKey: c.identityKey,
      displayName: c.displayName,
      state: c.state,
      verified: c.verified,
      ...(c.accessKey ? { accessKey: c.accessKey } : {}),
    }));
    const content = encodeContent({ kind: 'contact-sync', id: ctx.newId(), sentAt: ctx.clock(), contacts: synced });
    await ctx.store.transaction((tx) => this.outbox.enqueue('control', { to: ctx.accountId, content }, tx));
    this.outbox.kick();
  }

  /** Apply a contact-sync from another of our devices, inside the receive transaction. */
  async applySync(contacts: readonly SyncedContact[], tx: ClientStore): Promise<void> {
    const { ctx } = this;
    const now = ctx.clock();
    for (const s of contacts) {
      if (s.accountId === ctx.accountId) continue;
      try {
        this.trust.checkAccountKey(s.accountId, s.identityKey);
      } catch {
        continue;
      }
      const existing = await tx.getContact(s.accountId);
      if (existing && !equalBytes(existing.identityKey, s.identityKey)) continue;
      const record: ContactRecord = {
        ...(existing ?? { accountId: s.accountId, identityKey: s.identityKey, addedAt: now }),
        displayName: s.displayName,
        state: s.state,
        verified: s.verified,
        ...(s.accessKey ? { accessKey: s.accessKey } : {}),
      } as ContactRecord;
      await tx.putContact(record);
      if (!existing) await tx.appendKeyHistory(s.accountId, { identityKey: s.identityKey, seenAt: now });
    }
  }
}

/** Opt-in discovery by display name. */
export class DiscoveryService {
  constructor(private readonly ctx: ClientContext) {}

  /**
   * Publish (or withdraw) our display name for search.
   * @throws ClientError INVALID_ARGUMENT for a name outside 1..64 characters; RelayError.
   */
  async set(enabled: boolean, displayName?: string): Promise<void> {
    const { ctx } = this;
    if (typeof enabled !== 'boolean') throw new ClientError('INVALID_ARGUMENT', 'enabled: expected boolean');
    const name = displayName ?? ctx.profile.displayName;
    if (enabled && (typeof name !== 'string' || name.trim().length === 0 || name.length > 64)) {
      throw new ClientError('INVALID_ARGUMENT', 'displayName: 1..64 characters');
    }
    await ctx.relay.setDiscoverable(enabled ? { enabled, displayName: name.trim() } : { enabled }, ctx.tokens);
    await ctx.writeProfile({
      ...ctx.profile,
      ...(enabled ? { displayName: name.trim() } : {}),
      settings: { ...ctx.profile.settings, discoverable: enabled },
    });
  }

  /**
   * Search opted-in accounts by display name (2..64 characters). Show `formatted` (the
   * user ID) before adding one: names are not unique and not verified.
   * @throws ClientError INVALID_ARGUMENT; RelayError (RATE_LIMITED).
   */
  async search(q: string): Promise<DiscoveredUser[]> {
    if (typeof q !== 'string' || q.trim().length < 2 || q.trim().length > 64) {
      throw new ClientError('INVALID_ARGUMENT', 'q: 2..64 characters');
    }
    const res = await this.ctx.relay.search(q.trim(), this.ctx.tokens);
    const out: DiscoveredUser[] = [];
    for (const u of res.users) {
      // A hit whose key does not give its id is a forgery: leave it out.
      if (bytesToHex(this.ctx.provider.sha256(u.identityKey).slice(0, 16)) !== u.accountId) continue;
      out.push({
        accountId: u.accountId,
        formatted: formatUserId(hexToBytes(u.accountId)),
        identityKey: u.identityKey,
        ...(u.displayName ? { displayName: u.displayName } : {}),
      });
    }
    return out;
  }
}

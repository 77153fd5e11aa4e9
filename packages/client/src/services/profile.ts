/**
 * Our profile (display name and avatar) pushed end-to-end encrypted to the people who may see
 * it: a 'profile' content, sealed pairwise through the outbox like any other, to every
 * device of every accepted contact and to our other devices. What a received one does:
 * from an accepted contact it replaces their name and avatar on the contact record; from
 * our own account it replaces ours; from anyone else (a message request, a stranger) it is
 * ignored — blocked senders never get this far. A contact that accepts us asks for ours
 * (`reply`), which is how two people who added each other see each other's pictures.
 */
import { type Avatar, isAvatarMime } from '../avatar.js';
import { type Content, encodeContent } from '../content.js';
import type { ClientContext } from '../context.js';
import type { ClientStore } from '../storage/client-store.js';
import type { ContactRecord, ProfileRecord } from '../storage/records.js';
import { contactView } from './contacts.js';
import type { DeviceService } from './devices.js';
import type { Effects, IncomingFrom } from './messages.js';
import type { OutboxService } from './outbox.js';

/** The avatar stored on a profile or contact record, if any. */
export function avatarOf(record: { readonly avatar?: Uint8Array; readonly avatarMime?: string }): Avatar | null {
  if (!record.avatar || !isAvatarMime(record.avatarMime)) return null;
  return { mime: record.avatarMime, bytes: record.avatar };
}

/** `record` with its avatar fields replaced (`null`: removed). */
export function withAvatar<T extends { readonly avatar?: Uint8Array; readonly avatarMime?: string }>(
  record: T,
  avatar: Avatar | null,
): T {
  const { avatar: _bytes, avatarMime: _mime, ...rest } = record;
  return (avatar ? { ...rest, avatar: avatar.bytes, avatarMime: avatar.mime } : rest) as T;
}

/** Sends and applies 'profile' contents. */
export class ProfileService {
  constructor(
    private readonly ctx: ClientContext,
    private readonly outbox: OutboxService,
    private readonly devices: DeviceService,
  ) {}

  private content(profile: ProfileRecord, reply: boolean): Uint8Array {
    const { ctx } = this;
    return encodeContent({
      kind: 'profile',
      id: ctx.newId(),
      sentAt: ctx.clock(),
      displayName: profile.displayName,
      avatar: avatarOf(profile),
      reply,
    });
  }

  /**
   * Queue `profile` for our other devices and every accepted contact (not those with a
   * pending key change: sends to them are refused until it is accepted), inside `tx`.
   * @returns whether anything was queued (then kick the outbox after the commit).
   */
  async pushAll(profile: ProfileRecord, tx: ClientStore): Promise<boolean> {
    const { ctx } = this;
    let queued = false;
    if (this.devices.otherDeviceIds().length > 0) {
      await this.outbox.enqueue('control', { to: ctx.accountId, content: this.content(profile, false) }, tx);
      queued = true;
    }
    for (const c of await tx.listContacts({ state: 'accepted' })) {
      if (c.keyChange) continue;
      await this.outbox.enqueue('control', { to: c.accountId, content: this.content(profile, false) }, tx);
      queued = true;
    }
    return queued;
  }

  /** Send our avatar to our other devices (a device was added: linking does not carry it). */
  async pushOwn(): Promise<void> {
    const { ctx } = this;
    if (!ctx.profile.avatar || this.devices.otherDeviceIds().length === 0) return;
    const content = this.content(ctx.profile, false);
    await ctx.store.transaction((tx) => this.outbox.enqueue('control', { to: ctx.accountId, content }, tx));
    this.outbox.kick();
  }

  /**
   * Queue our profile for one contact inside `tx`; with `reply`, it answers with its own.
   * The caller kicks the outbox after the commit.
   */
  async pushTo(accountId: string, reply: boolean, tx: ClientStore): Promise<void> {
    await this.outbox.enqueue('control', { to: accountId, content: this.content(this.ctx.profile, reply) }, tx);
  }

  /** Queue our profile for a contact we just accepted (asking for theirs) and send it. */
  async sendTo(accountId: string): Promise<void> {
    await this.ctx.store.transaction((tx) => this.pushTo(accountId, true, tx));
    this.outbox.kick();
  }

  /** What a received 'profile' content does, inside the receive transaction. */
  async apply(
    content: Extract<Content, { kind: 'profile' }>,
    from: IncomingFrom,
    tx: ClientStore,
    effects: Effects,
  ): Promise<void> {
    const { ctx } = this;
    if (from.accountId === ctx.accountId) {
      const profile = withAvatar(
        { ...ctx.profile, ...(content.displayName ? { displayName: content.displayName } : {}) },
        content.avatar,
      );
      await ctx.writeProfile(profile, tx);
      effects.events.push(() => {
        ctx.commitProfile(profile);
        ctx.emitter.emit('profile-updated', {
          displayName: profile.displayName,
          ...(content.avatar ? { avatar: content.avatar } : {}),
        });
      });
      return;
    }
    const contact = await tx.getContact(from.accountId);
    // Only people we accepted may show us a name and a picture.
    if (contact?.state !== 'accepted') return;
    const updated: ContactRecord = withAvatar(
      { ...contact, ...(content.displayName ? { displayName: content.displayName } : {}) },
      content.avatar,
    );
    await tx.putContact(updated);
    effects.events.push(() => ctx.emitter.emit('contact-updated', { contact: contactView(updated) }));
    if (content.reply && !contact.keyChange) {
      await this.pushTo(from.accountId, false, tx);
      effects.kickOutbox = true;
    }
  }
}

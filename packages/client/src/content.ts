/**
 * The encrypted content format: what travels inside the Double Ratchet (padded with the
 * protocol's `pad`) and what the store keeps as a message body. A versioned MessagePack
 * array `[1, kind, messageId(16), sentAt, ...fields]`; the fields depend on the kind
 * (docs/CLIENT.md lists them). Unknown kinds decode to `{ kind: 'unsupported' }` so a
 * newer sender never breaks an older receiver.
 */
import {
  bytesToHex,
  decodeWire,
  encodeWire,
  hexToBytes,
  InvalidMessageError,
  isProtocolError,
  type WireReader,
} from '@vaultex/protocol';
import { type Avatar, hasAvatarSignature, isAvatarMime, MAX_AVATAR_BYTES } from './avatar.js';
import type { AttachmentPointer } from './services/attachments.js';
import type { ContactState } from './storage/records.js';

/** Version of the content format. */
export const CONTENT_VERSION = 1;
/** Largest text body, in UTF-8 bytes: a padded prekey message with it stays below the relay's 64 KiB blob limit. */
export const MAX_TEXT_BYTES = 32 * 1024;
/** Most message ids in one receipt. */
export const MAX_RECEIPT_IDS = 256;
/** Most contacts in one contact-sync content. */
export const MAX_SYNC_CONTACTS = 200;
const MAX_NAME = 64;
/** Largest signed group state (1,000 members fit with room to spare). */
const MAX_GROUP_STATE_BYTES = 64 * 1024;

/** Numeric kinds on the wire. */
export const CONTENT_KIND = {
  text: 1,
  receipt: 2,
  typing: 3,
  'sent-transcript': 4,
  'contact-sync': 5,
  'profile-sync': 6,
  'session-reset': 7,
  'sync-request': 8,
  'group-update': 9,
  'sender-key': 10,
  edit: 11,
  delete: 12,
  reaction: 13,
  timer: 14,
  attachment: 15,
  profile: 16,
} as const;

/**
 * A local-only kind: a stored message body with its reactions. Never sent; one received
 * from the wire is ignored like any content kind the receiver does not act on.
 */
export const ANNOTATED_KIND = 0xff00;
/** Longest reaction, in UTF-16 code units (one emoji with modifiers fits). */
export const MAX_REACTION_LENGTH = 16;
/** Longest disappearing-message timer: one year. */
export const MAX_TIMER_SECONDS = 365 * 24 * 3600;
/** Most reactions kept on one message. */
const MAX_REACTIONS = 1000;

/** One reaction on a stored message: the latest emoji of one account. */
export interface Reaction {
  readonly accountId: string;
  readonly emoji: string;
}

/** What a sender tells its contacts about itself (Signal carries its profile key the same way). */
export interface SenderProfile {
  readonly displayName: string;
  /** The sender's access key: lets the receiver send to it sealed. */
  readonly accessKey: Uint8Array;
}

/** One contact in a contact-sync content. */
export interface SyncedContact {
  readonly accountId: string;
  readonly identityKey: Uint8Array;
  readonly displayName: string;
  readonly state: ContactState;
  readonly verified: boolean;
  readonly accessKey?: Uint8Array;
}

interface Base {
  /** 32 hex digits. */
  readonly id: string;
  readonly sentAt: number;
}

/** Every content kind. */
export type Content =
  | (Base & {
      readonly kind: 'text';
      readonly body: string;
      readonly replyTo?: string;
      readonly profile?: SenderProfile;
      /**
       * The sender's disappearing timer when it sent this, in seconds (Signal's per-message
       * `expireTimer`): the receiver's copy disappears that long after it is read, whatever the
       * conversation's timer is by then; absent, it never disappears. A trailing field written
       * only when set, so a content without a timer encodes exactly as before the field existed.
       */
      readonly expireTimer?: number;
    })
  | (Base & { readonly kind: 'receipt'; readonly type: 'delivered' | 'read'; readonly ids: readonly string[] })
  | (Base & { readonly kind: 'typing'; readonly started: boolean })
  | (Base & { readonly kind: 'sent-transcript'; readonly to: string; readonly content: Uint8Array })
  | (Base & { readonly kind: 'contact-sync'; readonly contacts: readonly SyncedContact[] })
  | (Base & {
      readonly kind: 'profile-sync';
      readonly displayName: string;
      readonly readReceipts: boolean;
      readonly typingIndicators: boolean;
      /** A new access key of the account (after a restore), adopted by every device. */
      readonly accessKey?: Uint8Array;
    })
  | (Base & { readonly kind: 'session-reset' })
  | (Base & { readonly kind: 'sync-request' })
  /** A signed group state (see group-state.ts), sent to every member over pairwise sessions. */
  | (Base & { readonly kind: 'group-update'; readonly state: Uint8Array })
  /** The sender's sender-key distribution message for a group. */
  | (Base & { readonly kind: 'sender-key'; readonly groupId: string; readonly distribution: Uint8Array })
  /** A new body for an earlier text of the same sender. */
  | (Base & { readonly kind: 'edit'; readonly target: string; readonly body: string })
  /** Delete an earlier message of the same sender for everyone. */
  | (Base & { readonly kind: 'delete'; readonly target: string })
  /** React to a message; an empty emoji removes the sender's reaction. */
  | (Base & { readonly kind: 'reaction'; readonly target: string; readonly emoji: string })
  /** The conversation's disappearing-message timer, in seconds (0: off). */
  | (Base & { readonly kind: 'timer'; readonly seconds: number })
  /** Local only (see {@link ANNOTATED_KIND}): a stored content and its reactions. */
  | (Base & { readonly kind: 'annotated'; readonly content: Uint8Array; readonly reactions: readonly Reaction[] })
  /** A file uploaded encrypted (services/attachments.ts): what it takes to fetch and verify it. */
  | (Base & {
      readonly kind: 'attachment';
      readonly attachment: AttachmentPointer;
      readonly caption?: string;
      /** As a text's. */
      readonly expireTimer?: number;
    })
  /**
   * Our display name and avatar (`null`: none, or removed), pushed to accepted contacts and
   * our other devices; `reply` asks the receiver to answer with its own (we just accepted it).
   */
  | (Base & {
      readonly kind: 'profile';
      readonly displayName: string;
      readonly avatar: Avatar | null;
      readonly reply: boolean;
    })
  | (Base & { readonly kind: 'unsupported'; readonly wireKind: number });

/** Content kinds. */
export type ContentKind = Content['kind'];

const utf8 = new TextEncoder();
const STATES: readonly ContactState[] = ['accepted', 'request', 'blocked'];

/**
 * Serialise a content.
 * @throws InvalidMessageError when it cannot be represented (an over-long text or name, too many ids).
 */
export function encodeContent(content: Content): Uint8Array {
  const head = [CONTENT_VERSION, 0, hexToBytes(content.id), content.sentAt];
  switch (content.kind) {
    case 'text':
      if (utf8.encode(content.body).length > MAX_TEXT_BYTES) throw new InvalidMessageError('text: body too long');
      head[1] = CONTENT_KIND.text;
      return encodeWire([
        ...head,
        content.body,
        content.replyTo === undefined ? null : hexToBytes(content.replyTo),
        content.profile ? [content.profile.displayName.slice(0, MAX_NAME), content.profile.accessKey] : null,
        ...timerField(content.expireTimer),
      ]);
    case 'receipt':
      if (content.ids.length === 0 || content.ids.length > MAX_RECEIPT_IDS) {
        throw new InvalidMessageError('receipt: 1..256 ids');
      }
      head[1] = CONTENT_KIND.receipt;
      return encodeWire([...head, content.type, content.ids.map((id) => hexToBytes(id))]);
    case 'typing':
      head[1] = CONTENT_KIND.typing;
      return encodeWire([...head, content.started]);
    case 'sent-transcript':
      head[1] = CONTENT_KIND['sent-transcript'];
      return encodeWire([...head, hexToBytes(content.to), content.content]);
    case 'contact-sync':
      if (content.contacts.length > MAX_SYNC_CONTACTS) throw new InvalidMessageError('contact-sync: too many contacts');
      head[1] = CONTENT_KIND['contact-sync'];
      return encodeWire([
        ...head,
        content.contacts.map((c) => [
          hexToBytes(c.accountId),
          c.identityKey,
          c.displayName.slice(0, MAX_NAME),
          c.state,
          c.verified,
          c.accessKey ?? null,
        ]),
      ]);
    case 'profile-sync':
      head[1] = CONTENT_KIND['profile-sync'];
      return encodeWire([
        ...head,
        content.displayName.slice(0, MAX_NAME),
        content.readReceipts,
        content.typingIndicators,
        content.accessKey ?? null,
      ]);
    case 'session-reset':
      head[1] = CONTENT_KIND['session-reset'];
      return encodeWire(head);
    case 'sync-request':
      head[1] = CONTENT_KIND['sync-request'];
      return encodeWire(head);
    case 'group-update':
      head[1] = CONTENT_KIND['group-update'];
      return encodeWire([...head, content.state]);
    case 'sender-key':
      head[1] = CONTENT_KIND['sender-key'];
      return encodeWire([...head, hexToBytes(content.groupId), content.distribution]);
    case 'edit':
      if (utf8.encode(content.body).length > MAX_TEXT_BYTES) throw new InvalidMessageError('edit: body too long');
      head[1] = CONTENT_KIND.edit;
      return encodeWire([...head, hexToBytes(content.target), content.body]);
    case 'delete':
      head[1] = CONTENT_KIND.delete;
      return encodeWire([...head, hexToBytes(content.target)]);
    case 'reaction':
      if (content.emoji.length > MAX_REACTION_LENGTH) throw new InvalidMessageError('reaction: emoji too long');
      head[1] = CONTENT_KIND.reaction;
      return encodeWire([...head, hexToBytes(content.target), content.emoji]);
    case 'timer':
      head[1] = CONTENT_KIND.timer;
      return encodeWire([...head, content.seconds]);
    case 'annotated':
      head[1] = ANNOTATED_KIND;
      return encodeWire([...head, content.content, content.reactions.map((x) => [hexToBytes(x.accountId), x.emoji])]);
    case 'attachment': {
      const a = content.attachment;
      if (content.caption !== undefined && utf8.encode(content.caption).length > MAX_TEXT_BYTES) {
        throw new InvalidMessageError('attachment: caption too long');
      }
      head[1] = CONTENT_KIND.attachment;
      return encodeWire([
        ...head,
        a.id,
        a.key,
        a.size,
        a.sha256,
        a.name.slice(0, 255),
        a.mime.slice(0, 127),
        a.thumbnail ?? null,
        content.caption ?? null,
        ...timerField(content.expireTimer),
      ]);
    }
    case 'profile':
      if (content.avatar && content.avatar.bytes.length > MAX_AVATAR_BYTES) {
        throw new InvalidMessageError('profile: avatar too large');
      }
      head[1] = CONTENT_KIND.profile;
      return encodeWire([
        ...head,
        content.displayName.slice(0, MAX_NAME),
        content.avatar ? [content.avatar.mime, content.avatar.bytes] : null,
        content.reply,
      ]);
    case 'unsupported':
      throw new InvalidMessageError('unsupported content cannot be encoded');
  }
}

/** The trailing timer field of a text or attachment: present only when a timer is set. */
function timerField(seconds: number | undefined): number[] {
  if (seconds === undefined || seconds === 0) return [];
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_TIMER_SECONDS) {
    throw new InvalidMessageError('expireTimer: 0..365 days');
  }
  return [seconds];
}

/**
 * Read the optional trailing timer of a text or attachment, then skip any later fields: a
 * content from before the field has none, and a newer sender's additions after it are ignored.
 */
function readTimer(r: WireReader, what: string): { expireTimer?: number } {
  let value: unknown;
  try {
    value = r.raw('expireTimer');
  } catch {
    return {};
  }
  skipRest(r);
  if (value === null || value === 0) return {};
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_TIMER_SECONDS) {
    throw new InvalidMessageError(`${what}: malformed expireTimer`);
  }
  return { expireTimer: value };
}

function hexId(r: WireReader, field: string): string {
  return bytesToHex(r.bytes(field, 16));
}

function skipRest(r: WireReader): void {
  // Fields of a kind this version does not know: consume them without interpreting.
  for (let i = 0; i < 10_000; i++) {
    try {
      r.raw('field');
    } catch {
      return;
    }
  }
}

function readAvatar(value: unknown): Avatar | null {
  if (value === null || value === undefined) return null;
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !isAvatarMime(value[0]) ||
    !(value[1] instanceof Uint8Array) ||
    value[1].length === 0 ||
    value[1].length > MAX_AVATAR_BYTES ||
    !hasAvatarSignature(value[0], value[1])
  ) {
    throw new InvalidMessageError('profile: malformed avatar');
  }
  return { mime: value[0], bytes: new Uint8Array(value[1]) };
}

function readBody(r: WireReader, kind: number, base: Base): Content {
  switch (kind) {
    case CONTENT_KIND.text: {
      const body = r.string('body', MAX_TEXT_BYTES);
      if (utf8.encode(body).length > MAX_TEXT_BYTES) throw new InvalidMessageError('text: body too long');
      const replyTo = r.optionalBytes('replyTo', 16);
      const profile = r.raw('profile');
      let sender: SenderProfile | undefined;
      if (profile !== null && profile !== undefined) {
        if (
          !Array.isArray(profile) ||
          profile.length !== 2 ||
          typeof profile[0] !== 'string' ||
          profile[0].length > MAX_NAME ||
          !(profile[1] instanceof Uint8Array) ||
          profile[1].length !== 16
        ) {
          throw new InvalidMessageError('text: malformed profile');
        }
        sender = { displayName: profile[0], accessKey: new Uint8Array(profile[1]) };
      }
      return {
        ...base,
        kind: 'text',
        body,
        ...(replyTo ? { replyTo: bytesToHex(replyTo) } : {}),
        ...(sender ? { profile: sender } : {}),
        ...readTimer(r, 'text'),
      };
    }
    case CONTENT_KIND.receipt: {
      const type = r.string('type', 16);
      if (type !== 'delivered' && type !== 'read') throw new InvalidMessageError('receipt: unknown type');
      const ids = r.bytesArray('ids', MAX_RECEIPT_IDS, 16).map((b) => bytesToHex(b));
      if (ids.length === 0) throw new InvalidMessageError('receipt: no ids');
      return { ...base, kind: 'receipt', type, ids };
    }
    case CONTENT_KIND.typing:
      return { ...base, kind: 'typing', started: r.boolean('started') };
    case CONTENT_KIND['sent-transcript']:
      return { ...base, kind: 'sent-transcript', to: hexId(r, 'to'), content: r.bytes('content', { min: 1 }) };
    case CONTENT_KIND['contact-sync']: {
      const contacts = r.array('contacts', MAX_SYNC_CONTACTS, (c): SyncedContact => {
        const accountId = hexId(c, 'accountId');
        const identityKey = c.bytes('identityKey', 32);
        const displayName = c.string('displayName', MAX_NAME);
        const state = c.string('state', 16) as ContactState;
        if (!STATES.includes(state)) throw new InvalidMessageError('contact-sync: unknown state');
        const verified = c.boolean('verified');
        const accessKey = c.optionalBytes('accessKey', 16);
        c.end();
        return { accountId, identityKey, displayName, state, verified, ...(accessKey ? { accessKey } : {}) };
      });
      return { ...base, kind: 'contact-sync', contacts };
    }
    case CONTENT_KIND['profile-sync']: {
      const displayName = r.string('displayName', MAX_NAME);
      const readReceipts = r.boolean('readReceipts');
      const typingIndicators = r.boolean('typingIndicators');
      const accessKey = r.optionalBytes('accessKey', 16);
      return {
        ...base,
        kind: 'profile-sync',
        displayName,
        readReceipts,
        typingIndicators,
        ...(accessKey ? { accessKey } : {}),
      };
    }
    case CONTENT_KIND['session-reset']:
      return { ...base, kind: 'session-reset' };
    case CONTENT_KIND['sync-request']:
      return { ...base, kind: 'sync-request' };
    case CONTENT_KIND['group-update']:
      return { ...base, kind: 'group-update', state: r.bytes('state', { min: 1, max: MAX_GROUP_STATE_BYTES }) };
    case CONTENT_KIND['sender-key']:
      return {
        ...base,
        kind: 'sender-key',
        groupId: hexId(r, 'groupId'),
        distribution: r.bytes('distribution', { min: 1, max: 1024 }),
      };
    case CONTENT_KIND.edit: {
      const target = hexId(r, 'target');
      const body = r.string('body', MAX_TEXT_BYTES);
      if (utf8.encode(body).length > MAX_TEXT_BYTES) throw new InvalidMessageError('edit: body too long');
      return { ...base, kind: 'edit', target, body };
    }
    case CONTENT_KIND.delete:
      return { ...base, kind: 'delete', target: hexId(r, 'target') };
    case CONTENT_KIND.reaction:
      return { ...base, kind: 'reaction', target: hexId(r, 'target'), emoji: r.string('emoji', MAX_REACTION_LENGTH) };
    case CONTENT_KIND.timer:
      return { ...base, kind: 'timer', seconds: r.uint('seconds', MAX_TIMER_SECONDS) };
    case ANNOTATED_KIND: {
      const content = r.bytes('content', { min: 1 });
      const reactions = r.array('reactions', MAX_REACTIONS, (x): Reaction => {
        const accountId = hexId(x, 'accountId');
        const emoji = x.string('emoji', MAX_REACTION_LENGTH);
        x.end();
        return { accountId, emoji };
      });
      return { ...base, kind: 'annotated', content, reactions };
    }
    case CONTENT_KIND.attachment: {
      const id = r.string('attachmentId', 43);
      if (!/^[A-Za-z0-9_-]{43}$/u.test(id)) throw new InvalidMessageError('attachment: malformed id');
      const key = r.bytes('key', 32);
      const size = r.uint('size');
      const sha256 = r.bytes('sha256', 32);
      const name = r.string('name', 255);
      const mime = r.string('mime', 127);
      const thumbnail = r.optionalBytes('thumbnail', { max: 16 * 1024 });
      const caption = r.raw('caption');
      if (
        caption !== null &&
        caption !== undefined &&
        (typeof caption !== 'string' || caption.length > MAX_TEXT_BYTES)
      ) {
        throw new InvalidMessageError('attachment: malformed caption');
      }
      return {
        ...base,
        kind: 'attachment',
        attachment: { id, key, size, sha256, name, mime, ...(thumbnail ? { thumbnail } : {}) },
        ...(typeof caption === 'string' ? { caption } : {}),
        ...readTimer(r, 'attachment'),
      };
    }
    case CONTENT_KIND.profile: {
      const displayName = r.string('displayName', MAX_NAME);
      const avatar = readAvatar(r.raw('avatar'));
      return { ...base, kind: 'profile', displayName, avatar, reply: r.boolean('reply') };
    }
    default:
      skipRest(r);
      return { ...base, kind: 'unsupported', wireKind: kind };
  }
}

/**
 * Parse a content. A newer format version or an unknown kind is `unsupported` (kept, not fatal).
 * @throws InvalidMessageError for bytes that are not a content.
 */
export function decodeContent(bytes: Uint8Array): Content {
  try {
    return decodeWire(bytes, {
      what: 'content',
      versions: [CONTENT_VERSION],
      read: (r) => {
        const kind = r.uint('kind', 0xffff);
        const base: Base = { id: hexId(r, 'messageId'), sentAt: r.uint('sentAt') };
        const content = readBody(r, kind, base);
        r.end();
        return content;
      },
    });
  } catch (e) {
    if (isProtocolError(e, 'UNSUPPORTED_VERSION')) {
      return { id: '00000000000000000000000000000000', sentAt: 0, kind: 'unsupported', wireKind: 0 };
    }
    throw e;
  }
}

/** A short preview of a content for the conversation list. */
export function previewOf(content: Content): string {
  if (content.kind === 'text') return content.body.slice(0, 200);
  if (content.kind === 'attachment') return `[file] ${content.attachment.name}`.slice(0, 200);
  if (content.kind === 'annotated') {
    try {
      return previewOf(decodeContent(content.content));
    } catch {
      return '[unsupported]';
    }
  }
  return `[${content.kind}]`;
}

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
} as const;

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
    case 'unsupported':
      throw new InvalidMessageError('unsupported content cannot be encoded');
  }
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
  return `[${content.kind}]`;
}

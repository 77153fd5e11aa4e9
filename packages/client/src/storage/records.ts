/**
 * The records a client keeps on its device. Every adapter stores and returns exactly
 * these shapes: byte fields are plain Uint8Arrays, timestamps are milliseconds since the
 * Unix epoch, optional fields are absent (never `undefined`-valued) when unset.
 *
 * Identifier formats:
 * - accountId: the 16-byte user ID as 32 lower-case hex digits;
 * - deviceId: uint32, 1..2^32-1;
 * - messageId: 16 random bytes as 32 lower-case hex digits;
 * - conversationId: `d:<accountId>` (direct) or `g:<groupIdHex>` (group);
 * - distributionId (sender keys): 16 bytes as 32 lower-case hex digits.
 */

/** Profile settings the user can change. */
export interface ProfileSettings {
  readonly readReceipts: boolean;
  readonly typingIndicators: boolean;
  /** Listed in the server's opt-in display-name search. */
  readonly discoverable: boolean;
}

/** This device's own account and device identity: one per store. */
export interface ProfileRecord {
  /** accountId of this account. */
  readonly userId: string;
  /** Ed25519 account identity public key (32 bytes). */
  readonly accountPublicKey: Uint8Array;
  /** Ed25519 account secret key (32 bytes). Needed to certify and revoke devices. */
  readonly accountSecretKey: Uint8Array;
  readonly deviceId: number;
  /** Ed25519 device secret key (32 bytes). */
  readonly deviceSecretKey: Uint8Array;
  /** Ed25519 device public key (32 bytes). */
  readonly devicePublicKey: Uint8Array;
  /** This device's certificate, signed by the account key. */
  readonly certificate: Uint8Array;
  /** The latest signed device list of this account, once there is one. */
  readonly deviceList?: Uint8Array;
  readonly deviceListCounter: number;
  readonly serverUrl: string;
  readonly displayName: string;
  readonly createdAt: number;
  /** Our own 16-byte access key, given to contacts so they may send sealed. */
  readonly accessKey: Uint8Array;
  readonly settings: ProfileSettings;
  /** Our profile picture (at most 32 KiB), with {@link avatarMime}; both or neither are set. */
  readonly avatar?: Uint8Array;
  /** 'image/webp', 'image/jpeg' or 'image/png'. */
  readonly avatarMime?: string;
}

/** The three kinds of private prekeys. */
export type PrekeyKind = 'signed' | 'one-time' | 'kem';

/** A private prekey: opaque bytes the client serialises. */
export interface PrekeyRecord {
  readonly kind: PrekeyKind;
  /** uint32 prekey id, unique per kind. */
  readonly id: number;
  readonly record: Uint8Array;
  /** When it was generated (drives signed-prekey rotation). */
  readonly createdAt: number;
  /** A KEM last-resort key (never consumed). Always false for the other kinds. */
  readonly lastResort: boolean;
}

/** A prekey without its secret bytes, for listings. */
export type PrekeyInfo = Omit<PrekeyRecord, 'record'>;

/** Whether a contact may talk to us. */
export type ContactState = 'accepted' | 'request' | 'blocked';

/** A contact's identity key seen after the pinned one: sends are refused until it is accepted. */
export interface KeyChange {
  readonly newKey: Uint8Array;
  readonly seenAt: number;
}

/** Someone we know (or who asked to talk to us). */
export interface ContactRecord {
  readonly accountId: string;
  /** The pinned (trust-on-first-use) Ed25519 account identity key, 32 bytes. */
  readonly identityKey: Uint8Array;
  readonly displayName: string;
  readonly state: ContactState;
  /** The safety number was compared and confirmed. */
  readonly verified: boolean;
  readonly keyChange?: KeyChange;
  /** The contact's 16-byte access key, for sealed sends to them. */
  readonly accessKey?: Uint8Array;
  /** Their latest signed device list. */
  readonly deviceList?: Uint8Array;
  readonly addedAt: number;
  /** The profile picture they pushed to us (at most 32 KiB), with {@link avatarMime}; both or neither. */
  readonly avatar?: Uint8Array;
  /** 'image/webp', 'image/jpeg' or 'image/png'. */
  readonly avatarMime?: string;
}

/** One entry of a contact's append-only identity-key history. */
export interface KeyHistoryEntry {
  readonly identityKey: Uint8Array;
  readonly seenAt: number;
}

/** Direct (one contact) or group conversation. */
export type ConversationKind = 'direct' | 'group';

/** A conversation as the conversation list shows it. */
export interface ConversationRecord {
  readonly id: string;
  readonly kind: ConversationKind;
  readonly title?: string;
  readonly lastMessageAt: number;
  readonly lastMessagePreview?: string;
  readonly unread: number;
  readonly muted?: boolean;
  /** Disappearing-message timer for new messages, in seconds. */
  readonly disappearingSeconds?: number;
  /** How long the relay and our history keep this conversation (local setting; absent: relay default). */
  readonly retention?: RetentionPolicy;
}

/**
 * A conversation's retention policy (seed "Retention Policies"):
 * - `burn-on-read`: the relay deletes a message once every target device acknowledged it (its
 *   default; no extra lifetime, so a device offline for a while still gets it), and the
 *   conversation is never archived;
 * - `ttl`: sends carry `ttlSeconds` as their relay lifetime (14 days, 30 days or custom);
 * - `history`: relay default, and the conversation is included in the encrypted history archive.
 */
export type RetentionPolicy =
  | { readonly mode: 'burn-on-read' }
  | { readonly mode: 'ttl'; readonly ttlSeconds: number }
  | { readonly mode: 'history' };

/** The retention modes. */
export type RetentionMode = RetentionPolicy['mode'];

/** Delivery state of a message, see `canAdvanceStatus`. */
export type MessageStatus = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

/** Received or sent. */
export type MessageDirection = 'in' | 'out';

/** A message of a conversation. */
export interface MessageRecord {
  readonly id: string;
  readonly conversationId: string;
  readonly senderAccountId: string;
  readonly senderDeviceId: number;
  readonly direction: MessageDirection;
  /** The sender's timestamp: the order of a conversation is (sentAt, id). */
  readonly sentAt: number;
  readonly receivedAt: number;
  /** Opaque: the client's encoded content. */
  readonly body: Uint8Array;
  readonly status: MessageStatus;
  readonly editedAt?: number;
  readonly deletedAt?: number;
  /** When a disappearing message is due for deletion. */
  readonly expiresAt?: number;
}

/** The fields `ClientStore.updateMessage` may set (edits, deletion for everyone, timers). */
export interface MessageChanges {
  readonly body?: Uint8Array;
  readonly editedAt?: number;
  readonly deletedAt?: number;
  readonly expiresAt?: number;
}

/** The position of a message in its conversation, for keyset paging. */
export interface MessageCursor {
  readonly sentAt: number;
  readonly id: string;
}

/** Paging options of `ClientStore.listMessages`. */
export interface ListMessagesOptions {
  /** Only messages strictly older than this position, in (sentAt, id) order. */
  readonly before?: MessageCursor;
  /** At most this many (1..1000). */
  readonly limit: number;
}

/** A message deleted because it expired. */
export interface ExpiredMessage {
  readonly id: string;
  readonly conversationId: string;
}

/** Something to send, kept until the server accepted it. */
export interface OutboxRecord {
  readonly id: string;
  readonly createdAt: number;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  /** What the payload is, for the client's dispatcher (e.g. 'message', 'receipt'). */
  readonly kind: string;
  readonly payload: Uint8Array;
}

/** A session record with its address, as in a {@link StoreDump}. */
export interface SessionEntry {
  readonly accountId: string;
  readonly deviceId: number;
  readonly record: Uint8Array;
}

/** A sender-key record with its address, as in a {@link StoreDump}. */
export interface SenderKeyEntry {
  readonly distributionId: string;
  readonly accountId: string;
  readonly deviceId: number;
  readonly record: Uint8Array;
}

/** A seen relay message id, as in a {@link StoreDump}. */
export interface SeenEntry {
  readonly id: string;
  readonly at: number;
}

/**
 * Everything a store holds, for backups (`ClientStore.exportAll` / `importAll`).
 * Adapters that blind identifiers in their keys (IndexedDB) recover them from the ids the
 * store itself knows (our account, contacts, conversations, group members, message senders);
 * they cannot recover seen relay ids, so `seen` is empty there (redelivered copies are still
 * refused by the sessions' replay protection).
 */
export interface StoreDump {
  readonly profile?: ProfileRecord;
  readonly treeHead?: Uint8Array;
  readonly prekeys: readonly PrekeyRecord[];
  readonly sessions: readonly SessionEntry[];
  readonly senderKeys: readonly SenderKeyEntry[];
  readonly contacts: readonly ContactRecord[];
  /** Per contact, oldest first. */
  readonly keyHistory: readonly { readonly accountId: string; readonly entries: readonly KeyHistoryEntry[] }[];
  readonly conversations: readonly ConversationRecord[];
  readonly messages: readonly MessageRecord[];
  readonly outbox: readonly OutboxRecord[];
  readonly seen: readonly SeenEntry[];
}

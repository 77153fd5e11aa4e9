/**
 * Argument checks and canonical copies of records. Every store input passes through
 * here once, in the shared store core, so all adapters refuse the same inputs with the
 * same typed error (`ClientError` INVALID_ARGUMENT naming the field) and store the same
 * canonical shape: fresh byte arrays, no unknown properties, optional fields absent
 * rather than `undefined`.
 */
import { AVATAR_MIME_TYPES, MAX_AVATAR_BYTES } from '../avatar.js';
import { ClientError } from '../errors.js';
import { STORE_LIMITS } from './client-store.js';
import type {
  ContactRecord,
  ContactState,
  ConversationRecord,
  KeyHistoryEntry,
  ListMessagesOptions,
  MessageChanges,
  MessageRecord,
  MessageStatus,
  OutboxRecord,
  PrekeyKind,
  PrekeyRecord,
  ProfileRecord,
  RetentionMode,
  RetentionPolicy,
} from './records.js';

const MAX_UINT32 = 0xffff_ffff;
const HEX32 = /^[0-9a-f]{32}$/u;
const GROUP_ID = /^(?:[0-9a-f]{2}){1,64}$/u;
// Printable ASCII without spaces: ids and kinds sort the same in every backend.
const TOKEN = /^[\x21-\x7e]+$/u;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/u;

/** The typed error for a bad argument. */
export function invalidArgument(field: string, problem: string): ClientError {
  return new ClientError('INVALID_ARGUMENT', `${field}: ${problem}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** @throws ClientError INVALID_ARGUMENT unless `value` is a plain object. */
export function checkObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw invalidArgument(field, `expected object, got ${describe(value)}`);
  }
  return value as Record<string, unknown>;
}

/** A fresh copy of a byte array, length-checked. @throws ClientError INVALID_ARGUMENT */
export function checkBytes(value: unknown, field: string, length: number | { max: number }): Uint8Array {
  // A Node Buffer is a Uint8Array and is accepted; the copy is a plain Uint8Array.
  if (!(value instanceof Uint8Array)) throw invalidArgument(field, `expected Uint8Array, got ${describe(value)}`);
  if (typeof length === 'number' ? value.length !== length : value.length > length.max) {
    const want = typeof length === 'number' ? `${length}` : `at most ${length.max}`;
    throw invalidArgument(field, `expected ${want} bytes, got ${value.length}`);
  }
  return new Uint8Array(value);
}

/** @throws ClientError INVALID_ARGUMENT unless a safe integer in [min, max]. */
export function checkInteger(value: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalidArgument(field, `expected integer, got ${describe(value)}`);
  }
  if (value < min || value > max) throw invalidArgument(field, `${value} is outside [${min}, ${max}]`);
  return value;
}

/** A timestamp in ms: a non-negative safe integer. */
export function checkTime(value: unknown, field: string): number {
  return checkInteger(value, field);
}

/** @throws ClientError INVALID_ARGUMENT unless a boolean. */
export function checkBoolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgument(field, `expected boolean, got ${describe(value)}`);
  return value;
}

/** A well-formed Unicode string of bounded length (it must survive UTF-8 round trips). */
export function checkString(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string') throw invalidArgument(field, `expected string, got ${describe(value)}`);
  if (value.length > maxLength) throw invalidArgument(field, `longer than ${maxLength} characters`);
  if (LONE_SURROGATE.test(value)) throw invalidArgument(field, 'not well-formed Unicode (lone surrogate)');
  return value;
}

function checkPattern(value: unknown, field: string, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value)) throw invalidArgument(field, `expected ${what}`);
  return value;
}

function checkEnum<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidArgument(field, `expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** An account id: 32 lower-case hex digits. */
export function checkAccountId(value: unknown, field = 'accountId'): string {
  return checkPattern(value, field, HEX32, '32 lower-case hex digits');
}

/** A message id: 32 lower-case hex digits. */
export function checkMessageId(value: unknown, field = 'id'): string {
  return checkPattern(value, field, HEX32, '32 lower-case hex digits');
}

/** A sender-key distribution id: 32 lower-case hex digits. */
export function checkDistributionId(value: unknown, field = 'distributionId'): string {
  return checkPattern(value, field, HEX32, '32 lower-case hex digits');
}

/** A device id: 1..2^32-1. */
export function checkDeviceId(value: unknown, field = 'deviceId'): number {
  return checkInteger(value, field, 1, MAX_UINT32);
}

/** `d:<accountId>` or `g:<groupIdHex>` (1..64 bytes of lower-case hex). */
export function checkConversationId(value: unknown, field = 'conversationId'): string {
  if (typeof value === 'string') {
    if (value.startsWith('d:') && HEX32.test(value.slice(2))) return value;
    if (value.startsWith('g:') && GROUP_ID.test(value.slice(2))) return value;
  }
  throw invalidArgument(field, "expected 'd:<accountId>' or 'g:<groupIdHex>'");
}

/** Outbox ids and kinds, seen server message ids: 1..128 printable ASCII characters. */
export function checkToken(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > STORE_LIMITS.maxTokenLength || !TOKEN.test(value)) {
    throw invalidArgument(field, `expected 1..${STORE_LIMITS.maxTokenLength} printable ASCII characters`);
  }
  return value;
}

/** A page size: 1..{@link STORE_LIMITS.maxPage}. */
export function checkLimit(value: unknown, field = 'limit'): number {
  return checkInteger(value, field, 1, STORE_LIMITS.maxPage);
}

/** An opaque state record (session, sender key, prekey, tree head). */
export function checkRecordBytes(value: unknown, field = 'record'): Uint8Array {
  return checkBytes(value, field, { max: STORE_LIMITS.maxRecordBytes });
}

export const PREKEY_KINDS: readonly PrekeyKind[] = ['signed', 'one-time', 'kem'];
export const CONTACT_STATES: readonly ContactState[] = ['accepted', 'request', 'blocked'];
export const MESSAGE_STATUSES: readonly MessageStatus[] = ['pending', 'sent', 'delivered', 'read', 'failed'];

/** A prekey kind. */
export function checkPrekeyKind(value: unknown, field = 'kind'): PrekeyKind {
  return checkEnum(value, field, PREKEY_KINDS);
}

/** A message status. */
export function checkStatus(value: unknown, field = 'status'): MessageStatus {
  return checkEnum(value, field, MESSAGE_STATUSES);
}

/** A contact state. */
export function checkContactState(value: unknown, field = 'state'): ContactState {
  return checkEnum(value, field, CONTACT_STATES);
}

/** Canonical copy of a profile. @throws ClientError INVALID_ARGUMENT */
export function canonicalProfile(value: unknown): ProfileRecord {
  const v = checkObject(value, 'profile');
  const s = checkObject(v.settings, 'profile.settings');
  return {
    userId: checkAccountId(v.userId, 'profile.userId'),
    accountPublicKey: checkBytes(v.accountPublicKey, 'profile.accountPublicKey', 32),
    accountSecretKey: checkBytes(v.accountSecretKey, 'profile.accountSecretKey', 32),
    deviceId: checkDeviceId(v.deviceId, 'profile.deviceId'),
    deviceSecretKey: checkBytes(v.deviceSecretKey, 'profile.deviceSecretKey', 32),
    devicePublicKey: checkBytes(v.devicePublicKey, 'profile.devicePublicKey', 32),
    certificate: checkRecordBytes(v.certificate, 'profile.certificate'),
    ...(v.deviceList !== undefined ? { deviceList: checkRecordBytes(v.deviceList, 'profile.deviceList') } : {}),
    deviceListCounter: checkInteger(v.deviceListCounter, 'profile.deviceListCounter'),
    serverUrl: checkString(v.serverUrl, 'profile.serverUrl', STORE_LIMITS.maxServerUrlLength),
    displayName: checkString(v.displayName, 'profile.displayName', STORE_LIMITS.maxNameLength),
    createdAt: checkTime(v.createdAt, 'profile.createdAt'),
    accessKey: checkBytes(v.accessKey, 'profile.accessKey', 16),
    settings: {
      readReceipts: checkBoolean(s.readReceipts, 'profile.settings.readReceipts'),
      typingIndicators: checkBoolean(s.typingIndicators, 'profile.settings.typingIndicators'),
      discoverable: checkBoolean(s.discoverable, 'profile.settings.discoverable'),
    },
    ...checkStoredAvatar(v, 'profile'),
  };
}

/** The optional avatar fields of a profile or contact: both or neither. */
function checkStoredAvatar(v: Record<string, unknown>, prefix: string): { avatar?: Uint8Array; avatarMime?: string } {
  if (v.avatar === undefined && v.avatarMime === undefined) return {};
  if (v.avatar === undefined || v.avatarMime === undefined) {
    throw invalidArgument(`${prefix}.avatar`, 'avatar and avatarMime are set together');
  }
  const avatar = checkBytes(v.avatar, `${prefix}.avatar`, { max: MAX_AVATAR_BYTES });
  if (avatar.length === 0) throw invalidArgument(`${prefix}.avatar`, 'expected at least 1 byte');
  return { avatar, avatarMime: checkEnum(v.avatarMime, `${prefix}.avatarMime`, AVATAR_MIME_TYPES) };
}

/** Canonical copy of a prekey. @throws ClientError INVALID_ARGUMENT */
export function canonicalPrekey(value: unknown): PrekeyRecord {
  const v = checkObject(value, 'prekey');
  const kind = checkPrekeyKind(v.kind, 'prekey.kind');
  const lastResort = checkBoolean(v.lastResort, 'prekey.lastResort');
  if (lastResort && kind !== 'kem') throw invalidArgument('prekey.lastResort', 'only KEM prekeys can be last-resort');
  return {
    kind,
    id: checkInteger(v.id, 'prekey.id', 0, MAX_UINT32),
    record: checkRecordBytes(v.record, 'prekey.record'),
    createdAt: checkTime(v.createdAt, 'prekey.createdAt'),
    lastResort,
  };
}

/** Canonical copy of a contact. @throws ClientError INVALID_ARGUMENT */
export function canonicalContact(value: unknown): ContactRecord {
  const v = checkObject(value, 'contact');
  let keyChange: ContactRecord['keyChange'];
  if (v.keyChange !== undefined) {
    const k = checkObject(v.keyChange, 'contact.keyChange');
    keyChange = {
      newKey: checkBytes(k.newKey, 'contact.keyChange.newKey', 32),
      seenAt: checkTime(k.seenAt, 'contact.keyChange.seenAt'),
    };
  }
  return {
    accountId: checkAccountId(v.accountId, 'contact.accountId'),
    identityKey: checkBytes(v.identityKey, 'contact.identityKey', 32),
    displayName: checkString(v.displayName, 'contact.displayName', STORE_LIMITS.maxNameLength),
    state: checkContactState(v.state, 'contact.state'),
    verified: checkBoolean(v.verified, 'contact.verified'),
    ...(keyChange ? { keyChange } : {}),
    ...(v.accessKey !== undefined ? { accessKey: checkBytes(v.accessKey, 'contact.accessKey', 16) } : {}),
    ...(v.deviceList !== undefined ? { deviceList: checkRecordBytes(v.deviceList, 'contact.deviceList') } : {}),
    addedAt: checkTime(v.addedAt, 'contact.addedAt'),
    ...checkStoredAvatar(v, 'contact'),
  };
}

/** Canonical copy of a key-history entry. @throws ClientError INVALID_ARGUMENT */
export function canonicalKeyHistoryEntry(value: unknown): KeyHistoryEntry {
  const v = checkObject(value, 'entry');
  return {
    identityKey: checkBytes(v.identityKey, 'entry.identityKey', 32),
    seenAt: checkTime(v.seenAt, 'entry.seenAt'),
  };
}

/** Canonical copy of a conversation. @throws ClientError INVALID_ARGUMENT */
export function canonicalConversation(value: unknown): ConversationRecord {
  const v = checkObject(value, 'conversation');
  const id = checkConversationId(v.id, 'conversation.id');
  const kind = checkEnum(v.kind, 'conversation.kind', ['direct', 'group'] as const);
  if ((kind === 'direct') !== id.startsWith('d:')) {
    throw invalidArgument('conversation.kind', "must be 'direct' for d: ids and 'group' for g: ids");
  }
  return {
    id,
    kind,
    ...(v.title !== undefined ? { title: checkString(v.title, 'conversation.title', STORE_LIMITS.maxNameLength) } : {}),
    lastMessageAt: checkTime(v.lastMessageAt, 'conversation.lastMessageAt'),
    ...(v.lastMessagePreview !== undefined
      ? {
          lastMessagePreview: checkString(
            v.lastMessagePreview,
            'conversation.lastMessagePreview',
            STORE_LIMITS.maxPreviewLength,
          ),
        }
      : {}),
    unread: checkInteger(v.unread, 'conversation.unread', 0, MAX_UINT32),
    ...(v.muted !== undefined ? { muted: checkBoolean(v.muted, 'conversation.muted') } : {}),
    ...(v.disappearingSeconds !== undefined
      ? { disappearingSeconds: checkInteger(v.disappearingSeconds, 'conversation.disappearingSeconds', 1, MAX_UINT32) }
      : {}),
    ...(v.retention !== undefined ? { retention: checkRetention(v.retention, 'conversation.retention') } : {}),
  };
}

/** Longest relay lifetime a `ttl` retention may ask for (the relay's limit: 366 days). */
export const MAX_RETENTION_TTL_SECONDS = 366 * 24 * 3600;

/** The retention modes. */
export const RETENTION_MODES: readonly RetentionMode[] = ['burn-on-read', 'ttl', 'history'];

/** Canonical copy of a retention policy. @throws ClientError INVALID_ARGUMENT */
export function checkRetention(value: unknown, field = 'retention'): RetentionPolicy {
  const v = checkObject(value, field);
  const mode = checkEnum(v.mode, `${field}.mode`, RETENTION_MODES);
  if (mode !== 'ttl') return { mode };
  return { mode, ttlSeconds: checkInteger(v.ttlSeconds, `${field}.ttlSeconds`, 60, MAX_RETENTION_TTL_SECONDS) };
}

/** Canonical copy of a message. @throws ClientError INVALID_ARGUMENT */
export function canonicalMessage(value: unknown): MessageRecord {
  const v = checkObject(value, 'message');
  return {
    id: checkMessageId(v.id, 'message.id'),
    conversationId: checkConversationId(v.conversationId, 'message.conversationId'),
    senderAccountId: checkAccountId(v.senderAccountId, 'message.senderAccountId'),
    senderDeviceId: checkDeviceId(v.senderDeviceId, 'message.senderDeviceId'),
    direction: checkEnum(v.direction, 'message.direction', ['in', 'out'] as const),
    sentAt: checkTime(v.sentAt, 'message.sentAt'),
    receivedAt: checkTime(v.receivedAt, 'message.receivedAt'),
    body: checkBytes(v.body, 'message.body', { max: STORE_LIMITS.maxBodyBytes }),
    status: checkStatus(v.status, 'message.status'),
    ...optionalTimes(v, 'message'),
  };
}

function optionalTimes(
  v: Record<string, unknown>,
  prefix: string,
): Pick<MessageRecord, 'editedAt' | 'deletedAt' | 'expiresAt'> {
  return {
    ...(v.editedAt !== undefined ? { editedAt: checkTime(v.editedAt, `${prefix}.editedAt`) } : {}),
    ...(v.deletedAt !== undefined ? { deletedAt: checkTime(v.deletedAt, `${prefix}.deletedAt`) } : {}),
    ...(v.expiresAt !== undefined ? { expiresAt: checkTime(v.expiresAt, `${prefix}.expiresAt`) } : {}),
  };
}

/** Canonical copy of message changes; at least one field. @throws ClientError INVALID_ARGUMENT */
export function canonicalMessageChanges(value: unknown): MessageChanges {
  const v = checkObject(value, 'changes');
  const changes: MessageChanges = {
    ...(v.body !== undefined ? { body: checkBytes(v.body, 'changes.body', { max: STORE_LIMITS.maxBodyBytes }) } : {}),
    ...optionalTimes(v, 'changes'),
  };
  if (Object.keys(changes).length === 0) throw invalidArgument('changes', 'expected at least one field to change');
  return changes;
}

/** Checked copy of paging options. @throws ClientError INVALID_ARGUMENT */
export function canonicalListOptions(value: unknown): ListMessagesOptions {
  const v = checkObject(value, 'options');
  const limit = checkLimit(v.limit, 'options.limit');
  if (v.before === undefined) return { limit };
  const b = checkObject(v.before, 'options.before');
  return {
    limit,
    before: { sentAt: checkTime(b.sentAt, 'options.before.sentAt'), id: checkMessageId(b.id, 'options.before.id') },
  };
}

/** Canonical copy of an outbox entry. @throws ClientError INVALID_ARGUMENT */
export function canonicalOutbox(value: unknown): OutboxRecord {
  const v = checkObject(value, 'entry');
  return {
    id: checkToken(v.id, 'entry.id'),
    createdAt: checkTime(v.createdAt, 'entry.createdAt'),
    attempts: checkInteger(v.attempts, 'entry.attempts', 0, MAX_UINT32),
    nextAttemptAt: checkTime(v.nextAttemptAt, 'entry.nextAttemptAt'),
    kind: checkToken(v.kind, 'entry.kind'),
    payload: checkBytes(v.payload, 'entry.payload', { max: STORE_LIMITS.maxPayloadBytes }),
  };
}

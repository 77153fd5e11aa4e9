/**
 * Serialisation of store records for the IndexedDB adapter, which encrypts every record
 * value: each record becomes a versioned MessagePack array (encodeWire) and is read back
 * only through decodeWire's strict reader. A value that fails to decode is STORE_CORRUPT.
 */
import { decodeWire, encodeWire, type WireReader } from '@vaultex/protocol';
import { AVATAR_MIME_TYPES, MAX_AVATAR_BYTES } from '../../avatar.js';
import { ClientError } from '../../errors.js';
import { STORE_LIMITS } from '../../storage/client-store.js';
import type {
  ContactRecord,
  ContactState,
  ConversationRecord,
  KeyHistoryEntry,
  MessageRecord,
  MessageStatus,
  OutboxRecord,
  PrekeyKind,
  PrekeyRecord,
  ProfileRecord,
  RetentionPolicy,
} from '../../storage/records.js';
import { CONTACT_STATES, MESSAGE_STATUSES, PREKEY_KINDS, RETENTION_MODES } from '../../storage/validate.js';

const V = 1;
const MAX_RECORD = { max: STORE_LIMITS.maxRecordBytes };

/** A codec for one record type. */
export interface RecordCodec<T> {
  encode(value: T): Uint8Array;
  /** @throws ClientError STORE_CORRUPT */
  decode(bytes: Uint8Array): T;
}

/** `current` is the version written; older ones in `versions` are still read (their layout is a prefix). */
function codec<T>(
  what: string,
  write: (v: T) => unknown[],
  read: (r: WireReader, version: number) => T,
  current = V,
  versions: readonly number[] = [V],
): RecordCodec<T> {
  return {
    encode: (value) => encodeWire([current, ...write(value)]),
    decode: (bytes) => {
      try {
        return decodeWire(bytes, {
          what,
          versions,
          read: (r, version) => {
            const value = read(r, version);
            r.end();
            return value;
          },
        });
      } catch (e) {
        throw new ClientError('STORE_CORRUPT', `stored ${what} does not decode`, { cause: e });
      }
    },
  };
}

function oneOf<T extends string>(r: WireReader, field: string, allowed: readonly T[]): T {
  const value = r.string(field, 32);
  if (!(allowed as readonly string[]).includes(value)) throw new ClientError('STORE_CORRUPT', `bad ${field}`);
  return value as T;
}

/** `{ key: v }` or `{}`: unset optional fields stay absent. */
function opt<K extends string, T>(key: K, v: T | undefined): { [P in K]?: T } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: T };
}

const nil = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

function optionalBoolean(r: WireReader, field: string): boolean | undefined {
  const v = r.raw(field);
  if (v === null) return undefined;
  if (typeof v !== 'boolean') throw new ClientError('STORE_CORRUPT', `bad ${field}`);
  return v;
}

function optionalString(r: WireReader, field: string, max: number): string | undefined {
  const v = r.raw(field);
  if (v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw new ClientError('STORE_CORRUPT', `bad ${field}`);
  return v;
}

/** The avatar fields appended by version 2 of the profile and contact values (schema 4). */
function readAvatar(r: WireReader, version: number): { avatar?: Uint8Array; avatarMime?: string } {
  if (version < 2) return {};
  const mime = optionalString(r, 'avatarMime', 32);
  const avatar = r.optionalBytes('avatar', { max: MAX_AVATAR_BYTES });
  if (mime === undefined && avatar === undefined) return {};
  if (mime === undefined || avatar === undefined || !(AVATAR_MIME_TYPES as readonly string[]).includes(mime)) {
    throw new ClientError('STORE_CORRUPT', 'bad avatar');
  }
  return { avatar, avatarMime: mime };
}

export const profileCodec = codec<ProfileRecord>(
  'profile',
  (p) => [
    p.userId,
    p.accountPublicKey,
    p.accountSecretKey,
    p.deviceId,
    p.deviceSecretKey,
    p.devicePublicKey,
    p.certificate,
    nil(p.deviceList),
    p.deviceListCounter,
    p.serverUrl,
    p.displayName,
    p.createdAt,
    p.accessKey,
    p.settings.readReceipts,
    p.settings.typingIndicators,
    p.settings.discoverable,
    nil(p.avatarMime),
    nil(p.avatar),
  ],
  (r, version) => ({
    userId: r.string('userId', 32),
    accountPublicKey: r.bytes('accountPublicKey', 32),
    accountSecretKey: r.bytes('accountSecretKey', 32),
    deviceId: r.uint('deviceId', 0xffff_ffff, 1),
    deviceSecretKey: r.bytes('deviceSecretKey', 32),
    devicePublicKey: r.bytes('devicePublicKey', 32),
    certificate: r.bytes('certificate', MAX_RECORD),
    ...opt('deviceList', r.optionalBytes('deviceList', MAX_RECORD)),
    deviceListCounter: r.uint('deviceListCounter'),
    serverUrl: r.string('serverUrl', STORE_LIMITS.maxServerUrlLength),
    displayName: r.string('displayName', STORE_LIMITS.maxNameLength),
    createdAt: r.uint('createdAt'),
    accessKey: r.bytes('accessKey', 16),
    settings: {
      readReceipts: r.boolean('readReceipts'),
      typingIndicators: r.boolean('typingIndicators'),
      discoverable: r.boolean('discoverable'),
    },
    ...readAvatar(r, version),
  }),
  // Version 2 (schema 4) appended the avatar; version 1 values are still read.
  2,
  [1, 2],
);

export const prekeyCodec = codec<PrekeyRecord>(
  'prekey',
  (p) => [p.kind, p.id, p.record, p.createdAt, p.lastResort],
  (r) => ({
    kind: oneOf<PrekeyKind>(r, 'kind', PREKEY_KINDS),
    id: r.uint('id', 0xffff_ffff),
    record: r.bytes('record', MAX_RECORD),
    createdAt: r.uint('createdAt'),
    lastResort: r.boolean('lastResort'),
  }),
);

export const contactCodec = codec<ContactRecord>(
  'contact',
  (c) => [
    c.accountId,
    c.identityKey,
    c.displayName,
    c.state,
    c.verified,
    nil(c.keyChange?.newKey),
    nil(c.keyChange?.seenAt),
    nil(c.accessKey),
    nil(c.deviceList),
    c.addedAt,
    nil(c.avatarMime),
    nil(c.avatar),
  ],
  (r, version) => {
    const head = {
      accountId: r.string('accountId', 32),
      identityKey: r.bytes('identityKey', 32),
      displayName: r.string('displayName', STORE_LIMITS.maxNameLength),
      state: oneOf<ContactState>(r, 'state', CONTACT_STATES),
      verified: r.boolean('verified'),
    };
    const newKey = r.optionalBytes('keyChange.newKey', 32);
    const seenAt = r.optionalUint('keyChange.seenAt');
    return {
      ...head,
      ...(newKey !== undefined && seenAt !== undefined ? { keyChange: { newKey, seenAt } } : {}),
      ...opt('accessKey', r.optionalBytes('accessKey', 16)),
      ...opt('deviceList', r.optionalBytes('deviceList', MAX_RECORD)),
      addedAt: r.uint('addedAt'),
      ...readAvatar(r, version),
    };
  },
  // Version 2 (schema 4) appended the avatar; version 1 values are still read.
  2,
  [1, 2],
);

export const keyHistoryCodec = codec<KeyHistoryEntry>(
  'key history entry',
  (e) => [e.identityKey, e.seenAt],
  (r) => ({ identityKey: r.bytes('identityKey', 32), seenAt: r.uint('seenAt') }),
);

export const conversationCodec = codec<ConversationRecord>(
  'conversation',
  (c) => [
    c.id,
    c.kind,
    nil(c.title),
    c.lastMessageAt,
    nil(c.lastMessagePreview),
    c.unread,
    nil(c.muted),
    nil(c.disappearingSeconds),
    nil(c.retention?.mode),
    c.retention?.mode === 'ttl' ? c.retention.ttlSeconds : null,
  ],
  (r, version) => ({
    id: r.string('id', 130),
    kind: oneOf<ConversationRecord['kind']>(r, 'kind', ['direct', 'group']),
    ...opt('title', optionalString(r, 'title', STORE_LIMITS.maxNameLength)),
    lastMessageAt: r.uint('lastMessageAt'),
    ...opt('lastMessagePreview', optionalString(r, 'lastMessagePreview', STORE_LIMITS.maxPreviewLength)),
    unread: r.uint('unread', 0xffff_ffff),
    ...opt('muted', optionalBoolean(r, 'muted')),
    ...opt('disappearingSeconds', r.optionalUint('disappearingSeconds', 0xffff_ffff)),
    ...opt('retention', version >= 2 ? readRetention(r) : undefined),
  }),
  // Version 2 (schema 3) appended the retention policy; version 1 values are still read.
  2,
  [1, 2],
);

function readRetention(r: WireReader): RetentionPolicy | undefined {
  const mode = optionalString(r, 'retention.mode', 32);
  const ttlSeconds = r.optionalUint('retention.ttlSeconds', 0xffff_ffff);
  if (mode === undefined) return undefined;
  if (!(RETENTION_MODES as readonly string[]).includes(mode)) throw new ClientError('STORE_CORRUPT', 'bad retention');
  if (mode === 'ttl') {
    if (ttlSeconds === undefined) throw new ClientError('STORE_CORRUPT', 'bad retention');
    return { mode, ttlSeconds };
  }
  return { mode: mode as 'burn-on-read' | 'history' };
}

export const messageCodec = codec<MessageRecord>(
  'message',
  (m) => [
    m.id,
    m.conversationId,
    m.senderAccountId,
    m.senderDeviceId,
    m.direction,
    m.sentAt,
    m.receivedAt,
    m.body,
    m.status,
    nil(m.editedAt),
    nil(m.deletedAt),
    nil(m.expiresAt),
  ],
  (r) => ({
    id: r.string('id', 32),
    conversationId: r.string('conversationId', 130),
    senderAccountId: r.string('senderAccountId', 32),
    senderDeviceId: r.uint('senderDeviceId', 0xffff_ffff, 1),
    direction: oneOf<MessageRecord['direction']>(r, 'direction', ['in', 'out']),
    sentAt: r.uint('sentAt'),
    receivedAt: r.uint('receivedAt'),
    body: r.bytes('body', { max: STORE_LIMITS.maxBodyBytes }),
    status: oneOf<MessageStatus>(r, 'status', MESSAGE_STATUSES),
    ...opt('editedAt', r.optionalUint('editedAt')),
    ...opt('deletedAt', r.optionalUint('deletedAt')),
    ...opt('expiresAt', r.optionalUint('expiresAt')),
  }),
);

export const outboxCodec = codec<OutboxRecord>(
  'outbox entry',
  (e) => [e.id, e.createdAt, e.attempts, e.nextAttemptAt, e.kind, e.payload],
  (r) => ({
    id: r.string('id', STORE_LIMITS.maxTokenLength),
    createdAt: r.uint('createdAt'),
    attempts: r.uint('attempts', 0xffff_ffff),
    nextAttemptAt: r.uint('nextAttemptAt'),
    kind: r.string('kind', STORE_LIMITS.maxTokenLength),
    payload: r.bytes('payload', { max: STORE_LIMITS.maxPayloadBytes }),
  }),
);

/** Raw bytes (sessions, sender keys, tree head) are stored as they are, inside the envelope. */
export const bytesCodec = codec<Uint8Array>(
  'record',
  (b) => [b],
  (r) => r.bytes('record', MAX_RECORD),
);

/**
 * Local encrypted backups of a whole profile (`client.backup.export`, `VaultexClient.importBackup`)
 * and the record framing they share with the history archive. The plaintext is a sequence of
 * frames, `u32be(length) || encodeWire([1, kind, value])`, one record per frame, so no single
 * MessagePack value comes near the wire decoder's 16 MiB limit however large the history is.
 * The whole sequence is encrypted with the protocol's backup format (Argon2id + AES-256-GCM).
 */
import {
  type BackupKdfParams,
  type CryptoProvider,
  decodeWire,
  decryptBackup,
  encodeWire,
  encryptBackup,
  type RandomSource,
} from '@vaultex/protocol';
import { ClientError, isClientError } from '../errors.js';
import type { ClientStore } from '../storage/client-store.js';
import type { StoreDump } from '../storage/records.js';

const FRAME_VERSION = 1;
/** Kind of the first frame of a profile backup. */
const PROFILE_BACKUP = 'vaultex-profile-backup';
const PROFILE_BACKUP_VERSION = 1;

/** A framed record: what it is and its value (a record of `records.ts`). */
export type Frame = readonly [kind: string, value: unknown];

/** Concatenate frames. */
export function encodeFrames(frames: Iterable<Frame>): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [kind, value] of frames) {
    const body = encodeWire([FRAME_VERSION, kind, value]);
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, body.length);
    parts.push(head, body);
    total += 4 + body.length;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Split and decode frames.
 * @throws ClientError `code` (the caller's: BACKUP_INVALID or ARCHIVE_CORRUPT) for a malformed sequence.
 */
export function decodeFrames(bytes: Uint8Array, code: 'BACKUP_INVALID' | 'ARCHIVE_CORRUPT'): Frame[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const frames: Frame[] = [];
  let at = 0;
  try {
    while (at < bytes.length) {
      if (at + 4 > bytes.length) throw new ClientError(code, 'truncated frame');
      const length = view.getUint32(at);
      if (at + 4 + length > bytes.length) throw new ClientError(code, 'truncated frame');
      const body = bytes.subarray(at + 4, at + 4 + length);
      at += 4 + length;
      frames.push(
        decodeWire(body, {
          what: 'frame',
          versions: [FRAME_VERSION],
          read: (r): Frame => {
            const kind = r.string('kind', 32);
            const value = r.raw('value');
            r.end();
            return [kind, value];
          },
        }),
      );
    }
  } catch (e) {
    if (isClientError(e, code)) throw e;
    throw new ClientError(code, 'a record frame does not decode', { cause: e });
  }
  return frames;
}

function* dumpFrames(dump: StoreDump, createdAt: number): Generator<Frame> {
  yield [PROFILE_BACKUP, { version: PROFILE_BACKUP_VERSION, createdAt }];
  if (dump.profile) yield ['profile', dump.profile];
  if (dump.treeHead) yield ['treeHead', dump.treeHead];
  for (const v of dump.prekeys) yield ['prekey', v];
  for (const v of dump.sessions) yield ['session', v];
  for (const v of dump.senderKeys) yield ['senderKey', v];
  for (const v of dump.contacts) yield ['contact', v];
  for (const v of dump.keyHistory) yield ['keyHistory', v];
  for (const v of dump.conversations) yield ['conversation', v];
  for (const v of dump.messages) yield ['message', v];
  for (const v of dump.outbox) yield ['outbox', v];
  for (const v of dump.seen) yield ['seen', v];
}

// biome-ignore lint/suspicious/noExplicitAny: frames are checked record by record by importAll.
type Loose = any;

function dumpOf(frames: readonly Frame[]): StoreDump {
  const [first, ...rest] = frames;
  const head = first?.[1] as { version?: unknown } | undefined;
  if (first?.[0] !== PROFILE_BACKUP || typeof head !== 'object' || head === null) {
    throw new ClientError('BACKUP_INVALID', 'not a VAULTEX profile backup');
  }
  if (head.version !== PROFILE_BACKUP_VERSION) {
    throw new ClientError('BACKUP_INVALID', 'profile backup of an unknown version: upgrade VAULTEX');
  }
  const lists: Record<string, Loose[]> = {
    prekey: [],
    session: [],
    senderKey: [],
    contact: [],
    keyHistory: [],
    conversation: [],
    message: [],
    outbox: [],
    seen: [],
  };
  let profile: Loose;
  let treeHead: Loose;
  for (const [kind, value] of rest) {
    if (kind === 'profile') profile = value;
    else if (kind === 'treeHead') treeHead = value;
    else if (lists[kind]) lists[kind].push(value);
    else throw new ClientError('BACKUP_INVALID', `unknown record kind in backup`);
  }
  if (!profile) throw new ClientError('BACKUP_INVALID', 'the backup holds no profile');
  return {
    profile,
    ...(treeHead ? { treeHead } : {}),
    prekeys: lists.prekey ?? [],
    sessions: lists.session ?? [],
    senderKeys: lists.senderKey ?? [],
    contacts: lists.contact ?? [],
    keyHistory: lists.keyHistory ?? [],
    conversations: lists.conversation ?? [],
    messages: lists.message ?? [],
    outbox: lists.outbox ?? [],
    seen: lists.seen ?? [],
  };
}

/** Options of a profile backup export. */
export interface BackupExportOptions {
  /** Argon2id cost (default the protocol's: t 3, m 64 MiB, p 1). Tests lower it. */
  readonly kdf?: Partial<BackupKdfParams>;
}

/**
 * The whole store, encrypted under `password` (protocol backup format).
 * @throws InvalidArgumentError (protocol) for an empty or over-long password or bad KDF costs.
 */
export async function exportProfileBackup(
  store: ClientStore,
  provider: CryptoProvider,
  random: RandomSource,
  createdAt: number,
  password: string,
  options: BackupExportOptions = {},
): Promise<Uint8Array> {
  const plain = encodeFrames(dumpFrames(await store.exportAll(), createdAt));
  try {
    return encryptBackup(plain, password, { provider, random, ...(options.kdf ? { params: options.kdf } : {}) });
  } finally {
    plain.fill(0);
  }
}

/**
 * Decrypt a profile backup and write it into an EMPTY store, all or nothing.
 * @throws BackupDecryptionError (protocol, code BACKUP_DECRYPTION_FAILED) for a wrong password
 *   or a damaged file; ClientError BACKUP_INVALID for content this version cannot read;
 *   PROFILE_EXISTS for a store that is not empty. Nothing is written on any failure.
 */
export async function importProfileBackup(
  store: ClientStore,
  provider: CryptoProvider,
  backup: Uint8Array,
  password: string,
): Promise<void> {
  const plain = decryptBackup(backup, password, { provider });
  // Not wiped afterwards: decoded byte fields may be views into it until the store copies them.
  const dump = dumpOf(decodeFrames(plain, 'BACKUP_INVALID'));
  try {
    await store.importAll(dump);
  } catch (e) {
    if (isClientError(e, 'INVALID_ARGUMENT')) {
      throw new ClientError('BACKUP_INVALID', 'a record of the backup is malformed', { cause: e });
    }
    throw e;
  }
}

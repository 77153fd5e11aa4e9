/**
 * The encrypted history archive (`client.archive`): conversations whose retention is
 * 'history' are uploaded, encrypted under an archive key only our account holds, so a new
 * device of the account (restored from the seed phrase, or holding one backup code) can get
 * the history back. Formats: archive-crypto.ts and docs/CLIENT.md "History archive".
 */
import {
  API_PREFIX,
  ARCHIVE_VERSION_HEADER,
  ArchiveKeysResponse,
  PutArchiveKeysRequest,
  PutArchiveResponse,
} from '@vaultex/api';
import * as z from 'zod';
import {
  ARCHIVE_KEY_BYTES,
  type CodeKdfParams,
  generateBackupCodes,
  openArchive,
  sealArchive,
  unwrapWithAccount,
  unwrapWithCode,
  wrapForAccount,
  wrapForCodes,
} from '../archive-crypto.js';
import type { ClientContext } from '../context.js';
import { ClientError, isClientError } from '../errors.js';
import type { ClientStore } from '../storage/client-store.js';
import type { ContactRecord, ConversationRecord, MessageRecord } from '../storage/records.js';
import { isRelayError } from '../transport/http.js';
import { decodeFrames, encodeFrames, type Frame } from './backup.js';
import { expireTimerOf } from './messages.js';

const P = `${API_PREFIX}/archive`;
const ARCHIVE_HEADER = 'vaultex-archive';
const ARCHIVE_PAYLOAD_VERSION = 1;

/** What {@link ArchiveService.status} reports. */
export interface ArchiveStatus {
  /** The account has archive keys (`setup()` ran on one of its devices). */
  readonly setUp: boolean;
  /** An archive blob is stored. */
  readonly exists: boolean;
  /** Its version (0 when none). */
  readonly version: number;
  /** Its size in bytes (0 when none). */
  readonly bytes: number;
  /** Unused backup codes. */
  readonly codesLeft: number;
}

/** What {@link ArchiveService.push} uploaded. */
export interface ArchivePushResult {
  readonly conversations: number;
  readonly messages: number;
  readonly bytes: number;
  readonly version: number;
}

/** What {@link ArchiveService.restore} added to the store. */
export interface ArchiveRestoreResult {
  readonly conversations: number;
  readonly messages: number;
}

/** Tunables of the archive (tests lower the backup-code KDF cost). */
export interface ArchiveOptions {
  readonly codeKdf?: CodeKdfParams;
}

/** The decrypted content of an archive. */
interface ArchiveContent {
  readonly conversations: Map<string, ConversationRecord>;
  readonly messages: Map<string, MessageRecord>;
  readonly contacts: Map<string, ContactRecord>;
}

const emptyContent = (): ArchiveContent => ({ conversations: new Map(), messages: new Map(), contacts: new Map() });

/** The history archive of our account. */
export class ArchiveService {
  constructor(
    private readonly ctx: ClientContext,
    private readonly options: ArchiveOptions = {},
  ) {}

  /**
   * Create the archive keys (or keep the existing archive key) and issue 8 fresh backup codes;
   * codes issued before stop working. Show the codes once: any one of them opens the archive,
   * once.
   * @returns the codes, `XXXXX-XXXXX-XXXXX-XXXXX`.
   * @throws RelayError; ClientError NETWORK_ERROR, ARCHIVE_CORRUPT.
   */
  async setup(): Promise<string[]> {
    const { ctx } = this;
    const keys = await this.getKeys();
    const slot0 = keys.find((k) => k.slot === 0);
    // Keeping K keeps an existing archive readable; only the codes change.
    const archiveKey = slot0 ? this.accountUnwrap(slot0.envelope) : ctx.random(ARCHIVE_KEY_BYTES);
    try {
      const codes = generateBackupCodes(ctx.random);
      const envelopes = [
        wrapForAccount(ctx.provider, ctx.random, ctx.profile.accountSecretKey, archiveKey),
        ...wrapForCodes(ctx.provider, ctx.random, codes, archiveKey, this.options.codeKdf),
      ];
      const body = z.encode(PutArchiveKeysRequest, { keys: envelopes.map((envelope, slot) => ({ slot, envelope })) });
      await ctx.relay.http.call('PUT', `${P}/keys`, undefined, { auth: ctx.tokens, body });
      return codes;
    } finally {
      archiveKey.fill(0);
    }
  }

  /**
   * Upload the history of every conversation with retention 'history', merged with what the
   * archive already holds (another device's uploads); conversations set to another retention
   * here are dropped from it. Compare-and-swap on the version, retried once after a conflict.
   * Disappearing messages are never archived. A remote archive that does not open under our
   * key is replaced.
   * @throws ClientError ARCHIVE_NOT_SET_UP, ARCHIVE_CORRUPT (our key envelope), NETWORK_ERROR; RelayError
   *   (ARCHIVE_CONFLICT twice in a row, PAYLOAD_TOO_LARGE).
   */
  async push(): Promise<ArchivePushResult> {
    const key = await this.accountKey();
    try {
      for (let attempt = 0; ; attempt++) {
        const remote = await this.getArchive();
        const content = remote ? this.readable(key, remote.bytes) : emptyContent();
        await this.mergeLocal(content);
        const blob = sealArchive(this.ctx.provider, this.ctx.random, key, encodeFrames(this.frames(content)));
        try {
          const version = await this.putArchive(blob, remote?.version ?? 0);
          return {
            conversations: content.conversations.size,
            messages: content.messages.size,
            bytes: blob.length,
            version,
          };
        } catch (e) {
          if (attempt === 0 && isRelayError(e, 'ARCHIVE_CONFLICT')) continue;
          throw e;
        }
      }
    } finally {
      key.fill(0);
    }
  }

  /**
   * Fetch the archive and merge it into the store: missing conversations, contacts and
   * messages are added, existing ones win. With `backupCode` the archive key comes from that
   * code's envelope, which is then deleted (single use); otherwise from our account key.
   * @returns what was added.
   * @throws ClientError ARCHIVE_NOT_SET_UP, BACKUP_CODE_REJECTED, INVALID_ARGUMENT (malformed
   *   code), ARCHIVE_CORRUPT, NETWORK_ERROR; RelayError.
   */
  async restore(options: { backupCode?: string } = {}): Promise<ArchiveRestoreResult> {
    const { ctx } = this;
    let key: Uint8Array;
    let usedSlot: number | undefined;
    if (options.backupCode !== undefined) {
      const keys = await this.getKeys();
      if (keys.length === 0) throw new ClientError('ARCHIVE_NOT_SET_UP', 'this account has no history archive');
      const opened = unwrapWithCode(ctx.provider, options.backupCode, keys);
      if (!opened) throw new ClientError('BACKUP_CODE_REJECTED', 'no unused backup code matches');
      key = opened.key;
      usedSlot = opened.slot;
    } else {
      key = await this.accountKey();
    }
    try {
      const remote = await this.getArchive();
      let result: ArchiveRestoreResult = { conversations: 0, messages: 0 };
      if (remote) {
        const content = this.decode(openArchive(ctx.provider, key, remote.bytes));
        result = await ctx.store.transaction((tx) => mergeIntoStore(tx, content));
      }
      if (usedSlot !== undefined) {
        await ctx.relay.http.call('DELETE', `${P}/keys/${usedSlot}`, undefined, { auth: ctx.tokens });
      }
      return result;
    } finally {
      key.fill(0);
    }
  }

  /**
   * Whether the account has an archive, its version and size, and how many backup codes are left.
   * @throws ClientError NETWORK_ERROR; RelayError.
   */
  async status(): Promise<ArchiveStatus> {
    const keys = await this.getKeys();
    const remote = await this.getArchive();
    return {
      setUp: keys.some((k) => k.slot === 0),
      exists: remote !== undefined,
      version: remote?.version ?? 0,
      bytes: remote?.bytes.length ?? 0,
      codesLeft: keys.filter((k) => k.slot >= 1).length,
    };
  }

  // Relay

  private async getKeys(): Promise<{ slot: number; envelope: Uint8Array }[]> {
    const res = await this.ctx.relay.http.call('GET', `${P}/keys`, ArchiveKeysResponse, { auth: this.ctx.tokens });
    return res.keys.map((k) => ({ slot: k.slot, envelope: k.envelope }));
  }

  private async getArchive(): Promise<{ bytes: Uint8Array; version: number } | undefined> {
    try {
      const res = await this.ctx.relay.http.exchange('GET', P, { auth: this.ctx.tokens });
      const version = Number(res.header(ARCHIVE_VERSION_HEADER));
      if (!Number.isSafeInteger(version) || version < 1) {
        throw new ClientError('INVALID_RESPONSE', 'relay answered the archive without a valid version');
      }
      return { bytes: res.bytes, version };
    } catch (e) {
      if (isRelayError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  private async putArchive(blob: Uint8Array<ArrayBuffer>, ifMatch: number): Promise<number> {
    const res = await this.ctx.relay.http.exchange('PUT', P, {
      auth: this.ctx.tokens,
      raw: blob,
      headers: { 'if-match': String(ifMatch) },
    });
    let parsed: ReturnType<typeof PutArchiveResponse.safeParse>;
    try {
      parsed = PutArchiveResponse.safeParse(JSON.parse(new TextDecoder().decode(res.bytes)));
    } catch {
      throw new ClientError('INVALID_RESPONSE', 'relay answered the archive upload with invalid JSON');
    }
    if (!parsed.success) throw new ClientError('INVALID_RESPONSE', 'relay answered the archive upload unexpectedly');
    return parsed.data.version;
  }

  // Keys and content

  private accountUnwrap(envelope: Uint8Array): Uint8Array {
    return unwrapWithAccount(this.ctx.provider, this.ctx.profile.accountSecretKey, envelope);
  }

  private async accountKey(): Promise<Uint8Array> {
    const slot0 = (await this.getKeys()).find((k) => k.slot === 0);
    if (!slot0) throw new ClientError('ARCHIVE_NOT_SET_UP', 'this account has no history archive: run setup first');
    return this.accountUnwrap(slot0.envelope);
  }

  /** Add our 'history' conversations (local records win) and drop those set otherwise here. */
  private async mergeLocal(content: ArchiveContent): Promise<void> {
    const { store } = this.ctx;
    for (const conv of await store.listConversations()) {
      if (conv.retention?.mode !== 'history') {
        if (conv.retention) dropConversation(content, conv.id);
        continue;
      }
      content.conversations.set(conv.id, { ...conv, unread: 0 });
      for (const m of await allMessages(store, conv.id)) {
        // Unsent ones wait for the next push: restored elsewhere they would stay 'pending' forever.
        // Disappearing ones never go, read (expiresAt) or not yet (the timer they carry).
        const disappearing = m.expiresAt !== undefined || expireTimerOf(m.body) !== undefined;
        if (!disappearing && m.status !== 'pending') content.messages.set(m.id, m);
      }
      if (conv.kind === 'direct') {
        const contact = await store.getContact(conv.id.slice(2));
        if (contact) content.contacts.set(contact.accountId, archivedContact(contact));
      }
    }
  }

  private *frames(content: ArchiveContent): Generator<Frame> {
    yield [ARCHIVE_HEADER, { version: ARCHIVE_PAYLOAD_VERSION, accountId: this.ctx.accountId }];
    for (const c of content.contacts.values()) yield ['contact', c];
    for (const c of content.conversations.values()) yield ['conversation', c];
    for (const m of content.messages.values()) yield ['message', m];
  }

  /**
   * The remote content, or nothing when it does not open: an archive under another key (a
   * concurrent first setup) or altered by the relay holds nothing we could ever read back,
   * so the push replaces it rather than being blocked by it forever.
   */
  private readable(key: Uint8Array, blob: Uint8Array): ArchiveContent {
    try {
      return this.decode(openArchive(this.ctx.provider, key, blob));
    } catch (e) {
      if (isClientError(e, 'ARCHIVE_CORRUPT')) return emptyContent();
      throw e;
    }
  }

  private decode(plain: Uint8Array): ArchiveContent {
    const [head, ...rest] = decodeFrames(plain, 'ARCHIVE_CORRUPT');
    const meta = head?.[1] as { version?: unknown; accountId?: unknown } | undefined;
    if (head?.[0] !== ARCHIVE_HEADER || typeof meta !== 'object' || meta === null) {
      throw new ClientError('ARCHIVE_CORRUPT', 'not a history archive payload');
    }
    if (meta.version !== ARCHIVE_PAYLOAD_VERSION) {
      throw new ClientError('ARCHIVE_CORRUPT', 'history archive of an unknown version: upgrade VAULTEX');
    }
    const content = emptyContent();
    // Records are validated by the store when merged; here they are only sorted by kind.
    for (const [kind, value] of rest) {
      const v = value as { id?: unknown; accountId?: unknown };
      if (kind === 'conversation' && typeof v.id === 'string')
        content.conversations.set(v.id, value as ConversationRecord);
      else if (kind === 'message' && typeof v.id === 'string') content.messages.set(v.id, value as MessageRecord);
      else if (kind === 'contact' && typeof v.accountId === 'string') {
        content.contacts.set(v.accountId, value as ContactRecord);
      } else throw new ClientError('ARCHIVE_CORRUPT', 'unknown record in the history archive');
    }
    return content;
  }
}

/** A contact as archived: identity and name, without access key, device list or pending key change. */
function archivedContact(c: ContactRecord): ContactRecord {
  return {
    accountId: c.accountId,
    identityKey: c.identityKey,
    displayName: c.displayName,
    state: c.state,
    verified: c.verified,
    addedAt: c.addedAt,
  };
}

function dropConversation(content: ArchiveContent, id: string): void {
  content.conversations.delete(id);
  for (const [mid, m] of content.messages) if (m.conversationId === id) content.messages.delete(mid);
}

async function allMessages(store: ClientStore, conversationId: string): Promise<MessageRecord[]> {
  const out: MessageRecord[] = [];
  let before: { sentAt: number; id: string } | undefined;
  for (;;) {
    const page = await store.listMessages(conversationId, { limit: 1000, ...(before ? { before } : {}) });
    out.push(...page);
    const last = page.at(-1);
    if (page.length < 1000 || !last) return out;
    before = { sentAt: last.sentAt, id: last.id };
  }
}

/**
 * Merge archive content into the store: missing contacts, conversations and messages are
 * added; existing records win. A malformed record is ARCHIVE_CORRUPT (and nothing is written).
 */
async function mergeIntoStore(tx: ClientStore, content: ArchiveContent): Promise<ArchiveRestoreResult> {
  let conversations = 0;
  let messages = 0;
  try {
    for (const c of content.contacts.values()) {
      if (!(await tx.getContact(c.accountId))) await tx.putContact(c);
    }
    for (const c of content.conversations.values()) {
      if (await tx.getConversation(c.id)) continue;
      await tx.putConversation({ ...c, unread: 0 });
      conversations++;
    }
    for (const m of content.messages.values()) {
      if (!(await tx.getConversation(m.conversationId))) continue;
      if (await tx.insertMessage(m)) messages++;
    }
  } catch (e) {
    if (e instanceof ClientError && e.code === 'INVALID_ARGUMENT') {
      throw new ClientError('ARCHIVE_CORRUPT', 'a record of the history archive is malformed', { cause: e });
    }
    throw e;
  }
  return { conversations, messages };
}

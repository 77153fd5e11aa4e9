/**
 * Encrypted attachments: encrypt a file with a fresh key (attachment-crypto.ts), upload
 * the ciphertext in the relay's chunks, and hand back the pointer (id, key, size, hash)
 * that travels inside an end-to-end encrypted message. Uploads resume: the upload state
 * (key, relay id, hash) is kept in the store under the file's SHA-256 until the upload
 * completes, so calling `upload` again with the same bytes, after a network error, a relay
 * restart or a crash of this process, continues where the relay stopped.
 */
import { bytesToHex, decodeWire, encodeWire, equalBytes } from '@vaultex/protocol';
import {
  ATTACHMENT_KEY_BYTES,
  attachmentCiphertextSize,
  decryptAttachment,
  encryptAttachment,
} from '../attachment-crypto.js';
import { decodeContent } from '../content.js';
import type { ClientContext } from '../context.js';
import { ClientError, isClientError } from '../errors.js';
import type { ClientStore } from '../storage/client-store.js';
import { isRelayError } from '../transport/http.js';

/** Outbox-record kind that holds an upload's state; the outbox worker skips it. */
export const ATTACHMENT_UPLOAD_KIND = 'attachment-upload';
/** Longest file name kept in a pointer. */
export const MAX_ATTACHMENT_NAME = 255;
/** Longest media type kept in a pointer. */
export const MAX_ATTACHMENT_MIME = 127;
/** Largest thumbnail carried inside the message (it is encrypted with the message). */
export const MAX_THUMBNAIL_BYTES = 16 * 1024;

// Never due: the record only holds state; the outbox worker skips its kind.
const NEVER = Number.MAX_SAFE_INTEGER;

/** What a message carries to let its receiver fetch and verify a file. */
export interface AttachmentPointer {
  /** The relay's id (43 base64url characters): the download capability. */
  readonly id: string;
  /** The file key (32 bytes). */
  readonly key: Uint8Array;
  /** Plaintext size in bytes. */
  readonly size: number;
  /** SHA-256 of the ciphertext. */
  readonly sha256: Uint8Array;
  readonly name: string;
  readonly mime: string;
  /** A small preview image (the application makes it); encrypted with the message. */
  readonly thumbnail?: Uint8Array;
}

/** Options of {@link AttachmentService.upload}. */
export interface UploadOptions {
  readonly name?: string;
  readonly mime?: string;
  readonly thumbnail?: Uint8Array;
}

interface UploadState {
  readonly id: string;
  readonly key: Uint8Array;
  readonly sha256: Uint8Array;
  readonly chunkSize: number;
}

/**
 * Check a pointer's fields (from the application or a decoded message).
 * @throws ClientError INVALID_ARGUMENT naming the field.
 */
export function checkPointer(p: AttachmentPointer): void {
  const bad = (field: string, what: string) => new ClientError('INVALID_ARGUMENT', `attachment.${field}: ${what}`);
  if (!p || typeof p !== 'object') throw bad('', 'an object');
  if (typeof p.id !== 'string' || !/^[A-Za-z0-9_-]{43}$/u.test(p.id)) throw bad('id', '43 base64url characters');
  if (!(p.key instanceof Uint8Array) || p.key.length !== ATTACHMENT_KEY_BYTES) throw bad('key', '32 bytes');
  if (!Number.isSafeInteger(p.size) || p.size < 0) throw bad('size', 'a byte count');
  if (!(p.sha256 instanceof Uint8Array) || p.sha256.length !== 32) throw bad('sha256', '32 bytes');
  checkMeta(p);
}

function checkMeta(o: UploadOptions): void {
  const bad = (field: string, what: string) => new ClientError('INVALID_ARGUMENT', `attachment.${field}: ${what}`);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length > MAX_ATTACHMENT_NAME)) {
    throw bad('name', `at most ${MAX_ATTACHMENT_NAME} characters`);
  }
  if (o.mime !== undefined && (typeof o.mime !== 'string' || o.mime.length > MAX_ATTACHMENT_MIME)) {
    throw bad('mime', `at most ${MAX_ATTACHMENT_MIME} characters`);
  }
  if (o.thumbnail !== undefined && (!(o.thumbnail instanceof Uint8Array) || o.thumbnail.length > MAX_THUMBNAIL_BYTES)) {
    throw bad('thumbnail', `at most ${MAX_THUMBNAIL_BYTES} bytes`);
  }
}

/**
 * Once more after a NETWORK_ERROR: a pooled keep-alive connection the relay closed (it
 * restarted) fails the first request on it. Repeating these requests is safe: a chunk the
 * relay already holds is answered UPLOAD_CONFLICT and sorted out by a status call.
 */
async function retried<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isClientError(e, 'NETWORK_ERROR')) throw e;
    return fn();
  }
}

/** Upload and download of encrypted files. */
export class AttachmentService {
  constructor(private readonly ctx: ClientContext) {}

  /**
   * Encrypt and upload a file; resumes an interrupted upload of the same bytes. Emits
   * 'attachment-progress' after each chunk.
   * @returns the pointer to send (see `messages.sendFile`).
   * @throws ClientError INVALID_ARGUMENT, ATTACHMENT_TOO_LARGE (over the relay's limit),
   *   NETWORK_ERROR (call again to resume); RelayError.
   */
  async upload(data: Uint8Array, options: UploadOptions = {}): Promise<AttachmentPointer> {
    const { ctx } = this;
    if (!(data instanceof Uint8Array)) throw new ClientError('INVALID_ARGUMENT', 'data: a Uint8Array');
    checkMeta(options);
    const stateId = `${ATTACHMENT_UPLOAD_KIND}:${bytesToHex(ctx.provider.sha256(data))}`;
    let state = await this.loadState(stateId);
    let ciphertext: Uint8Array | undefined;
    let received = 0;
    if (state) {
      ciphertext = encryptAttachment(ctx.provider, state.key, data);
      // The same bytes under the same key give the same ciphertext; anything else is a stale state.
      if (equalBytes(ctx.provider.sha256(ciphertext), state.sha256)) {
        try {
          received = (await retried(() => ctx.relay.attachments.status(state!.id, ctx.tokens))).received;
        } catch (e) {
          if (!isRelayError(e, 'NOT_FOUND')) throw e;
          state = undefined;
        }
      } else {
        state = undefined;
      }
    }
    if (!state || !ciphertext) {
      const key = ctx.random(ATTACHMENT_KEY_BYTES);
      ciphertext = encryptAttachment(ctx.provider, key, data);
      let created: { id: string; chunkSize: number };
      try {
        created = await ctx.relay.attachments.create(ciphertext.length, ctx.tokens);
      } catch (e) {
        if (isRelayError(e, 'PAYLOAD_TOO_LARGE')) {
          throw new ClientError('ATTACHMENT_TOO_LARGE', `${data.length} bytes is over the relay's attachment limit`, {
            cause: e,
          });
        }
        throw e;
      }
      state = { id: created.id, key, sha256: ctx.provider.sha256(ciphertext), chunkSize: created.chunkSize };
      await this.saveState(stateId, state);
      received = 0;
    }
    const total = ciphertext.length;
    const { id } = state;
    const progress = (sent: number) =>
      ctx.emitter.emit('attachment-progress', { id: state.id, direction: 'upload', sent, total });
    progress(received);
    while (received < total) {
      const index = Math.floor(received / state.chunkSize);
      const start = index * state.chunkSize;
      const chunk = ciphertext.slice(start, Math.min(total, start + state.chunkSize));
      try {
        received = (await retried(() => ctx.relay.attachments.putChunk(id, index, chunk, ctx.tokens))).received;
      } catch (e) {
        if (!isRelayError(e, 'UPLOAD_CONFLICT')) throw e;
        // An earlier answer was lost but the relay kept the chunk: ask where it stands.
        const now = (await retried(() => ctx.relay.attachments.status(id, ctx.tokens))).received;
        if (now <= received) throw e;
        received = now;
      }
      progress(received);
    }
    await ctx.store.removeOutbox(stateId);
    return {
      id: state.id,
      key: state.key,
      size: data.length,
      sha256: state.sha256,
      name: options.name ?? '',
      mime: options.mime ?? 'application/octet-stream',
      ...(options.thumbnail ? { thumbnail: options.thumbnail } : {}),
    };
  }

  /**
   * Download, verify (length, hash, every segment) and decrypt a file.
   * @returns the plaintext; nothing is returned unless it all verified.
   * @throws ClientError ATTACHMENT_CORRUPT, INVALID_ARGUMENT, NETWORK_ERROR; RelayError
   *   (NOT_FOUND once it expired).
   */
  async download(pointer: AttachmentPointer): Promise<Uint8Array> {
    const { ctx } = this;
    checkPointer(pointer);
    const total = attachmentCiphertextSize(pointer.size);
    const progress = (sent: number) =>
      ctx.emitter.emit('attachment-progress', { id: pointer.id, direction: 'download', sent, total });
    progress(0);
    const ciphertext = await ctx.relay.attachments.download(pointer.id);
    progress(Math.min(total, ciphertext.length));
    return decryptAttachment(ctx.provider, pointer.key, ciphertext, pointer);
  }

  /**
   * The attachment of a stored message (sent or received).
   * @throws ClientError NOT_FOUND when there is no such message or it carries no attachment.
   */
  async pointerOf(messageId: string): Promise<AttachmentPointer> {
    const rec = await this.ctx.store.getMessage(messageId);
    if (!rec) throw new ClientError('NOT_FOUND', 'no such message');
    let content = decodeContent(rec.body);
    // A stored body may be wrapped with local annotations (reactions).
    for (let depth = 0; depth < 2 && content.kind !== 'attachment'; depth++) {
      const inner = (content as { content?: unknown }).content;
      if (!(inner instanceof Uint8Array)) break;
      content = decodeContent(inner);
    }
    if (content.kind !== 'attachment') throw new ClientError('NOT_FOUND', 'that message carries no attachment');
    return content.attachment;
  }

  private async loadState(id: string): Promise<UploadState | undefined> {
    const rec = await this.ctx.store.getOutbox(id);
    if (!rec) return undefined;
    try {
      return decodeWire(rec.payload, {
        what: 'upload state',
        versions: [1],
        read: (r) => {
          const state = {
            id: r.string('id', 43),
            key: r.bytes('key', ATTACHMENT_KEY_BYTES),
            sha256: r.bytes('sha256', 32),
            chunkSize: r.uint('chunkSize'),
          };
          r.end();
          return state;
        },
      });
    } catch {
      await this.ctx.store.removeOutbox(id);
      return undefined;
    }
  }

  private async saveState(id: string, state: UploadState, tx: ClientStore = this.ctx.store): Promise<void> {
    await tx.removeOutbox(id);
    await tx.enqueueOutbox({
      id,
      createdAt: this.ctx.clock(),
      attempts: 0,
      nextAttemptAt: NEVER,
      kind: ATTACHMENT_UPLOAD_KIND,
      payload: encodeWire([1, state.id, state.key, state.sha256, state.chunkSize]),
    });
  }
}

/**
 * Encrypted attachments: the client encrypts a file, declares its size, uploads it in
 * numbered chunks, and shares the unguessable id (with the key, inside an encrypted
 * message). Anyone holding the id can download the ciphertext until it expires.
 */
import * as z from 'zod';
import { Timestamp } from './common.js';

/** An attachment id: 32 random bytes, base64url (43 characters). */
export const AttachmentId = z.string().regex(/^[A-Za-z0-9_-]{43}$/u, 'must be a 43-character base64url id');

/** Hard ceiling of an attachment's size; servers configure a lower limit (100 MiB by default). */
export const MAX_ATTACHMENT_BYTES = 2 ** 32;

/** `POST /attachments` body. */
export const CreateAttachmentRequest = z.object({ size: z.number().int().min(1).max(MAX_ATTACHMENT_BYTES) });
export type CreateAttachmentRequest = z.output<typeof CreateAttachmentRequest>;

/** `POST /attachments` response: upload chunk 0..n-1 of exactly `chunkSize` bytes (the last may be shorter). */
export const CreateAttachmentResponse = z.object({
  id: AttachmentId,
  chunkSize: z.number().int().min(1),
  chunks: z.number().int().min(1),
  expiresAt: Timestamp,
});
export type CreateAttachmentResponse = z.output<typeof CreateAttachmentResponse>;

/** `PUT /attachments/:id/chunks/:index` response. */
export const ChunkResponse = z.object({ received: z.number().int().min(0), complete: z.boolean() });
export type ChunkResponse = z.output<typeof ChunkResponse>;

/** Path parameters of attachment routes. */
export const AttachmentParams = z.object({ id: AttachmentId });
export type AttachmentParams = z.output<typeof AttachmentParams>;

/** Path parameters of a chunk upload. */
export const ChunkParams = z.object({
  id: AttachmentId,
  index: z.coerce
    .number()
    .int()
    .min(0)
    .max(1 << 24),
});
export type ChunkParams = z.output<typeof ChunkParams>;

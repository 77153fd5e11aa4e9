/**
 * The encrypted history archive: one opaque blob per account, encrypted by the client under
 * an archive key that only the client holds, plus up to nine small key envelopes (that key
 * wrapped under the account key or a backup code). The relay stores both as given and
 * replaces the blob only by compare-and-swap on its version, so two devices cannot both
 * overwrite the same version.
 */
import * as z from 'zod';
import { base64url } from './common.js';

/** Default (and advertised) largest archive in bytes; servers configure it (`maxArchiveBytes`). */
export const DEFAULT_MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;
/** Highest key slot: slot 0 holds the envelope under the account key, 1..8 those under backup codes. */
export const MAX_ARCHIVE_SLOT = 8;
/** Largest key envelope in bytes. */
export const MAX_ARCHIVE_ENVELOPE_BYTES = 512;
/** Response header of `GET /archive` carrying the stored version. */
export const ARCHIVE_VERSION_HEADER = 'x-archive-version';
/** Capability of `/ping` announcing the archive routes. */
export const ARCHIVE_CAPABILITY = 'archive';

/** An archive version: 0 means none stored yet; each successful upload adds one. */
export const ArchiveVersion = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/**
 * The `If-Match` header of `PUT /archive`: the decimal version the upload replaces (0 when
 * none exists yet), without sign, spaces, quotes or leading zeros.
 */
export const ArchiveIfMatch = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,14})$/u, 'must be a decimal archive version')
  .transform((text) => Number(text));

/** `PUT /archive` response: the version now stored. */
export const PutArchiveResponse = z.object({ version: ArchiveVersion.min(1) });
export type PutArchiveResponse = z.output<typeof PutArchiveResponse>;

/** A key slot (0..8). */
export const ArchiveSlot = z.number().int().min(0).max(MAX_ARCHIVE_SLOT);

/** One key envelope: the archive key wrapped by the client (opaque to the relay). */
export const ArchiveKeyEnvelope = z.object({
  slot: ArchiveSlot,
  envelope: base64url({ min: 1, max: MAX_ARCHIVE_ENVELOPE_BYTES }),
});
export type ArchiveKeyEnvelope = z.output<typeof ArchiveKeyEnvelope>;

/** `PUT /archive/keys` body: the complete set of envelopes (it replaces the stored set); slots unique. */
export const PutArchiveKeysRequest = z.object({
  keys: z
    .array(ArchiveKeyEnvelope)
    .max(MAX_ARCHIVE_SLOT + 1)
    .refine((keys) => new Set(keys.map((k) => k.slot)).size === keys.length, 'slots must be unique'),
});
export type PutArchiveKeysRequest = z.output<typeof PutArchiveKeysRequest>;

/** `GET /archive/keys` response, in slot order (empty when none). */
export const ArchiveKeysResponse = z.object({ keys: z.array(ArchiveKeyEnvelope).max(MAX_ARCHIVE_SLOT + 1) });
export type ArchiveKeysResponse = z.output<typeof ArchiveKeysResponse>;

/** Path parameters of `DELETE /archive/keys/:slot`. */
export const ArchiveSlotParams = z.object({
  slot: z
    .string()
    .regex(/^[0-8]$/u, 'must be a slot 0..8')
    .transform((text) => Number(text)),
});
export type ArchiveSlotParams = z.output<typeof ArchiveSlotParams>;

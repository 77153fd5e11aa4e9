/**
 * Parameter values for `pg`, shared by the PostgreSQL adapter's files: byte strings go to
 * bytea parameters as Buffer views of the caller's memory, never copies.
 */

/**
 * A Buffer view of a byte string for a bytea parameter (no copy).
 * @param value - the bytes.
 */
export function buf(value: Uint8Array): Buffer {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * {@link buf} for a nullable column: null (or undefined) becomes SQL NULL.
 * @param value - the bytes, or null/undefined.
 */
export function bufOrNull(value: Uint8Array | null | undefined): Buffer | null {
  return value ? buf(value) : null;
}

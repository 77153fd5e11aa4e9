/**
 * Hex conversion of ids on the server's hot paths, through Buffer (the runtime-neutral
 * versions in @vaultex/api are for clients). Inputs were validated by the schemas.
 */

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Bytes of a hex string already validated as such. */
export function unhex(text: string): Uint8Array {
  const b = Buffer.from(text, 'hex');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The wire codec: MessagePack (msgpackr) with a strict, validating reader. Every
 * serialised protocol object is a MessagePack array whose first element is a version
 * number; decoders check every field's type and length before use and turn any
 * malformed input into the caller's typed error, never a generic one.
 */
import { Packr } from 'msgpackr';
import { assertObject } from './assert.js';
import { InvalidArgumentError, InvalidMessageError, type ProtocolError, UnsupportedVersionError } from './errors.js';

// Records/structures off: plain, portable MessagePack that any implementation can read.
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: false,
  bundleStrings: false,
  int64AsType: 'number',
  variableMapSize: true,
});

/** Largest serialised object the decoder accepts (guards against memory blow-ups). */
export const MAX_WIRE_BYTES = 16 * 1024 * 1024;

/**
 * msgpackr writes integers above 2^32-1 as float64; MessagePack's canonical form is the
 * smallest integer encoding (uint64 here). Signatures cover these bytes, so an independent
 * implementation must be able to reproduce them: such integers are packed as BigInt, which
 * msgpackr writes as uint64.
 */
function canonicalIntegers(value: unknown): unknown {
  if (typeof value === 'number') {
    return value > 0xffff_ffff && Number.isSafeInteger(value) ? BigInt(value) : value;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const mapped = typeof item === 'number' || typeof item === 'object' ? canonicalIntegers(item) : item;
      if (mapped !== item) {
        out ??= value.slice();
        out[i] = mapped;
      }
    }
    return out ?? value;
  }
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    const entries = Object.entries(value);
    if (!entries.some(([, v]) => canonicalIntegers(v) !== v)) return value;
    return Object.fromEntries(entries.map(([k, v]) => [k, canonicalIntegers(v)]));
  }
  return value;
}

/** Encode a value as MessagePack. Uint8Array fields become `bin`; large integers uint64. */
export function encodeWire(value: unknown): Uint8Array {
  let out: Uint8Array;
  try {
    out = packr.pack(canonicalIntegers(value));
  } catch {
    // Symbols, functions and BigInts beyond 64 bits have no MessagePack form.
    throw new InvalidArgumentError('value: cannot be encoded as MessagePack');
  }
  // msgpackr returns a Buffer over a shared pool; hand out an independent Uint8Array.
  return new Uint8Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength));
}

/** Thrown by {@link WireReader} accessors: turned into the caller's typed error by `decodeWire`. */
class FieldError extends Error {}

/**
 * Reads and validates the fields of a decoded MessagePack array, in order.
 * Each accessor names the field in its error so a malformed message says what is wrong.
 */
export class WireReader {
  private index = 0;
  constructor(
    private readonly items: readonly unknown[],
    private readonly what: string,
  ) {}

  private next(field: string): unknown {
    if (this.index >= this.items.length) throw new FieldError(`${this.what}: missing ${field}`);
    return this.items[this.index++];
  }

  /** A `bin` field of an exact length or a length range. */
  bytes(field: string, length?: number | { min?: number; max?: number }): Uint8Array {
    const value = this.next(field);
    if (!(value instanceof Uint8Array)) throw new FieldError(`${this.what}: ${field} is not bytes`);
    if (typeof length === 'number' && value.length !== length) {
      throw new FieldError(`${this.what}: ${field} must be ${length} bytes`);
    }
    if (typeof length === 'object') {
      if (length.min !== undefined && value.length < length.min)
        throw new FieldError(`${this.what}: ${field} too short`);
      if (length.max !== undefined && value.length > length.max)
        throw new FieldError(`${this.what}: ${field} too long`);
    }
    return new Uint8Array(value);
  }

  /** An optional `bin` field (encoded as nil when absent). */
  optionalBytes(field: string, length?: number | { min?: number; max?: number }): Uint8Array | undefined {
    if (this.items[this.index] === null || this.items[this.index] === undefined) {
      if (this.index >= this.items.length) throw new FieldError(`${this.what}: missing ${field}`);
      this.index++;
      return undefined;
    }
    return this.bytes(field, length);
  }

  /** An unsigned integer field within [min, max]. */
  uint(field: string, max = Number.MAX_SAFE_INTEGER, min = 0): number {
    const value = this.next(field);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new FieldError(`${this.what}: ${field} is not an integer in [${min}, ${max}]`);
    }
    return value;
  }

  /** An optional unsigned integer (nil when absent). */
  optionalUint(field: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (this.items[this.index] === null || this.items[this.index] === undefined) {
      if (this.index >= this.items.length) throw new FieldError(`${this.what}: missing ${field}`);
      this.index++;
      return undefined;
    }
    return this.uint(field, max);
  }

  /** A UTF-8 string field of bounded length. */
  string(field: string, maxLength: number): string {
    const value = this.next(field);
    if (typeof value !== 'string' || value.length > maxLength) {
      throw new FieldError(`${this.what}: ${field} is not a string of at most ${maxLength} characters`);
    }
    return value;
  }

  /** A boolean field. */
  boolean(field: string): boolean {
    const value = this.next(field);
    if (typeof value !== 'boolean') throw new FieldError(`${this.what}: ${field} is not a boolean`);
    return value;
  }

  /** A nested array, read with its own reader. */
  array<T>(field: string, maxItems: number, read: (item: WireReader, index: number) => T): T[] {
    const value = this.next(field);
    if (!Array.isArray(value) || value.length > maxItems) {
      throw new FieldError(`${this.what}: ${field} is not an array of at most ${maxItems} items`);
    }
    return value.map((item, i) => {
      if (!Array.isArray(item)) throw new FieldError(`${this.what}: ${field}[${i}] is not an array`);
      return read(new WireReader(item, `${this.what}.${field}[${i}]`), i);
    });
  }

  /** A nested array of byte strings. */
  bytesArray(field: string, maxItems: number, length?: number | { min?: number; max?: number }): Uint8Array[] {
    const value = this.next(field);
    if (!Array.isArray(value) || value.length > maxItems) {
      throw new FieldError(`${this.what}: ${field} is not an array of at most ${maxItems} items`);
    }
    return value.map((_, i) => new WireReader(value, `${this.what}.${field}`).skip(i).bytes(`${field}[${i}]`, length));
  }

  /** A nested serialised object kept as raw MessagePack-decoded array. */
  raw(field: string): unknown {
    return this.next(field);
  }

  private skip(count: number): this {
    this.index += count;
    return this;
  }

  /** Assert that every field was consumed: trailing fields are refused, not ignored. */
  end(): void {
    if (this.index !== this.items.length) throw new FieldError(`${this.what}: unexpected trailing fields`);
  }
}

/** Options for {@link decodeWire}. */
export interface DecodeOptions<T> {
  /** Name used in error messages, e.g. 'ratchet message'. */
  readonly what: string;
  /** Versions this decoder understands. */
  readonly versions: readonly number[];
  /** Builds the typed error for malformed input (default InvalidMessageError). */
  readonly error?: (message: string) => ProtocolError;
  /** Reads the fields after the version. Must call `reader.end()`. */
  readonly read: (reader: WireReader, version: number) => T;
}

/**
 * Decode untrusted bytes: MessagePack array, known version, every field validated.
 * @throws UnsupportedVersionError for an unknown version, otherwise the `error` of the options.
 */
export function decodeWire<T>(bytes: unknown, options: DecodeOptions<T>): T {
  assertObject(options, 'options');
  const fail = options.error ?? ((m: string) => new InvalidMessageError(m));
  if (!(bytes instanceof Uint8Array)) throw fail(`${options.what}: expected bytes`);
  if (bytes.length === 0 || bytes.length > MAX_WIRE_BYTES) throw fail(`${options.what}: bad length ${bytes.length}`);
  let decoded: unknown;
  try {
    decoded = packr.unpack(bytes);
  } catch {
    throw fail(`${options.what}: not valid MessagePack`);
  }
  if (!Array.isArray(decoded) || decoded.length === 0) throw fail(`${options.what}: not a versioned array`);
  const version = decoded[0];
  if (typeof version !== 'number' || !Number.isSafeInteger(version)) throw fail(`${options.what}: bad version field`);
  if (!options.versions.includes(version)) throw new UnsupportedVersionError(options.what, version);
  const reader = new WireReader(decoded.slice(1), options.what);
  try {
    return options.read(reader, version);
  } catch (e) {
    if (e instanceof FieldError) throw fail(e.message);
    throw e;
  }
}

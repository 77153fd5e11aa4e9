/**
 * Argument checks that name the bad field. They throw {@link InvalidArgumentError}
 * so that misuse is never reported as a generic TypeError from deep inside a primitive.
 */
import { InvalidArgumentError } from './errors.js';

/** Field names are stringified with String(): a Symbol would make a template literal throw. */
function name(field: unknown): string {
  return typeof field === 'string' ? field : String(field);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** True for a Uint8Array (a Node Buffer counts; a Uint16Array or DataView does not). */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array || (ArrayBuffer.isView(value) && value.constructor.name === 'Uint8Array');
}

/**
 * Assert `value` is a Uint8Array, optionally of an exact length or within a range.
 * @throws InvalidArgumentError naming `field`.
 */
export function assertBytes(
  value: unknown,
  field: string,
  length?: number | { min?: number; max?: number },
): asserts value is Uint8Array {
  if (!isBytes(value)) {
    throw new InvalidArgumentError(`${name(field)}: expected Uint8Array, got ${describe(value)}`);
  }
  if (typeof length === 'number') {
    if (value.length !== length) {
      throw new InvalidArgumentError(`${name(field)}: expected ${length} bytes, got ${value.length}`);
    }
  } else if (length) {
    if (length.min !== undefined && value.length < length.min) {
      throw new InvalidArgumentError(`${name(field)}: expected at least ${length.min} bytes, got ${value.length}`);
    }
    if (length.max !== undefined && value.length > length.max) {
      throw new InvalidArgumentError(`${name(field)}: expected at most ${length.max} bytes, got ${value.length}`);
    }
  }
}

/**
 * Assert `value` is a safe integer in [min, max].
 * @throws InvalidArgumentError naming `field`.
 */
export function assertInteger(
  value: unknown,
  field: string,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new InvalidArgumentError(`${name(field)}: expected integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw new InvalidArgumentError(`${name(field)}: ${value} is outside [${min}, ${max}]`);
  }
}

/**
 * Assert `value` is a string, optionally bounded in length.
 * @throws InvalidArgumentError naming `field`.
 */
export function assertString(
  value: unknown,
  field: string,
  maxLength = Number.MAX_SAFE_INTEGER,
): asserts value is string {
  if (typeof value !== 'string') {
    throw new InvalidArgumentError(`${name(field)}: expected string, got ${describe(value)}`);
  }
  if (value.length > maxLength) {
    throw new InvalidArgumentError(`${name(field)}: longer than ${maxLength} characters`);
  }
}

/**
 * Assert `value` is a function.
 * @throws InvalidArgumentError naming `field`.
 */
export function assertFunction(value: unknown, field: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new InvalidArgumentError(`${name(field)}: expected function, got ${describe(value)}`);
  }
}

/**
 * Assert `value` is a plain object (not null, not an array, not bytes).
 * @throws InvalidArgumentError naming `field`.
 */
export function assertObject(value: unknown, field: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw new InvalidArgumentError(`${name(field)}: expected object, got ${describe(value)}`);
  }
}

/**
 * Assert `value` looks like a {@link CryptoProvider}: checked once at the API boundary so
 * a wrong argument is reported as such, not as "x is not a function" from deep inside.
 * @throws InvalidArgumentError naming `field`.
 */
export function assertProvider(value: unknown, field = 'provider'): void {
  if (typeof value !== 'object' || value === null || typeof (value as { sha256?: unknown }).sha256 !== 'function') {
    throw new InvalidArgumentError(`${name(field)}: expected a CryptoProvider, got ${describe(value)}`);
  }
}

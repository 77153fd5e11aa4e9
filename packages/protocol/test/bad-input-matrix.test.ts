import * as protocol from '@vaultex/protocol';
import { encodeWire, ProtocolError } from '@vaultex/protocol';
import * as nodeEntry from '@vaultex/protocol/node';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * The bad-input matrix: every public function of both entry points, given wrong types,
 * short and long buffers, garbage MessagePack and malformed keys, either returns or
 * throws a ProtocolError — never a generic TypeError/RangeError from deep inside.
 * Module-specific suites test the meaning of each error; this one tests that nothing
 * escapes the error model.
 */

type AnyFunction = (...args: unknown[]) => unknown;

const BAD_VALUES: readonly [string, unknown][] = [
  ['undefined', undefined],
  ['null', null],
  ['true', true],
  ['0', 0],
  ['-1', -1],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['1.5', 1.5],
  ['2^53', 2 ** 53],
  ['bigint', 10n],
  ["''", ''],
  ["'abc'", 'abc'],
  ['symbol', Symbol('x')],
  ['{}', {}],
  ['[]', []],
  ['[1,2]', [1, 2]],
  ['function', () => 1],
  ['Date', new Date(0)],
  ['Uint8Array(0)', new Uint8Array(0)],
  ['Uint8Array(1)', new Uint8Array(1)],
  ['Uint8Array(31)', new Uint8Array(31).fill(7)],
  ['Uint8Array(32) zero', new Uint8Array(32)],
  ['Uint8Array(33)', new Uint8Array(33).fill(9)],
  ['Uint8Array(64)', new Uint8Array(64).fill(1)],
  ['Uint8Array(4097)', new Uint8Array(4097).fill(0xff)],
  ['Uint16Array(16)', new Uint16Array(16)],
  ['Int8Array(32)', new Int8Array(32)],
  ['ArrayBuffer(32)', new ArrayBuffer(32)],
  ['DataView', new DataView(new ArrayBuffer(32))],
  ['number[] of 32', Array.from({ length: 32 }, () => 1)],
  ['msgpack [1]', encodeWire([1])],
  ['msgpack [99,1,2]', encodeWire([99, 1, 2])],
  ['msgpack {a:1}', encodeWire({ a: 1 })],
  ['msgpack [1, bin32 x6]', encodeWire([1, ...Array.from({ length: 6 }, () => new Uint8Array(32))])],
  ['garbage 0xc1', Uint8Array.of(0xc1, 0xc1, 0xc1)],
  ['truncated bin', Uint8Array.of(0x92, 0x01, 0xc4, 0xff)],
  ['huge array header', Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff)],
];

function isClass(fn: AnyFunction): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** Every exported function (not classes) of both entry points, by name. */
const functions: [string, AnyFunction][] = Object.entries({ ...protocol, ...nodeEntry })
  .filter(
    (entry): entry is [string, AnyFunction] => typeof entry[1] === 'function' && !isClass(entry[1] as AnyFunction),
  )
  .sort(([a], [b]) => a.localeCompare(b));

/** Static methods of exported classes (e.g. Session.deserialize) take untrusted bytes too. */
const statics: [string, AnyFunction][] = Object.entries({ ...protocol })
  .filter(([, value]) => typeof value === 'function' && isClass(value as AnyFunction))
  .flatMap(([name, cls]) =>
    Object.getOwnPropertyNames(cls)
      .filter((key) => !['length', 'name', 'prototype'].includes(key))
      .filter((key) => typeof (cls as unknown as Record<string, unknown>)[key] === 'function')
      .map((key): [string, AnyFunction] => [
        `${name}.${key}`,
        ((cls as unknown as Record<string, AnyFunction>)[key] as AnyFunction).bind(cls),
      ]),
  );

const everything = [...functions, ...statics];

/** Calls `fn` and reports how it ended: 'ok', 'protocol:<CODE>', or the generic error. */
function outcome(fn: AnyFunction, args: unknown[]): string {
  try {
    const result = fn(...args);
    if (result instanceof Promise) result.catch(() => undefined);
    return 'ok';
  } catch (error) {
    if (error instanceof ProtocolError) return `protocol:${error.code}`;
    return `GENERIC ${(error as Error)?.constructor?.name}: ${(error as Error)?.message}`;
  }
}

describe('bad-input matrix', () => {
  it('covers the public surface', () => {
    // A guard against the matrix silently testing nothing after a refactor of exports.
    expect(functions.length).toBeGreaterThan(60);
    expect(everything.map(([name]) => name)).toEqual(
      expect.arrayContaining(['initiateSession', 'acceptSession', 'seal', 'unseal', 'groupDecrypt', 'decryptBackup']),
    );
  });

  it.each(everything)('%s: every bad value in every position ends in a ProtocolError or a result', (name, fn) => {
    const arity = Math.max(fn.length, 1);
    const failures: string[] = [];
    for (const [label, bad] of BAD_VALUES) {
      // All arguments bad at once, then one bad argument with the rest also bad-but-different.
      const calls: unknown[][] = [Array.from({ length: arity + 1 }, () => bad), [bad]];
      for (let position = 0; position < arity; position++) {
        const args: unknown[] = Array.from({ length: arity }, () => undefined);
        args[position] = bad;
        calls.push(args);
      }
      for (const args of calls) {
        const result = outcome(fn, args);
        if (result.startsWith('GENERIC')) failures.push(`${label}: ${result}`);
      }
    }
    expect(failures, `${name} threw generic errors`).toEqual([]);
  });

  const decoders = everything.filter(([name]) =>
    /^(decode|deserialize|read|peek|process|unpad|unseal|parse|decrypt|Session\.deserialize)/.test(name),
  );

  it('has decoders to fuzz', () => {
    expect(decoders.length).toBeGreaterThan(10);
  });

  it.each(decoders)('%s: random bytes and random MessagePack never escape the error model', (name, fn) => {
    const failures: string[] = [];
    const anyValue = fc.anything({ withTypedArray: true, maxDepth: 3 });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 300 }),
          anyValue.map((v) => {
            try {
              return encodeWire([1, v, v]);
            } catch {
              return new Uint8Array(1);
            }
          }),
          fc
            .array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.nat(), fc.string({ maxLength: 8 })), { maxLength: 12 })
            .map((items) => encodeWire([1, ...items])),
        ),
        (bytes) => {
          const result = outcome(fn, [bytes]);
          if (result.startsWith('GENERIC')) failures.push(result);
        },
      ),
      { seed: 7, numRuns: 120 },
    );
    expect(failures.slice(0, 5), `${name} threw generic errors`).toEqual([]);
  });
});

import {
  type DecodeOptions,
  decodeWire,
  encodeWire,
  InvalidCertificateError,
  InvalidMessageError,
  MAX_WIRE_BYTES,
  ProtocolError,
  UnsupportedVersionError,
  type WireReader,
} from '@vaultex/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

interface Sample {
  key: Uint8Array;
  counter: number;
  name: string;
  note: number | undefined;
  items: { id: number; tag: Uint8Array }[];
}

function readSample(r: WireReader): Sample {
  const sample: Sample = {
    key: r.bytes('key', 32),
    counter: r.uint('counter', 1000),
    name: r.string('name', 16),
    note: r.optionalUint('note'),
    items: r.array('items', 4, (item) => {
      const entry = { id: item.uint('id'), tag: item.bytes('tag', { min: 1, max: 8 }) };
      item.end();
      return entry;
    }),
  };
  r.end();
  return sample;
}

const options: DecodeOptions<Sample> = { what: 'sample', versions: [1, 2], read: readSample };
const KEY = new Uint8Array(32).fill(7);
const fields = (): unknown[] => [KEY, 3, 'alice', null, [[1, Uint8Array.of(1)]]];
const encode = (...items: unknown[]): Uint8Array => encodeWire(items);
const valid = encode(1, ...fields());

/** The decode either succeeds or throws a ProtocolError; anything else is a bug. */
function outcome(bytes: unknown, opts: DecodeOptions<unknown> = options): 'ok' | ProtocolError {
  try {
    decodeWire(bytes, opts);
    return 'ok';
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    throw e;
  }
}

function expectTyped(bytes: unknown, type: new (...args: never[]) => ProtocolError = InvalidMessageError): void {
  const result = outcome(bytes);
  expect(result).toBeInstanceOf(type);
}

describe('decodeWire', () => {
  it('decodes a valid value, every field checked', () => {
    const sample = decodeWire(valid, options);
    expect(sample.key).toEqual(KEY);
    expect(sample.counter).toBe(3);
    expect(sample.name).toBe('alice');
    expect(sample.note).toBeUndefined();
    expect(sample.items).toEqual([{ id: 1, tag: Uint8Array.of(1) }]);
    expect(decodeWire(encode(2, KEY, 3, 'alice', 9, []), options).note).toBe(9);
  });

  it('refuses garbage MessagePack', () => {
    for (const garbage of [
      Uint8Array.of(0xc1), // never-used type byte
      Uint8Array.of(0x93, 0x01), // array of 3 with 1 item
      Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff), // str32 claiming 4 GiB
      Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff), // array32 claiming 2^32 items
      Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff), // map32 claiming 2^32 entries
      Uint8Array.of(0x96, 0x01, 0xd4, 0x05, 0x00), // unknown extension type
      new Uint8Array(100_000).fill(0x91), // 100,000 nested arrays
      valid.subarray(0, valid.length - 1),
      Uint8Array.from([...valid, 0xc0]), // trailing bytes after the value
      Uint8Array.from([...valid, ...valid]),
    ]) {
      expectTyped(garbage);
    }
  });

  it('refuses wrong top-level types', () => {
    for (const value of [{ a: 1 }, 'text', 42, null, true, new Uint8Array(4), [], 1.5]) {
      expectTyped(encodeWire(value));
    }
    for (const notBytes of ['abc', 42, null, undefined, [1, 2], new Uint16Array(4), new ArrayBuffer(4), {}]) {
      expectTyped(notBytes);
    }
  });

  it('refuses a version that is not an integer, and unknown versions with UnsupportedVersionError', () => {
    for (const version of ['1', 1.5, null, Uint8Array.of(1), [1]]) {
      expectTyped(encode(version, ...fields()));
    }
    for (const version of [0, 3, 255, 2 ** 32, -1]) {
      const result = outcome(encode(version, ...fields()));
      expect(result).toBeInstanceOf(UnsupportedVersionError);
      expect((result as UnsupportedVersionError).version).toBe(version);
      expect((result as UnsupportedVersionError).code).toBe('UNSUPPORTED_VERSION');
    }
  });

  it('refuses missing and extra fields, at the top level and nested', () => {
    const all = fields();
    for (let n = 0; n < all.length; n++) expectTyped(encode(1, ...all.slice(0, n)));
    expectTyped(encode(1, ...all, 0));
    expectTyped(encode(1, KEY, 3, 'alice', null, [[1]]));
    expectTyped(encode(1, KEY, 3, 'alice', null, [[1, Uint8Array.of(1), 2]]));
    expectTyped(encode(1, KEY, 3, 'alice', null, [1]));
  });

  it('refuses fields of the wrong type, length or range', () => {
    const cases: unknown[][] = [
      [new Uint8Array(31), 3, 'alice', null, []],
      [new Uint8Array(33), 3, 'alice', null, []],
      ['k'.repeat(32), 3, 'alice', null, []],
      [[...KEY], 3, 'alice', null, []],
      [KEY, -1, 'alice', null, []],
      [KEY, 1001, 'alice', null, []],
      [KEY, 2.5, 'alice', null, []],
      [KEY, '3', 'alice', null, []],
      [KEY, 2 ** 64, 'alice', null, []],
      [KEY, 3, 'a'.repeat(17), null, []],
      [KEY, 3, Uint8Array.of(0x61), null, []],
      [KEY, 3, 'alice', 'x', []],
      [KEY, 3, 'alice', null, [[1, new Uint8Array(0)]]],
      [KEY, 3, 'alice', null, [[1, new Uint8Array(9)]]],
      [KEY, 3, 'alice', null, Array.from({ length: 5 }, (_, i) => [i, Uint8Array.of(1)])],
      [KEY, 3, 'alice', null, { 0: [1, Uint8Array.of(1)] }],
    ];
    for (const c of cases) expectTyped(encode(1, ...c));
  });

  it('refuses empty and oversize input before parsing', () => {
    expectTyped(new Uint8Array(0));
    const big = new Uint8Array(MAX_WIRE_BYTES + 1);
    const result = outcome(big);
    expect(result).toBeInstanceOf(InvalidMessageError);
    expect((result as Error).message).toMatch(/length/u);
  });

  it("uses the caller's error type for malformed input", () => {
    const opts = { ...options, error: (m: string) => new InvalidCertificateError(m) };
    expect(outcome(Uint8Array.of(0xc1), opts)).toBeInstanceOf(InvalidCertificateError);
    expect(outcome(encode(1, KEY), opts)).toBeInstanceOf(InvalidCertificateError);
    expect(outcome(encode(9, ...fields()), opts)).toBeInstanceOf(UnsupportedVersionError);
  });

  it('does not let a "__proto__" key reach Object.prototype', () => {
    const raw: DecodeOptions<unknown> = {
      what: 'raw',
      versions: [1],
      read: (r) => {
        const value = r.raw('value');
        r.end();
        return value;
      },
    };
    // [1, {"__proto__": {"polluted": true}}]
    const proto = new TextEncoder().encode('__proto__');
    const polluted = new TextEncoder().encode('polluted');
    const bytes = Uint8Array.from([0x92, 0x01, 0x81, 0xa9, ...proto, 0x81, 0xa8, ...polluted, 0xc3]);
    outcome(bytes, raw);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never throws anything but a ProtocolError on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        outcome(bytes);
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('never throws anything but a ProtocolError on arbitrary MessagePack values (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.anything({ withTypedArray: true, maxDepth: 2 }), { maxLength: 6 }), (items) => {
        let bytes: Uint8Array;
        try {
          bytes = encodeWire([1, ...items]);
        } catch {
          return; // not encodable (e.g. a BigInt), nothing to decode
        }
        const result = outcome(bytes);
        if (result === 'ok') {
          // Only a value of exactly the expected shape may decode.
          expect(items).toHaveLength(5);
        }
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('refuses every truncation and (typed) every single-byte change of a valid value (property)', () => {
    for (let n = 0; n < valid.length; n++) expectTyped(valid.subarray(0, n));
    fc.assert(
      fc.property(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }), (index, mask) => {
        const changed = Uint8Array.from(valid);
        changed[index]! ^= mask;
        outcome(changed);
      }),
      { seed: 42, numRuns: 1000 },
    );
  });
});

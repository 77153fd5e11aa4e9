/**
 * The hand-written fast path for `send` and `ack` frames against the zod schema, its
 * reference: whatever the fast path accepts, the schema accepts with the same output; what
 * the schema accepts in the canonical shape (no unknown keys, no undefined values), the fast
 * path accepts too; and decoding bytes gives the schema's result, error messages included.
 */
import { ClientFrame, decodeClientFrame, describeIssues, encodeFrame, MAX_BLOB_BYTES } from '@vaultex/api';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { fastClientFrame } from '../src/frame-fast-path.js';

const HEX = 'a'.repeat(32);
/** msgpackr builds objects with the ordinary prototype; null-prototype ones are tested as tampered. */
const plainObjects = { noNullPrototype: true } as const;
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

/** The schema alone, as decodeClientFrame worked before the fast path. */
function reference(bytes: Uint8Array): ReturnType<typeof decodeClientFrame> {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch {
    return { ok: false, error: 'not valid MessagePack' };
  }
  const parsed = ClientFrame.safeParse(value);
  if (parsed.success) return { ok: true, frame: parsed.data };
  return { ok: false, error: describeIssues(parsed.error) };
}

const hex = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[0-9a-f]{32}$/u) },
  { weight: 1, arbitrary: fc.stringMatching(/^[0-9a-fA-F]{31,33}$/u) },
  { weight: 1, arbitrary: fc.constantFrom(`${HEX}\n`, HEX.toUpperCase(), '', 42, null, ['x']) },
);
const uint = (min: number, max: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min, max: Math.min(max, 2 ** 31 - 1) }) },
    { weight: 1, arbitrary: fc.constantFrom(min, max, min - 1, max + 1, -0, 1.5, Number.NaN, Infinity, '1', null) },
  );
const bytes = (min: number, max: number) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ minLength: min, maxLength: Math.min(max, 40) }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(new Uint8Array(0), new Uint8Array(16), new Uint8Array(15), 'bytes', [1, 2], {}, null),
    },
    { weight: 1, arbitrary: fc.constantFrom(Buffer.alloc(16), new Uint16Array(8), new Uint8Array(17)) },
  );
const arrayOf = <T>(item: fc.Arbitrary<T>, max: number) =>
  fc.oneof({ weight: 8, arbitrary: fc.array(item, { maxLength: max }) }, { weight: 1, arbitrary: fc.constant('x') });

const target = fc.record(
  { accountId: hex, deviceIds: arrayOf(uint(1, 0xffff_ffff), 3) },
  { requiredKeys: [], noNullPrototype: true },
);
const message = fc.record(
  { blob: bytes(1, MAX_BLOB_BYTES), targets: arrayOf(target, 3) },
  { requiredKeys: ['blob', 'targets'], noNullPrototype: true },
);
const accessKey = fc.record(
  { accountId: hex, accessKey: bytes(16, 16) },
  { requiredKeys: ['accountId', 'accessKey'], noNullPrototype: true },
);
const sendFrame = fc.record(
  {
    t: fc.constant('send'),
    rid: uint(0, 0xffff_ffff),
    messages: arrayOf(message, 3),
    ttlSeconds: uint(1, 366 * 24 * 3600),
    ephemeral: fc.oneof(fc.boolean(), fc.constantFrom(0, 'true', null)),
    accessKeys: arrayOf(accessKey, 3),
  },
  { requiredKeys: ['t', 'rid', 'messages'], noNullPrototype: true },
);
const ackFrame = fc.record(
  { t: fc.constant('ack'), ids: arrayOf(hex, 4) },
  { requiredKeys: ['t'], noNullPrototype: true },
);

// Valid frames, so that acceptance is exercised as much as refusal.
const validHex = fc.stringMatching(/^[0-9a-f]{32}$/u);
const validSend = fc.record(
  {
    t: fc.constant('send'),
    rid: fc.nat({ max: 0xffff_ffff }),
    messages: fc.array(
      fc.record(
        {
          blob: fc.uint8Array({ minLength: 1, maxLength: 40 }),
          targets: fc.array(
            fc.record(
              {
                accountId: validHex,
                deviceIds: fc.array(fc.integer({ min: 1, max: 0xffff_ffff }), { minLength: 1, maxLength: 3 }),
              },
              plainObjects,
            ),
            { minLength: 1, maxLength: 3 },
          ),
        },
        plainObjects,
      ),
      { minLength: 1, maxLength: 3 },
    ),
    ttlSeconds: fc.integer({ min: 1, max: 366 * 24 * 3600 }),
    ephemeral: fc.boolean(),
    accessKeys: fc.array(
      fc.record({ accountId: validHex, accessKey: fc.uint8Array({ minLength: 16, maxLength: 16 }) }, plainObjects),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
  },
  { requiredKeys: ['t', 'rid', 'messages'], noNullPrototype: true },
);
const validAck = fc.record(
  { t: fc.constant('ack'), ids: fc.array(validHex, { minLength: 1, maxLength: 5 }) },
  plainObjects,
);

type Mutable = Record<string, unknown> & {
  messages: { blob: unknown; targets: { accountId: unknown; deviceIds: unknown[] }[] }[];
};
const BAD = [-1, 0, 1.5, 0x1_0000_0000, Number.NaN, '1', null, [], {}, new Uint8Array(0), new Uint8Array(15)];
/** One valid send with one field replaced by a value that may or may not be valid there. */
const mutatedSend = fc.tuple(validSend, fc.nat(8), fc.constantFrom(...BAD)).map(([frame, where, bad]) => {
  const f = structuredClone(frame) as unknown as Mutable;
  const m = f.messages[0]!;
  const t = m.targets[0]!;
  switch (where) {
    case 0:
      f.rid = bad;
      break;
    case 1:
      m.blob = bad;
      break;
    case 2:
      t.accountId = bad;
      break;
    case 3:
      t.deviceIds[0] = bad;
      break;
    case 4:
      f.ttlSeconds = bad;
      break;
    case 5:
      f.ephemeral = bad;
      break;
    case 6:
      f.accessKeys = [{ accountId: HEX, accessKey: bad }];
      break;
    case 7:
      m.targets = bad as never;
      break;
    default:
      f.messages = bad as never;
  }
  return f as unknown as Record<string, unknown> & { t: string };
});

const frame = fc.oneof(
  { weight: 3, arbitrary: validSend },
  { weight: 3, arbitrary: mutatedSend },
  { weight: 2, arbitrary: sendFrame },
  { weight: 2, arbitrary: validAck },
  { weight: 1, arbitrary: ackFrame },
  { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('ping', 'auth', 'goodbye', 'sent') }, plainObjects) },
);

/** Adds an unknown key or an undefined value somewhere on the top level. */
const tampered = fc
  .tuple(frame, fc.constantFrom('extra', 'undefined'))
  .map(([f, how]) => (how === 'extra' ? { ...f, extra: 1 } : { ...f, ttlSeconds: undefined }));

describe('send/ack fast path against the ClientFrame schema', () => {
  it('accepts exactly what the schema accepts in canonical frames, with the same output', () => {
    fc.assert(
      fc.property(frame, (value) => {
        const fast = fastClientFrame(value);
        const ref = ClientFrame.safeParse(value);
        const hot = value.t === 'send' || value.t === 'ack';
        expect(fast !== undefined).toBe(ref.success && hot);
        if (fast !== undefined && ref.success) expect(fast).toStrictEqual(ref.data);
      }),
      { seed: 42, numRuns: 3000 },
    );
  });

  it('never accepts what the schema refuses, whatever the shape', () => {
    fc.assert(
      fc.property(tampered, (value) => {
        const fast = fastClientFrame(value);
        if (fast === undefined) return;
        const ref = ClientFrame.safeParse(value);
        expect(ref.success).toBe(true);
        if (ref.success) expect(fast).toStrictEqual(ref.data);
      }),
      { seed: 42, numRuns: 1000 },
    );
  });

  it('decodes bytes to the schema result, error messages included', () => {
    fc.assert(
      fc.property(fc.oneof(frame, tampered), (value) => {
        // biome-ignore lint/suspicious/noExplicitAny: deliberately encodes frames the types forbid
        const bytes = encodeFrame(value as any);
        expect(decodeClientFrame(bytes)).toStrictEqual(reference(bytes));
      }),
      { seed: 42, numRuns: 1500 },
    );
  });

  it('agrees on the boundaries of every limit', () => {
    const send = (over: Record<string, unknown>) => ({
      t: 'send',
      rid: 1,
      messages: [{ blob: new Uint8Array(1), targets: [{ accountId: HEX, deviceIds: [1] }] }],
      ...over,
    });
    const targets = (n: number, devices: number) =>
      Array.from({ length: n }, () => ({
        accountId: HEX,
        deviceIds: Array.from({ length: devices }, (_, i) => i + 1),
      }));
    const cases: [unknown, boolean][] = [
      [send({}), true],
      [send({ rid: 0xffff_ffff }), true],
      [send({ rid: 0x1_0000_0000 }), false],
      [send({ rid: -1 }), false],
      [send({ messages: [] }), false],
      [send({ messages: [{ blob: new Uint8Array(0), targets: targets(1, 1) }] }), false],
      [send({ messages: [{ blob: new Uint8Array(MAX_BLOB_BYTES), targets: targets(1, 1) }] }), true],
      [send({ messages: [{ blob: new Uint8Array(MAX_BLOB_BYTES + 1), targets: targets(1, 1) }] }), false],
      [send({ messages: [{ blob: new Uint8Array(1), targets: targets(1, 64) }] }), true],
      [send({ messages: [{ blob: new Uint8Array(1), targets: targets(1, 65) }] }), false],
      [send({ messages: [{ blob: new Uint8Array(1), targets: targets(16, 64) }] }), true],
      [send({ messages: [{ blob: new Uint8Array(1), targets: [...targets(16, 64), ...targets(1, 1)] }] }), false],
      [
        send({ messages: Array.from({ length: 256 }, () => ({ blob: new Uint8Array(1), targets: targets(1, 1) })) }),
        true,
      ],
      [
        send({ messages: Array.from({ length: 257 }, () => ({ blob: new Uint8Array(1), targets: targets(1, 1) })) }),
        false,
      ],
      [send({ ttlSeconds: 0 }), false],
      [send({ ttlSeconds: 366 * 24 * 3600 }), true],
      [send({ ttlSeconds: 366 * 24 * 3600 + 1 }), false],
      [send({ accessKeys: [] }), false],
      [send({ accessKeys: [{ accountId: HEX, accessKey: new Uint8Array(15) }] }), false],
      [send({ accessKeys: [{ accountId: HEX, accessKey: new Uint8Array(16) }] }), true],
      [{ t: 'ack', ids: Array.from({ length: 256 }, () => HEX) }, true],
      [{ t: 'ack', ids: Array.from({ length: 257 }, () => HEX) }, false],
      [{ t: 'ack', ids: [] }, false],
      [{ t: 'ack', ids: [HEX.toUpperCase()] }, false],
    ];
    for (const [value, valid] of cases) {
      expect(ClientFrame.safeParse(value).success).toBe(valid);
      const fast = fastClientFrame(value);
      expect(fast !== undefined).toBe(valid);
      if (fast !== undefined) expect(fast).toStrictEqual(ClientFrame.parse(value));
    }
  });
});

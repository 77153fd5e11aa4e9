/** The byte codec, identifiers, proof messages, request schemas and MessagePack frames of @vaultex/api. */

import {
  authProofMessage,
  base64url,
  decodeClientFrame,
  decodeServerFrame,
  encodeFrame,
  fromBase64Url,
  fromHex,
  linkProofMessage,
  registrationProofMessage,
  SealedSendRequest,
  SendRequest,
  toBase64Url,
  toHex,
} from '@vaultex/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';

describe('base64url', () => {
  it('round-trips every byte string and matches Node', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(fromBase64Url(text)).toEqual(bytes);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('refuses padding, foreign characters, impossible lengths and non-canonical tails', () => {
    for (const bad of ['AA==', 'A', 'AB+/', 'AB c', 'AB\u00e9', 'AB', 'AAB']) {
      if (bad === 'AB' || bad === 'AAB') continue;
      expect(fromBase64Url(bad)).toBeUndefined();
    }
    expect(fromBase64Url('AB')).toBeUndefined(); // 'B' leaves non-zero trailing bits
    expect(fromBase64Url('AA')).toEqual(new Uint8Array([0]));
    expect(fromBase64Url('AAB')).toBeUndefined();
    expect(fromBase64Url('AAE')).toEqual(new Uint8Array([0, 1]));
  });

  it('schema fields decode to bytes of the declared length and encode back', () => {
    const Key = base64url(4);
    expect(Key.parse('AQIDBA')).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(Key.safeParse('AQID').success).toBe(false);
    expect(Key.safeParse('AQIDBAU').success).toBe(false);
    expect(z.encode(Key, new Uint8Array([1, 2, 3, 4]))).toBe('AQIDBA');
  });
});

describe('hex ids', () => {
  it('round-trips and refuses non-hex', () => {
    expect(toHex(new Uint8Array([0, 255, 16]))).toBe('00ff10');
    expect(fromHex('00ff10')).toEqual(new Uint8Array([0, 255, 16]));
    expect(fromHex('0g')).toBeUndefined();
    expect(fromHex('abc')).toBeUndefined();
  });
});

describe('proof messages', () => {
  const nonce = new Uint8Array(32).fill(1);
  it('are domain-separated and length-prefixed', () => {
    const auth = authProofMessage(nonce, new Uint8Array(16).fill(2), 7);
    expect(new TextDecoder().decode(auth.subarray(0, 15))).toBe('VAULTEX auth v1');
    expect(auth.length).toBe(15 + 32 + 16 + 4);
    expect(auth.subarray(-4)).toEqual(new Uint8Array([0, 0, 0, 7]));
    const reg = registrationProofMessage(nonce, new Uint8Array([1, 2]), new Uint8Array([3]));
    const link = linkProofMessage(nonce, new Uint8Array([1, 2]), new Uint8Array([3]));
    expect(reg).not.toEqual(link);
    // Moving a byte between the two fields changes the message.
    expect(registrationProofMessage(nonce, new Uint8Array([1]), new Uint8Array([2, 3]))).not.toEqual(reg);
  });
  it('refuse wrong lengths', () => {
    expect(() => authProofMessage(new Uint8Array(31), new Uint8Array(16), 1)).toThrow(RangeError);
    expect(() => authProofMessage(nonce, new Uint8Array(16), -1)).toThrow(RangeError);
  });
});

describe('send schemas', () => {
  const target = { accountId: 'ab'.repeat(16), deviceIds: [1, 2] };
  it('parses a multi-recipient send and refuses bad fields', () => {
    const ok = SendRequest.safeParse({ messages: [{ blob: 'AQID', targets: [target] }], ttlSeconds: 60 });
    expect(ok.success && ok.data.messages[0]!.blob).toEqual(new Uint8Array([1, 2, 3]));
    expect(SendRequest.safeParse({ messages: [] }).success).toBe(false);
    expect(SendRequest.safeParse({ messages: [{ blob: '', targets: [target] }] }).success).toBe(false);
    expect(
      SendRequest.safeParse({ messages: [{ blob: 'AQID', targets: [{ ...target, accountId: 'AB'.repeat(16) }] }] })
        .success,
    ).toBe(false);
    expect(
      SendRequest.safeParse({ messages: [{ blob: 'AQID', targets: [{ ...target, deviceIds: [0] }] }] }).success,
    ).toBe(false);
    expect(SealedSendRequest.safeParse({ messages: [{ blob: 'AQID', targets: [target] }] }).success).toBe(false);
  });
  it('caps the total number of targets', () => {
    const many = Array.from({ length: 17 }, (_, i) => ({
      accountId: i.toString(16).padStart(32, '0'),
      deviceIds: Array.from({ length: 64 }, (_, d) => d + 1),
    }));
    expect(SendRequest.safeParse({ messages: [{ blob: 'AQID', targets: many }] }).success).toBe(false);
  });
});

describe('frames', () => {
  it('round-trip client and server frames through MessagePack', () => {
    const send = {
      t: 'send' as const,
      rid: 3,
      messages: [{ blob: new Uint8Array([9, 9]), targets: [{ accountId: 'cd'.repeat(16), deviceIds: [1] }] }],
      accessKeys: [{ accountId: 'cd'.repeat(16), accessKey: new Uint8Array(16) }],
    };
    const back = decodeClientFrame(encodeFrame(send));
    expect(back.ok && back.frame).toEqual(send);
    const msg = { t: 'message' as const, id: '01'.repeat(16), blob: new Uint8Array([1]) };
    const decoded = decodeServerFrame(encodeFrame(msg));
    expect(decoded.ok && decoded.frame.t).toBe('message');
  });
  it('report garbage as errors, never throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const r = decodeClientFrame(bytes);
        expect(typeof r.ok).toBe('boolean');
      }),
      { seed: 42, numRuns: 500 },
    );
    const r = decodeClientFrame(encodeFrame({ t: 'ack', ids: [] } as never));
    expect(r).toMatchObject({ ok: false });
    expect(!r.ok && r.error).toContain('ids');
    expect(decodeClientFrame(new Uint8Array([0x92]))).toEqual({ ok: false, error: 'not valid MessagePack' });
  });
});

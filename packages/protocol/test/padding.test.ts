import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  InvalidArgumentError,
  InvalidPaddingError,
  MAX_PADDED_LENGTH,
  MAX_PADDING_INPUT,
  PADDING_BLOCK,
  pad,
  paddedLength,
  unpad,
} from '@vaultex/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex, toHex } from './support.js';

interface PaddingVectors {
  lengths: { inputLength: number; paddedLength: number }[];
  examples: { input: string; padded: string }[];
  invalid: { description: string; padded: string }[];
}
const vectors = JSON.parse(
  readFileSync(join(import.meta.dirname, 'vectors', 'padding.json'), 'utf8'),
) as PaddingVectors;

function isBucket(n: number): boolean {
  return [256, 512, 1024, 2048].includes(n) || (n >= 4096 && n % 4096 === 0 && n <= MAX_PADDED_LENGTH);
}

describe('padding', () => {
  it.each(vectors.lengths)('paddedLength($inputLength) = $paddedLength', ({ inputLength, paddedLength: expected }) => {
    expect(paddedLength(inputLength)).toBe(expected);
    expect(pad(new Uint8Array(inputLength)).length).toBe(expected);
  });

  it.each(vectors.examples)('pads $input as in the vector and back', ({ input, padded }) => {
    expect(toHex(pad(hex(input)))).toBe(padded);
    expect(toHex(unpad(hex(padded)))).toBe(input);
  });

  it.each(vectors.invalid)('refuses $description', ({ padded }) => {
    expect(() => unpad(hex(padded))).toThrow(InvalidPaddingError);
  });

  it('keeps trailing 0x80 and zero bytes that belong to the plaintext', () => {
    const text = Uint8Array.of(1, 0x80, 0, 0, 0x80, 0);
    expect(Array.from(unpad(pad(text)))).toEqual(Array.from(text));
  });

  it('round-trips any plaintext, always to the smallest bucket that fits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), (text) => {
        const padded = pad(text);
        expect(isBucket(padded.length)).toBe(true);
        expect(padded.length).toBeGreaterThan(text.length);
        // No smaller bucket would hold the plaintext and its marker.
        const smaller = padded.length <= 4096 ? padded.length / 2 : padded.length - PADDING_BLOCK;
        expect(smaller < 256 || smaller < text.length + 1).toBe(true);
        expect(unpad(padded)).toEqual(text);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('accepts the largest input and refuses one byte more', () => {
    expect(paddedLength(MAX_PADDING_INPUT)).toBe(MAX_PADDED_LENGTH);
    const big = new Uint8Array(MAX_PADDING_INPUT).fill(7);
    expect(unpad(pad(big)).length).toBe(MAX_PADDING_INPUT);
    expect(() => pad(new Uint8Array(MAX_PADDING_INPUT + 1))).toThrow(InvalidArgumentError);
    expect(() => paddedLength(MAX_PADDING_INPUT + 1)).toThrow(InvalidArgumentError);
    const tooLong = new Uint8Array(MAX_PADDED_LENGTH + PADDING_BLOCK);
    tooLong[0] = 0x80;
    expect(() => unpad(tooLong)).toThrow(InvalidPaddingError);
  });

  it('does not alias its input', () => {
    const text = Uint8Array.of(1, 2, 3);
    const padded = pad(text);
    padded[0] = 9;
    expect(text[0]).toBe(1);
    const out = unpad(padded);
    out[1] = 9;
    expect(padded[1]).toBe(2);
  });

  const badValues: unknown[] = [undefined, null, 'abc', 3, [1, 2], new Uint16Array(4), {}];
  it.each(badValues.map((v) => [v]))('refuses %o as argument with InvalidArgumentError', (value) => {
    expect(() => pad(value as Uint8Array)).toThrow(InvalidArgumentError);
    expect(() => unpad(value as Uint8Array)).toThrow(InvalidArgumentError);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3'])('paddedLength refuses %o', (n) => {
    expect(() => paddedLength(n as number)).toThrow(InvalidArgumentError);
  });
});

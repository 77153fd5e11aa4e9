import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { entropyToMnemonic, mnemonicToEntropy, mnemonicToSeedSync } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { generateSeedPhrase, isValidSeedPhrase, type RandomSource } from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { hex, toHex } from './support.js';

interface Bip39Vectors {
  passphrase: string;
  vectors: { entropy: string; mnemonic: string; seed: string }[];
}

// The Trezor reference vectors (trezor/python-mnemonic vectors.json, English).
const data = JSON.parse(
  readFileSync(join(import.meta.dirname, 'vectors', 'bip39-english.json'), 'utf8'),
) as Bip39Vectors;

/** A RandomSource that hands out exactly `bytes`, once, and fails loudly on any other request. */
function fixedRandom(bytes: Uint8Array): RandomSource {
  let used = false;
  return (length) => {
    if (used || length !== bytes.length) throw new Error(`unexpected random(${length})`);
    used = true;
    return Uint8Array.from(bytes);
  };
}

const cases = data.vectors.map((v, i) => [i, v.entropy.length / 2, v] as const);

describe('BIP-39 English vectors (Trezor)', () => {
  it('holds all 24 vectors: 8 each of 16, 24 and 32 bytes of entropy', () => {
    expect(data.passphrase).toBe('TREZOR');
    expect(data.vectors).toHaveLength(24);
    const sizes = data.vectors.map((v) => v.entropy.length / 2);
    expect(sizes.filter((s) => s === 16)).toHaveLength(8);
    expect(sizes.filter((s) => s === 24)).toHaveLength(8);
    expect(sizes.filter((s) => s === 32)).toHaveLength(8);
  });

  it.each(cases)('vector %i (%i bytes): entropy -> mnemonic', (_i, size, v) => {
    const entropy = hex(v.entropy);
    if (size === 32) {
      // The 24-word vectors go through our own generator, fed the vector's entropy.
      expect(generateSeedPhrase(fixedRandom(entropy))).toBe(v.mnemonic);
    } else {
      expect(entropyToMnemonic(entropy, wordlist)).toBe(v.mnemonic);
    }
    expect(toHex(mnemonicToEntropy(v.mnemonic, wordlist))).toBe(v.entropy);
  });

  it.each(cases)('vector %i (%i bytes): mnemonic -> seed with passphrase "TREZOR"', (_i, _size, v) => {
    // The same call identity.ts makes (there with the empty passphrase).
    expect(toHex(mnemonicToSeedSync(v.mnemonic, data.passphrase))).toBe(v.seed);
  });

  it.each(cases)('vector %i (%i bytes): only 24-word phrases are VAULTEX seed phrases', (_i, size, v) => {
    expect(isValidSeedPhrase(v.mnemonic)).toBe(size === 32);
  });
});

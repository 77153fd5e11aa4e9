import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CryptoProvider,
  emptyTreeHash,
  hashChildren,
  hashLeaf,
  InvalidArgumentError,
  InvalidProofError,
  MerkleTree,
  verifyConsistency,
  verifyInclusion,
} from '@vaultex/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hex, providers, toHex } from './support.js';

interface InclusionVector {
  index: number;
  size: number;
  proof: string[];
}
interface ConsistencyVector {
  oldSize: number;
  newSize: number;
  proof: string[];
}
const vectors = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'merkle-rfc9162.json'), 'utf8')) as {
  hashes: Record<string, string | Record<string, string>>;
  leaves: string[];
  roots: string[];
  inclusion: InclusionVector[];
  consistency: ConsistencyVector[];
};
const SOME_HASH = hex('abacaba000000000000000000000000000000000000000000060061e00123456');
const EMPTY_ROOT = hex('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');

function flipped(proof: Uint8Array[], i: number, bit: number): Uint8Array[] {
  return proof.map((h, j) => {
    if (j !== i) return h;
    const copy = Uint8Array.from(h);
    copy[0]! ^= bit;
    return copy;
  });
}

/** The corruption probes of transparency-dev/merkle's verify_test.go, for inclusion. */
function inclusionProbes(index: number, size: number, proof: Uint8Array[], root: Uint8Array, leaf: Uint8Array) {
  const probes: [string, Uint8Array, number, number, Uint8Array[], Uint8Array][] = [
    ['index - 1', leaf, index - 1, size, proof, root],
    ['index + 1', leaf, index + 1, size, proof, root],
    ['index ^ 2', leaf, index ^ 2, size, proof, root],
    ['size * 2', leaf, index, size * 2, proof, root],
    ['size / 2', leaf, index, Math.floor(size / 2), proof, root],
    ['wrong leaf', SOME_HASH, index, size, proof, root],
    ['empty root', leaf, index, size, proof, EMPTY_ROOT],
    ['random root', leaf, index, size, proof, SOME_HASH],
    ['trailing root', leaf, index, size, [...proof, root], root],
    ['preceding root', leaf, index, size, [root, ...proof], root],
  ];
  for (let i = 0; i < proof.length; i++)
    probes.push([`proof[${i}] bit 3`, leaf, index, size, flipped(proof, i, 8), root]);
  if (proof.length > 0) probes.push(['removed component', leaf, index, size, proof.slice(0, -1), root]);
  if (proof.length > 1) probes.push(['inserted', leaf, index, size, [proof[0]!, SOME_HASH, ...proof.slice(1)], root]);
  return probes.filter(([, , i]) => i >= 0);
}

/** The corruption probes of transparency-dev/merkle's verify_test.go, for consistency. */
function consistencyProbes(m: number, n: number, r1: Uint8Array, r2: Uint8Array, proof: Uint8Array[]) {
  const probes: [string, number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
    ['oldSize - 1', m - 1, n, r1, r2, proof],
    ['oldSize + 1', m + 1, n, r1, r2, proof],
    ['oldSize ^ 2', m ^ 2, n, r1, r2, proof],
    ['newSize * 2', m, n * 2, r1, r2, proof],
    ['newSize / 2', m, Math.floor(n / 2), r1, r2, proof],
    ['wrong old root', m, n, SOME_HASH, r2, proof],
    ['wrong new root', m, n, r1, SOME_HASH, proof],
    ['swapped roots', m, n, r2, r1, proof],
    ['empty proof', m, n, r1, r2, []],
    ['trailing old root', m, n, r1, r2, [...proof, r1]],
    ['trailing new root', m, n, r1, r2, [...proof, r2]],
    ['preceding old root', m, n, r1, r2, [r1, ...proof]],
    ['preceding new root', m, n, r1, r2, [r2, ...proof]],
    ['preceding proof[0]', m, n, r1, r2, [proof[0]!, ...proof]],
    ['truncated', m, n, r1, r2, proof.slice(0, -1)],
  ];
  for (let i = 0; i < proof.length; i++) probes.push([`proof[${i}] bit 4`, m, n, r1, r2, flipped(proof, i, 16)]);
  return probes;
}

const inclusionFails = (p: CryptoProvider, ...a: [Uint8Array, number, number, Uint8Array[], Uint8Array]) =>
  expect(() => verifyInclusion(...a, p)).toThrow(InvalidProofError);

describe.each(providers)('RFC 9162 Merkle tree ($name)', (provider) => {
  const leaves = vectors.leaves.map(hex);
  const tree = new MerkleTree(provider);
  for (const leaf of leaves) tree.append(leaf);

  it('hashes leaves, nodes and the empty tree as RFC 6962/9162', () => {
    const h = vectors.hashes as {
      emptyTree: string;
      emptyLeaf: string;
      leafL123456: { leaf: string; hash: string };
      nodeN123N456: { left: string; right: string; hash: string };
    };
    expect(toHex(emptyTreeHash(provider))).toBe(h.emptyTree);
    expect(toHex(hashLeaf(new Uint8Array(0), provider))).toBe(h.emptyLeaf);
    expect(toHex(hashLeaf(hex(h.leafL123456.leaf), provider))).toBe(h.leafL123456.hash);
    expect(toHex(hashChildren(hex(h.nodeN123N456.left), hex(h.nodeN123N456.right), provider))).toBe(
      h.nodeN123N456.hash,
    );
  });

  it('computes every reference root, including the roots of earlier sizes', () => {
    expect(tree.size).toBe(8);
    expect(toHex(tree.rootAt(0))).toBe(vectors.hashes.emptyTree);
    for (let size = 1; size <= 8; size++) expect(toHex(tree.rootAt(size))).toBe(vectors.roots[size - 1]);
  });

  it('produces and verifies the reference inclusion proofs; every corruption fails', () => {
    for (const v of vectors.inclusion) {
      const proof = tree.inclusionProof(v.index, v.size);
      expect(proof.map(toHex)).toEqual(v.proof);
      const root = hex(vectors.roots[v.size - 1]!);
      const leaf = hashLeaf(leaves[v.index]!, provider);
      verifyInclusion(leaf, v.index, v.size, proof, root, provider);
      for (const [name, ...probe] of inclusionProbes(v.index, v.size, proof, root, leaf)) {
        expect(() => verifyInclusion(...probe, provider), name).toThrow(InvalidProofError);
      }
    }
  });

  it('produces and verifies the reference consistency proofs; every corruption fails', () => {
    for (const v of vectors.consistency) {
      const proof = tree.consistencyProof(v.oldSize, v.newSize);
      expect(proof.map(toHex)).toEqual(v.proof);
      const r1 = hex(vectors.roots[v.oldSize - 1]!);
      const r2 = hex(vectors.roots[v.newSize - 1]!);
      verifyConsistency(v.oldSize, v.newSize, r1, r2, proof, provider);
      if (proof.length === 0) continue;
      for (const [name, ...probe] of consistencyProbes(v.oldSize, v.newSize, r1, r2, proof)) {
        expect(() => verifyConsistency(...probe, provider), name).toThrow(InvalidProofError);
      }
    }
  });

  it('handles the edge cases of the reference verifier tests', () => {
    // A one-leaf tree: the leaf hash is the root and the proof is empty.
    const one = hashLeaf(new Uint8Array([1, 2, 3]), provider);
    verifyInclusion(one, 0, 1, [], one, provider);
    inclusionFails(provider, one, 0, 1, [], SOME_HASH);
    for (const [index, size] of [
      [0, 0],
      [1, 0],
      [2, 1],
      [1, 1],
    ] as const) {
      inclusionFails(provider, SOME_HASH, index, size, [], EMPTY_ROOT);
    }
    // Consistency: trivially consistent sizes, time travel, non-empty proofs where none belong.
    verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [], provider);
    verifyConsistency(0, 5, EMPTY_ROOT, SOME_HASH, [], provider);
    verifyConsistency(3, 3, SOME_HASH, SOME_HASH, [], provider);
    const fails: [number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
      [1, 1, SOME_HASH, EMPTY_ROOT, []],
      [1, 0, EMPTY_ROOT, EMPTY_ROOT, []],
      [2, 1, SOME_HASH, SOME_HASH, []],
      [1, 2, SOME_HASH, EMPTY_ROOT, []],
      [0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]],
      [0, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]],
      [1, 1, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]],
      [0, 4, SOME_HASH, SOME_HASH, []],
    ];
    for (const args of fails) expect(() => verifyConsistency(...args, provider)).toThrow(InvalidProofError);
  });

  it('refuses malformed hashes as proof failures and wrong JS types as misuse', () => {
    const leaf = hashLeaf(leaves[0]!, provider);
    const root = hex(vectors.roots[7]!);
    const proof = tree.inclusionProof(0, 8);
    inclusionFails(provider, new Uint8Array(0), 0, 8, proof, root);
    inclusionFails(provider, leaf, 0, 8, proof, new Uint8Array(31));
    inclusionFails(provider, leaf, 0, 8, [...proof.slice(0, 2), new Uint8Array(33)], root);
    inclusionFails(provider, leaf, 0, 8, new Array(200).fill(SOME_HASH), root);
    // Untrusted sizes up to 2^53-1 fail cleanly instead of misbehaving in 32-bit arithmetic.
    inclusionFails(provider, leaf, 2 ** 40, Number.MAX_SAFE_INTEGER, proof, root);
    inclusionFails(provider, leaf, 0, Number.MAX_SAFE_INTEGER, new Array(53).fill(SOME_HASH), root);
    expect(() => verifyConsistency(2 ** 32 + 1, Number.MAX_SAFE_INTEGER, root, root, proof, provider)).toThrow(
      InvalidProofError,
    );
    expect(() => verifyInclusion(leaf, 0, 8, 'proof' as never, root, provider)).toThrow(InvalidArgumentError);
    expect(() => verifyInclusion(leaf, 0, 8, [1] as never, root, provider)).toThrow(InvalidArgumentError);
    expect(() => verifyInclusion(leaf, -1, 8, proof, root, provider)).toThrow(InvalidArgumentError);
    expect(() => verifyInclusion(leaf, 0, 8.5, proof, root, provider)).toThrow(InvalidArgumentError);
    expect(() => verifyConsistency(1, 2, 'root' as never, root, [], provider)).toThrow(InvalidArgumentError);
  });

  it('refuses out-of-range requests on the tree with InvalidArgumentError', () => {
    const empty = new MerkleTree(provider);
    expect(toHex(empty.rootAt(0))).toBe(vectors.hashes.emptyTree);
    expect(empty.consistencyProof(0, 0)).toEqual([]);
    expect(() => empty.inclusionProof(0, 1)).toThrow(InvalidArgumentError);
    expect(() => empty.leafHash(0)).toThrow(InvalidArgumentError);
    expect(() => tree.rootAt(9)).toThrow(InvalidArgumentError);
    expect(() => tree.inclusionProof(8, 8)).toThrow(InvalidArgumentError);
    expect(() => tree.inclusionProof(0, 9)).toThrow(InvalidArgumentError);
    expect(() => tree.consistencyProof(5, 4)).toThrow(InvalidArgumentError);
    expect(() => tree.consistencyProof(1, 9)).toThrow(InvalidArgumentError);
    expect(() => tree.append('leaf' as never)).toThrow(InvalidArgumentError);
    expect(() => tree.appendLeafHash(new Uint8Array(31))).toThrow(InvalidArgumentError);
    expect(tree.size).toBe(8);
  });

  it('rebuilds from persisted leaf hashes to the same roots and proofs', () => {
    const stored = Array.from({ length: tree.size }, (_, i) => tree.leafHash(i));
    expect(toHex(stored[0]!)).toBe(vectors.hashes.emptyLeaf);
    const rebuilt = MerkleTree.fromLeafHashes(stored, provider);
    expect(rebuilt.size).toBe(8);
    for (let size = 1; size <= 8; size++) {
      expect(toHex(rebuilt.rootAt(size))).toBe(toHex(tree.rootAt(size)));
      expect(rebuilt.consistencyProof(1, size).map(toHex)).toEqual(tree.consistencyProof(1, size).map(toHex));
      expect(rebuilt.inclusionProof(size - 1, size).map(toHex)).toEqual(tree.inclusionProof(size - 1, size).map(toHex));
    }
    // Returned hashes are copies: changing one cannot corrupt the tree.
    stored[0]!.fill(0);
    expect(toHex(tree.leafHash(0))).toBe(vectors.hashes.emptyLeaf);
  });

  it('property: every proof of random trees verifies and every tampering fails', () => {
    // Distinct leaves (the index is in the data), so a wrong index cannot hit an equal leaf.
    const big = new MerkleTree(provider);
    const data = (i: number) => new TextEncoder().encode(`leaf ${i}`);
    for (let i = 0; i < 300; i++) big.append(data(i));
    const sizeAndIndex = fc
      .integer({ min: 1, max: 300 })
      .chain((size) => fc.tuple(fc.constant(size), fc.nat(size - 1), fc.nat(size - 1), fc.nat(31), fc.nat(7)));
    fc.assert(
      fc.property(sizeAndIndex, ([size, index, other, byte, bit]) => {
        const root = big.rootAt(size);
        const leaf = hashLeaf(data(index), provider);
        const proof = big.inclusionProof(index, size);
        verifyInclusion(leaf, index, size, proof, root, provider);
        if (other !== index) inclusionFails(provider, leaf, other, size, proof, root);
        const badRoot = Uint8Array.from(root);
        badRoot[byte]! ^= 1 << bit;
        inclusionFails(provider, leaf, index, size, proof, badRoot);
        inclusionFails(provider, hashLeaf(data(index + 1000), provider), index, size, proof, root);
        inclusionFails(provider, leaf, index, size, [...proof, root], root);
        if (proof.length > 0) {
          const at = byte % proof.length;
          const bad = proof.map((h, j) =>
            j === at ? Uint8Array.from(h, (b, k) => (k === byte ? b ^ (1 << bit) : b)) : h,
          );
          inclusionFails(provider, leaf, index, size, bad, root);
          inclusionFails(provider, leaf, index, size, proof.slice(1), root);
        }
      }),
      { seed: 42, numRuns: 150 },
    );
    const sizes = fc
      .integer({ min: 1, max: 300 })
      .chain((newSize) => fc.tuple(fc.nat(newSize), fc.constant(newSize), fc.nat(31), fc.nat(7)));
    fc.assert(
      fc.property(sizes, ([oldSize, newSize, byte, bit]) => {
        const oldRoot = big.rootAt(oldSize);
        const newRoot = big.rootAt(newSize);
        const proof = big.consistencyProof(oldSize, newSize);
        verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof, provider);
        const flip = (h: Uint8Array) => Uint8Array.from(h, (b, k) => (k === byte ? b ^ (1 << bit) : b));
        const fails = (...a: [number, number, Uint8Array, Uint8Array, Uint8Array[]]) =>
          expect(() => verifyConsistency(...a, provider)).toThrow(InvalidProofError);
        fails(oldSize, newSize, flip(oldRoot), newRoot, proof);
        fails(oldSize, newSize, oldRoot, newRoot, [...proof, newRoot]);
        // The empty tree is a prefix of every tree: only a non-empty old tree pins the new root.
        if (oldSize > 0) fails(oldSize, newSize, oldRoot, flip(newRoot), proof);
        if (oldSize > 0 && oldSize < newSize) {
          fails(oldSize - 1, newSize, oldRoot, newRoot, proof);
          fails(oldSize, newSize, newRoot, oldRoot, proof);
          fails(oldSize, newSize, oldRoot, newRoot, proof.slice(0, -1));
          const at = byte % proof.length;
          fails(
            oldSize,
            newSize,
            oldRoot,
            newRoot,
            proof.map((h, j) => (j === at ? flip(h) : h)),
          );
        }
        if (oldSize + 1 < newSize) fails(oldSize + 1, newSize, oldRoot, newRoot, proof);
      }),
      { seed: 42, numRuns: 150 },
    );
  });
});

describe('Merkle tree cost', () => {
  it('hashes each node once on append and stays logarithmic per proof', () => {
    const [base] = providers;
    let calls = 0;
    const counting: CryptoProvider = {
      ...base!,
      sha256: (data) => {
        calls++;
        return base!.sha256(data);
      },
    };
    const tree = new MerkleTree(counting);
    const n = 2 ** 16 + 5;
    const leaf = new Uint8Array(8);
    const view = new DataView(leaf.buffer);
    for (let i = 0; i < n; i++) {
      view.setUint32(0, i);
      tree.append(leaf);
    }
    // n leaf hashes plus fewer than n interior nodes: no recomputation while appending.
    expect(calls).toBeLessThan(2 * n);
    calls = 0;
    tree.rootAt(n);
    expect(calls).toBeLessThanOrEqual(17);
    calls = 0;
    tree.inclusionProof(n - 1, n);
    tree.inclusionProof(12_345, n);
    tree.consistencyProof(40_000, n);
    tree.consistencyProof(3, n - 1);
    // Each proof is at most ~log2(n)^2 = 289 hashes; O(n) work would be ~65,000.
    expect(calls).toBeLessThan(4 * 17 * 17);
  });
});

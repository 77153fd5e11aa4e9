/**
 * The append-only Merkle tree of RFC 9162 section 2.1 (Certificate Transparency v2
 * hashing, identical to RFC 6962): leaf = SHA-256(0x00 || data), node =
 * SHA-256(0x01 || left || right), empty tree = SHA-256(""). A {@link MerkleTree} keeps
 * the hash of every complete subtree, so appends cost amortised O(1) hashes and roots
 * and proofs O(log² n) at worst, never O(n). The verifiers follow RFC 9162 2.1.3.2 and
 * 2.1.4.2 and throw {@link InvalidProofError}; they never return a boolean, so a
 * forgotten check cannot pass silently.
 *
 * Arithmetic on indices and sizes avoids 32-bit bitwise operators: sizes in signed
 * tree heads are untrusted and may be anywhere up to 2^53-1.
 */
import { assertBytes, assertInteger, assertProvider, isBytes } from './assert.js';
import { equalBytes } from './bytes.js';
import { InvalidArgumentError, InvalidProofError } from './errors.js';
import type { CryptoProvider } from './provider/provider.js';

/** Length of every hash in the tree (SHA-256). */
export const MERKLE_HASH_LENGTH = 32;
/**
 * Longest proof the verifiers look at. A tree of 2^53 leaves needs at most 53 inclusion
 * and 2·53 consistency hashes; anything longer is refused before any hashing.
 */
export const MAX_MERKLE_PROOF_LENGTH = 2 * 54;

/** SHA-256 of the empty string: the root of the empty tree. */
export function emptyTreeHash(provider: CryptoProvider): Uint8Array {
  assertProvider(provider);
  return provider.sha256(new Uint8Array(0));
}

/** `SHA-256(0x00 || data)`: the hash of one leaf. */
export function hashLeaf(data: Uint8Array, provider: CryptoProvider): Uint8Array {
  assertBytes(data, 'leaf');
  assertProvider(provider);
  const input = new Uint8Array(1 + data.length);
  input.set(data, 1);
  return provider.sha256(input);
}

/** `SHA-256(0x01 || left || right)`: the hash of an interior node. */
export function hashChildren(left: Uint8Array, right: Uint8Array, provider: CryptoProvider): Uint8Array {
  assertBytes(left, 'left');
  assertBytes(right, 'right');
  assertProvider(provider);
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = 1;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return provider.sha256(input);
}

/** Largest power of two strictly smaller than n (n >= 2): RFC 9162's `k`. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

const half = (x: number): number => Math.floor(x / 2);
const odd = (x: number): boolean => x % 2 === 1;

/** A growable array of 32-byte hashes in one buffer: millions of leaves, not millions of objects. */
class HashColumn {
  private buffer = new Uint8Array(MERKLE_HASH_LENGTH * 16);
  length = 0;

  push(hash: Uint8Array): void {
    const end = (this.length + 1) * MERKLE_HASH_LENGTH;
    if (end > this.buffer.length) {
      const grown = new Uint8Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer.set(hash, this.length * MERKLE_HASH_LENGTH);
    this.length++;
  }

  /** A view into the column: callers inside this module only read it. */
  view(index: number): Uint8Array {
    return this.buffer.subarray(index * MERKLE_HASH_LENGTH, (index + 1) * MERKLE_HASH_LENGTH);
  }
}

/**
 * An append-only RFC 9162 Merkle tree that keeps every complete subtree's hash
 * (about 2·n hashes, 64 bytes per leaf). Persist the leaf hashes ({@link leafHash}) and
 * rebuild with {@link MerkleTree.fromLeafHashes}.
 * @example
 * const tree = new MerkleTree(nobleProvider);
 * const i = tree.append(entryBytes);
 * const proof = tree.inclusionProof(i, tree.size);
 * verifyInclusion(hashLeaf(entryBytes, nobleProvider), i, tree.size, proof, tree.rootAt(tree.size), nobleProvider);
 */
export class MerkleTree {
  /** levels[h][i] = hash of the complete subtree of 2^h leaves starting at leaf i·2^h. */
  private readonly levels: HashColumn[] = [new HashColumn()];
  private readonly provider: CryptoProvider;

  constructor(provider: CryptoProvider) {
    assertProvider(provider);
    this.provider = provider;
  }

  /**
   * Rebuild a tree from its persisted leaf hashes, in index order (O(n) hashes).
   * @throws InvalidArgumentError when a leaf hash is not 32 bytes.
   */
  static fromLeafHashes(leafHashes: Iterable<Uint8Array>, provider: CryptoProvider): MerkleTree {
    if (leafHashes === null || typeof (leafHashes as Partial<Iterable<Uint8Array>>)?.[Symbol.iterator] !== 'function') {
      throw new InvalidArgumentError('leafHashes: expected an iterable of 32-byte hashes');
    }
    const tree = new MerkleTree(provider);
    for (const hash of leafHashes) tree.appendLeafHash(hash);
    return tree;
  }

  /** Number of leaves. */
  get size(): number {
    return this.levels[0]!.length;
  }

  /**
   * Append a leaf's data (hashed as `SHA-256(0x00 || data)`).
   * @returns the new leaf's index.
   * @throws InvalidArgumentError when `data` is not bytes.
   */
  append(data: Uint8Array): number {
    return this.appendLeafHash(hashLeaf(data, this.provider));
  }

  /**
   * Append an already-hashed leaf (e.g. when rebuilding from storage).
   * @returns the new leaf's index.
   * @throws InvalidArgumentError when `leafHash` is not 32 bytes.
   */
  appendLeafHash(leafHash: Uint8Array): number {
    assertBytes(leafHash, 'leafHash', MERKLE_HASH_LENGTH);
    const index = this.size;
    this.levels[0]!.push(leafHash);
    // Each time a right child lands, its parent's subtree is complete: hash it once, now.
    let position = index;
    let level = 0;
    while (odd(position)) {
      const column = this.levels[level]!;
      const parent = hashChildren(column.view(position - 1), column.view(position), this.provider);
      if (this.levels[level + 1] === undefined) this.levels.push(new HashColumn());
      this.levels[level + 1]!.push(parent);
      position = half(position);
      level++;
    }
    return index;
  }

  /**
   * The stored hash of leaf `index` (what a server persists).
   * @throws InvalidArgumentError when `index` is not a leaf of the tree.
   */
  leafHash(index: number): Uint8Array {
    if (this.size === 0) throw new InvalidArgumentError('index: the tree is empty');
    assertInteger(index, 'index', 0, this.size - 1);
    return new Uint8Array(this.levels[0]!.view(index));
  }

  /**
   * Root of the tree as it was when it held `size` leaves (`size` <= current size).
   * @throws InvalidArgumentError when `size` exceeds the tree.
   */
  rootAt(size: number): Uint8Array {
    assertInteger(size, 'size', 0, this.size);
    if (size === 0) return emptyTreeHash(this.provider);
    return new Uint8Array(this.subtreeHash(0, size));
  }

  /**
   * RFC 9162 2.1.3.1 inclusion proof (audit path) of leaf `index` in the tree of `size`
   * leaves, from the leaf's sibling up to the root's child.
   * @throws InvalidArgumentError unless 0 <= index < size <= current size.
   */
  inclusionProof(index: number, size: number): Uint8Array[] {
    if (this.size === 0) throw new InvalidArgumentError('size: the tree is empty');
    assertInteger(size, 'size', 1, this.size);
    assertInteger(index, 'index', 0, size - 1);
    // Walk top-down (PATH's recursion), collecting siblings; the proof lists them bottom-up.
    const siblings: Uint8Array[] = [];
    let start = 0;
    let n = size;
    let m = index;
    while (n > 1) {
      const k = splitPoint(n);
      if (m < k) {
        siblings.push(this.subtreeHash(start + k, n - k));
        n = k;
      } else {
        siblings.push(this.subtreeHash(start, k));
        start += k;
        m -= k;
        n -= k;
      }
    }
    return siblings.reverse().map((h) => new Uint8Array(h));
  }

  /**
   * RFC 9162 2.1.4.1 consistency proof between the trees of `oldSize` and `newSize`
   * leaves. Empty when oldSize is 0 or equal to newSize.
   * @throws InvalidArgumentError unless 0 <= oldSize <= newSize <= current size.
   */
  consistencyProof(oldSize: number, newSize: number): Uint8Array[] {
    assertInteger(newSize, 'newSize', 0, this.size);
    assertInteger(oldSize, 'oldSize', 0, newSize);
    if (oldSize === 0 || oldSize === newSize) return [];
    // SUBPROOF(m, D[start:start+n], b), unrolled top-down; hashes collected root-first.
    const nodes: Uint8Array[] = [];
    let start = 0;
    let n = newSize;
    let m = oldSize;
    let whole = true;
    while (m !== n) {
      const k = splitPoint(n);
      if (m <= k) {
        nodes.push(this.subtreeHash(start + k, n - k));
        n = k;
      } else {
        nodes.push(this.subtreeHash(start, k));
        start += k;
        m -= k;
        n -= k;
        whole = false;
      }
    }
    // SUBPROOF(m, D[m], true) is empty: the verifier already holds the old root.
    if (!whole) nodes.push(this.subtreeHash(start, n));
    return nodes.reverse().map((h) => new Uint8Array(h));
  }

  /** MTH(D[start:start+n]) from cached complete subtrees; may be a view: callers copy before handing out. */
  private subtreeHash(start: number, n: number): Uint8Array {
    if (isPowerOfTwo(n) && start % n === 0) {
      let level = 0;
      for (let width = n; width > 1; width /= 2) level++;
      return this.levels[level]!.view(start / n);
    }
    const k = splitPoint(n);
    return hashChildren(this.subtreeHash(start, k), this.subtreeHash(start + k, n - k), this.provider);
  }
}

function checkProof(proof: unknown): asserts proof is readonly Uint8Array[] {
  if (!Array.isArray(proof)) throw new InvalidArgumentError('proof: expected an array of hashes');
  if (proof.length > MAX_MERKLE_PROOF_LENGTH) throw new InvalidProofError('proof is too long');
  for (const [i, node] of proof.entries()) {
    if (!isBytes(node)) throw new InvalidArgumentError(`proof[${i}]: expected Uint8Array`);
    if (node.length !== MERKLE_HASH_LENGTH) throw new InvalidProofError(`proof[${i}] is not a 32-byte hash`);
  }
}

function checkHash(value: unknown, field: string): asserts value is Uint8Array {
  assertBytes(value, field);
  if (value.length !== MERKLE_HASH_LENGTH) throw new InvalidProofError(`${field} is not a 32-byte hash`);
}

/**
 * Verify that `leafHash` is leaf `index` of the tree of `size` leaves whose root is
 * `root` (RFC 9162 2.1.3.2).
 * @throws InvalidProofError when the proof does not lead to `root`, `index` >= `size`, or a
 *   hash has the wrong length; InvalidArgumentError for values of the wrong JS type.
 */
export function verifyInclusion(
  leafHash: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
  provider: CryptoProvider,
): void {
  assertInteger(index, 'index');
  assertInteger(size, 'size');
  checkHash(leafHash, 'leafHash');
  checkHash(root, 'root');
  checkProof(proof);
  if (index >= size) throw new InvalidProofError(`leaf ${index} is not in a tree of ${size} leaves`);
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw new InvalidProofError('inclusion proof is longer than the path');
    if (odd(fn) || fn === sn) {
      r = hashChildren(p, r, provider);
      // On the right edge of an incomplete tree a node has no sibling: climb to the next right child.
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = hashChildren(r, p, provider);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new InvalidProofError('inclusion proof is shorter than the path');
  if (!equalBytes(r, root)) throw new InvalidProofError('inclusion proof does not lead to the root');
}

/**
 * Verify that the tree of `oldSize` leaves with root `oldRoot` is a prefix of the tree of
 * `newSize` leaves with root `newRoot` (RFC 9162 2.1.4.2). Equal sizes need equal roots
 * and an empty proof; size 0 needs the empty-tree root and an empty proof.
 * @throws InvalidProofError when the trees are not consistent (including `oldSize` >
 *   `newSize`, a split view at equal sizes, or a hash of the wrong length);
 *   InvalidArgumentError for values of the wrong JS type.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
  provider: CryptoProvider,
): void {
  assertInteger(oldSize, 'oldSize');
  assertInteger(newSize, 'newSize');
  checkHash(oldRoot, 'oldRoot');
  checkHash(newRoot, 'newRoot');
  checkProof(proof);
  if (oldSize > newSize) throw new InvalidProofError(`tree shrank from ${oldSize} to ${newSize} leaves`);
  if (oldSize === newSize) {
    if (proof.length !== 0) throw new InvalidProofError('consistency proof between equal sizes must be empty');
    if (!equalBytes(oldRoot, newRoot)) throw new InvalidProofError(`two different roots for tree size ${newSize}`);
    return;
  }
  if (oldSize === 0) {
    if (proof.length !== 0) throw new InvalidProofError('consistency proof from the empty tree must be empty');
    if (!equalBytes(oldRoot, emptyTreeHash(provider))) throw new InvalidProofError('root of size 0 is not empty');
    return;
  }
  if (proof.length === 0) throw new InvalidProofError('consistency proof is empty');
  // A power-of-two old tree is itself a node of the new tree: its root opens the path.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) throw new InvalidProofError('consistency proof is longer than the path');
    if (odd(fn) || fn === sn) {
      fr = hashChildren(c, fr, provider);
      sr = hashChildren(c, sr, provider);
      while (!odd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = hashChildren(sr, c, provider);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw new InvalidProofError('consistency proof is shorter than the path');
  // Both checks run before throwing, so timing does not say which root failed.
  const oldOk = equalBytes(fr, oldRoot);
  const newOk = equalBytes(sr, newRoot);
  if (!oldOk || !newOk) throw new InvalidProofError('consistency proof does not match the roots');
}

/**
 * The server side of key transparency: an in-memory RFC 9162 Merkle tree rebuilt from
 * the stored leaf hashes at start-up, a log signing key kept in storage, and signed tree
 * heads (re-signed only when the tree grew). Storage assigns leaf indices inside the
 * transaction of the change they record; {@link TransparencyLog.appended} adds them to
 * the tree in index order.
 */
import {
  type Clock,
  type CryptoProvider,
  encodeTreeHead,
  MerkleTree,
  type RandomSource,
  type SignedTreeHead,
  signTreeHead,
} from '@vaultex/protocol';
import { fail } from './errors.js';
import type { Storage } from './storage/storage.js';

/** The relay's transparency log. */
export class TransparencyLog {
  private readonly waiting = new Map<number, Uint8Array>();
  private head: { readonly signed: SignedTreeHead; readonly encoded: Uint8Array } | undefined;

  private constructor(
    private readonly tree: MerkleTree,
    private readonly secretKey: Uint8Array,
    readonly publicKey: Uint8Array,
    private readonly storage: Storage,
    private readonly provider: CryptoProvider,
    private readonly clock: Clock,
    private readonly bucketMs: number,
  ) {}

  /** Load the tree and the signing key (created on first start). */
  static async open(
    storage: Storage,
    provider: CryptoProvider,
    clock: Clock,
    random: RandomSource,
    bucketMs: number,
  ): Promise<TransparencyLog> {
    const tree = MerkleTree.fromLeafHashes(await storage.logLeafHashes(), provider);
    const secretKey = await storage.secret('transparency-log-key', () => random(32));
    return new TransparencyLog(
      tree,
      secretKey,
      provider.ed25519PublicKey(secretKey),
      storage,
      provider,
      clock,
      bucketMs,
    );
  }

  /** Number of leaves. */
  get size(): number {
    return this.tree.size;
  }

  /** Record a leaf that storage committed at `index`. */
  appended(index: number, leafHash: Uint8Array): void {
    if (index < this.tree.size) return;
    // A gap: other instances sharing the database appended the leaves in between.
    if (index > this.tree.size && this.waiting.size === 0) void this.refresh().catch(() => {});
    this.waiting.set(index, leafHash);
    for (let next = this.waiting.get(this.tree.size); next !== undefined; next = this.waiting.get(this.tree.size)) {
      this.waiting.delete(this.tree.size);
      this.tree.appendLeafHash(next);
    }
  }

  /**
   * Read the leaves other instances sharing the database appended since this one last
   * looked (several relays on one PostgreSQL database).
   */
  async refresh(): Promise<void> {
    const hashes = await this.storage.logLeafHashes();
    for (let i = this.tree.size; i < hashes.length; i++) this.appended(i, hashes[i]!);
  }

  /** The current signed tree head, encoded (`encodeTreeHead`). */
  currentHead(): Uint8Array {
    if (this.head === undefined || this.head.signed.treeSize !== this.tree.size) {
      const size = this.tree.size;
      // Heads carry a coarse time: the moment of a key change is not published precisely.
      const timestamp = Math.floor(this.clock() / this.bucketMs) * this.bucketMs;
      const signed = signTreeHead(this.secretKey, size, this.tree.rootAt(size), timestamp, this.provider);
      this.head = { signed, encoded: encodeTreeHead(signed) };
    }
    return this.head.encoded;
  }

  /**
   * The account's latest entry with its inclusion proof in the current head.
   * @throws ApiFailure NOT_FOUND when the account has no entry.
   */
  async inclusion(
    accountId: Uint8Array,
  ): Promise<{ index: number; entry: Uint8Array; proof: Uint8Array[]; treeHead: Uint8Array }> {
    const latest = await this.storage.latestLogEntry(accountId);
    if (latest && latest.index >= this.tree.size) await this.refresh();
    if (!latest || latest.index >= this.tree.size) throw fail('NOT_FOUND', 'no log entry for this account');
    const treeHead = this.currentHead();
    const size = this.tree.size;
    return {
      index: latest.index,
      entry: latest.entry,
      proof: this.tree.inclusionProof(latest.index, size),
      treeHead,
    };
  }

  /**
   * A consistency proof from `from` leaves to `to` (default: the current size).
   * @throws ApiFailure BAD_REQUEST when the sizes are out of range.
   */
  consistency(from: number, to?: number): { from: number; to: number; proof: Uint8Array[]; treeHead?: Uint8Array } {
    const size = this.tree.size;
    const target = to ?? size;
    if (from > target || target > size) throw fail('BAD_REQUEST', `sizes must satisfy from <= to <= ${size}`);
    const proof = from === 0 || from === target ? [] : this.tree.consistencyProof(from, target);
    return {
      from,
      to: target,
      proof,
      ...(target === size ? { treeHead: this.currentHead() } : {}),
    };
  }
}

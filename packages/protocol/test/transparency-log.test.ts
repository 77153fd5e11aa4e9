import {
  createLogEntry,
  decodeLogEntry,
  decodeTreeHead,
  encodeDeviceList,
  encodeLogEntry,
  encodeTreeHead,
  encodeWire,
  generateEd25519KeyPair,
  InvalidArgumentError,
  InvalidMessageError,
  InvalidProofError,
  InvalidSignatureError,
  type LogEntry,
  logEntryLeafHash,
  MerkleTree,
  type SignedTreeHead,
  signDeviceList,
  signTreeHead,
  UnsupportedVersionError,
  userIdFromIdentityKey,
  verifyEntryInclusion,
  verifyHeadConsistency,
  verifyTreeHead,
} from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { providers, rng, toHex } from './support.js';

const T0 = 1_700_000_000_000;

describe.each(providers)('key transparency log ($name)', (provider) => {
  const random = rng(501);
  const logKey = generateEd25519KeyPair(provider, random);
  const otherLogKey = generateEd25519KeyPair(provider, random);

  /** An account's entry: a real signed device list, hashed into the entry. */
  function accountEntry(label: number, timestamp: number): { entry: LogEntry; bytes: Uint8Array } {
    const account = generateEd25519KeyPair(provider, rng(label));
    const device = generateEd25519KeyPair(provider, rng(label + 10_000));
    const list = signDeviceList(
      account,
      1,
      [{ deviceId: 1, deviceKey: device.publicKey, name: 'Phone' }],
      timestamp,
      provider,
    );
    const entry = createLogEntry(account.publicKey, encodeDeviceList(list), timestamp, provider);
    return { entry, bytes: encodeLogEntry(entry) };
  }

  /** A server's log: 12 entries, a signed head after every third one. */
  const entries = Array.from({ length: 12 }, (_, i) => accountEntry(600 + i, T0 + i * 1000));
  const tree = new MerkleTree(provider);
  const heads: SignedTreeHead[] = [];
  for (const [i, e] of entries.entries()) {
    tree.append(e.bytes);
    if ((i + 1) % 3 === 0)
      heads.push(signTreeHead(logKey.secretKey, tree.size, tree.rootAt(tree.size), T0 + i * 1000 + 1, provider));
  }

  it('builds entries that bind the user ID to the key and the device list hash', () => {
    const { entry } = entries[0]!;
    expect(toHex(entry.userId)).toBe(toHex(userIdFromIdentityKey(entry.accountKey, provider)));
    expect(entry.deviceListHash).toHaveLength(32);
    expect(entry.version).toBe(1);
  });

  it('round-trips entries and heads through their encodings', () => {
    for (const { entry, bytes } of entries) expect(decodeLogEntry(bytes)).toEqual(entry);
    for (const head of heads) expect(decodeTreeHead(encodeTreeHead(head))).toEqual(head);
    expect(toHex(logEntryLeafHash(entries[0]!.entry, provider))).toBe(
      toHex(logEntryLeafHash(entries[0]!.bytes, provider)),
    );
    expect(toHex(logEntryLeafHash(entries[0]!.bytes, provider))).toBe(toHex(tree.leafHash(0)));
  });

  it('decodes strictly, with typed errors', () => {
    const { entry } = entries[0]!;
    const badEntries: [Uint8Array, new (...a: never[]) => Error][] = [
      [new Uint8Array(0), InvalidMessageError],
      [new Uint8Array([0xc1]), InvalidMessageError],
      [encodeWire([1, entry.userId, entry.accountKey, entry.deviceListHash]), InvalidMessageError],
      [encodeWire([1, entry.userId, entry.accountKey, entry.deviceListHash, entry.timestamp, 0]), InvalidMessageError],
      [encodeWire([1, entry.userId.subarray(1), entry.accountKey, entry.deviceListHash, 1]), InvalidMessageError],
      [encodeWire([1, entry.userId, entry.accountKey, entry.deviceListHash, -1]), InvalidMessageError],
      [encodeWire([1, entry.userId, entry.accountKey, entry.deviceListHash, 1.5]), InvalidMessageError],
      [encodeWire([2, entry.userId, entry.accountKey, entry.deviceListHash, 1]), UnsupportedVersionError],
    ];
    for (const [bytes, error] of badEntries) expect(() => decodeLogEntry(bytes)).toThrow(error);
    const head = heads[0]!;
    const badHeads: [Uint8Array, new (...a: never[]) => Error][] = [
      [encodeWire([1, head.treeSize, head.rootHash, head.timestamp]), InvalidMessageError],
      [
        encodeWire([1, head.treeSize, head.rootHash.subarray(0, 31), head.timestamp, head.signature]),
        InvalidMessageError,
      ],
      [encodeWire([1, head.treeSize, head.rootHash, head.timestamp, head.signature.subarray(1)]), InvalidMessageError],
      [encodeWire([1, 'nine', head.rootHash, head.timestamp, head.signature]), InvalidMessageError],
      [encodeWire([3, head.treeSize, head.rootHash, head.timestamp, head.signature]), UnsupportedVersionError],
    ];
    for (const [bytes, error] of badHeads) expect(() => decodeTreeHead(bytes)).toThrow(error);
  });

  it('verifies head signatures and rejects any change or the wrong log key', () => {
    for (const head of heads) verifyTreeHead(head, logKey.publicKey, provider);
    const head = heads[1]!;
    const root = Uint8Array.from(head.rootHash);
    root[0]! ^= 1;
    for (const forged of [
      { ...head, treeSize: head.treeSize + 1 },
      { ...head, timestamp: head.timestamp + 1 },
      { ...head, rootHash: root },
    ]) {
      expect(() => verifyTreeHead(forged, logKey.publicKey, provider)).toThrow(InvalidSignatureError);
    }
    expect(() => verifyTreeHead(head, otherLogKey.publicKey, provider)).toThrow(InvalidSignatureError);
    expect(() => verifyTreeHead({ ...head, signature: new Uint8Array(3) }, logKey.publicKey, provider)).toThrow(
      InvalidArgumentError,
    );
  });

  it('proves every entry in every head that covers it', () => {
    let checked = 0;
    for (const head of heads) {
      for (let index = 0; index < head.treeSize; index++) {
        const proof = tree.inclusionProof(index, head.treeSize);
        verifyEntryInclusion(entries[index]!.bytes, index, proof, head, logKey.publicKey, provider);
        verifyEntryInclusion(entries[index]!.entry, index, proof, head, logKey.publicKey, provider);
        checked++;
      }
    }
    expect(checked).toBe(3 + 6 + 9 + 12);
  });

  it('rejects a wrong entry, index, head or log key for an inclusion proof', () => {
    const head = heads[3]!;
    const proof = tree.inclusionProof(4, head.treeSize);
    const { entry } = entries[4]!;
    const key = logKey.publicKey;
    // Another account's entry, or this one with a different device list.
    expect(() => verifyEntryInclusion(entries[5]!.bytes, 4, proof, head, key, provider)).toThrow(InvalidProofError);
    const swapped = { ...entry, deviceListHash: entries[5]!.entry.deviceListHash };
    expect(() => verifyEntryInclusion(swapped, 4, proof, head, key, provider)).toThrow(InvalidProofError);
    expect(() => verifyEntryInclusion(entry, 5, proof, head, key, provider)).toThrow(InvalidProofError);
    expect(() => verifyEntryInclusion(entry, 12, proof, head, key, provider)).toThrow(InvalidProofError);
    expect(() => verifyEntryInclusion(entry, 4, proof, heads[2]!, key, provider)).toThrow(InvalidProofError);
    expect(() => verifyEntryInclusion(entry, 4, proof, head, otherLogKey.publicKey, provider)).toThrow(
      InvalidSignatureError,
    );
    expect(() => verifyEntryInclusion(new Uint8Array([1, 2]), 4, proof, head, key, provider)).toThrow(
      InvalidMessageError,
    );
  });

  it('rejects a logged entry that binds a user ID to somebody else’s key', () => {
    // The log itself is malicious: it includes and signs an entry with a victim's user ID.
    const victim = entries[0]!.entry;
    const mallory = accountEntry(700, T0).entry;
    const forged: LogEntry = { ...mallory, userId: victim.userId };
    const evil = new MerkleTree(provider);
    evil.append(encodeLogEntry(forged));
    const head = signTreeHead(logKey.secretKey, 1, evil.rootAt(1), T0, provider);
    expect(() => verifyEntryInclusion(forged, 0, [], head, logKey.publicKey, provider)).toThrow(InvalidProofError);
  });

  it('proves consistency between every pair of heads, in order', () => {
    let checked = 0;
    for (const [i, older] of heads.entries()) {
      for (const newer of heads.slice(i)) {
        const proof = tree.consistencyProof(older.treeSize, newer.treeSize);
        verifyHeadConsistency(older, newer, proof, logKey.publicKey, provider);
        checked++;
      }
    }
    expect(checked).toBe(10);
  });

  it('detects a rollback: a new head smaller than the last one accepted', () => {
    const proof = tree.consistencyProof(6, 9);
    expect(() => verifyHeadConsistency(heads[2]!, heads[1]!, proof, logKey.publicKey, provider)).toThrow(
      InvalidProofError,
    );
  });

  describe('split view', () => {
    // The log forks after 6 entries: Alice is shown one history, Bob another in which
    // Alice's key was replaced by Mallory's.
    const forkA = MerkleTree.fromLeafHashes(
      Array.from({ length: 6 }, (_, i) => tree.leafHash(i)),
      provider,
    );
    const forkB = MerkleTree.fromLeafHashes(
      Array.from({ length: 6 }, (_, i) => tree.leafHash(i)),
      provider,
    );
    forkA.append(entries[6]!.bytes);
    forkA.append(entries[7]!.bytes);
    forkB.append(accountEntry(800, T0).bytes);
    forkB.append(entries[7]!.bytes);
    forkB.append(entries[8]!.bytes);
    const sign = (t: MerkleTree, size: number) =>
      signTreeHead(logKey.secretKey, size, t.rootAt(size), T0 + size, provider);
    const headA8 = sign(forkA, 8);
    const headB8 = sign(forkB, 8);
    const headB9 = sign(forkB, 9);
    const key = logKey.publicKey;

    it('each fork is self-consistent, so neither client alone notices', () => {
      verifyHeadConsistency(heads[1]!, headA8, forkA.consistencyProof(6, 8), key, provider);
      verifyHeadConsistency(heads[1]!, headB9, forkB.consistencyProof(6, 9), key, provider);
    });

    it('two signed heads of one size with different roots are caught', () => {
      expect(toHex(headA8.rootHash)).not.toBe(toHex(headB8.rootHash));
      expect(() => verifyHeadConsistency(headA8, headB8, [], key, provider)).toThrow(InvalidProofError);
      expect(() => verifyHeadConsistency(headB8, headA8, [], key, provider)).toThrow(InvalidProofError);
    });

    it('a later head from the other fork cannot be proven consistent', () => {
      // The server can only offer proofs from fork B, or fork A's, and neither connects.
      for (const proof of [forkB.consistencyProof(8, 9), forkA.consistencyProof(6, 8), []]) {
        expect(() => verifyHeadConsistency(headA8, headB9, proof, key, provider)).toThrow(InvalidProofError);
      }
    });

    it('the forged entry has no inclusion proof in the honest head', () => {
      const forged = accountEntry(800, T0).bytes;
      expect(() => verifyEntryInclusion(forged, 6, forkB.inclusionProof(6, 8), headA8, key, provider)).toThrow(
        InvalidProofError,
      );
    });
  });

  it('refuses misuse with InvalidArgumentError', () => {
    const root = tree.rootAt(3);
    expect(() => signTreeHead(logKey.secretKey.subarray(1), 3, root, T0, provider)).toThrow(InvalidArgumentError);
    expect(() => signTreeHead(logKey.secretKey, -1, root, T0, provider)).toThrow(InvalidArgumentError);
    expect(() => signTreeHead(logKey.secretKey, 3, root.subarray(1), T0, provider)).toThrow(InvalidArgumentError);
    expect(() => signTreeHead(logKey.secretKey, 3, root, Number.NaN, provider)).toThrow(InvalidArgumentError);
    expect(() => createLogEntry(new Uint8Array(33), new Uint8Array(1), T0, provider)).toThrow(InvalidArgumentError);
    expect(() => createLogEntry(logKey.publicKey, new Uint8Array(0), T0, provider)).toThrow(InvalidArgumentError);
    expect(() => encodeLogEntry({ ...entries[0]!.entry, userId: new Uint8Array(15) })).toThrow(InvalidArgumentError);
    expect(() => verifyTreeHead(heads[0]!, new Uint8Array(31), provider)).toThrow(InvalidArgumentError);
  });
});

import { encodeWire, generateEd25519KeyPair, seededRandom } from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';
import { describe, expect, it } from 'vitest';
import {
  checkTransition,
  decodeContent,
  decodeGroupRecord,
  decodeGroupState,
  encodeContent,
  encodeGroupRecord,
  encodeGroupState,
  type GroupState,
  isClientError,
  signGroupState,
  verifyGroupState,
} from '../src/index.js';

const random = seededRandom(new Uint8Array(32).fill(7));
const admin = generateEd25519KeyPair(nodeProvider, random);
const ids = ['a', 'b', 'c', 'd'].map((ch) => ch.repeat(32));
const [A, B, C] = ids as [string, string, string, string];
const GROUP = '1'.repeat(32);

function state(over: Partial<Omit<GroupState, 'signature'>>): GroupState {
  return signGroupState(
    {
      groupId: GROUP,
      title: 'T',
      members: ids.map((accountId, i) => ({ accountId, admin: i === 0 })),
      version: 1,
      signedBy: A,
      ...over,
    },
    admin.secretKey,
    nodeProvider,
  );
}

describe('group state', () => {
  it('round-trips and verifies; any change breaks the signature', () => {
    const s = state({});
    const back = decodeGroupState(encodeGroupState(s));
    expect(back).toEqual(s);
    expect(verifyGroupState(back, admin.publicKey, nodeProvider)).toBe(true);
    expect(verifyGroupState({ ...back, title: 'X' }, admin.publicKey, nodeProvider)).toBe(false);
    expect(verifyGroupState({ ...back, version: 2 }, admin.publicKey, nodeProvider)).toBe(false);
    const promoted = { ...back, members: back.members.map((m) => ({ ...m, admin: true })) };
    expect(verifyGroupState(promoted, admin.publicKey, nodeProvider)).toBe(false);
  });

  it('refuses malformed bytes with typed errors', () => {
    const s = state({});
    expect(() => decodeGroupState(new Uint8Array([1, 2, 3]))).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
    const dup = encodeWire([
      1,
      new Uint8Array(16),
      'T',
      [
        [new Uint8Array(16), true],
        [new Uint8Array(16), false],
      ],
      1,
      new Uint8Array(16),
      s.signature,
    ]);
    expect(() => decodeGroupState(dup)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    const v9 = encodeWire([9]);
    expect(() => decodeGroupState(v9)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
    let corrupt: unknown;
    try {
      decodeGroupRecord(new Uint8Array([0xc1]));
    } catch (e) {
      corrupt = e;
    }
    expect(isClientError(corrupt, 'STORE_CORRUPT')).toBe(true);
    const rec = { state: s, distributedTo: [B, C] };
    expect(decodeGroupRecord(encodeGroupRecord(rec))).toEqual(rec);
  });

  it('accepts only the next version, by an admin or by the member leaving', () => {
    const v1 = state({});
    expect(checkTransition(undefined, v1)).toBeUndefined();
    expect(checkTransition(undefined, state({ signedBy: B }))).toBe('signer is not an admin of the group');
    expect(checkTransition(v1, state({ version: 2, title: 'U' }))).toBeUndefined();
    expect(checkTransition(v1, state({ version: 3, title: 'U' }))).toMatch(/does not follow/u);
    expect(checkTransition(v1, state({ version: 2, title: 'U', signedBy: B }))).toBe('signer is not an admin');
    const withoutB = v1.members.filter((m) => m.accountId !== B);
    expect(checkTransition(v1, state({ version: 2, members: withoutB, signedBy: B }))).toBeUndefined();
    // Leaving may not also remove someone else or change the title.
    const withoutBC = withoutB.filter((m) => m.accountId !== C);
    expect(checkTransition(v1, state({ version: 2, members: withoutBC, signedBy: B }))).toBe('signer is not an admin');
    expect(checkTransition(v1, state({ version: 2, members: withoutB, signedBy: B, title: 'X' }))).toBe(
      'signer is not an admin',
    );
    expect(checkTransition(v1, state({ version: 2, signedBy: 'e'.repeat(32) }))).toBe('signer is not a member');
  });

  it('group contents round-trip', () => {
    const bytes = encodeGroupState(state({}));
    const update = decodeContent(encodeContent({ kind: 'group-update', id: A, sentAt: 5, state: bytes }));
    expect(update).toEqual({ kind: 'group-update', id: A, sentAt: 5, state: bytes });
    const dist = new Uint8Array([1, 2, 3]);
    const sk = decodeContent(
      encodeContent({ kind: 'sender-key', id: B, sentAt: 6, groupId: GROUP, distribution: dist }),
    );
    expect(sk).toEqual({ kind: 'sender-key', id: B, sentAt: 6, groupId: GROUP, distribution: dist });
  });
});

/**
 * Group state: the signed description of a group (title, members, admins) that members
 * exchange over pairwise sessions, and the local record a device keeps per group. Every
 * change is a new version signed by the changing member's account key; a receiver applies
 * a version only when {@link checkTransition} accepts it.
 *
 * Signed bytes: `encodeWire([1, groupId(16), title, [[accountId(16), admin]...], version, signedBy(16)])`,
 * prefixed with a domain label so the signature cannot be replayed as anything else.
 */
import {
  bytesToHex,
  type CryptoProvider,
  concatBytes,
  decodeWire,
  encodeWire,
  hexToBytes,
  InvalidMessageError,
  type WireReader,
} from '@vaultex/protocol';
import { ClientError } from './errors.js';

/** Format version of the signed state and of the local record. */
export const GROUP_STATE_VERSION = 1;
/** Most members of a group. */
export const MAX_GROUP_MEMBERS = 1000;
/** Longest group title, in UTF-16 code units. */
export const MAX_GROUP_TITLE = 128;

const SIGNING_LABEL = new TextEncoder().encode('VAULTEX group state v1');

/** One member of a group. */
export interface GroupMember {
  readonly accountId: string;
  readonly admin: boolean;
}

/** A signed version of a group's state. */
export interface GroupState {
  /** 32 hex digits. */
  readonly groupId: string;
  readonly title: string;
  readonly members: readonly GroupMember[];
  /** 1 at creation, +1 per change. */
  readonly version: number;
  /** The account that made this version. */
  readonly signedBy: string;
  /** Ed25519 signature of the signer's account key over {@link signedBytes}. */
  readonly signature: Uint8Array;
}

/** The state without its signature. */
export type UnsignedGroupState = Omit<GroupState, 'signature'>;

/** What a device keeps per group (stored as an opaque record). */
export interface GroupRecord {
  readonly state: GroupState;
  /** Accounts that hold our current sender-key chain for this group. */
  readonly distributedTo: readonly string[];
}

/** The bytes a group state's signature covers. */
export function signedBytes(state: UnsignedGroupState): Uint8Array {
  return concatBytes(
    SIGNING_LABEL,
    encodeWire([
      GROUP_STATE_VERSION,
      hexToBytes(state.groupId),
      state.title,
      state.members.map((m) => [hexToBytes(m.accountId), m.admin]),
      state.version,
      hexToBytes(state.signedBy),
    ]),
  );
}

/** Sign a state with an account secret key. */
export function signGroupState(
  state: UnsignedGroupState,
  accountSecretKey: Uint8Array,
  provider: CryptoProvider,
): GroupState {
  return { ...state, signature: provider.ed25519Sign(accountSecretKey, signedBytes(state)) };
}

/** Whether the signature verifies under the signer's account key. */
export function verifyGroupState(state: GroupState, accountKey: Uint8Array, provider: CryptoProvider): boolean {
  return provider.ed25519Verify(accountKey, signedBytes(state), state.signature);
}

function stateFields(state: GroupState): unknown[] {
  return [
    hexToBytes(state.groupId),
    state.title,
    state.members.map((m) => [hexToBytes(m.accountId), m.admin]),
    state.version,
    hexToBytes(state.signedBy),
    state.signature,
  ];
}

/** Serialise a signed state (the `group-update` content carries these bytes). */
export function encodeGroupState(state: GroupState): Uint8Array {
  return encodeWire([GROUP_STATE_VERSION, ...stateFields(state)]);
}

function readState(r: WireReader): GroupState {
  const groupId = bytesToHex(r.bytes('groupId', 16));
  const title = r.string('title', MAX_GROUP_TITLE);
  const members = r.array('members', MAX_GROUP_MEMBERS, (m): GroupMember => {
    const accountId = bytesToHex(m.bytes('accountId', 16));
    const admin = m.boolean('admin');
    m.end();
    return { accountId, admin };
  });
  const version = r.uint('version');
  const signedBy = bytesToHex(r.bytes('signedBy', 16));
  const signature = r.bytes('signature', 64);
  if (new Set(members.map((m) => m.accountId)).size !== members.length) {
    throw new InvalidMessageError('group state: duplicate member');
  }
  if (version < 1) throw new InvalidMessageError('group state: version starts at 1');
  return { groupId, title, members, version, signedBy, signature };
}

/**
 * Parse a signed state (untrusted bytes).
 * @throws InvalidMessageError when malformed; UnsupportedVersionError for an unknown version.
 */
export function decodeGroupState(bytes: Uint8Array): GroupState {
  return decodeWire(bytes, {
    what: 'group state',
    versions: [GROUP_STATE_VERSION],
    read: (r) => {
      const state = readState(r);
      r.end();
      return state;
    },
  });
}

/** Serialise a local group record. */
export function encodeGroupRecord(rec: GroupRecord): Uint8Array {
  return encodeWire([GROUP_STATE_VERSION, encodeGroupState(rec.state), rec.distributedTo.map((a) => hexToBytes(a))]);
}

/**
 * Parse a local group record.
 * @throws ClientError STORE_CORRUPT when it does not decode.
 */
export function decodeGroupRecord(bytes: Uint8Array): GroupRecord {
  try {
    return decodeWire(bytes, {
      what: 'group record',
      versions: [GROUP_STATE_VERSION],
      read: (r) => {
        const state = decodeGroupState(r.bytes('state'));
        const distributedTo = r.bytesArray('distributedTo', MAX_GROUP_MEMBERS + 1, 16).map((b) => bytesToHex(b));
        r.end();
        return { state, distributedTo };
      },
    });
  } catch (e) {
    throw new ClientError('STORE_CORRUPT', 'group record: does not decode', { cause: e });
  }
}

/** Whether an account is a member of a state, and whether an admin. */
export function memberOf(state: Pick<GroupState, 'members'>, accountId: string): GroupMember | undefined {
  return state.members.find((m) => m.accountId === accountId);
}

/**
 * Whether `next` may follow `current` (undefined: we hold no state for the group yet).
 * Rules: the version is the next one; the signer is an admin of the current state, or
 * the change is the signer leaving (itself removed, nothing else changed). A first state
 * we learn of (creation, or we were added) must be signed by one of its admins.
 * @returns undefined when accepted, else the reason it is refused.
 */
export function checkTransition(current: GroupState | undefined, next: GroupState): string | undefined {
  if (current === undefined) {
    return memberOf(next, next.signedBy)?.admin ? undefined : 'signer is not an admin of the group';
  }
  if (next.groupId !== current.groupId) return 'another group';
  if (next.version !== current.version + 1) return `version ${next.version} does not follow ${current.version}`;
  const signer = memberOf(current, next.signedBy);
  if (!signer) return 'signer is not a member';
  if (signer.admin) return undefined;
  const leaving =
    next.title === current.title &&
    !memberOf(next, next.signedBy) &&
    next.members.length === current.members.length - 1 &&
    next.members.every((m) => {
      const before = memberOf(current, m.accountId);
      return before !== undefined && before.admin === m.admin;
    });
  return leaving ? undefined : 'signer is not an admin';
}

/**
 * Trust decisions: what the relay says about an account is checked before it is used.
 *
 * - The account key must give the account id (user ID = SHA-256(key)[0..16]); otherwise
 *   the answer is forged (INVALID_RESPONSE).
 * - Trust on first use: the first key seen for a contact is pinned in its ContactRecord;
 *   a different one records a pending key change, emits 'identity-changed' and makes
 *   sends to that contact fail with UNTRUSTED_IDENTITY until the user accepts it.
 * - The device list must be signed by that account key, and every bundle's device key
 *   must be the one the list names.
 * - Key transparency (docs/PROTOCOL.md section 13): the account's log entry must be
 *   included in a head signed by the pinned log key, bind this key and this device
 *   list, and every new head must be consistent with the last one accepted.
 */
import type { AccountResponse, BundleResponse, InclusionResponse } from '@vaultex/api';
import {
  bytesToHex,
  computeSafetyNumber,
  type DeviceList,
  decodeDeviceList,
  decodeLogEntry,
  decodeTreeHead,
  decodeWire,
  encodePublicKey,
  encodeTreeHead,
  encodeWire,
  equalBytes,
  hexToBytes,
  InvalidProofError,
  KeyType,
  type SafetyNumber,
  type SignedTreeHead,
  userIdFromIdentityKey,
  verifyDeviceList,
  verifyEntryInclusion,
  verifyHeadConsistency,
  verifyTreeHead,
} from '@vaultex/protocol';
import type { ClientContext } from '../context.js';
import { ClientError } from '../errors.js';
import type { ClientStore } from '../storage/client-store.js';
import type { ContactRecord } from '../storage/records.js';

/** The pinned log key and the largest head accepted so far, as stored. */
export interface TransparencyPin {
  readonly logPublicKey: Uint8Array;
  readonly head: SignedTreeHead;
}

/** Encode a pin for the store's tree-head slot: `[1, logPublicKey, encodedHead]`. */
export function encodePin(pin: TransparencyPin): Uint8Array {
  return encodeWire([1, pin.logPublicKey, encodeTreeHead(pin.head)]);
}

/** Decode a stored pin. */
export function decodePin(bytes: Uint8Array): TransparencyPin {
  return decodeWire(bytes, {
    what: 'transparency pin',
    versions: [1],
    read: (r) => {
      const pin = { logPublicKey: r.bytes('logPublicKey', 32), head: decodeTreeHead(r.bytes('head')) };
      r.end();
      return pin;
    },
  });
}

/** A verified account: key and device list. */
export interface VerifiedAccount {
  readonly accountId: string;
  readonly identityKey: Uint8Array;
  readonly deviceList: DeviceList;
  readonly deviceListBytes: Uint8Array;
}

/** TOFU, device-list, bundle and transparency checks; safety numbers. */
export class TrustService {
  private pinLock: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: ClientContext) {}

  /**
   * The account key must give the account id.
   * @throws ClientError INVALID_RESPONSE when it does not.
   */
  checkAccountKey(accountId: string, identityKey: Uint8Array): void {
    if (bytesToHex(userIdFromIdentityKey(identityKey, this.ctx.provider)) !== accountId) {
      throw new ClientError('INVALID_RESPONSE', 'the identity key the relay returned does not give the account id');
    }
  }

  /**
   * Compare a key with the contact's pin. A difference records a pending key change (once),
   * emits 'identity-changed' and throws.
   * @throws ClientError UNTRUSTED_IDENTITY while a key change is pending.
   */
  async checkPinned(accountId: string, identityKey: Uint8Array): Promise<void> {
    const { ctx } = this;
    if (accountId === ctx.accountId) {
      if (!equalBytes(identityKey, ctx.profile.accountPublicKey)) {
        throw new ClientError('INVALID_RESPONSE', 'the relay returned another key for our own account');
      }
      return;
    }
    const contact = await ctx.store.getContact(accountId);
    if (!contact) return;
    if (equalBytes(contact.identityKey, identityKey)) {
      if (contact.keyChange) throw untrusted();
      return;
    }
    await this.recordKeyChange(contact, identityKey);
    throw untrusted();
  }

  /** Record a pending key change on a contact and tell the application. */
  async recordKeyChange(contact: ContactRecord, newKey: Uint8Array, tx?: ClientStore): Promise<void> {
    if (contact.keyChange && equalBytes(contact.keyChange.newKey, newKey)) return;
    const now = this.ctx.clock();
    const store = tx ?? this.ctx.store;
    await store.putContact({ ...contact, keyChange: { newKey, seenAt: now } });
    await store.appendKeyHistory(contact.accountId, { identityKey: newKey, seenAt: now });
    this.ctx.emitter.emit('identity-changed', { accountId: contact.accountId, newKey });
  }

  /**
   * Verify a device list for an account key.
   * @throws InvalidCertificateError when it is not signed by that key or malformed.
   */
  verifyList(identityKey: Uint8Array, bytes: Uint8Array): DeviceList {
    const list = decodeDeviceList(bytes);
    verifyDeviceList(list, this.ctx.provider, identityKey);
    return list;
  }

  /**
   * Everything about a bundle response: key, pin, device list, device keys, transparency.
   * @throws ClientError INVALID_RESPONSE / UNTRUSTED_IDENTITY; InvalidCertificateError;
   *   InvalidProofError / InvalidSignatureError for a transparency failure.
   */
  async verifyBundles(accountId: string, res: BundleResponse): Promise<VerifiedAccount> {
    this.checkAccountKey(accountId, res.identityKey);
    if (res.accountId !== accountId) throw new ClientError('INVALID_RESPONSE', 'bundles for another account');
    await this.checkPinned(accountId, res.identityKey);
    const list = this.verifyList(res.identityKey, res.deviceList);
    for (const d of res.devices) {
      const entry = list.devices.find((e) => e.deviceId === d.deviceId);
      if (!entry || !equalBytes(entry.deviceKey, d.identityKey)) {
        throw new ClientError('INVALID_RESPONSE', 'a bundle names a device key the signed device list does not');
      }
    }
    await this.verifyInclusion(res.transparency, res.identityKey, res.deviceList);
    return { accountId, identityKey: res.identityKey, deviceList: list, deviceListBytes: res.deviceList };
  }

  /**
   * An account lookup (`GET /accounts/:id`): key, pin and device list.
   * @throws as {@link verifyBundles}, without the transparency check.
   */
  async verifyAccount(accountId: string, res: AccountResponse): Promise<VerifiedAccount> {
    this.checkAccountKey(accountId, res.identityKey);
    if (res.accountId !== accountId) throw new ClientError('INVALID_RESPONSE', 'another account was returned');
    await this.checkPinned(accountId, res.identityKey);
    const list = this.verifyList(res.identityKey, res.deviceList);
    return { accountId, identityKey: res.identityKey, deviceList: list, deviceListBytes: res.deviceList };
  }

  /**
   * An account's log entry is in a head signed by the pinned log key, and binds this key
   * and this device list; the head is consistent with the last one accepted.
   * @throws InvalidProofError / InvalidSignatureError.
   */
  async verifyInclusion(inclusion: InclusionResponse, identityKey: Uint8Array, deviceList: Uint8Array): Promise<void> {
    const { provider } = this.ctx;
    const pin = await this.pin();
    const head = decodeTreeHead(inclusion.treeHead);
    verifyEntryInclusion(inclusion.entry, inclusion.index, inclusion.proof, head, pin.logPublicKey, provider);
    const entry = decodeLogEntry(inclusion.entry);
    if (!equalBytes(entry.accountKey, identityKey)) {
      throw new InvalidProofError('log entry: another identity key than the one served');
    }
    if (!equalBytes(entry.deviceListHash, provider.sha256(deviceList))) {
      throw new InvalidProofError('log entry: another device list than the one served');
    }
    await this.acceptHead(head, pin.logPublicKey);
  }

  /** The pinned log key and head; pinned from the relay on first use. */
  async pin(): Promise<TransparencyPin> {
    const stored = await this.ctx.store.getTreeHead();
    if (stored) return decodePin(stored);
    const res = await this.ctx.relay.treeHead();
    const head = decodeTreeHead(res.treeHead);
    verifyTreeHead(head, res.logPublicKey, this.ctx.provider);
    const pin = { logPublicKey: res.logPublicKey, head };
    return this.locked(async () => {
      const again = await this.ctx.store.getTreeHead();
      if (again) return decodePin(again);
      await this.ctx.store.putTreeHead(encodePin(pin));
      return pin;
    });
  }

  /**
   * Accept a head: consistent with the kept one (rule 2 of the client rules); the larger is kept.
   * @throws InvalidProofError for a split view or rollback that cannot be proven consistent.
   */
  async acceptHead(head: SignedTreeHead, logPublicKey: Uint8Array): Promise<void> {
    await this.locked(async () => {
      const stored = await this.ctx.store.getTreeHead();
      if (!stored) {
        verifyTreeHead(head, logPublicKey, this.ctx.provider);
        await this.ctx.store.putTreeHead(encodePin({ logPublicKey, head }));
        return;
      }
      const pin = decodePin(stored);
      const kept = pin.head;
      if (head.treeSize === kept.treeSize) {
        if (!equalBytes(head.rootHash, kept.rootHash)) {
          throw new InvalidProofError('two signed heads of one size with different roots (split view)');
        }
        return;
      }
      const [older, newer] = head.treeSize < kept.treeSize ? [head, kept] : [kept, head];
      const proof = await this.ctx.relay.consistency(older.treeSize, newer.treeSize);
      if (proof.from !== older.treeSize || proof.to !== newer.treeSize) {
        throw new InvalidProofError('consistency proof for other sizes than asked');
      }
      verifyHeadConsistency(older, newer, proof.proof, pin.logPublicKey, this.ctx.provider);
      if (newer === head) await this.ctx.store.putTreeHead(encodePin({ logPublicKey: pin.logPublicKey, head }));
    });
  }

  /** Safety number of our account and a contact's (pinned key). */
  safetyNumber(accountId: string, identityKey: Uint8Array): SafetyNumber {
    const { ctx } = this;
    return computeSafetyNumber(
      {
        localIdentifier: hexToBytes(ctx.accountId),
        localKey: encodePublicKey(KeyType.Ed25519, ctx.profile.accountPublicKey),
        remoteIdentifier: hexToBytes(accountId),
        remoteKey: encodePublicKey(KeyType.Ed25519, identityKey),
      },
      ctx.provider,
    );
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.pinLock.then(fn, fn);
    this.pinLock = run.catch(() => undefined);
    return run;
  }
}

function untrusted(): ClientError {
  return new ClientError(
    'UNTRUSTED_IDENTITY',
    "the contact's identity key changed: accept the change (contacts.acceptKeyChange) before sending",
  );
}

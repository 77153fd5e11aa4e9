/**
 * This device's prekeys: the initial set made at registration or linking, the private
 * halves in the store, lookups for incoming prekey messages, deletion of consumed
 * one-time keys, and `maintain()`: replenish one-time keys below the low-water mark and
 * rotate the signed prekey (and the last-resort KEM key) every 7 days, keeping the
 * replaced ones a few days for messages still in flight.
 */
import type { DevicePreKeys, PreKeyUpload } from '@vaultex/api';
import {
  type CryptoProvider,
  decodeWire,
  type Ed25519KeyPair,
  encodeWire,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  InvalidPrekeyError,
  type KemPreKey,
  ONE_TIME_PREKEY_BATCH,
  ONE_TIME_PREKEY_LOW_WATER,
  type OneTimePreKey,
  type PreKeyLookup,
  type RandomSource,
  SIGNED_PREKEY_ROTATION_MS,
  type SignedPreKey,
  type UsedPreKeys,
  type WireReader,
} from '@vaultex/protocol';
import type { ClientContext } from '../context.js';
import type { ClientStore } from '../storage/client-store.js';
import type { PrekeyKind, PrekeyRecord } from '../storage/records.js';

/** Replaced signed and last-resort keys stay usable this long. */
export const REPLACED_PREKEY_GRACE_MS = 3 * 24 * 60 * 60 * 1000;
const MAX_ID = 0xffff_ffff;

/** Batch sizes. */
export interface PreKeyCounts {
  readonly oneTime: number;
  readonly kem: number;
}

/** What a fresh device uploads and what it keeps. */
export interface GeneratedPreKeys {
  readonly upload: DevicePreKeys;
  readonly records: PrekeyRecord[];
}

function signedRecord(key: SignedPreKey): PrekeyRecord {
  return {
    kind: 'signed',
    id: key.id,
    createdAt: key.createdAt,
    lastResort: false,
    record: encodeWire([1, key.keyPair.privateKey, key.keyPair.publicKey, key.signature]),
  };
}

function oneTimeRecord(key: OneTimePreKey, now: number): PrekeyRecord {
  return {
    kind: 'one-time',
    id: key.id,
    createdAt: now,
    lastResort: false,
    record: encodeWire([1, key.keyPair.privateKey, key.keyPair.publicKey]),
  };
}

function kemRecord(key: KemPreKey): PrekeyRecord {
  return {
    kind: 'kem',
    id: key.id,
    createdAt: key.createdAt,
    lastResort: key.lastResort,
    record: encodeWire([1, key.keyPair.secretKey, key.keyPair.publicKey, key.signature]),
  };
}

function readSigned(rec: PrekeyRecord): SignedPreKey {
  return decodeWire(rec.record, {
    what: 'stored signed prekey',
    versions: [1],
    read: (r) => {
      const key: SignedPreKey = {
        id: rec.id,
        keyPair: { privateKey: r.bytes('privateKey', 32), publicKey: r.bytes('publicKey', 32) },
        signature: r.bytes('signature', 64),
        createdAt: rec.createdAt,
      };
      r.end();
      return key;
    },
  });
}

function readOneTime(rec: PrekeyRecord): OneTimePreKey {
  return decodeWire(rec.record, {
    what: 'stored one-time prekey',
    versions: [1],
    read: (r) => {
      const key: OneTimePreKey = {
        id: rec.id,
        keyPair: { privateKey: r.bytes('privateKey', 32), publicKey: r.bytes('publicKey', 32) },
      };
      r.end();
      return key;
    },
  });
}

function readKem(rec: PrekeyRecord): KemPreKey {
  return decodeWire(rec.record, {
    what: 'stored KEM prekey',
    versions: [1],
    read: (r) => {
      const key: KemPreKey = {
        id: rec.id,
        keyPair: { secretKey: r.bytes('secretKey'), publicKey: r.bytes('publicKey') },
        signature: r.bytes('signature', 64),
        lastResort: rec.lastResort,
        createdAt: rec.createdAt,
      };
      r.end();
      return key;
    },
  });
}

function randomId(random: RandomSource, span: number): number {
  const b = random(4);
  const n = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  // Leave room for `span` consecutive ids below 2^32.
  return n % (MAX_ID - span);
}

/** The prekey ids a prekey message names (read before any crypto, to load just those keys). */
export function preKeyIdsOf(message: Uint8Array): { signed: number; oneTime: number | undefined; kem: number } {
  return decodeWire(message, {
    what: 'prekey message',
    versions: [1],
    read: (r: WireReader) => {
      if (r.uint('kind') !== 2) throw new InvalidPrekeyError('not a prekey message');
      r.bytes('identityKey', 32);
      r.bytes('baseKey', 32);
      const ids = {
        signed: r.uint('spkId', MAX_ID),
        oneTime: r.optionalUint('opkId', MAX_ID),
        kem: r.uint('kemId', MAX_ID),
      };
      for (let i = 0; i < 16; i++) {
        try {
          r.raw('rest');
        } catch {
          break;
        }
      }
      return ids;
    },
  });
}

/**
 * The initial prekeys of a new device: signed prekey, one-time X25519 and KEM batches and
 * a last-resort KEM key, with their private halves as store records.
 */
export function generateInitialPreKeys(
  device: Ed25519KeyPair,
  now: number,
  counts: PreKeyCounts,
  provider: CryptoProvider,
  random: RandomSource,
): GeneratedPreKeys {
  const spk = generateSignedPreKey(device, randomId(random, 1), now, provider, random);
  const otpStart = randomId(random, counts.oneTime + 1);
  const oneTime = generateOneTimePreKeys(otpStart, counts.oneTime, provider, random);
  const kemStart = randomId(random, counts.kem + 2);
  const lastResort = generateKemPreKey(device, kemStart, true, now, provider, random);
  const kem = Array.from({ length: counts.kem }, (_, i) =>
    generateKemPreKey(device, kemStart + 1 + i, false, now, provider, random),
  );
  return {
    upload: {
      signedPreKey: { id: spk.id, publicKey: spk.keyPair.publicKey, signature: spk.signature },
      lastResortKemPreKey: {
        id: lastResort.id,
        publicKey: lastResort.keyPair.publicKey,
        signature: lastResort.signature,
      },
      oneTimePreKeys: oneTime.map((k) => ({ id: k.id, publicKey: k.keyPair.publicKey })),
      kemPreKeys: kem.map((k) => ({ id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature })),
    },
    records: [
      signedRecord(spk),
      ...oneTime.map((k) => oneTimeRecord(k, now)),
      kemRecord(lastResort),
      ...kem.map((k) => kemRecord(k)),
    ],
  };
}

/** What {@link PreKeyService.maintain} did. */
export interface MaintenanceReport {
  readonly oneTimeUploaded: number;
  readonly kemUploaded: number;
  readonly rotated: boolean;
  readonly deleted: number;
}

/** Prekey upkeep for this device. */
export class PreKeyService {
  constructor(private readonly ctx: ClientContext) {}

  private get counts(): PreKeyCounts {
    return {
      oneTime: this.ctx.options.oneTimePreKeys ?? ONE_TIME_PREKEY_BATCH,
      kem: this.ctx.options.kemPreKeys ?? ONE_TIME_PREKEY_BATCH,
    };
  }

  /**
   * Load the prekeys a prekey message names, as the synchronous lookup `acceptSession` takes.
   * @throws InvalidMessageError when the bytes are not a prekey message.
   */
  async lookupFor(message: Uint8Array, tx: ClientStore): Promise<PreKeyLookup> {
    const ids = preKeyIdsOf(message);
    const spk = await tx.getPrekey('signed', ids.signed);
    const opk = ids.oneTime === undefined ? undefined : await tx.getPrekey('one-time', ids.oneTime);
    const kem = await tx.getPrekey('kem', ids.kem);
    return {
      signedPreKey: (id) => (spk && id === spk.id ? readSigned(spk) : undefined),
      oneTimePreKey: (id) => (opk && id === opk.id ? readOneTime(opk) : undefined),
      kemPreKey: (id) => (kem && id === kem.id ? readKem(kem) : undefined),
    };
  }

  /** Delete the one-time keys an accepted session consumed. */
  async consume(used: UsedPreKeys, tx: ClientStore): Promise<void> {
    if (used.oneTimePreKeyId !== undefined) await tx.deletePrekey('one-time', used.oneTimePreKeyId);
    if (!used.kemLastResort) await tx.deletePrekey('kem', used.kemPreKeyId);
  }

  /**
   * Replenish and rotate: called after each connect and daily.
   * @throws RelayError / ClientError NETWORK_ERROR when the relay cannot be asked or refuses.
   */
  async maintain(): Promise<MaintenanceReport> {
    const { ctx } = this;
    const now = ctx.clock();
    const device = ctx.deviceKeyPair();
    const lowWater = ctx.options.preKeyLowWater ?? ONE_TIME_PREKEY_LOW_WATER;
    const count = await ctx.relay.preKeyCount(ctx.tokens);
    const upload: { -readonly [K in keyof PreKeyUpload]: PreKeyUpload[K] } = {};
    const records: PrekeyRecord[] = [];
    let oneTimeUploaded = 0;
    let kemUploaded = 0;
    if (count.oneTimePreKeys < lowWater) {
      const start = await this.freeRange('one-time', this.counts.oneTime);
      const keys = generateOneTimePreKeys(start, this.counts.oneTime, ctx.provider, ctx.random);
      upload.oneTimePreKeys = keys.map((k) => ({ id: k.id, publicKey: k.keyPair.publicKey }));
      records.push(...keys.map((k) => oneTimeRecord(k, now)));
      oneTimeUploaded = keys.length;
    }
    const signed = await ctx.store.listPrekeys('signed');
    const newest = signed.reduce((m, k) => Math.max(m, k.createdAt), 0);
    const rotate = now - newest >= SIGNED_PREKEY_ROTATION_MS;
    const needKem = count.kemPreKeys < lowWater;
    if (needKem || rotate) {
      const kemCount = needKem ? this.counts.kem : 0;
      const start = await this.freeRange('kem', kemCount + 1);
      if (needKem) {
        const keys = Array.from({ length: kemCount }, (_, i) =>
          generateKemPreKey(device, start + 1 + i, false, now, ctx.provider, ctx.random),
        );
        upload.kemPreKeys = keys.map((k) => ({ id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature }));
        records.push(...keys.map(kemRecord));
        kemUploaded = keys.length;
      }
      if (rotate) {
        const lastResort = generateKemPreKey(device, start, true, now, ctx.provider, ctx.random);
        upload.lastResortKemPreKey = {
          id: lastResort.id,
          publicKey: lastResort.keyPair.publicKey,
          signature: lastResort.signature,
        };
        records.push(kemRecord(lastResort));
      }
    }
    if (rotate) {
      const spk = generateSignedPreKey(device, await this.freeRange('signed', 1), now, ctx.provider, ctx.random);
      upload.signedPreKey = { id: spk.id, publicKey: spk.keyPair.publicKey, signature: spk.signature };
      records.push(signedRecord(spk));
    }
    if (records.length > 0) {
      // Private halves first: a public key the relay serves must never lack its private key here.
      await ctx.store.transaction(async (tx) => {
        for (const r of records) await tx.putPrekey(r);
      });
      await ctx.relay.uploadPreKeys(upload, ctx.tokens);
    }
    const deleted = await this.deleteReplaced(now);
    return { oneTimeUploaded, kemUploaded, rotated: rotate, deleted };
  }

  /** Delete signed and last-resort keys replaced more than the grace period ago. */
  private async deleteReplaced(now: number): Promise<number> {
    const { store } = this.ctx;
    let deleted = 0;
    const signed = await store.listPrekeys('signed');
    const kem = (await store.listPrekeys('kem')).filter((k) => k.lastResort);
    for (const list of [signed, kem]) {
      const newest = list.reduce((m, k) => Math.max(m, k.createdAt), 0);
      for (const k of list) {
        // A key replaced at `newest` stays for the grace period after that.
        if (k.createdAt < newest && newest + REPLACED_PREKEY_GRACE_MS <= now) {
          if (await store.deletePrekey(k.kind, k.id)) deleted++;
        }
      }
    }
    return deleted;
  }

  /** A start id with `span` consecutive ids free in `kind`. */
  private async freeRange(kind: PrekeyKind, span: number): Promise<number> {
    const taken = new Set((await this.ctx.store.listPrekeys(kind)).map((k) => k.id));
    for (;;) {
      const start = randomId(this.ctx.random, span + 1);
      let free = true;
      for (let i = 0; i <= span && free; i++) if (taken.has(start + i)) free = false;
      if (free) return start;
    }
  }
}

/**
 * Accounts for the server benchmark, written straight into the relay's SQLite file before
 * the relay starts, through the relay's own storage adapter. Registering 19,000 devices over
 * HTTP would cost minutes of key generation and signature checks that the measured paths
 * (delivery and idle connections) never touch: a WebSocket authenticates by its token alone,
 * and a sealed send checks only the recipient's device ids and access-key hash. Each seeded
 * account has one device (id 1), a session token and an access key.
 */
import { join } from 'node:path';
import { toBase64Url, toHex } from '@vaultex/api';
import { seededRandom } from '@vaultex/protocol';
import { nodeProvider } from '@vaultex/protocol/node';
import type { SqliteStorage, Storage } from '../../packages/server/src/index.js';
import { RELAY_ROOT } from './processes.js';

/** A seeded account as a client knows it. */
export interface SeededAccount {
  /** 32 hex digits. */
  readonly id: string;
  /** The device's session token (base64url). */
  readonly token: string;
  readonly accessKey: Uint8Array;
}

/** Creates `count` accounts with one logged-in device each in `<dataDir>/vaultex.db`. */
export async function seedAccounts(dataDir: string, count: number, label: number): Promise<SeededAccount[]> {
  // The relay's own adapter (and migrations), from the checkout that will serve the file.
  const relay = (await import(join(RELAY_ROOT, 'packages/server/src/index.ts'))) as {
    SqliteStorage: typeof SqliteStorage;
  };
  const storage = relay.SqliteStorage.open(join(dataDir, 'vaultex.db'));
  try {
    return await seedInto(storage, count, label);
  } finally {
    await storage.close();
  }
}

/**
 * Creates `count` accounts with one logged-in device each in an open storage (the scale
 * benchmark seeds PostgreSQL this way). The caller closes the storage.
 */
export async function seedInto(storage: Storage, count: number, label: number): Promise<SeededAccount[]> {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, label);
  const random = seededRandom(seed);
  const now = Date.now();
  const accounts: SeededAccount[] = [];
  for (let i = 0; i < count; i++) {
    const identityKey = random(32);
    const accountId = nodeProvider.sha256(identityKey).slice(0, 16);
    const accessKey = random(16);
    const token = random(32);
    await storage.createAccount({
      account: {
        id: accountId,
        identityKey,
        // Never decoded on the measured paths; registration is what checks device lists.
        deviceList: random(64),
        deviceListCounter: 1,
        accessKeyHash: nodeProvider.sha256(accessKey),
        createdAt: now,
      },
      device: {
        accountId,
        deviceId: 1,
        deviceKey: random(32),
        certificate: random(100),
        createdAt: now,
        lastSeenAt: now,
      },
      prekeys: {},
      log: { leafHash: random(32), entry: random(64) },
    });
    await storage.putToken(nodeProvider.sha256(token), { accountId, deviceId: 1, expiresAt: now + 86_400_000 });
    accounts.push({ id: toHex(accountId), token: toBase64Url(token), accessKey });
  }
  return accounts;
}

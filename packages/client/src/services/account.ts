/**
 * Account set-up on a device: create (a new seed phrase, shown once), restore from the
 * seed phrase (a NEW device added to the account's list), and completing a device link
 * started with a link code. Each writes the profile only after the relay accepted the
 * device, so a store never holds a device the relay does not know.
 */
import {
  type DevicePreKeys,
  deviceListReadProofMessage,
  linkProofMessage,
  registrationProofMessage,
} from '@vaultex/api';
import {
  accountFromSeedPhrase,
  bytesToHex,
  certifyDevice,
  type DeviceList,
  decodeDeviceList,
  decodeTreeHead,
  type Ed25519KeyPair,
  encodeDeviceCertificate,
  encodeDeviceList,
  generateEd25519KeyPair,
  generateSeedPhrase,
  signDeviceList,
  userIdFromIdentityKey,
  verifyDeviceList,
  verifyTreeHead,
} from '@vaultex/protocol';
import { encodeContent } from '../content.js';
import { type ClientOptions, type ResolvedDeps, relayFor } from '../context.js';
import { ClientError } from '../errors.js';
import { type LinkRequest, openProvisioning, type ProvisioningPayload } from '../provisioning.js';
import type { ClientStore } from '../storage/client-store.js';
import type { ContactRecord, ProfileRecord, ProfileSettings } from '../storage/records.js';
import { isRelayError, type RelayHttp } from '../transport/http.js';
import { TokenManager } from '../transport/tokens.js';
import { encodeJob } from './outbox.js';
import { generateInitialPreKeys } from './prekeys.js';
import { encodePin } from './trust.js';

/** Default settings of a new profile. */
export const DEFAULT_SETTINGS: ProfileSettings = { readReceipts: true, typingIndicators: true, discoverable: false };
const DEFAULT_DEVICE_NAME = 'device';

/** What every set-up path takes. */
export interface SetupInput {
  readonly store: ClientStore;
  readonly deps: ResolvedDeps;
  readonly options: ClientOptions;
  readonly displayName?: string;
}

async function assertEmpty(store: ClientStore): Promise<void> {
  if (await store.getProfile()) {
    throw new ClientError('PROFILE_EXISTS', 'this store already holds a profile (one profile folder per account)');
  }
}

function checkServerUrl(url: unknown): string {
  if (typeof url !== 'string' || !/^https?:\/\/[^\s]+$/u.test(url) || url.length > 2048) {
    throw new ClientError('INVALID_ARGUMENT', 'serverUrl: an http(s) URL');
  }
  return url.replace(/\/+$/u, '');
}

function randomDeviceId(deps: ResolvedDeps, taken: readonly number[]): number {
  for (;;) {
    const b = deps.random(4);
    const id = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if (id !== 0 && !taken.includes(id)) return id;
  }
}

/** A device key, its certificate and its prekeys. */
interface NewDevice {
  readonly keys: Ed25519KeyPair;
  readonly deviceId: number;
  readonly certificate: Uint8Array;
  readonly prekeys: DevicePreKeys;
}

async function newDevice(account: Ed25519KeyPair, deviceId: number, input: SetupInput): Promise<NewDevice> {
  const { deps, options, store } = input;
  const now = deps.clock();
  const keys = generateEd25519KeyPair(deps.provider, deps.random);
  const certificate = encodeDeviceCertificate(certifyDevice(account, deviceId, keys.publicKey, now, deps.provider));
  const generated = generateInitialPreKeys(
    keys,
    now,
    { oneTime: options.oneTimePreKeys ?? 100, kem: options.kemPreKeys ?? 100 },
    deps.provider,
    deps.random,
  );
  // Private halves before the relay serves the public ones.
  await store.transaction(async (tx) => {
    for (const r of generated.records) await tx.putPrekey(r);
  });
  return { keys, deviceId, certificate, prekeys: generated.upload };
}

function profileOf(
  account: Ed25519KeyPair,
  device: NewDevice,
  list: DeviceList,
  serverUrl: string,
  fields: { displayName: string; accessKey: Uint8Array; settings: ProfileSettings; now: number },
  provider: ResolvedDeps['provider'],
): ProfileRecord {
  return {
    userId: bytesToHex(userIdFromIdentityKey(account.publicKey, provider)),
    accountPublicKey: account.publicKey,
    accountSecretKey: account.secretKey,
    deviceId: device.deviceId,
    deviceSecretKey: device.keys.secretKey,
    devicePublicKey: device.keys.publicKey,
    certificate: device.certificate,
    deviceList: encodeDeviceList(list),
    deviceListCounter: list.counter,
    serverUrl,
    displayName: fields.displayName,
    createdAt: fields.now,
    accessKey: fields.accessKey,
    settings: fields.settings,
  };
}

/** Pin the transparency log key from the relay (trust on first use), unless already pinned. */
async function pinLog(store: ClientStore, relay: RelayHttp, deps: ResolvedDeps): Promise<void> {
  if (await store.getTreeHead()) return;
  const res = await relay.treeHead();
  const head = decodeTreeHead(res.treeHead);
  verifyTreeHead(head, res.logPublicKey, deps.provider);
  await store.putTreeHead(encodePin({ logPublicKey: res.logPublicKey, head }));
}

/**
 * Create an account with this device as its first.
 * @returns the profile and the seed phrase (show it once; it is not stored).
 * @throws ClientError PROFILE_EXISTS, INVALID_ARGUMENT; RelayError; NETWORK_ERROR.
 */
export async function createAccount(
  input: SetupInput & { readonly serverUrl: string },
): Promise<{ profile: ProfileRecord; seedPhrase: string }> {
  const { store, deps } = input;
  const serverUrl = checkServerUrl(input.serverUrl);
  await assertEmpty(store);
  const seedPhrase = generateSeedPhrase(deps.random);
  const account = accountFromSeedPhrase(seedPhrase, deps.provider);
  const profile = await registerAccount(account, serverUrl, input);
  return { profile, seedPhrase };
}

async function registerAccount(account: Ed25519KeyPair, serverUrl: string, input: SetupInput): Promise<ProfileRecord> {
  const { store, deps, options } = input;
  const relay = relayFor(serverUrl, deps);
  const now = deps.clock();
  const device = await newDevice(account, randomDeviceId(deps, []), input);
  const list = signDeviceList(
    account,
    1,
    [{ deviceId: device.deviceId, deviceKey: device.keys.publicKey, name: options.deviceName ?? DEFAULT_DEVICE_NAME }],
    now,
    deps.provider,
  );
  const listBytes = encodeDeviceList(list);
  const accessKey = deps.random(16);
  const { nonce } = await relay.challenge();
  const proof = registrationProofMessage(nonce, device.certificate, listBytes);
  await relay.register({
    identityKey: account.publicKey,
    deviceCertificate: device.certificate,
    deviceList: listBytes,
    prekeys: device.prekeys,
    accessKey,
    nonce,
    accountSignature: deps.provider.ed25519Sign(account.secretKey, proof),
    deviceSignature: deps.provider.ed25519Sign(device.keys.secretKey, proof),
  });
  const profile = profileOf(
    account,
    device,
    list,
    serverUrl,
    { displayName: input.displayName ?? '', accessKey, settings: DEFAULT_SETTINGS, now },
    deps.provider,
  );
  await store.putProfile(profile);
  await pinLog(store, relay, deps).catch(() => undefined);
  return profile;
}

/** Link this (new) device into an account whose current list is `current`. */
async function linkSelf(
  account: Ed25519KeyPair,
  deviceId: number,
  current: DeviceList,
  serverUrl: string,
  input: SetupInput,
): Promise<{ device: NewDevice; list: DeviceList }> {
  const { deps, options } = input;
  const relay = relayFor(serverUrl, deps);
  const device = await newDevice(account, deviceId, input);
  const list = signDeviceList(
    account,
    current.counter + 1,
    [
      ...current.devices,
      { deviceId, deviceKey: device.keys.publicKey, name: options.deviceName ?? DEFAULT_DEVICE_NAME },
    ],
    deps.clock(),
    deps.provider,
  );
  const listBytes = encodeDeviceList(list);
  const { nonce } = await relay.challenge();
  await relay.linkDevice(bytesToHex(userIdFromIdentityKey(account.publicKey, deps.provider)), {
    deviceCertificate: device.certificate,
    deviceList: listBytes,
    prekeys: device.prekeys,
    nonce,
    deviceSignature: deps.provider.ed25519Sign(
      device.keys.secretKey,
      linkProofMessage(nonce, device.certificate, listBytes),
    ),
  });
  return { device, list };
}

/**
 * Restore an account from its seed phrase on this (new) device: the device is added to
 * the account's list (counter + 1). Sessions are not restored: contacts' next messages
 * open new ones. An account the relay does not know is registered anew.
 * @throws InvalidSeedPhraseError; ClientError PROFILE_EXISTS; RelayError; NETWORK_ERROR.
 */
export async function restoreAccount(
  input: SetupInput & { readonly serverUrl: string; readonly seedPhrase: string },
): Promise<ProfileRecord> {
  const { store, deps } = input;
  const serverUrl = checkServerUrl(input.serverUrl);
  await assertEmpty(store);
  const account = accountFromSeedPhrase(input.seedPhrase, deps.provider);
  const accountId = bytesToHex(account.userId);
  const relay = relayFor(serverUrl, deps);
  const { nonce } = await relay.challenge();
  const proof = deviceListReadProofMessage(nonce, account.userId);
  let current: DeviceList;
  try {
    const res = await relay.readDeviceList(accountId, {
      nonce,
      accountSignature: deps.provider.ed25519Sign(account.secretKey, proof),
    });
    current = decodeDeviceList(res.deviceList);
    verifyDeviceList(current, deps.provider, account.publicKey);
  } catch (e) {
    if (isRelayError(e, 'NOT_FOUND')) return registerAccount(account, serverUrl, input);
    throw e;
  }
  const deviceId = randomDeviceId(
    deps,
    current.devices.map((d) => d.deviceId),
  );
  const { device, list } = await linkSelf(account, deviceId, current, serverUrl, input);
  const profile = profileOf(
    account,
    device,
    list,
    serverUrl,
    { displayName: input.displayName ?? '', accessKey: deps.random(16), settings: DEFAULT_SETTINGS, now: deps.clock() },
    deps.provider,
  );
  // The old access key is gone with the old installation: this one becomes the account's.
  const tokens = new TokenManager(
    relay,
    { accountId, deviceId: device.deviceId, deviceSecretKey: device.keys.secretKey },
    deps.provider,
    deps.clock,
  );
  await relay.setAccessKey(profile.accessKey, tokens);
  const now = deps.clock();
  const job = (content: Uint8Array, at: number) => ({
    id: bytesToHex(deps.random(16)),
    createdAt: at,
    attempts: 0,
    nextAttemptAt: now,
    kind: 'control',
    payload: encodeJob({ to: accountId, content }),
  });
  await store.transaction(async (tx) => {
    await tx.putProfile(profile);
    // Our other devices adopt the new access key, and send us the contacts (once this client runs).
    const profileSync = encodeContent({
      kind: 'profile-sync',
      id: bytesToHex(deps.random(16)),
      sentAt: now,
      displayName: profile.displayName,
      readReceipts: profile.settings.readReceipts,
      typingIndicators: profile.settings.typingIndicators,
      accessKey: profile.accessKey,
    });
    await tx.enqueueOutbox(job(profileSync, now));
    await tx.enqueueOutbox(
      job(encodeContent({ kind: 'sync-request', id: bytesToHex(deps.random(16)), sentAt: now }), now + 1),
    );
  });
  await pinLog(store, relay, deps).catch(() => undefined);
  return profile;
}

/**
 * New device: wait for the existing device's answer to `request`, then link this device.
 * @throws ClientError LINK_TIMEOUT, INVALID_LINK_CODE, PROFILE_EXISTS; RelayError.
 */
export async function completeLink(
  input: SetupInput & { readonly request: LinkRequest; readonly timeoutMs?: number; readonly pollMs?: number },
): Promise<{ profile: ProfileRecord; payload: ProvisioningPayload }> {
  const { store, deps, request } = input;
  await assertEmpty(store);
  const serverUrl = checkServerUrl(request.serverUrl);
  const relay = relayFor(serverUrl, deps);
  const deadline = deps.clock() + (input.timeoutMs ?? 10 * 60_000);
  let blob: Uint8Array | undefined;
  for (;;) {
    blob = await relay.getProvisioning(request.channelId);
    if (blob) break;
    if (deps.clock() >= deadline) throw new ClientError('LINK_TIMEOUT', 'no answer from the other device');
    await new Promise((r) => setTimeout(r, input.pollMs ?? 1000));
  }
  const payload = openProvisioning(blob, request, deps.provider);
  const publicKey = deps.provider.ed25519PublicKey(payload.accountSecretKey);
  const account: Ed25519KeyPair = { publicKey, secretKey: payload.accountSecretKey };
  const current = decodeDeviceList(payload.deviceList);
  verifyDeviceList(current, deps.provider, publicKey);
  const { device, list } = await linkSelf(account, payload.deviceId, current, serverUrl, input);
  const profile = profileOf(
    account,
    device,
    list,
    serverUrl,
    { displayName: payload.displayName, accessKey: payload.accessKey, settings: payload.settings, now: deps.clock() },
    deps.provider,
  );
  const now = deps.clock();
  await store.transaction(async (tx) => {
    await tx.putProfile(profile);
    if (payload.transparency) {
      await tx.putTreeHead(
        encodePin({
          logPublicKey: payload.transparency.logPublicKey,
          head: decodeTreeHead(payload.transparency.treeHead),
        }),
      );
    }
    for (const c of payload.contacts) {
      if (bytesToHex(userIdFromIdentityKey(c.identityKey, deps.provider)) !== c.accountId) continue;
      const record: ContactRecord = {
        accountId: c.accountId,
        identityKey: c.identityKey,
        displayName: c.displayName,
        state: c.state,
        verified: c.verified,
        addedAt: now,
        ...(c.accessKey ? { accessKey: c.accessKey } : {}),
      };
      await tx.putContact(record);
      await tx.appendKeyHistory(c.accountId, { identityKey: c.identityKey, seenAt: now });
    }
  });
  await pinLog(store, relay, deps).catch(() => undefined);
  return { profile, payload };
}

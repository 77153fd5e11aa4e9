/**
 * Device linking (provisioning). The NEW device draws an X25519 key pair and a random
 * 16-byte channel id and shows one code, as a link or QR payload:
 * `vaultex://link?d=<base64url(MessagePack [1, channelId, ephemeralPublicKey, serverUrl])>`.
 * The EXISTING device scans it and puts into the relay's provisioning mailbox, under the
 * channel id, the account secret and what the new device needs (a device id, the current
 * device list, profile, contacts, the transparency pin), encrypted to the ephemeral key:
 *
 *     e' = fresh X25519 key pair
 *     okm = HKDF(DH(e', ephemeral), salt = channelId, info = "VAULTEX provisioning v1", 44)
 *     blob = [1, e'.pub, AES-256-GCM(okm[0..32], okm[32..44], payload,
 *             AAD = "VAULTEX provisioning v1" || channelId || e'.pub || ephemeral)]
 *
 * The relay sees only the channel id and ciphertext. The new device then makes its own
 * device key, certifies it with the account key and links itself (the device key never
 * leaves the device that uses it).
 */
import { fromBase64Url, toBase64Url } from '@vaultex/api';
import {
  bytesToHex,
  type CryptoProvider,
  concatBytes,
  decodeWire,
  encodeWire,
  generateX25519KeyPair,
  isProtocolError,
  type RandomSource,
  utf8ToBytes,
  type WireReader,
  type X25519KeyPair,
} from '@vaultex/protocol';
import type { SyncedContact } from './content.js';
import { ClientError } from './errors.js';
import type { ContactState, ProfileSettings } from './storage/records.js';

/** Prefix of every device-link code. */
export const LINK_CODE_PREFIX = 'vaultex://link?d=';
const INFO = utf8ToBytes('VAULTEX provisioning v1');
const MAX_CONTACTS = 200;
const STATES: readonly ContactState[] = ['accepted', 'request', 'blocked'];

/** The new device's side of a link: keep it secret until the link completes. */
export interface LinkRequest {
  /** The code to show (link text and QR payload). */
  readonly code: string;
  /** 32 hex digits: the provisioning mailbox. */
  readonly channelId: string;
  readonly ephemeral: X25519KeyPair;
  readonly serverUrl: string;
}

/** What a link code carries. */
export interface LinkCode {
  readonly channelId: string;
  readonly ephemeralPublicKey: Uint8Array;
  readonly serverUrl: string;
}

/** What the existing device hands over. */
export interface ProvisioningPayload {
  readonly accountSecretKey: Uint8Array;
  /** The device id assigned to the new device. */
  readonly deviceId: number;
  /** The current signed device list (the new device signs the next one). */
  readonly deviceList: Uint8Array;
  readonly displayName: string;
  readonly accessKey: Uint8Array;
  readonly settings: ProfileSettings;
  /** The key-transparency pin: log key and last verified head. */
  readonly transparency?: { readonly logPublicKey: Uint8Array; readonly treeHead: Uint8Array };
  readonly contacts: readonly SyncedContact[];
}

function invalid(message: string): ClientError {
  return new ClientError('INVALID_LINK_CODE', `device link: ${message}`);
}

/** Start a link on the new device. */
export function createLinkRequest(serverUrl: string, provider: CryptoProvider, random: RandomSource): LinkRequest {
  const channel = random(16);
  const ephemeral = generateX25519KeyPair(provider, random);
  const code = `${LINK_CODE_PREFIX}${toBase64Url(encodeWire([1, channel, ephemeral.publicKey, serverUrl]))}`;
  return { code, channelId: bytesToHex(channel), ephemeral, serverUrl };
}

/**
 * Parse a link code (existing device).
 * @throws ClientError INVALID_LINK_CODE for anything that is not one.
 */
export function parseLinkCode(text: unknown): LinkCode {
  if (typeof text !== 'string' || text.length > 4096) throw invalid('expected a string');
  const trimmed = text.trim();
  if (!trimmed.startsWith(LINK_CODE_PREFIX)) throw invalid(`must start with ${LINK_CODE_PREFIX}`);
  const data = fromBase64Url(trimmed.slice(LINK_CODE_PREFIX.length));
  if (!data || data.length === 0) throw invalid('payload is not base64url');
  try {
    return decodeWire(data, {
      what: 'link code',
      versions: [1],
      read: (r) => {
        const channelId = bytesToHex(r.bytes('channelId', 16));
        const ephemeralPublicKey = r.bytes('ephemeralPublicKey', 32);
        const serverUrl = r.string('serverUrl', 2048);
        r.end();
        if (!/^https?:\/\/[^\s]+$/u.test(serverUrl)) throw invalid('bad server URL');
        return { channelId, ephemeralPublicKey, serverUrl };
      },
    });
  } catch (e) {
    if (e instanceof ClientError) throw e;
    if (isProtocolError(e)) throw invalid('malformed');
    throw e;
  }
}

function keys(
  dh: Uint8Array,
  channelId: string,
  senderPub: Uint8Array,
  receiverPub: Uint8Array,
  provider: CryptoProvider,
): { key: Uint8Array; nonce: Uint8Array; aad: Uint8Array } {
  const channel = hexBytes(channelId);
  const okm = provider.hkdfSha256(dh, channel, INFO, 44);
  dh.fill(0);
  return { key: okm.slice(0, 32), nonce: okm.slice(32, 44), aad: concatBytes(INFO, channel, senderPub, receiverPub) };
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Encrypt the payload to the new device (existing device). */
export function sealProvisioning(
  payload: ProvisioningPayload,
  code: LinkCode,
  provider: CryptoProvider,
  random: RandomSource,
): Uint8Array {
  const e = generateX25519KeyPair(provider, random);
  const k = keys(
    provider.x25519(e.privateKey, code.ephemeralPublicKey),
    code.channelId,
    e.publicKey,
    code.ephemeralPublicKey,
    provider,
  );
  e.privateKey.fill(0);
  const plaintext = encodeWire([
    1,
    payload.accountSecretKey,
    payload.deviceId,
    payload.deviceList,
    payload.displayName,
    payload.accessKey,
    [payload.settings.readReceipts, payload.settings.typingIndicators, payload.settings.discoverable],
    payload.transparency ? [payload.transparency.logPublicKey, payload.transparency.treeHead] : null,
    payload.contacts
      .slice(0, MAX_CONTACTS)
      .map((c) => [hexBytes(c.accountId), c.identityKey, c.displayName, c.state, c.verified, c.accessKey ?? null]),
  ]);
  const ciphertext = provider.aesGcmEncrypt(k.key, k.nonce, plaintext, k.aad);
  plaintext.fill(0);
  return encodeWire([1, e.publicKey, ciphertext]);
}

function readContact(c: WireReader): SyncedContact {
  const accountId = bytesToHex(c.bytes('accountId', 16));
  const identityKey = c.bytes('identityKey', 32);
  const displayName = c.string('displayName', 256);
  const state = c.string('state', 16) as ContactState;
  if (!STATES.includes(state)) throw invalid('unknown contact state');
  const verified = c.boolean('verified');
  const accessKey = c.optionalBytes('accessKey', 16);
  c.end();
  return { accountId, identityKey, displayName, state, verified, ...(accessKey ? { accessKey } : {}) };
}

/**
 * Decrypt the payload (new device).
 * @throws ClientError INVALID_LINK_CODE when it does not decrypt or parse.
 */
export function openProvisioning(
  blob: Uint8Array,
  request: LinkRequest,
  provider: CryptoProvider,
): ProvisioningPayload {
  try {
    const outer = decodeWire(blob, {
      what: 'provisioning envelope',
      versions: [1],
      read: (r) => {
        const v = { senderPub: r.bytes('ephemeralPublicKey', 32), ciphertext: r.bytes('ciphertext', { min: 16 }) };
        r.end();
        return v;
      },
    });
    const k = keys(
      provider.x25519(request.ephemeral.privateKey, outer.senderPub),
      request.channelId,
      outer.senderPub,
      request.ephemeral.publicKey,
      provider,
    );
    const plaintext = provider.aesGcmDecrypt(k.key, k.nonce, outer.ciphertext, k.aad);
    return decodeWire(plaintext, {
      what: 'provisioning payload',
      versions: [1],
      read: (r): ProvisioningPayload => {
        const accountSecretKey = r.bytes('accountSecretKey', 32);
        const deviceId = r.uint('deviceId', 0xffff_ffff, 1);
        const deviceList = r.bytes('deviceList', { min: 1, max: 16 * 1024 });
        const displayName = r.string('displayName', 256);
        const accessKey = r.bytes('accessKey', 16);
        const settings = r.raw('settings');
        if (!Array.isArray(settings) || settings.length !== 3 || !settings.every((s) => typeof s === 'boolean')) {
          throw invalid('bad settings');
        }
        const [readReceipts, typingIndicators, discoverable] = settings as [boolean, boolean, boolean];
        const pin = r.raw('transparency');
        let transparency: ProvisioningPayload['transparency'];
        if (pin !== null) {
          if (!Array.isArray(pin) || pin.length !== 2 || !pin.every((p) => p instanceof Uint8Array)) {
            throw invalid('bad transparency pin');
          }
          transparency = {
            logPublicKey: new Uint8Array(pin[0] as Uint8Array),
            treeHead: new Uint8Array(pin[1] as Uint8Array),
          };
        }
        const contacts = r.array('contacts', MAX_CONTACTS, readContact);
        r.end();
        return {
          accountSecretKey,
          deviceId,
          deviceList,
          displayName,
          accessKey,
          settings: { readReceipts, typingIndicators, discoverable },
          ...(transparency ? { transparency } : {}),
          contacts,
        };
      },
    });
  } catch (e) {
    if (e instanceof ClientError) throw e;
    if (isProtocolError(e)) throw invalid('the provisioning message does not decrypt or parse');
    throw e;
  }
}

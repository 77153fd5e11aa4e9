/**
 * Contact codes: how two people exchange identities out of band. One string serves as a
 * link and as a QR payload:
 * `vaultex://contact?v=1&d=<base64url(MessagePack [1, userId, accountKey, accessKey, serverUrl, displayName|nil])>`.
 * The user ID must be SHA-256(accountKey)[0..16], so a code cannot pair one person's ID
 * with another's key.
 */
import { fromBase64Url, toBase64Url } from '@vaultex/api';
import {
  bytesToHex,
  type CryptoProvider,
  decodeWire,
  encodeWire,
  equalBytes,
  hexToBytes,
  isProtocolError,
  userIdFromIdentityKey,
} from '@vaultex/protocol';
import { ClientError } from './errors.js';

/** The prefix of every contact code. */
export const CONTACT_CODE_PREFIX = 'vaultex://contact?v=1&d=';
const MAX_CODE_LENGTH = 4096;
const MAX_URL = 2048;
const MAX_NAME = 64;

/** What a contact code carries. */
export interface ContactCode {
  /** Account id (32 hex digits). */
  readonly accountId: string;
  /** Ed25519 account identity key. */
  readonly identityKey: Uint8Array;
  /** The 16-byte access key for sealed sends. */
  readonly accessKey: Uint8Array;
  /** The relay the account lives on. */
  readonly serverUrl: string;
  readonly displayName?: string;
}

/** Build the code string (link and QR payload). */
export function encodeContactCode(code: ContactCode): string {
  const data = encodeWire([
    1,
    hexToBytes(code.accountId),
    code.identityKey,
    code.accessKey,
    code.serverUrl,
    code.displayName === undefined ? null : code.displayName.slice(0, MAX_NAME),
  ]);
  return `${CONTACT_CODE_PREFIX}${toBase64Url(data)}`;
}

function invalid(message: string): ClientError {
  return new ClientError('INVALID_CONTACT_CODE', `contact code: ${message}`);
}

/**
 * Parse a code strictly (surrounding whitespace is ignored).
 * @throws ClientError INVALID_CONTACT_CODE for anything else, including a user ID that is
 *   not derived from the key.
 */
export function parseContactCode(text: unknown, provider: CryptoProvider): ContactCode {
  if (typeof text !== 'string' || text.length > MAX_CODE_LENGTH) throw invalid('expected a string');
  const trimmed = text.trim();
  if (!trimmed.startsWith(CONTACT_CODE_PREFIX)) throw invalid(`must start with ${CONTACT_CODE_PREFIX}`);
  const data = fromBase64Url(trimmed.slice(CONTACT_CODE_PREFIX.length));
  if (!data || data.length === 0) throw invalid('payload is not base64url');
  let code: ContactCode;
  try {
    code = decodeWire(data, {
      what: 'contact code',
      versions: [1],
      read: (r) => {
        const userId = r.bytes('userId', 16);
        const identityKey = r.bytes('identityKey', 32);
        const accessKey = r.bytes('accessKey', 16);
        const serverUrl = r.string('serverUrl', MAX_URL);
        const name = r.raw('displayName');
        r.end();
        if (name !== null && (typeof name !== 'string' || name.length > MAX_NAME)) throw invalid('bad display name');
        if (!/^https?:\/\/[^\s]+$/u.test(serverUrl)) throw invalid('bad server URL');
        return {
          accountId: bytesToHex(userId),
          identityKey,
          accessKey,
          serverUrl,
          ...(typeof name === 'string' ? { displayName: name } : {}),
        };
      },
    });
  } catch (e) {
    if (e instanceof ClientError) throw e;
    if (isProtocolError(e)) throw invalid(e.code === 'UNSUPPORTED_VERSION' ? 'unsupported version' : 'malformed');
    throw e;
  }
  if (!equalBytes(userIdFromIdentityKey(code.identityKey, provider), hexToBytes(code.accountId))) {
    throw invalid('user ID does not match the identity key');
  }
  return code;
}

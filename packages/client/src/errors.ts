/**
 * The one error model of @vaultex/client: every failure the client itself detects is a
 * {@link ClientError} with a typed `code` from {@link CLIENT_ERROR_CODES}. Errors raised by
 * @vaultex/protocol (a `ProtocolError`) pass through unchanged where they mean the same thing.
 * Messages name the field or condition, never a key, a passphrase or message content.
 */

/**
 * Every error code, with the sentence that documents it. Add codes at the end of a group;
 * never rename or remove one (applications match on them).
 */
export const CLIENT_ERROR_CODES = {
  INVALID_ARGUMENT:
    'A client function was called with a value of the wrong type, length, format or range; the message names the parameter.',
  WRONG_PASSPHRASE: 'The passphrase does not open this profile (or the encrypted profile file is damaged).',
  STORE_CLOSED: 'The store was used after close() or wipe().',
  TRANSACTION_CLOSED:
    'A transaction handle was used after its transaction finished, or (IndexedDB) after it auto-committed because its body awaited foreign I/O.',
  STORE_CORRUPT: 'Stored data failed to decode or authenticate: a damaged or tampered profile.',
  STORE_TOO_NEW:
    'The profile was written by a newer version of VAULTEX (unknown schema or format version); upgrade to open it.',
  STORAGE_FAILED:
    'The storage backend failed (I/O error, disk full, quota exceeded, locked file); the operation was not applied.',
  NOT_FOUND: 'An operation needs a record that does not exist (e.g. key history of an unknown contact).',
  // Client core (account, transport, contacts, messaging)
  NETWORK_ERROR:
    'The relay could not be reached, or the connection dropped before it answered; the operation can be retried.',
  RELAY_REFUSED:
    'The relay refused a request; the error (a RelayError) carries the relay code (`apiCode`), `retryAfter` and `mismatchedDevices`.',
  INVALID_RESPONSE:
    'The relay answered with a body that does not match the API schema or contradicts itself (e.g. an identity key that does not give the account id).',
  UNTRUSTED_IDENTITY:
    "A contact's identity key changed and the change has not been accepted: sends to them are refused until `contacts.acceptKeyChange`.",
  INVALID_CONTACT_CODE:
    'A contact code is not a well-formed `vaultex://contact` link, or its user ID is not derived from its identity key.',
  INVALID_LINK_CODE:
    'A device-link code or provisioning message is malformed, expired or could not be decrypted with this request.',
  CONTACT_BLOCKED: 'The contact is blocked: unblock it before sending to it.',
  NO_PROFILE: 'The store holds no account profile: create, restore or link an account first.',
  PROFILE_EXISTS: 'The store already holds an account profile: use a fresh store (one profile folder per account).',
  DEVICE_REVOKED:
    'This device was removed from its account (or the relay no longer knows it): it cannot send or receive.',
  LINK_TIMEOUT: 'The other device did not answer a device-link request in time.',
  GROUP_FORBIDDEN:
    'Only a group admin may rename a group or add and remove members, and only members may send to a group or leave it.',
  MESSAGE_FORBIDDEN:
    'Only the sender of a message may edit it or delete it for everyone, and a deleted message can no longer be edited or reacted to.',
  // Attachments
  ATTACHMENT_CORRUPT:
    'A downloaded attachment failed its integrity check (a segment tag, its length or its hash): it was altered or truncated, and nothing of it was returned.',
  ATTACHMENT_TOO_LARGE: "A file is larger than the relay's attachment limit.",
  // Backups and the history archive
  BACKUP_INVALID:
    'A backup opened with its password but does not hold a VAULTEX profile this version can read; nothing was written.',
  ARCHIVE_CORRUPT:
    'The history archive or one of its key envelopes is malformed, of an unknown version, or does not decrypt with its key.',
  BACKUP_CODE_REJECTED: 'No unused backup code of the archive matches this code (mistyped, or already used).',
  ARCHIVE_NOT_SET_UP: 'The account has no history archive keys yet: run `archive.setup()` on one of its devices first.',
} as const;

/** A code from the registry. */
export type ClientErrorCode = keyof typeof CLIENT_ERROR_CODES;

/** Base class of every error thrown by @vaultex/client itself. Narrow with `err.code` or {@link isClientError}. */
export class ClientError extends Error {
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'ClientError';
  }
}

/**
 * True when `value` is a {@link ClientError}, optionally with the given code.
 * @example if (isClientError(e, 'WRONG_PASSPHRASE')) askAgain();
 */
export function isClientError(value: unknown, code?: ClientErrorCode): value is ClientError {
  return value instanceof ClientError && (code === undefined || value.code === code);
}

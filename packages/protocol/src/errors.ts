/**
 * The one error model of @vaultex/protocol: every failure is a {@link ProtocolError}
 * with a typed `code` from {@link PROTOCOL_ERROR_CODES}. Messages name the field or
 * condition, never a key, plaintext or other secret.
 */

/** Every error code, with the sentence that documents it (mirrored in docs/PROTOCOL.md). */
export const PROTOCOL_ERROR_CODES = {
  INVALID_ARGUMENT:
    'A function was called with a value of the wrong type, length or range; the message names the parameter.',
  INVALID_KEY:
    'A key has the wrong length, an unknown type byte, or is not a valid point (e.g. a low-order X25519 key).',
  INVALID_SIGNATURE:
    'A signature did not verify: prekey bundle, device certificate, device list, sender-key message or tree head.',
  INVALID_MESSAGE: 'A message failed to parse or to authenticate: truncated, tampered, wrong key or wrong recipient.',
  UNSUPPORTED_VERSION: 'A serialised value carries a version this library does not know.',
  DUPLICATE_MESSAGE: 'A message was already decrypted (replay); its key was deleted after first use.',
  TOO_MANY_SKIPPED: 'A message lies further ahead in its chain than the skipped-key bounds allow.',
  UNTRUSTED_IDENTITY: 'An identity key differs from the one pinned for this peer.',
  INVALID_PREKEY: 'A pre-key message names a prekey the recipient does not hold (already consumed or never issued).',
  INVALID_SESSION: 'Serialised session or sender-key state is corrupt or inconsistent.',
  INVALID_SEED_PHRASE: 'A seed phrase is not 24 valid BIP-39 English words with a correct checksum.',
  INVALID_CERTIFICATE:
    'A device certificate, sender certificate or device list is malformed, expired or not signed by the account key.',
  INVALID_PADDING: 'Padded plaintext has no valid padding marker or its length is not a padding bucket.',
  BACKUP_DECRYPTION_FAILED: 'An encrypted backup could not be opened: wrong password or damaged file.',
  INVALID_PROOF: 'A key-transparency inclusion or consistency proof does not match the signed tree head.',
  NO_SENDER_KEY:
    'A sender-key message names a chain the receiver holds no key for: its distribution message has not arrived or the chain was evicted.',
} as const;

/** A code from the registry. */
export type ProtocolErrorCode = keyof typeof PROTOCOL_ERROR_CODES;

/** Base class of every error thrown by @vaultex/protocol. Narrow with `err.code` or {@link isProtocolError}. */
export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'ProtocolError';
  }
}

/** Thrown when a caller passes a value of the wrong type, length or range. */
export class InvalidArgumentError extends ProtocolError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'InvalidArgumentError';
  }
}

/** A key is malformed or not a valid curve point. */
export class InvalidKeyError extends ProtocolError {
  constructor(message: string) {
    super('INVALID_KEY', message);
    this.name = 'InvalidKeyError';
  }
}

/** A signature failed to verify. */
export class InvalidSignatureError extends ProtocolError {
  constructor(message: string) {
    super('INVALID_SIGNATURE', message);
    this.name = 'InvalidSignatureError';
  }
}

/** A message failed to parse or authenticate. */
export class InvalidMessageError extends ProtocolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_MESSAGE', message, options);
    this.name = 'InvalidMessageError';
  }
}

/** A serialised value has an unknown version. */
export class UnsupportedVersionError extends ProtocolError {
  readonly version: number;
  constructor(what: string, version: number) {
    super('UNSUPPORTED_VERSION', `${what}: unsupported version ${version}`);
    this.name = 'UnsupportedVersionError';
    this.version = version;
  }
}

/** A message was already decrypted once. */
export class DuplicateMessageError extends ProtocolError {
  readonly counter: number;
  constructor(counter: number) {
    super('DUPLICATE_MESSAGE', `message ${counter} was already received`);
    this.name = 'DuplicateMessageError';
    this.counter = counter;
  }
}

/** A message skips more keys than the bounds allow. */
export class TooManySkippedError extends ProtocolError {
  constructor(message: string) {
    super('TOO_MANY_SKIPPED', message);
    this.name = 'TooManySkippedError';
  }
}

/** An identity key differs from the pinned one. */
export class UntrustedIdentityError extends ProtocolError {
  constructor(message: string) {
    super('UNTRUSTED_IDENTITY', message);
    this.name = 'UntrustedIdentityError';
  }
}

/** A referenced prekey is not held (consumed or unknown). */
export class InvalidPrekeyError extends ProtocolError {
  constructor(message: string) {
    super('INVALID_PREKEY', message);
    this.name = 'InvalidPrekeyError';
  }
}

/** Session or sender-key state is corrupt. */
export class InvalidSessionError extends ProtocolError {
  constructor(message: string) {
    super('INVALID_SESSION', message);
    this.name = 'InvalidSessionError';
  }
}

/** A seed phrase is invalid. */
export class InvalidSeedPhraseError extends ProtocolError {
  constructor(message: string) {
    super('INVALID_SEED_PHRASE', message);
    this.name = 'InvalidSeedPhraseError';
  }
}

/** A certificate or device list is malformed, expired or wrongly signed. */
export class InvalidCertificateError extends ProtocolError {
  constructor(message: string) {
    super('INVALID_CERTIFICATE', message);
    this.name = 'InvalidCertificateError';
  }
}

/** Padding marker missing. */
export class InvalidPaddingError extends ProtocolError {
  constructor(message: string) {
    super('INVALID_PADDING', message);
    this.name = 'InvalidPaddingError';
  }
}

/** A backup could not be decrypted. */
export class BackupDecryptionError extends ProtocolError {
  constructor(message: string) {
    super('BACKUP_DECRYPTION_FAILED', message);
    this.name = 'BackupDecryptionError';
  }
}

/** A Merkle proof does not verify. */
export class InvalidProofError extends ProtocolError {
  constructor(message: string) {
    super('INVALID_PROOF', message);
    this.name = 'InvalidProofError';
  }
}

/** A sender-key message names a chain this receiver has no distribution message for. */
export class NoSenderKeyError extends ProtocolError {
  readonly chainId: number;
  constructor(chainId: number) {
    super('NO_SENDER_KEY', `no sender key for chain ${chainId}`);
    this.name = 'NoSenderKeyError';
    this.chainId = chainId;
  }
}

/**
 * Narrow an unknown thrown value to a {@link ProtocolError}, optionally of one code.
 * @example if (isProtocolError(e, 'DUPLICATE_MESSAGE')) ignore();
 */
export function isProtocolError(value: unknown, code?: ProtocolErrorCode): value is ProtocolError {
  return value instanceof ProtocolError && (code === undefined || value.code === code);
}

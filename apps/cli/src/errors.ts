/**
 * Exit codes and the one-line messages of the `vaultex` command. Every failure, from the
 * CLI itself ({@link CliError}), the SDK (`ClientError`, `RelayError`) or the protocol
 * (`ProtocolError`), is turned into a {@link Problem}: a stable code, a sentence that says
 * what to do next, and an exit code. The daemon reuses the same table for JSON-RPC errors.
 */
import { type ClientErrorCode, isClientError, isRelayError } from '@vaultex/client';
import { isProtocolError } from '@vaultex/protocol';

/** Exit codes (documented in `vaultex --help` and the README). */
export const EXIT = {
  OK: 0,
  /** Bad command line, bad argument, no passphrase available. */
  USAGE: 1,
  /** The relay cannot be reached (or answered nonsense); a queued message stays queued. */
  NETWORK: 2,
  /** Trust: a contact's key changed, the contact is blocked, this device was revoked, a proof failed. */
  TRUST: 3,
  /** No such profile, contact, device or message. */
  NOT_FOUND: 4,
  /** The profile cannot be used: wrong passphrase, already exists, in use, damaged. */
  PROFILE: 5,
  /** The relay refused the request. */
  REFUSED: 6,
  /** Something did not happen in time (a device link). */
  TIMEOUT: 7,
  /** A bug: please report it. */
  INTERNAL: 70,
} as const;

/** An exit code. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Codes of the failures the CLI itself detects. */
export const CLI_ERROR_CODES = {
  USAGE: 'The command line is wrong (missing or malformed argument).',
  NO_PASSPHRASE: 'No passphrase: none in --passphrase-file or $VAULTEX_PASSPHRASE, and no terminal to ask.',
  PROFILE_LOCKED: 'Another vaultex process (listen, daemon...) is using the profile.',
  UNKNOWN_CONTACT: 'No contact matches the name or id given.',
  AMBIGUOUS_CONTACT: 'Several contacts match the name or id prefix given.',
  UNKNOWN_DEVICE: 'No device of the account has the id given.',
  UNKNOWN_GROUP: 'No group matches the title or id given.',
  AMBIGUOUS_GROUP: 'Several groups match the title or id prefix given.',
  NOT_SENT: 'The message is queued but the relay has not confirmed it yet.',
  MIGRATION_FAILED: 'Copying a relay database into PostgreSQL failed; nothing was written.',
} as const;

/** A CLI error code. */
export type CliErrorCode = keyof typeof CLI_ERROR_CODES;

const CLI_EXIT: Record<CliErrorCode, ExitCode> = {
  USAGE: EXIT.USAGE,
  NO_PASSPHRASE: EXIT.USAGE,
  PROFILE_LOCKED: EXIT.PROFILE,
  UNKNOWN_CONTACT: EXIT.NOT_FOUND,
  AMBIGUOUS_CONTACT: EXIT.USAGE,
  UNKNOWN_DEVICE: EXIT.NOT_FOUND,
  UNKNOWN_GROUP: EXIT.NOT_FOUND,
  AMBIGUOUS_GROUP: EXIT.USAGE,
  NOT_SENT: EXIT.NETWORK,
  MIGRATION_FAILED: EXIT.REFUSED,
};

/** A failure the CLI detects; its message already says what to do next. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  readonly exit: ExitCode;

  constructor(code: CliErrorCode, message: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exit = CLI_EXIT[code];
  }
}

/** What went wrong, for a person and for a program. */
export interface Problem {
  /** A CLI, client, relay (`RELAY:<api code>`) or protocol code. */
  readonly code: string;
  /** One line: what happened and what to do next. */
  readonly message: string;
  readonly exit: ExitCode;
}

/** What the messages may mention. */
export interface ProblemContext {
  /** How to invoke vaultex for this profile (`vaultex` or `vaultex --profile bob`). */
  readonly command?: string;
  /** The profile name. */
  readonly profile?: string;
  /** The contact the command was about, as the user named it. */
  readonly contact?: string;
  /** The relay URL. */
  readonly server?: string;
}

const q = (s: string) => (/^[\w.@:/-]+$/u.test(s) ? s : `'${s.replace(/'/gu, "'\\''")}'`);

/** The message and exit code of each client error code. */
function clientProblem(code: ClientErrorCode, detail: string, c: Required<ProblemContext>): [string, ExitCode] {
  const v = c.command;
  const who = c.contact || 'the contact';
  const whoArg = q(c.contact || '<contact>');
  switch (code) {
    case 'INVALID_ARGUMENT':
      return [`Invalid argument: ${detail}. See \`${v} <command> --help\`.`, EXIT.USAGE];
    case 'WRONG_PASSPHRASE':
      return [
        `The passphrase does not open profile '${c.profile}'. Check $VAULTEX_PASSPHRASE or --passphrase-file and try again.`,
        EXIT.PROFILE,
      ];
    case 'STORE_CLOSED':
    case 'TRANSACTION_CLOSED':
      return [`Internal error (${detail}). Please report it; your profile is unchanged.`, EXIT.INTERNAL];
    case 'STORE_CORRUPT':
      return [
        `Profile '${c.profile}' is damaged (${detail}). Restore the account from its seed phrase into a new profile: \`vaultex --profile <new> restore\`.`,
        EXIT.PROFILE,
      ];
    case 'STORE_TOO_NEW':
      return [`Profile '${c.profile}' was written by a newer VAULTEX. Upgrade vaultex to open it.`, EXIT.PROFILE];
    case 'STORAGE_FAILED':
      return [
        `Cannot read or write profile '${c.profile}' (${detail}). Check disk space and the folder's permissions, then retry.`,
        EXIT.PROFILE,
      ];
    case 'NOT_FOUND':
      return [`Not found: ${detail}. List contacts with \`${v} contact list\`.`, EXIT.NOT_FOUND];
    case 'NETWORK_ERROR':
      return [
        `Cannot reach the relay at ${c.server || 'the configured server'}. Check that it runs (\`vaultex serve\`) and the address, then retry.`,
        EXIT.NETWORK,
      ];
    case 'RELAY_REFUSED':
      return [
        `The relay refused the request (${detail}). Retry later; if it persists, ask the relay's operator.`,
        EXIT.REFUSED,
      ];
    case 'INVALID_RESPONSE':
      return [
        `The relay at ${c.server || 'the configured server'} answered something unexpected (${detail}). Check that it is a VAULTEX relay of this version; do not trust it until it is.`,
        EXIT.NETWORK,
      ];
    case 'UNTRUSTED_IDENTITY':
      return [
        `${cap(who)}'s safety number changed. Compare it (\`${v} verify ${whoArg}\`) and run \`${v} contact accept-key ${whoArg}\` if it is really them.`,
        EXIT.TRUST,
      ];
    case 'INVALID_CONTACT_CODE':
      return [
        'That is not a VAULTEX contact code. Ask for the code `vaultex id` prints (it starts with vaultex://contact?) and paste it whole.',
        EXIT.USAGE,
      ];
    case 'INVALID_LINK_CODE':
      return [
        'That device-link code is invalid or expired. On the new device run `vaultex --profile <new> device link` again and use the code it prints.',
        EXIT.USAGE,
      ];
    case 'CONTACT_BLOCKED':
      return [`${cap(who)} is blocked. Run \`${v} contact unblock ${whoArg}\` to write to them again.`, EXIT.TRUST];
    case 'NO_PROFILE':
      return [
        `Profile '${c.profile}' holds no account. Create one (\`${v} init\`), restore one (\`${v} restore\`) or link this device (\`${v} device link\`).`,
        EXIT.NOT_FOUND,
      ];
    case 'PROFILE_EXISTS':
      return [
        `Profile '${c.profile}' already holds an account. Choose another profile name with --profile <name>.`,
        EXIT.PROFILE,
      ];
    case 'DEVICE_REVOKED':
      return [
        `This device was removed from the account. Link it again from another device (\`vaultex --profile <new> device link\`) or restore from the seed phrase (\`vaultex --profile <new> restore\`).`,
        EXIT.TRUST,
      ];
    case 'LINK_TIMEOUT':
      return [
        `The other device did not answer in time. Run \`${v} device link\` again and approve the code on the other device with \`vaultex device approve <code>\`.`,
        EXIT.TIMEOUT,
      ];
    case 'GROUP_FORBIDDEN':
      return [
        `Not allowed in this group (${detail}): only its admins change it, only members write to it. Ask an admin.`,
        EXIT.TRUST,
      ];
    case 'MESSAGE_FORBIDDEN':
      return [
        `Not allowed on this message (${detail}): only its sender edits or deletes it, and a deleted message stays deleted. Check the message id with \`${v} messages <contact> --json\`.`,
        EXIT.TRUST,
      ];
    case 'ATTACHMENT_CORRUPT':
      return [
        `The attachment failed its integrity check (${detail}): it was altered or cut short on the relay. Nothing was written; retry, and report it to the relay's operator if it persists.`,
        EXIT.TRUST,
      ];
    case 'ATTACHMENT_TOO_LARGE':
      return [`The file is too large for this relay (${detail}). Choose a smaller file or split it.`, EXIT.USAGE];
    case 'BACKUP_INVALID':
      return [
        'The file opened with that password but is not a VAULTEX profile backup this version can read. Nothing was written. Check the file, or Upgrade vaultex if it is newer.',
        EXIT.PROFILE,
      ];
    case 'ARCHIVE_CORRUPT':
      return [
        `The history archive on the relay does not decrypt or decode (${detail}). Nothing was changed. Run \`${v} archive push\` on a device that has the history.`,
        EXIT.TRUST,
      ];
    case 'BACKUP_CODE_REJECTED':
      return [
        'That backup code opens no unused slot: it is mistyped or was already used. Check it, or retry with another of your codes.',
        EXIT.TRUST,
      ];
    case 'ARCHIVE_NOT_SET_UP':
      return [
        `This account has no history archive yet. Run \`${v} archive setup\` on one of its devices.`,
        EXIT.NOT_FOUND,
      ];
    default:
      // A code newer than this table (a test makes sure none is left here).
      return [`${detail} (${code}). Please report that vaultex has no advice for it.`, EXIT.INTERNAL];
  }
}

/** Relay codes that deserve their own advice; others use the generic RELAY_REFUSED line. */
function relayProblem(
  apiCode: string,
  retryAfter: number | undefined,
  c: Required<ProblemContext>,
): [string, ExitCode] {
  const v = c.command;
  switch (apiCode) {
    case 'RATE_LIMITED':
      return [`The relay is rate-limiting this client. Wait ${retryAfter ?? 60} s and retry.`, EXIT.REFUSED];
    case 'UNAVAILABLE':
      return ['The relay is shutting down or its storage is unavailable. Retry in a minute.', EXIT.NETWORK];
    case 'TOO_MANY_DEVICES':
      return [
        `The account has as many devices as the relay allows. Remove one first: \`${v} device list\`, then \`${v} device revoke <id>\`.`,
        EXIT.REFUSED,
      ];
    case 'UNKNOWN_RECIPIENT':
      return [
        `The relay does not know ${c.contact || 'the recipient'} any more (the account was deleted). Ask them for a new contact code.`,
        EXIT.NOT_FOUND,
      ];
    case 'UNAUTHORIZED':
      return [
        'The relay no longer accepts this device (it was probably revoked). Restore from the seed phrase or link it again into a new profile.',
        EXIT.TRUST,
      ];
    case 'CHANNEL_TAKEN':
      return [
        'That device-link code was already answered. Start again with `vaultex --profile <new> device link`.',
        EXIT.USAGE,
      ];
    case 'STALE_DEVICE_LIST':
      return [`Another device changed the device list meanwhile. Run \`${v} device list\` and retry.`, EXIT.REFUSED];
    case 'ARCHIVE_CONFLICT':
      return [
        `Other devices kept updating the history archive meanwhile. Run \`${v} archive push\` again.`,
        EXIT.REFUSED,
      ];
    case 'PAYLOAD_TOO_LARGE':
      return [
        'The relay refused the upload as too large. Set fewer conversations to `history` retention, or ask the operator for a larger limit.',
        EXIT.REFUSED,
      ];
    default:
      return [
        `The relay refused the request (${apiCode}). Retry later; if it persists, ask the relay's operator.`,
        EXIT.REFUSED,
      ];
  }
}

function cap(s: string): string {
  return s.length > 0 ? s[0]!.toUpperCase() + s.slice(1) : s;
}

function filled(context: ProblemContext): Required<ProblemContext> {
  return {
    command: context.command ?? 'vaultex',
    profile: context.profile ?? 'default',
    contact: context.contact ?? '',
    server: context.server ?? '',
  };
}

/** Turn any thrown value into a {@link Problem}. */
export function describeError(error: unknown, context: ProblemContext = {}): Problem {
  const c = filled(context);
  if (error instanceof CliError) return { code: error.code, message: error.message, exit: error.exit };
  if (isRelayError(error)) {
    const [message, exit] = relayProblem(error.apiCode, error.retryAfter, c);
    return { code: `RELAY:${error.apiCode}`, message, exit };
  }
  if (isClientError(error)) {
    const [message, exit] = clientProblem(error.code, error.message, c);
    return { code: error.code, message, exit };
  }
  if (isProtocolError(error)) {
    switch (error.code) {
      case 'INVALID_SEED_PHRASE':
        return {
          code: error.code,
          message:
            'That is not a valid seed phrase: it must be the 24 English words `vaultex init` showed, in order. Check spelling and order, then retry.',
          exit: EXIT.USAGE,
        };
      case 'INVALID_ARGUMENT':
        return {
          code: error.code,
          message: `Invalid argument: ${error.message}. See \`${c.command} <command> --help\`.`,
          exit: EXIT.USAGE,
        };
      case 'BACKUP_DECRYPTION_FAILED':
        return {
          code: error.code,
          message: 'The backup does not open with that password (or the file is damaged). Nothing was written.',
          exit: EXIT.PROFILE,
        };
      case 'INVALID_PROOF':
      case 'INVALID_SIGNATURE':
      case 'INVALID_CERTIFICATE':
        return {
          code: error.code,
          message: `The relay served keys that fail verification (${error.code}). Nothing was sent. Do not trust this relay; report it to its operator.`,
          exit: EXIT.TRUST,
        };
      default:
        return {
          code: error.code,
          message: `A cryptographic check failed (${error.code}). Nothing was changed; retry, and report it if it persists.`,
          exit: EXIT.TRUST,
        };
    }
  }
  const text = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message: `Unexpected error: ${text}. Please report it.`, exit: EXIT.INTERNAL };
}

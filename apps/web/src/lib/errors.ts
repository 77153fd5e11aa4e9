/** Turns client, relay and protocol failures into sentences people can act on. */
import { isRelayError } from '@vaultex/client/browser';

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A human message for an error; never includes key material or message text. */
export function humanError(error: unknown): string {
  if (isRelayError(error)) {
    switch (error.apiCode) {
      case 'RATE_LIMITED':
        return error.retryAfter !== undefined
          ? `Too many requests. Please wait ${error.retryAfter} s and try again.`
          : 'Too many requests. Please wait a moment and try again.';
      case 'UNAVAILABLE':
        return 'The server is busy or restarting. Your messages will be sent when it is back.';
      case 'NOT_FOUND':
        return 'That is no longer on the server (files expire after some time).';
      case 'PAYLOAD_TOO_LARGE':
        return 'That file is too large for the server.';
      default:
        return `The server refused the request (${error.apiCode}).`;
    }
  }
  switch (codeOf(error)) {
    case 'NETWORK_ERROR':
      return 'The server cannot be reached. Check your connection; messages are kept and sent when it is back.';
    case 'WRONG_PASSPHRASE':
      return 'Wrong PIN.';
    case 'UNTRUSTED_IDENTITY':
      return "This contact's safety number changed. Compare it again before sending.";
    case 'INVALID_SEED_PHRASE':
      return 'That is not a valid seed phrase: it must be the 24 words you wrote down, in order.';
    case 'INVALID_CONTACT_CODE':
      return 'That contact code is not valid. Ask for it again and paste it whole.';
    case 'INVALID_ARGUMENT':
      return (error as Error).message.includes('own contact code')
        ? 'That is your own contact code.'
        : 'That input is not valid.';
    case 'ATTACHMENT_TOO_LARGE':
      return 'That file is too large to send through this server. Try a smaller one.';
    case 'ATTACHMENT_CORRUPT':
      return 'That file arrived damaged or was altered, so it was not opened. Ask for it again.';
    case 'GROUP_FORBIDDEN':
      return 'Only a group admin can do that, and only members can write to a group.';
    case 'MESSAGE_FORBIDDEN':
      return 'You can only edit or delete your own messages, and not after they were deleted.';
    case 'CONTACT_BLOCKED':
      return 'This contact is blocked. Unblock them to send messages.';
    case 'NOT_FOUND':
      return 'That is no longer available (a file expires on the server after some time).';
    case 'STORAGE_FAILED':
      return 'This browser cannot store data here (private mode or storage disabled).';
    default:
      return 'Something went wrong. Please try again.';
  }
}

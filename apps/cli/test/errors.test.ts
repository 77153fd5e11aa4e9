import { CLI_ERROR_CODES, CliError, describeError, EXIT, pickContact } from '@vaultex/cli';
import { CLIENT_ERROR_CODES, ClientError, type ClientErrorCode, type ContactView } from '@vaultex/client';
import { InvalidSeedPhraseError } from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';

describe('error messages', () => {
  it('every client error code has a one-line message that says what to do next', () => {
    for (const code of Object.keys(CLIENT_ERROR_CODES) as ClientErrorCode[]) {
      const p = describeError(new ClientError(code, 'detail'), { command: 'vaultex', contact: 'bob', profile: 'p' });
      expect(p.code).toBe(code);
      expect(p.message).not.toMatch(/\n/u);
      // Advice: a command to run, or a verb telling what to do.
      expect(p.message, code).toMatch(/`vaultex|retry|Retry|report|Check|Upgrade|Choose|Ask|Restore|Link/u);
      expect(Object.values(EXIT)).toContain(p.exit);
      // Only misuse of the store by vaultex itself is a bug; every other code has its own advice.
      if (code !== 'STORE_CLOSED' && code !== 'TRANSACTION_CLOSED') expect(p.exit, code).not.toBe(EXIT.INTERNAL);
    }
  });

  it('the key-change message names the contact and both commands', () => {
    const p = describeError(new ClientError('UNTRUSTED_IDENTITY', 'x'), { command: 'vaultex', contact: 'bob' });
    expect(p.message).toBe(
      "Bob's safety number changed. Compare it (`vaultex verify bob`) and run `vaultex contact accept-key bob` if it is really them.",
    );
    expect(p.exit).toBe(EXIT.TRUST);
  });

  it('exit codes by kind', () => {
    expect(describeError(new ClientError('NETWORK_ERROR', 'x')).exit).toBe(EXIT.NETWORK);
    expect(describeError(new ClientError('NO_PROFILE', 'x')).exit).toBe(EXIT.NOT_FOUND);
    expect(describeError(new ClientError('WRONG_PASSPHRASE', 'x')).exit).toBe(EXIT.PROFILE);
    expect(describeError(new InvalidSeedPhraseError('bad')).exit).toBe(EXIT.USAGE);
    expect(describeError(new Error('boom'))).toMatchObject({ code: 'INTERNAL', exit: EXIT.INTERNAL });
    for (const code of Object.keys(CLI_ERROR_CODES) as (keyof typeof CLI_ERROR_CODES)[]) {
      expect(describeError(new CliError(code, 'm')).code).toBe(code);
    }
  });
});

describe('naming contacts', () => {
  const contact = (accountId: string, displayName: string) => ({ accountId, displayName }) as ContactView;
  const list = [
    contact('aaaa1111aaaa1111aaaa1111aaaa1111', 'Bob'),
    contact('aaaa2222aaaa2222aaaa2222aaaa2222', 'Bobby'),
    contact('bbbb3333bbbb3333bbbb3333bbbb3333', 'Carol'),
  ];

  it('by exact name (case-insensitive) before prefixes', () => {
    expect(pickContact(list, 'bob').displayName).toBe('Bob');
    expect(pickContact(list, 'BOBBY').displayName).toBe('Bobby');
    expect(pickContact(list, 'car').displayName).toBe('Carol');
  });

  it('by id, formatted id or id prefix', () => {
    expect(pickContact(list, 'bbbb3333bbbb3333bbbb3333bbbb3333').displayName).toBe('Carol');
    expect(pickContact(list, 'BBBB·3333').displayName).toBe('Carol');
    expect(pickContact(list, 'aaaa2').displayName).toBe('Bobby');
  });

  it('refuses ambiguous and unknown names with advice', () => {
    expect(() => pickContact(list, 'aaaa')).toThrow(/several contacts/u);
    expect(() => pickContact(list, 'dave')).toThrow(/contact add/u);
    try {
      pickContact(list, 'dave');
    } catch (e) {
      expect(describeError(e).exit).toBe(EXIT.NOT_FOUND);
    }
  });
});

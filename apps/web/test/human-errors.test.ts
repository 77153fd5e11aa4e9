/** The web app's error sentences: each condition the brief names gets an actionable message. */
import { ClientError, RelayError } from '@vaultex/client/browser';
import { InvalidSeedPhraseError } from '@vaultex/protocol';
import { describe, expect, it } from 'vitest';
import { humanError } from '../src/lib/errors.js';

describe('humanError', () => {
  it('says how long to wait when rate-limited', () => {
    const e = new RelayError({ code: 'RATE_LIMITED', message: 'slow down', retryAfter: 42 }, 429);
    expect(humanError(e)).toBe('Too many requests. Please wait 42 s and try again.');
    const bare = new RelayError({ code: 'RATE_LIMITED', message: 'slow down' }, 429);
    expect(humanError(bare)).toMatch(/wait a moment/u);
  });

  it('explains an unreachable server and that messages are kept', () => {
    expect(humanError(new ClientError('NETWORK_ERROR', 'fetch failed'))).toMatch(/cannot be reached.*kept/u);
  });

  it('warns about a changed safety number', () => {
    expect(humanError(new ClientError('UNTRUSTED_IDENTITY', 'pinned key differs'))).toMatch(/safety number changed/u);
  });

  it('names a wrong PIN and a bad seed phrase', () => {
    expect(humanError(new ClientError('WRONG_PASSPHRASE', 'x'))).toBe('Wrong PIN.');
    expect(humanError(new InvalidSeedPhraseError('bad'))).toMatch(/24 words/u);
  });

  it('explains file, group and message refusals', () => {
    expect(humanError(new ClientError('ATTACHMENT_TOO_LARGE', '999 bytes'))).toMatch(/too large/u);
    expect(humanError(new ClientError('ATTACHMENT_CORRUPT', 'tag'))).toMatch(/damaged or was altered/u);
    expect(humanError(new ClientError('GROUP_FORBIDDEN', 'x'))).toMatch(/group admin/u);
    expect(humanError(new ClientError('MESSAGE_FORBIDDEN', 'x'))).toMatch(/your own messages/u);
    expect(humanError(new RelayError({ code: 'NOT_FOUND', message: 'gone' }, 404))).toMatch(/no longer on the server/u);
  });

  it('never echoes an unknown error message', () => {
    expect(humanError(new Error('secret plaintext'))).not.toContain('secret');
    expect(humanError('weird')).toBe('Something went wrong. Please try again.');
  });
});

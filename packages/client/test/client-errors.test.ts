import { CLIENT_ERROR_CODES, ClientError, isClientError } from '@vaultex/client';
import { describe, expect, it } from 'vitest';

describe('client error registry', () => {
  it.each(Object.entries(CLIENT_ERROR_CODES))('%s is documented with one sentence', (code, doc) => {
    expect(code).toMatch(/^[A-Z][A-Z_]*[A-Z]$/u);
    expect(doc).toMatch(/^[A-Z].{20,}\.$/u);
  });

  it('narrows by code', () => {
    const e = new ClientError('WRONG_PASSPHRASE', 'no');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ClientError');
    expect(isClientError(e)).toBe(true);
    expect(isClientError(e, 'WRONG_PASSPHRASE')).toBe(true);
    expect(isClientError(e, 'STORE_CLOSED')).toBe(false);
    expect(isClientError(new Error('x'))).toBe(false);
  });
});

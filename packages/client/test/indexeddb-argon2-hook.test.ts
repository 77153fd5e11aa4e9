/**
 * The IndexedDB store's optional asynchronous `argon2id` hook (the web app's Web Worker):
 * it receives the NFKC-normalised passphrase and the stored salt and cost, and a profile
 * created through it opens without it (same key) and the other way round.
 */
import { isClientError } from '@vaultex/client';
import { openIndexedDbStore } from '@vaultex/client/browser';
import { type Argon2Params, nobleProvider, utf8ToBytes } from '@vaultex/protocol';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';

const TINY = { t: 1, m: 64, p: 1 };

describe('openIndexedDbStore argon2id hook', () => {
  it('derives the same key as the built-in path, with the normalised passphrase', async () => {
    const factory = new IDBFactory();
    const calls: { password: Uint8Array; salt: Uint8Array; params: Argon2Params }[] = [];
    const hook = async (password: Uint8Array, salt: Uint8Array, params: Argon2Params) => {
      calls.push({ password: password.slice(), salt: salt.slice(), params });
      return nobleProvider.argon2id(password, salt, params);
    };
    // "Å" as A + combining ring: NFKC turns it into the single code point.
    const passphrase = 'A\u030a-pin-123';
    const created = await openIndexedDbStore({
      name: 'p',
      passphrase,
      argon2: TINY,
      argon2id: hook,
      indexedDB: factory,
      IDBKeyRange,
    });
    await created.close();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.password).toEqual(utf8ToBytes('\u00c5-pin-123'));
    expect(calls[0]!.salt).toHaveLength(16);
    expect(calls[0]!.params).toEqual({ ...TINY, dkLen: 32 });
    // Without the hook, the same passphrase opens it; a wrong one through the hook does not.
    const plain = await openIndexedDbStore({ name: 'p', passphrase, indexedDB: factory, IDBKeyRange });
    await plain.close();
    const wrong = await openIndexedDbStore({
      name: 'p',
      passphrase: 'other',
      argon2id: hook,
      indexedDB: factory,
      IDBKeyRange,
    }).catch((e: unknown) => e);
    expect(isClientError(wrong, 'WRONG_PASSPHRASE')).toBe(true);
  });

  it('refuses a hook that returns the wrong length or is not a function', async () => {
    const factory = new IDBFactory();
    const short = await openIndexedDbStore({
      name: 'q',
      passphrase: 'pin',
      argon2: TINY,
      argon2id: async () => new Uint8Array(16),
      indexedDB: factory,
      IDBKeyRange,
    }).catch((e: unknown) => e);
    expect(isClientError(short, 'INVALID_ARGUMENT')).toBe(true);
    const notFn = await openIndexedDbStore({
      name: 'r',
      passphrase: 'pin',
      argon2: TINY,
      argon2id: 'nope' as unknown as () => Promise<Uint8Array>,
      indexedDB: factory,
      IDBKeyRange,
    }).catch((e: unknown) => e);
    expect(isClientError(notFn, 'INVALID_ARGUMENT')).toBe(true);
  });
});

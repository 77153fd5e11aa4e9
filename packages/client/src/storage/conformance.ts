/**
 * The storage conformance suite: every {@link ClientStore} adapter must pass it. It is
 * runtime-neutral and framework-neutral: the caller passes `describe`/`it`/`expect`, so
 * the same suite runs under Vitest in Node (memory, SQLCipher) and inside a browser test
 * bundle (IndexedDB in Chromium).
 *
 * @example
 * import { describe, expect, it } from 'vitest';
 * runStoreConformance('memory', openMemoryStore, { describe, it, expect });
 */
import type { ClientStore } from './client-store.js';
import { backupTests } from './conformance-backup.js';
import { behaviourTests } from './conformance-behaviour.js';
import { messageTests } from './conformance-messages.js';
import { recordTests } from './conformance-records.js';
import { type ConformanceOptions, type ConformanceTestApi, makeSuite } from './conformance-support.js';

export type { ConformanceMatchers, ConformanceOptions, ConformanceTestApi } from './conformance-support.js';

/**
 * Register the conformance tests for one adapter.
 * @param name - shown in the test names, e.g. 'sqlcipher'.
 * @param open - opens a fresh, empty store (called once per test).
 * @param t - the test framework's `describe`, `it` and `expect`.
 * @param options - adapter extras, e.g. `reopen` for persistence checks.
 */
export function runStoreConformance(
  name: string,
  open: () => Promise<ClientStore>,
  t: ConformanceTestApi,
  options: ConformanceOptions = {},
): void {
  const suite = makeSuite(t, open, options);
  t.describe(`store conformance: ${name}`, () => {
    t.describe('records', () => recordTests(suite));
    t.describe('messages', () => messageTests(suite));
    t.describe('retention and backups', () => backupTests(suite));
    behaviourTests(suite);
  });
}

/**
 * The one skip rule of every suite that needs an outside service (PostgreSQL, Redis, nginx):
 * it runs when nothing is missing; otherwise it fails under VAULTEX_REQUIRE_ALL (CI has
 * every service) and skips, naming what is missing, when that is unset. The summary
 * reporter (summary-reporter.ts) fails any skip under VAULTEX_REQUIRE_ALL as well.
 */
import { describe, it } from 'vitest';

/**
 * Declare suite `name`: `body` runs when `missing` is empty.
 * @param missing - human names of the absent services (e.g. `VAULTEX_TEST_DATABASE_URL`).
 */
export function describeRequiring(name: string, missing: readonly string[], body: () => void): void {
  if (missing.length === 0) {
    describe(name, body);
  } else if (process.env.VAULTEX_REQUIRE_ALL !== undefined) {
    describe(name, () => {
      it('has its services', () => {
        throw new Error(`VAULTEX_REQUIRE_ALL is set but ${missing.join(' and ')} is missing`);
      });
    });
  } else {
    describe.skip(name, () => {
      it(`needs ${missing.join(' and ')}`, () => {});
    });
  }
}

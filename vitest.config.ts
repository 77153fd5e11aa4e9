import { defineConfig } from 'vitest/config';

// One runner for every workspace: each package's tests live in its own test/ folder.
export default defineConfig({
  resolve: { conditions: ['@vaultex/source'] },
  ssr: { resolve: { conditions: ['@vaultex/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});

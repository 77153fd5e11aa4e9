import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints the plain closing line CI reads ("N passed, N failed, N skipped") and, when
 * VAULTEX_REQUIRE_ALL is set, fails the run if any test was skipped: in CI every
 * dependency (PostgreSQL, Redis, Chromium) is present, so a skip means a missing part.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skippedNames: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          if (skippedNames.length < 20) skippedNames.push(`${module.moduleId}: ${test.fullName}`);
        }
      }
      if (module.state() === 'failed' && module.children.size === 0) failed++;
    }
    if (process.env.VAULTEX_REQUIRE_ALL && skipped > 0) {
      console.log(`\nVAULTEX_REQUIRE_ALL is set but ${skipped} test(s) were skipped:\n  ${skippedNames.join('\n  ')}`);
      process.exitCode = 1;
    }
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  }
}

/**
 * The client's storage conformance suite inside Chromium, against the real IndexedDB
 * (the Node run uses fake-indexeddb): a small page bundled with Vite, served by the relay,
 * reports each case back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StartedServer } from '@vaultex/server';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, SKIP_BROWSER, startRelay } from './browser-support.js';

interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

describe.skipIf(SKIP_BROWSER)('store conformance in Chromium (IndexedDB)', () => {
  let outDir: string;
  let server: StartedServer;
  let browser: Browser;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'vaultex-conformance-'));
    await build({
      configFile: false,
      root: join(import.meta.dirname, 'conformance'),
      logLevel: 'warn',
      resolve: { conditions: ['@vaultex/source'] },
      build: {
        outDir,
        emptyOutDir: true,
        target: 'es2022',
        modulePreload: { polyfill: false },
        chunkSizeWarningLimit: 2000,
      },
    });
    server = await startRelay(outDir);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('passes every case', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/`);
    await page.waitForFunction(
      () => (globalThis as { __conformance?: unknown }).__conformance !== undefined,
      undefined,
      {
        timeout: 90_000,
      },
    );
    const results = await page.evaluate(() => (globalThis as unknown as { __conformance: CaseResult[] }).__conformance);
    expect(errors).toEqual([]);
    expect(results.length).toBeGreaterThan(20);
    expect(results.filter((r) => !r.ok)).toEqual([]);
  }, 120_000);
});

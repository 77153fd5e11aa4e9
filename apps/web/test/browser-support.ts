/**
 * Shared pieces of the browser tests: build the app with Vite into a temp folder, start
 * the relay serving it, launch Chromium with playwright-core, and run axe-core on a page.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StartedServer, startServer } from '@vaultex/server';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';

/** The Chromium binary. */
export const CHROMIUM = process.env.VAULTEX_CHROMIUM ?? '/usr/bin/chromium';
/** Skip only when Chromium is absent and the run does not require every suite. */
export const SKIP_BROWSER = !existsSync(CHROMIUM) && !process.env.VAULTEX_REQUIRE_ALL;

export const WEB_ROOT = join(import.meta.dirname, '..');
/** Screenshots go to the repository's (gitignored) test-results/web. */
export const SHOTS = join(WEB_ROOT, '..', '..', 'test-results', 'web');

/** Build the app into a fresh temp folder; returns the folder. */
export async function buildApp(): Promise<string> {
  const outDir = mkdtempSync(join(tmpdir(), 'vaultex-web-'));
  await build({
    configFile: join(WEB_ROOT, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
  });
  return outDir;
}

/**
 * Build a test-only page (the folder test/<folder>) into `<outDir>/<path>/`, so the relay
 * serves it at /<path>/index.html on the app's origin (the same IndexedDB and localStorage).
 */
export async function buildTestPage(outDir: string, folder: string, path: string = folder): Promise<void> {
  await build({
    configFile: false,
    root: join(import.meta.dirname, folder),
    base: `/${path}/`,
    logLevel: 'warn',
    resolve: { conditions: ['@vaultex/source'] },
    build: {
      outDir: join(outDir, path),
      emptyOutDir: true,
      target: 'es2022',
      modulePreload: { polyfill: false },
      chunkSizeWarningLimit: 2000,
    },
  });
}

/** The relay on a free port, serving `webDir`, data in a temp folder removed on close. */
export async function startRelay(webDir: string): Promise<StartedServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'vaultex-web-data-'));
  const server = await startServer({
    config: { port: 0, host: '127.0.0.1', dataDir, metricsPort: -1, logLevel: 'silent', webDir },
  });
  return {
    ...server,
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The built app served by the relay, and a Chromium: what every browser suite starts from. */
export interface WebRig {
  /** The build's folder, which the relay serves. */
  readonly outDir: string;
  readonly server: StartedServer;
  readonly browser: Browser;
  /** Close the browser and the relay, and remove the build. */
  close(): Promise<void>;
}

/**
 * Build the app, let `prepare` add to the build (test pages), start the relay on it and launch
 * Chromium. What was already started is stopped again when a later step fails.
 */
export async function startWebRig(prepare?: (outDir: string) => Promise<void>): Promise<WebRig> {
  const outDir = await buildApp();
  const removeBuild = () => rmSync(outDir, { recursive: true, force: true });
  let server: StartedServer | undefined;
  try {
    await prepare?.(outDir);
    const relay = await startRelay(outDir);
    server = relay;
    const browser = await launchChromium();
    return {
      outDir,
      server: relay,
      browser,
      async close() {
        await browser.close();
        await relay.close();
        removeBuild();
      },
    };
  } catch (e) {
    await server?.close();
    removeBuild();
    throw e;
  }
}

/** Chromium, headless; `extraArgs` adds switches (e.g. a fake camera fed from a Y4M file). */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      ...extraArgs,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** One axe-core finding. */
export interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  /** CSS selectors of the offending elements. */
  readonly targets: string[];
}

/**
 * Run axe-core on the page; returns the serious and critical violations. The script is
 * evaluated through the debugging protocol, which the page's CSP does not govern.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    type Axe = {
      run(
        ctx: Document,
        opts: object,
      ): Promise<{
        violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
      }>;
    };
    const axe = (globalThis as unknown as { axe: Axe }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  });
}

/** Save a screenshot as test-results/web/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

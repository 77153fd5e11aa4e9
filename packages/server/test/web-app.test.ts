/**
 * The relay serves the built web app (config.webDir) from memory with a strict CSP, and
 * falls back to its placeholder page without one; API routes and 404s are unchanged.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support.js';

const INDEX = '<!doctype html><title>app</title><script type="module" src="/assets/index-abc.js"></script>';

describe('web app serving', () => {
  let webDir: string;
  let server: TestServer;
  let plain: TestServer;

  beforeAll(async () => {
    webDir = mkdtempSync(join(tmpdir(), 'vaultex-webdir-'));
    mkdirSync(join(webDir, 'assets'));
    writeFileSync(join(webDir, 'index.html'), INDEX);
    writeFileSync(join(webDir, 'assets', 'index-abc.js'), 'console.log(1)');
    writeFileSync(join(webDir, 'manifest.webmanifest'), '{}');
    server = await startTestServer({ webDir });
    plain = await startTestServer({ webDir: join(webDir, 'missing') });
  });

  afterAll(async () => {
    await server?.close();
    await plain?.close();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('serves index.html at / with the CSP and no caching', async () => {
    const res = await fetch(`${server.url}/?x=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
        "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(INDEX);
  });

  it('serves hashed assets as immutable, with their types', async () => {
    const js = await fetch(`${server.url}/assets/index-abc.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toBe('console.log(1)');
    const manifest = await fetch(`${server.url}/manifest.webmanifest`);
    expect(manifest.headers.get('content-type')).toBe('application/manifest+json; charset=utf-8');
  });

  it('serves nothing outside the loaded files; API routes and 404s are unchanged', async () => {
    for (const path of ['/assets/../index.html', '/%2e%2e/package.json', '/assets/missing.js', '/etc/passwd']) {
      const res = await fetch(`${server.url}${path}`);
      if (res.status === 200) expect(await res.text()).toBe(INDEX);
      else expect(res.status).toBe(404);
    }
    const post = await fetch(`${server.url}/assets/index-abc.js`, { method: 'POST' });
    expect(post.status).toBe(404);
    const ping = await fetch(`${server.url}/ping`);
    expect(((await ping.json()) as { service: string }).service).toBeTypeOf('string');
  });

  it('shows the placeholder page when the directory has no build', async () => {
    const res = await fetch(`${plain.url}/`);
    expect(await res.text()).toContain('VAULTEX relay is running');
    expect((await fetch(`${plain.url}/assets/index-abc.js`)).status).toBe(404);
  });
});

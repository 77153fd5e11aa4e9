/**
 * The built web app (apps/web/dist), served from memory: read once at start, so a request
 * never touches the file system and no path from a URL is ever joined to a directory.
 * Every file gets a strict Content-Security-Policy; hashed assets are cached for a year,
 * the shell files (index.html, sw.js, manifest) are revalidated.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';

/** The policy the web app is built for: no inline script or style, no third-party origin. */
export const WEB_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/** One file of the app. */
export interface WebFile {
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

/** The app's files by URL path (`/`, `/assets/index-ab12.js`, ...). */
export type WebApp = ReadonlyMap<string, WebFile>;

function headersFor(path: string): Record<string, string> {
  const immutable = path.startsWith('/assets/');
  return {
    'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
    'content-security-policy': WEB_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
}

function walk(dir: string, root: string, out: Map<string, WebFile>): void {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      walk(full, root, out);
      continue;
    }
    const path = `/${relative(root, full).split(sep).join('/')}`;
    out.set(path, { body: readFileSync(full), headers: headersFor(path) });
  }
}

/**
 * Load a built web app directory; undefined when it does not exist or has no index.html
 * (the relay then serves its placeholder page).
 */
export function loadWebApp(dir: string | undefined): WebApp | undefined {
  if (!dir || !existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, WebFile>();
  walk(dir, dir, files);
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}

/** The file for a request URL (query string ignored), or undefined. */
export function webFile(app: WebApp | undefined, url: string): WebFile | undefined {
  if (!app) return undefined;
  const q = url.indexOf('?');
  return app.get(q >= 0 ? url.slice(0, q) : url);
}

/**
 * Adds `integrity="sha384-…"` to every same-origin script, module preload and stylesheet
 * tag of the built index.html, after the files are written (so the hash is of the bytes
 * the server serves).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

/** sha384 of a file, in SRI form. */
export function sriHash(bytes: Uint8Array): string {
  return `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
}

/** Add integrity attributes to the tags of `html` whose files live in `outDir`. */
export function addIntegrity(html: string, outDir: string): string {
  return html.replace(
    /<(script|link)\b([^>]*?)\s(src|href)="(\/[^"]+)"([^>]*)>/gu,
    (tag, name, before, attr, url, after) => {
      if (/\sintegrity=/u.test(tag)) return tag;
      if (name === 'link' && !/rel="(stylesheet|modulepreload)"/u.test(tag)) return tag;
      const file = join(outDir, url.split('?')[0] ?? url);
      if (!existsSync(file)) return tag;
      return `<${name}${before} ${attr}="${url}"${after} integrity="${sriHash(readFileSync(file))}">`.replace(
        /\s+>$/u,
        '>',
      );
    },
  );
}

/** The Vite plugin. */
export function subresourceIntegrity(): Plugin {
  let outDir = '';
  return {
    name: 'vaultex-sri',
    apply: 'build',
    enforce: 'post',
    configResolved(config) {
      outDir = join(config.root, config.build.outDir);
    },
    writeBundle(options) {
      const dir = options.dir ?? outDir;
      const index = join(dir, 'index.html');
      if (!existsSync(index)) return;
      writeFileSync(index, addIntegrity(readFileSync(index, 'utf8'), dir));
    },
  };
}

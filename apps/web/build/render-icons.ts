/**
 * Render the PWA's PNG icons from the SVG sources, once, with Chromium through
 * playwright-core; the PNG files are committed next to the SVGs in public/ (installability
 * on Chromium and Android wants raster icons of 192 and 512 px, and a maskable one).
 *
 * Run: `npx tsx apps/web/build/render-icons.ts` (VAULTEX_CHROMIUM for another binary).
 * Chromium's rasteriser is deterministic for a given version, so a re-run changes nothing
 * unless the SVGs (or Chromium) change.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const PUBLIC = join(import.meta.dirname, '..', 'public');
const ICONS = [
  { svg: 'icon.svg', png: 'icon-192.png', size: 192 },
  { svg: 'icon.svg', png: 'icon-512.png', size: 512 },
  { svg: 'icon-maskable.svg', png: 'icon-maskable-512.png', size: 512 },
] as const;

const browser = await chromium.launch({
  executablePath: process.env.VAULTEX_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  for (const icon of ICONS) {
    const page = await browser.newPage({ viewport: { width: icon.size, height: icon.size }, deviceScaleFactor: 1 });
    const svg = readFileSync(join(PUBLIC, icon.svg), 'base64');
    await page.setContent(
      `<html><body style="margin:0;background:transparent"><img src="data:image/svg+xml;base64,${svg}" width="${icon.size}" height="${icon.size}" style="display:block"></body></html>`,
    );
    await page.waitForFunction(() => document.images[0]?.complete);
    writeFileSync(join(PUBLIC, icon.png), await page.screenshot({ omitBackground: true, type: 'png' }));
    await page.close();
    console.log(`${icon.png}: ${icon.size}x${icon.size}`);
  }
} finally {
  await browser.close();
}

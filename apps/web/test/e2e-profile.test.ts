/**
 * Profile pictures in real Chromium against an in-process relay: Alice picks a PNG (drawn in
 * the test) in Settings -> Profile; the app resizes it to a 128 px avatar and pushes it
 * end-to-end encrypted; Bob's conversation list then shows it as an image instead of her
 * initials. Removing it brings the initials back. axe-core must find no serious violation in
 * the settings panel. Screenshots go to test-results/web/profile-*.png.
 */
import { rmSync } from 'node:fs';
import type { StartedServer } from '@vaultex/server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, launchChromium, SKIP_BROWSER, seriousViolations, shot, startRelay } from './browser-support.js';

const T = 30_000;

interface Person {
  context: BrowserContext;
  page: Page;
  name: string;
  pageErrors: string[];
}

async function person(browser: Browser, url: string, name: string): Promise<Person> {
  const context = await browser.newContext({ baseURL: url, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const p: Person = { context, page, name, pageErrors: [] };
  page.on('pageerror', (e) => p.pageErrors.push(e.message));
  return p;
}

/** Create an account (seed phrase confirmed). */
async function onboard(p: Person): Promise<void> {
  const { page } = p;
  const pin = `${p.name.length}73915286`;
  await page.goto('/');
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByLabel('Display name').fill(p.name);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('#pin').fill(pin);
  await page.locator('#pin-again').fill(pin);
  await page.getByRole('button', { name: 'Continue' }).click();
  const words = page.getByTestId('seed-word');
  await words.first().waitFor({ timeout: 60_000 });
  const seed = await words.allTextContents();
  await page.getByRole('button', { name: 'I wrote them down' }).click();
  const inputs = page.locator('input[data-position]');
  for (let i = 0; i < 3; i++) {
    const position = Number(await inputs.nth(i).getAttribute('data-position'));
    await inputs.nth(i).fill(seed[position - 1]!);
  }
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('button', { name: 'Contacts and my code' }).waitFor({ timeout: T });
}

async function openContacts(p: Person): Promise<void> {
  if (!(await p.page.locator('#add-code').isVisible())) {
    await p.page.getByRole('button', { name: 'Contacts and my code' }).click();
  }
}

async function myCode(p: Person): Promise<string> {
  await openContacts(p);
  const code = await p.page.getByLabel('My contact code', { exact: true }).inputValue();
  await p.page.keyboard.press('Escape');
  return code;
}

async function addContact(p: Person, code: string, name: string): Promise<void> {
  await openContacts(p);
  await p.page.locator('#add-code').fill(code);
  await p.page.getByRole('button', { name: 'Add contact' }).click();
  await p.page.getByRole('heading', { name }).waitFor({ timeout: T });
}

describe.skipIf(SKIP_BROWSER)('profile pictures in Chromium', () => {
  let outDir: string;
  let server: StartedServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    outDir = await buildApp();
    server = await startRelay(outDir);
    browser = await launchChromium();
    alice = await person(browser, server.url, 'Alice');
    bob = await person(browser, server.url, 'Bob');
    await Promise.all([onboard(alice), onboard(bob)]);
    await addContact(bob, await myCode(alice), 'Alice');
    await addContact(alice, await myCode(bob), 'Bob');
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it("Alice picks a picture; Bob's conversation list shows it; removing it restores the initials", async () => {
    // A 600 x 400 PNG drawn on a canvas in the page: larger than an avatar, not square.
    const dataUrl = await alice.page.evaluate(() => {
      const c = document.createElement('canvas');
      c.width = 600;
      c.height = 400;
      const g = c.getContext('2d')!;
      g.fillStyle = '#d03030';
      g.fillRect(0, 0, 600, 400);
      g.fillStyle = '#2040c0';
      g.fillRect(200, 100, 200, 200);
      return c.toDataURL('image/png');
    });
    const png = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
    expect([...png.subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);

    await alice.page.getByRole('button', { name: 'Settings', exact: true }).click();
    await alice.page
      .getByLabel('Profile picture')
      .setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
    await alice.page.getByText('Profile picture saved.').waitFor({ timeout: T });
    const mine = alice.page.locator('.avatar-picker [data-testid="avatar-image"]');
    await mine.waitFor({ timeout: T });
    expect(await mine.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([128, 128]);
    const violations = await seriousViolations(alice.page);
    expect(violations, JSON.stringify(violations)).toEqual([]);
    await shot(alice.page, 'profile-01-settings-avatar');

    const list = bob.page.getByRole('navigation', { name: 'Conversations' });
    const theirs = list.getByTestId('avatar-image');
    await theirs.waitFor({ timeout: T });
    const seen = await theirs.evaluate((img: HTMLImageElement) => ({
      src: img.src,
      size: [img.naturalWidth, img.naturalHeight],
      row: img.closest('button')?.textContent ?? '',
    }));
    expect(seen.src.startsWith('blob:')).toBe(true);
    expect(seen.size).toEqual([128, 128]);
    expect(seen.row).toContain('Alice');
    await shot(bob.page, 'profile-02-bob-list');

    await alice.page.getByRole('button', { name: 'Remove picture' }).click();
    await alice.page.getByText('Profile picture removed.').waitFor({ timeout: T });
    await list.getByTestId('avatar-image').waitFor({ state: 'detached', timeout: T });
    expect(await list.locator('.avatar').first().textContent()).toBe('A');
    expect(alice.pageErrors).toEqual([]);
    expect(bob.pageErrors).toEqual([]);
  }, 60_000);
});

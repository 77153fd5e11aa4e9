/**
 * The web app end to end in real Chromium against an in-process relay serving the built
 * app: two people onboard, exchange contact codes, chat both ways, compare safety numbers,
 * one goes offline and catches up, a reload (offline: the service worker's shell) asks for the
 * PIN and keeps the history; a stranger's message request; a restore from the seed phrase. One of
 * them uses a phone viewport. Screenshots of each screen go to test-results/web; axe-core
 * must find no serious or critical violation; the page must raise no CSP violation.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { StartedServer } from '@vaultex/server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, launchChromium, SKIP_BROWSER, seriousViolations, shot, startRelay } from './browser-support.js';

const T = 30_000;

interface Person {
  context: BrowserContext;
  page: Page;
  name: string;
  pin: string;
  cspErrors: string[];
  pageErrors: string[];
}

async function person(browser: Browser, url: string, name: string, phone: boolean): Promise<Person> {
  const context = await browser.newContext({
    baseURL: url,
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  const p: Person = { context, page, name, pin: `${name.length}48213579`, cspErrors: [], pageErrors: [] };
  page.on('console', (m) => {
    if (/Content Security Policy/iu.test(m.text())) p.cspErrors.push(m.text());
  });
  page.on('pageerror', (e) => p.pageErrors.push(e.message));
  return p;
}

async function onboard(p: Person, shots: boolean): Promise<string[]> {
  const { page } = p;
  await page.goto('/');
  await page.getByRole('button', { name: 'Create account' }).click();
  if (shots) await shot(page, '01-welcome-name');
  await page.getByLabel('Display name').fill(p.name);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('#pin').fill(p.pin);
  await page.locator('#pin-again').fill(p.pin);
  if (shots) await shot(page, '02-pin');
  await page.getByRole('button', { name: 'Continue' }).click();
  const words = page.getByTestId('seed-word');
  await words.first().waitFor({ timeout: 60_000 });
  const seed = await words.allTextContents();
  expect(seed).toHaveLength(24);
  if (shots) await shot(page, '03-seed-phrase');
  await page.getByRole('button', { name: 'I wrote them down' }).click();
  const inputs = page.locator('input[data-position]');
  expect(await inputs.count()).toBe(3);
  // A wrong answer is refused first.
  await inputs.nth(0).fill('wrong');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
  for (let i = 0; i < 3; i++) {
    const position = Number(await inputs.nth(i).getAttribute('data-position'));
    await inputs.nth(i).fill(seed[position - 1]!);
  }
  if (shots) await shot(page, '04-seed-confirm');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('button', { name: 'Contacts and my code' }).waitFor();
  return seed;
}

async function myUserId(p: Person): Promise<string> {
  // At phone width the open chat hides the sidebar.
  const back = p.page.getByRole('button', { name: 'Back to conversations' });
  if (await back.isVisible()) await back.click();
  const open = await p.page.locator('#add-code').isVisible();
  if (!open) await p.page.getByRole('button', { name: 'Contacts and my code' }).click();
  const text = await p.page.getByText(/^User ID:/u).textContent();
  await p.page.keyboard.press('Escape');
  return text ?? '';
}

async function myCode(p: Person): Promise<string> {
  await p.page.getByRole('button', { name: 'Contacts and my code' }).click();
  const code = await p.page.getByLabel('My contact code', { exact: true }).inputValue();
  expect(code).toMatch(/^vaultex:\/\/contact\?/u);
  return code;
}

async function addCode(p: Person, code: string): Promise<void> {
  const panelOpen = await p.page.locator('#add-code').isVisible();
  if (!panelOpen) await p.page.getByRole('button', { name: 'Contacts and my code' }).click();
  await p.page.locator('#add-code').fill(code);
  await p.page.getByRole('button', { name: 'Add contact' }).click();
}

async function sendText(p: Person, text: string): Promise<void> {
  const box = p.page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await expect.poll(() => box.inputValue()).toBe('');
}

function bubble(p: Person, direction: 'in' | 'out', text: string) {
  return p.page.getByTestId(`bubble-${direction}`).filter({ hasText: text });
}

async function safetyDigits(p: Person): Promise<string> {
  await p.page.getByRole('button', { name: 'Contact info' }).click();
  const sn = p.page.getByTestId('safety-number');
  await sn.waitFor();
  const groups = await sn.locator('span').allTextContents();
  expect(groups).toHaveLength(12);
  for (const g of groups) expect(g).toMatch(/^\d{5}$/u);
  return groups.join('');
}

async function expectAccessible(p: Person, what: string): Promise<void> {
  const violations = await seriousViolations(p.page);
  expect(violations, `${what}: ${JSON.stringify(violations)}`).toEqual([]);
}

describe.skipIf(SKIP_BROWSER)('web app in Chromium', () => {
  let outDir: string;
  let server: StartedServer;
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let bobSeed: string[];

  beforeAll(async () => {
    outDir = await buildApp();
    server = await startRelay(outDir);
    browser = await launchChromium();
    alice = await person(browser, server.url, 'Alice', false);
    bob = await person(browser, server.url, 'Bob', true);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('serves the app with a strict CSP and SRI-pinned assets', async () => {
    const res = await fetch(`${server.url}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    const html = await res.text();
    const tags = html.match(/<(script|link rel="stylesheet")[^>]*>/gu) ?? [];
    expect(tags.length).toBeGreaterThanOrEqual(2);
    for (const tag of tags) expect(tag).toMatch(/integrity="sha384-[A-Za-z0-9+/]{64}"/u);
    const manifest = await fetch(`${server.url}/manifest.webmanifest`);
    expect(manifest.headers.get('content-type')).toContain('application/manifest+json');
    expect((await fetch(`${server.url}/sw.js`)).status).toBe(200);
    // The initial JavaScript stays within its budget (docs/PERFORMANCE.md "Web app").
    const scripts = [...html.matchAll(/<script[^>]*src="([^"]+)"/gu)].map((m) => m[1]!);
    const gzipped = scripts.reduce((n, src) => n + gzipSync(readFileSync(join(outDir, src)), { level: 9 }).length, 0);
    expect(gzipped).toBeGreaterThan(0);
    expect(gzipped).toBeLessThanOrEqual(250 * 1024);
    // API routes are untouched.
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });

  it('both onboard (seed phrase confirmed, PIN) and the welcome screen is accessible', async () => {
    await alice.page.goto('/');
    await alice.page.getByRole('button', { name: 'Create account' }).waitFor();
    await shot(alice.page, '00-welcome');
    await expectAccessible(alice, 'welcome');
    [, bobSeed] = await Promise.all([onboard(alice, true), onboard(bob, false)]);
    await shot(alice.page, '05-main-empty');
    await expectAccessible(alice, 'main (empty)');
  }, 120_000);

  it('exchange contact codes and chat both ways with ticks and typing', async () => {
    const aliceCode = await myCode(alice);
    await shot(alice.page, '06-contacts-my-code');
    await expectAccessible(alice, 'contacts panel');
    const bobCode = await myCode(bob);
    await shot(bob.page, 'phone-01-contacts');
    await addCode(alice, bobCode);
    await addCode(bob, aliceCode);
    await alice.page.getByRole('heading', { name: 'Bob' }).waitFor();
    await bob.page.getByRole('heading', { name: 'Alice' }).waitFor();

    await sendText(alice, 'Hello Bob, this is end to end');
    await bubble(bob, 'in', 'Hello Bob, this is end to end').waitFor({ timeout: T });
    // Bob has the chat open: the message is read and Alice sees it.
    await alice.page
      .getByTestId('bubble-out')
      .filter({ hasText: 'Hello Bob' })
      .locator('[data-status="delivered"], [data-status="read"]')
      .waitFor({ timeout: T });

    await bob.page.getByRole('textbox', { name: 'Message' }).pressSequentially('Hi Al');
    await alice.page.getByTestId('typing').waitFor({ timeout: T });
    await sendText(bob, 'Hi Alice! Got it.');
    await bubble(alice, 'in', 'Hi Alice! Got it.').waitFor({ timeout: T });
    await expect.poll(() => alice.page.getByTestId('typing').count(), { timeout: T }).toBe(0);
    await shot(alice.page, '07-chat');
    await shot(bob.page, 'phone-02-chat');
    await expectAccessible(alice, 'chat');
    await expectAccessible(bob, 'chat (phone)');
  }, 120_000);

  it('both show the same 60-digit safety number', async () => {
    const a = await safetyDigits(alice);
    const b = await safetyDigits(bob);
    expect(a).toMatch(/^\d{60}$/u);
    expect(a).toBe(b);
    await alice.page.getByLabel('Marked as verified').check();
    await alice.page.getByText('Verified', { exact: true }).waitFor();
    await shot(alice.page, '08-info-safety-number');
    await shot(bob.page, 'phone-03-info');
    await expectAccessible(alice, 'info panel');
    await expectAccessible(bob, 'info panel (phone)');
    // Esc closes the panel.
    await alice.page.keyboard.press('Escape');
    await bob.page.keyboard.press('Escape');
    await expect.poll(() => alice.page.getByTestId('safety-number').count()).toBe(0);
  });

  it('offline: messages both ways arrive when the connection is back', async () => {
    await alice.context.setOffline(true);
    await alice.page.getByTestId('status').filter({ hasText: 'offline' }).waitFor({ timeout: T });
    await sendText(alice, 'Written while offline');
    await sendText(bob, 'Sent while you were away');
    await bubble(bob, 'out', 'Sent while you were away').locator('[data-status="sent"]').waitFor({ timeout: T });
    // Nothing moves while Alice is offline: her message waits in the outbox, Bob's on the relay.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await bubble(alice, 'out', 'Written while offline').locator('[data-status="pending"]').count()).toBe(1);
    expect(await bubble(alice, 'in', 'Sent while you were away').count()).toBe(0);
    expect(await bubble(bob, 'in', 'Written while offline').count()).toBe(0);
    await shot(alice.page, '09-offline');
    await alice.context.setOffline(false);
    await bubble(alice, 'in', 'Sent while you were away').waitFor({ timeout: T });
    await bubble(bob, 'in', 'Written while offline').waitFor({ timeout: T });
  }, 90_000);

  it('a reload while offline: the cached shell asks for the PIN and keeps the history', async () => {
    // The service worker controls the page and holds the shell.
    await alice.page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: T });
    await alice.context.setOffline(true);
    await alice.page.reload();
    await alice.page.getByRole('heading', { name: 'Unlock VAULTEX' }).waitFor();
    await shot(alice.page, '10-unlock');
    await expectAccessible(alice, 'unlock');
    await alice.page.locator('#unlock-pin').fill('000000');
    await alice.page.getByRole('button', { name: 'Unlock' }).click();
    await alice.page.getByRole('alert').filter({ hasText: 'Wrong PIN' }).waitFor({ timeout: T });
    await alice.page.locator('#unlock-pin').fill(alice.pin);
    await alice.page.getByRole('button', { name: 'Unlock' }).click();
    await alice.page.getByRole('button', { name: /^Bob/u }).click({ timeout: T });
    await bubble(alice, 'out', 'Hello Bob, this is end to end').waitFor({ timeout: T });
    await bubble(alice, 'in', 'Sent while you were away').waitFor();
    await alice.context.setOffline(false);
    // Connected again after the reload.
    await sendText(alice, 'Back after a reload');
    await bubble(bob, 'in', 'Back after a reload').waitFor({ timeout: T });
    // Dark theme, for the record.
    await alice.page.getByRole('button', { name: /Change theme/u }).click();
    await shot(alice.page, '11-chat-dark');
    await expectAccessible(alice, 'chat (dark)');
  }, 90_000);

  it('a stranger writes: a message request, accepted, then answered', async () => {
    const carol = await person(browser, server.url, 'Carol', false);
    await onboard(carol, false);
    const aliceCode = await myCode(alice);
    await alice.page.keyboard.press('Escape');
    await addCode(carol, aliceCode);
    await sendText(carol, 'Hi Alice, Carol here');
    const request = alice.page.getByRole('button', { name: /^Carol/u });
    await request.filter({ hasText: 'Message request' }).waitFor({ timeout: T });
    await request.getByTestId('unread').filter({ hasText: '1' }).waitFor();
    // The search filter narrows the list.
    const search = alice.page.getByRole('searchbox', { name: 'Search conversations' });
    await search.fill('car');
    await expect.poll(() => alice.page.getByRole('button', { name: /^Bob/u }).count()).toBe(0);
    expect(await request.count()).toBe(1);
    await search.fill('');
    await request.click();
    await expect.poll(() => request.getByTestId('unread').count()).toBe(0);
    await alice.page.getByRole('region', { name: 'Message request' }).waitFor();
    expect(await alice.page.getByRole('textbox', { name: 'Message' }).isDisabled()).toBe(true);
    await shot(alice.page, '12-message-request');
    await expectAccessible(alice, 'message request');
    await alice.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await sendText(alice, 'Welcome Carol');
    await bubble(carol, 'in', 'Welcome Carol').waitFor({ timeout: T });
    expect(carol.cspErrors).toEqual([]);
    await carol.context.close();
  }, 90_000);

  it("restore from the seed phrase: a new browser becomes another of Bob's devices", async () => {
    const bob2 = await person(browser, server.url, 'Bob', false);
    await bob2.page.goto('/');
    await bob2.page.getByRole('button', { name: 'Restore from seed phrase' }).click();
    await bob2.page.getByLabel('Your 24-word seed phrase').fill(bobSeed.join(' '));
    await shot(bob2.page, '13-restore');
    await bob2.page.getByRole('button', { name: 'Next' }).click();
    await bob2.page.locator('#pin').fill(bob2.pin);
    await bob2.page.locator('#pin-again').fill(bob2.pin);
    await bob2.page.getByRole('button', { name: 'Continue' }).click();
    await bob2.page.getByRole('button', { name: 'Contacts and my code' }).waitFor({ timeout: 60_000 });
    expect(await myUserId(bob2)).toBe(await myUserId(bob));
    expect(bob2.pageErrors).toEqual([]);
    await bob2.context.close();
  }, 90_000);

  it('raised no CSP violation and no page error', () => {
    expect(alice.cspErrors).toEqual([]);
    expect(bob.cspErrors).toEqual([]);
    expect(alice.pageErrors).toEqual([]);
    expect(bob.pageErrors).toEqual([]);
  });
});

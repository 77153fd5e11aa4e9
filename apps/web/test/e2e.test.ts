/**
 * The web app end to end in real Chromium against an in-process relay serving the built
 * app: two people onboard, exchange contact codes, chat both ways, compare safety numbers,
 * one goes offline and catches up, a reload (offline: the service worker's shell) asks for the
 * PIN and keeps the history; a stranger's message request; a restore from the seed phrase. One of
 * them uses a phone viewport. Screenshots of each screen go to test-results/web; axe-core
 * must find no serious or critical violation; the page must raise no CSP violation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestPage, SKIP_BROWSER, shot, startWebRig, type WebRig } from './browser-support.js';
import {
  addContact,
  bubble,
  expectAccessible,
  myCode,
  myUserId,
  onboard,
  type Person,
  person,
  sendText,
  T,
} from './web-people.js';

/** The screenshots of Alice's onboarding, by screen. */
const ONBOARDING_SHOTS = {
  name: '01-welcome-name',
  pin: '02-pin',
  seed: '03-seed-phrase',
  confirm: '04-seed-confirm',
} as const;

async function safetyDigits(p: Person): Promise<string> {
  await p.page.getByRole('button', { name: 'Contact info' }).click();
  const sn = p.page.getByTestId('safety-number');
  await sn.waitFor();
  const groups = await sn.locator('span').allTextContents();
  expect(groups).toHaveLength(12);
  for (const g of groups) expect(g).toMatch(/^\d{5}$/u);
  return groups.join('');
}

describe.skipIf(SKIP_BROWSER)('web app in Chromium', () => {
  let web: WebRig;
  let server: WebRig['server'];
  let browser: Browser;
  let alice: Person;
  let bob: Person;
  let bobSeed: string[];

  beforeAll(async () => {
    // The history seeder (test/seed) at /seed/index.html.
    web = await startWebRig((outDir) => buildTestPage(outDir, 'seed'));
    ({ server, browser } = web);
    alice = await person(browser, server.url, 'Alice');
    bob = await person(browser, server.url, 'Bob', { phone: true });
  }, 120_000);

  afterAll(async () => {
    await web?.close();
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
    const gzipped = scripts.reduce(
      (n, src) => n + gzipSync(readFileSync(join(web.outDir, src)), { level: 9 }).length,
      0,
    );
    expect(gzipped).toBeGreaterThan(0);
    expect(gzipped).toBeLessThanOrEqual(250 * 1024);
    // API routes are untouched.
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
  });

  it('both onboard (seed phrase confirmed, PIN) and the welcome screen is accessible', async () => {
    await alice.page.goto('/');
    await alice.page.getByRole('button', { name: 'Create account' }).waitFor();
    await shot(alice.page, '00-welcome');
    await expectAccessible(alice.page, 'welcome');
    [, bobSeed] = await Promise.all([
      onboard(alice, { onStep: (step, page) => shot(page, ONBOARDING_SHOTS[step]) }),
      onboard(bob),
    ]);
    await shot(alice.page, '05-main-empty');
    await expectAccessible(alice.page, 'main (empty)');
  }, 120_000);

  it('exchange contact codes and chat both ways with ticks and typing', async () => {
    const aliceCode = await myCode(alice, { keepOpen: true });
    await shot(alice.page, '06-contacts-my-code');
    await expectAccessible(alice.page, 'contacts panel');
    const bobCode = await myCode(bob, { keepOpen: true });
    await shot(bob.page, 'phone-01-contacts');
    await addContact(alice, bobCode, 'Bob');
    await addContact(bob, aliceCode, 'Alice');

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
    await expectAccessible(alice.page, 'chat');
    await expectAccessible(bob.page, 'chat (phone)');
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
    await expectAccessible(alice.page, 'info panel');
    await expectAccessible(bob.page, 'info panel (phone)');
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
    await expectAccessible(alice.page, 'unlock');
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
    await expectAccessible(alice.page, 'chat (dark)');
  }, 90_000);

  it('a stranger writes: a message request, accepted, then answered', async () => {
    const carol = await person(browser, server.url, 'Carol');
    await onboard(carol);
    await addContact(carol, await myCode(alice), 'Alice');
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
    await expectAccessible(alice.page, 'message request');
    await alice.page.getByRole('button', { name: 'Accept', exact: true }).click();
    await sendText(alice, 'Welcome Carol');
    await bubble(carol, 'in', 'Welcome Carol').waitFor({ timeout: T });
    expect(carol.cspErrors).toEqual([]);
    await carol.context.close();
  }, 90_000);

  it("restore from the seed phrase: a new browser becomes another of Bob's devices", async () => {
    const bob2 = await person(browser, server.url, 'Bob');
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

  it('10,000 messages: opens fast, renders only visible rows, scrolls back, and search finds old ones', async () => {
    const page = alice.page;
    const account = `abcdef01${'0'.repeat(24)}`;
    const count = 10_000;
    const seeder = await alice.context.newPage();
    await seeder.goto(`/seed/index.html#pin=${alice.pin}&account=${account}&count=${count}`);
    await seeder.waitForFunction(() => (globalThis as { __seeded?: unknown }).__seeded !== undefined, undefined, {
      timeout: 120_000,
    });
    const seeded = await seeder.evaluate(() => (globalThis as unknown as { __seeded: object }).__seeded);
    expect(seeded).toMatchObject({ count });
    await seeder.close();
    await page.reload();
    await page.locator('#unlock-pin').fill(alice.pin);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('button', { name: /^abcdef01/u }).waitFor({ timeout: T });

    // Time to open: from the click to the newest message in the DOM and a frame painted.
    const newest = count.toString(16).padStart(32, '0');
    const times: number[] = [];
    for (let run = 0; run < 5; run++) {
      await page.getByRole('button', { name: /^Bob/u }).click();
      await bubble(alice, 'out', 'Back after a reload').waitFor();
      times.push(
        await page.evaluate(async (id) => {
          const button = [...document.querySelectorAll<HTMLButtonElement>('button.conversation')].find((b) =>
            b.querySelector('.conversation-name')?.textContent?.startsWith('abcdef01'),
          );
          if (!button) throw new Error('no conversation button');
          const t0 = performance.now();
          button.click();
          await new Promise<void>((resolve, reject) => {
            const check = () => {
              if (document.querySelector(`[data-row="${id}"]`)) resolve();
              else if (performance.now() - t0 > 10_000) reject(new Error('the newest message never showed'));
              else requestAnimationFrame(check);
            };
            check();
          });
          await new Promise((r) => requestAnimationFrame(r));
          return performance.now() - t0;
        }, newest),
      );
    }
    times.sort((a, b) => a - b);
    const median = times[2] ?? Number.NaN;
    console.log(
      `open 10,000-message conversation: median ${median.toFixed(0)} ms, runs ${times.map((t) => t.toFixed(0)).join(' ')}`,
    );
    expect(median).toBeLessThan(300);

    const list = page.getByRole('list', { name: 'Messages' });
    const loaded = async () => Number(await list.getAttribute('data-count'));
    const rendered = () => list.locator(':scope > [data-row]').count();
    // The newest message is in view, at the bottom.
    // Every third message is ours (the seeder's i % 3 === 0), the newest among them.
    const last = bubble(alice, 'out', `needle-${count - 1}`);
    const [box, lastBox] = [await list.boundingBox(), await last.boundingBox()];
    expect(lastBox && box && lastBox.y + lastBox.height <= box.y + box.height + 1 && lastBox.y >= box.y).toBe(true);
    await shot(page, '14-long-history');
    await expectAccessible(alice.page, 'long history');

    // Scroll-back: each scroll to the top reads the page before; the DOM stays small.
    let previous = await loaded();
    expect(previous).toBeLessThan(120);
    for (let i = 0; i < 4; i++) {
      await list.evaluate((el) => {
        el.scrollTop = 0;
      });
      await expect.poll(loaded, { timeout: T }).toBeGreaterThan(previous);
      previous = await loaded();
    }
    expect(previous).toBeGreaterThanOrEqual(250);
    expect(await rendered()).toBeLessThan(60);
    await bubble(alice, 'in', `needle-${count - 200}`).waitFor({ state: 'attached', timeout: T });

    // Search the local history: an old message, then jump to it.
    const search = page.getByRole('searchbox', { name: 'Search conversations' });
    await search.fill('needle-4242');
    const hits = page.getByTestId('message-hit');
    await hits.filter({ hasText: 'needle-4242' }).waitFor({ timeout: T });
    expect(await hits.count()).toBe(1);
    await shot(page, '15-message-search');
    await expectAccessible(alice.page, 'message search');
    await hits.first().click();
    const found = page.locator('.bubble[aria-current="true"]');
    await found.filter({ hasText: 'needle-4242' }).waitFor({ timeout: T });
    const [box2, foundBox] = [await list.boundingBox(), await found.boundingBox()];
    expect(foundBox && box2 && foundBox.y >= box2.y && foundBox.y < box2.y + box2.height).toBe(true);
    expect(await loaded()).toBeGreaterThan(count - 4242);
    expect(await rendered()).toBeLessThan(60);
    await search.fill('');
    await shot(page, '16-search-hit');
  }, 180_000);

  it('links a second browser to Alice by pasting its code; it gets messages sent afterwards; revoke', async () => {
    const alice2 = await person(browser, server.url, 'Alice');
    await alice2.page.goto('/');
    await alice2.page.getByRole('button', { name: 'Link to an existing device' }).click();
    await alice2.page.locator('#pin').fill(alice2.pin);
    await alice2.page.locator('#pin-again').fill(alice2.pin);
    await alice2.page.getByRole('button', { name: 'Continue' }).click();
    const codeBox = alice2.page.getByLabel('Link code');
    await codeBox.waitFor({ timeout: 60_000 });
    const code = await codeBox.inputValue();
    expect(code.length).toBeGreaterThan(20);
    await shot(alice2.page, '17-link-code');
    await expectAccessible(alice2.page, 'link code');

    await alice.page.getByRole('button', { name: 'Devices', exact: true }).click();
    const devices = alice.page.getByTestId('device');
    await devices.first().waitFor({ timeout: T });
    expect(await devices.count()).toBe(1);
    await alice.page.locator('#link-code').fill(code);
    await alice.page.getByRole('button', { name: 'Approve device' }).click();
    await alice.page.getByText('Approved.', { exact: false }).waitFor({ timeout: T });
    await alice2.page.getByRole('button', { name: 'Contacts and my code' }).waitFor({ timeout: 60_000 });
    await expect.poll(() => devices.count(), { timeout: T }).toBe(2);
    await shot(alice.page, '18-devices');
    await expectAccessible(alice.page, 'devices');
    expect(await myUserId(alice2)).toBe(await myUserId(alice));

    // Bob writes after the link: the new browser receives it too.
    if (!(await bob.page.getByRole('textbox', { name: 'Message' }).isVisible())) {
      await bob.page.getByRole('button', { name: /^Alice/u }).click();
    }
    await sendText(bob, 'Sent after the link');
    await alice2.page.getByRole('button', { name: /Sent after the link/u }).click({ timeout: T });
    await bubble(alice2, 'in', 'Sent after the link').waitFor({ timeout: T });
    await shot(alice2.page, '19-linked-chat');

    // Revoke it from Alice's first browser.
    await alice.page.getByRole('button', { name: 'Devices', exact: true }).click();
    await expect.poll(() => devices.count(), { timeout: T }).toBe(2);
    alice.page.once('dialog', (d) => void d.accept());
    await devices.filter({ hasNotText: 'this browser' }).getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => devices.count(), { timeout: T }).toBe(1);
    await alice.page.keyboard.press('Escape');
    await alice2.context.close();
  }, 120_000);

  it('settings: name, privacy toggles, discoverability, auto-lock, notifications; wipe a profile', async () => {
    const page = alice.page;
    await alice.context.grantPermissions(['notifications']);
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await page.getByLabel('Display name', { exact: true }).fill('Alice A.');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('status').filter({ hasText: 'Name saved.' }).waitFor({ timeout: T });
    await page.getByLabel('Send read receipts', { exact: true }).uncheck();
    await page.getByRole('status').filter({ hasText: 'Read receipts off.' }).waitFor({ timeout: T });
    await page.getByLabel('Let people find me by my display name').check();
    await page.getByRole('status').filter({ hasText: 'Others can find you' }).waitFor({ timeout: T });
    await page.getByLabel('Lock after inactivity').selectOption('5');
    await page.getByLabel('Notify me of new messages (no content shown)').check();
    await page.getByRole('status').filter({ hasText: 'Notifications on' }).waitFor({ timeout: T });
    await shot(page, '20-settings');
    await expectAccessible(alice.page, 'settings');
    // Closed and opened again: everything was kept.
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    expect(await page.getByLabel('Display name', { exact: true }).inputValue()).toBe('Alice A.');
    expect(await page.getByLabel('Send read receipts', { exact: true }).isChecked()).toBe(false);
    expect(await page.getByLabel('Send typing indicators').isChecked()).toBe(true);
    expect(await page.getByLabel('Let people find me by my display name').isChecked()).toBe(true);
    expect(await page.getByLabel('Lock after inactivity').inputValue()).toBe('5');
    await page.keyboard.press('Escape');

    // Wipe: a throwaway profile is deleted from the browser, back to the welcome screen.
    const dave = await person(browser, server.url, 'Dave');
    await onboard(dave);
    await dave.page.getByRole('button', { name: 'Settings', exact: true }).click();
    dave.page.once('dialog', (d) => void d.accept());
    await dave.page.getByRole('button', { name: 'Wipe this profile' }).click();
    await dave.page.getByRole('button', { name: 'Create account' }).waitFor({ timeout: T });
    await dave.page.reload();
    await dave.page.getByRole('button', { name: 'Create account' }).waitFor({ timeout: T });
    const names = await dave.page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    expect(names).not.toContain('vaultex-profile');
    expect(dave.pageErrors).toEqual([]);
    await dave.context.close();
  }, 120_000);

  it('raised no CSP violation and no page error', () => {
    expect(alice.cspErrors).toEqual([]);
    expect(bob.cspErrors).toEqual([]);
    expect(alice.pageErrors).toEqual([]);
    expect(bob.pageErrors).toEqual([]);
  });
});

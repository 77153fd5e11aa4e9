/**
 * The people of the web end-to-end tests and what they do through the real screens: a browser
 * context each, onboarding (PIN, seed phrase confirmed), contact codes, sending and finding
 * messages, and the axe-core check. One version of each, parametrised where the suites differ.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { seriousViolations } from './browser-support.js';

/** How long to wait for what another browser (or the relay) causes. */
export const T = 30_000;

/** One person: a browser context with one page, their PIN, and what the page reported. */
export interface Person {
  readonly context: BrowserContext;
  readonly page: Page;
  readonly name: string;
  readonly pin: string;
  /** Uncaught exceptions in the page. */
  readonly pageErrors: string[];
  /** Console messages about a Content Security Policy violation. */
  readonly cspErrors: string[];
}

/** How a person's browser looks. */
export interface PersonOptions {
  /** A 390x844 touch phone at scale 2 instead of a 1280x800 desktop. */
  readonly phone?: boolean;
  /** The PIN; by default one derived from the name. */
  readonly pin?: string;
}

/** A new context and page on the relay at `url`, collecting page errors and CSP violations. */
export async function person(
  browser: Browser,
  url: string,
  name: string,
  options: PersonOptions = {},
): Promise<Person> {
  const phone = options.phone ?? false;
  const context = await browser.newContext({
    baseURL: url,
    acceptDownloads: true,
    viewport: phone ? { width: 390, height: 844 } : { width: 1280, height: 800 },
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  const p: Person = {
    context,
    page,
    name,
    pin: options.pin ?? `${name.length}73915286`,
    pageErrors: [],
    cspErrors: [],
  };
  page.on('pageerror', (e) => p.pageErrors.push(e.message));
  page.on('console', (m) => {
    if (/Content Security Policy/iu.test(m.text())) p.cspErrors.push(m.text());
  });
  return p;
}

/** The onboarding screens, in order, as `onStep` sees them (each before its button is pressed). */
export type OnboardStep = 'name' | 'pin' | 'seed' | 'confirm';

/** What differs between onboardings. */
export interface OnboardOptions {
  /** Also set a duress PIN on the PIN screen (after checking that the PIN itself is refused). */
  readonly duress?: { readonly pin: string; readonly wipe: boolean };
  /** Called on each screen once it is filled in: screenshots and axe checks go here. */
  readonly onStep?: (step: OnboardStep, page: Page) => Promise<void>;
}

/**
 * Create an account: name, PIN, the 24-word seed phrase shown and three of its words confirmed
 * (a wrong answer is refused first). Returns the seed phrase.
 */
export async function onboard(p: Person, options: OnboardOptions = {}): Promise<string[]> {
  const { page } = p;
  const { duress, onStep } = options;
  await page.goto('/');
  await page.getByRole('button', { name: 'Create account' }).click();
  await onStep?.('name', page);
  await page.getByLabel('Display name').fill(p.name);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('#pin').fill(p.pin);
  await page.locator('#pin-again').fill(p.pin);
  if (duress) {
    await page.getByText('Duress PIN (optional)').click();
    // The same PIN twice is refused.
    await page.locator('#duress-pin').fill(p.pin);
    await page.getByText('must differ from your PIN').waitFor();
    expect(await page.getByRole('button', { name: 'Continue' }).isDisabled()).toBe(true);
    await page.locator('#duress-pin').fill(duress.pin);
    if (duress.wipe) await page.getByLabel('Wipe my real profile').check();
  }
  await onStep?.('pin', page);
  await page.getByRole('button', { name: 'Continue' }).click();
  const words = page.getByTestId('seed-word');
  await words.first().waitFor({ timeout: 60_000 });
  const seed = await words.allTextContents();
  expect(seed).toHaveLength(24);
  await onStep?.('seed', page);
  await page.getByRole('button', { name: 'I wrote them down' }).click();
  const inputs = page.locator('input[data-position]');
  expect(await inputs.count()).toBe(3);
  await inputs.nth(0).fill('wrong');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('alert').filter({ hasText: 'do not match' }).waitFor();
  for (let i = 0; i < 3; i++) {
    const position = Number(await inputs.nth(i).getAttribute('data-position'));
    await inputs.nth(i).fill(seed[position - 1]!);
  }
  await onStep?.('confirm', page);
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('button', { name: 'Contacts and my code' }).waitFor({ timeout: T });
  return seed;
}

/** Open the contacts panel unless it is open (at phone width, back to the list first). */
export async function openContacts(p: Person): Promise<void> {
  const back = p.page.getByRole('button', { name: 'Back to conversations' });
  if (await back.isVisible()) await back.click();
  if (!(await p.page.locator('#add-code').isVisible())) {
    await p.page.getByRole('button', { name: 'Contacts and my code' }).click();
  }
}

/** The person's contact code; the panel is closed again unless `keepOpen`. */
export async function myCode(p: Person, options: { readonly keepOpen?: boolean } = {}): Promise<string> {
  await openContacts(p);
  const code = await p.page.getByLabel('My contact code', { exact: true }).inputValue();
  expect(code).toMatch(/^vaultex:\/\/contact\?/u);
  if (!options.keepOpen) await p.page.keyboard.press('Escape');
  return code;
}

/** The "User ID: ..." line of the contacts panel (the panel is closed again). */
export async function myUserId(p: Person): Promise<string> {
  await openContacts(p);
  const text = (await p.page.getByText(/^User ID:/u).textContent()) ?? '';
  await p.page.keyboard.press('Escape');
  return text;
}

/** Paste a contact code; waits for the new contact's conversation, titled `name`. */
export async function addContact(p: Person, code: string, name: string): Promise<void> {
  await openContacts(p);
  await p.page.locator('#add-code').fill(code);
  await p.page.getByRole('button', { name: 'Add contact' }).click();
  await p.page.getByRole('heading', { name, exact: true }).waitFor({ timeout: T });
}

/** Type and send a text in the open conversation; waits for the box to clear. */
export async function sendText(p: Person, text: string): Promise<void> {
  const box = p.page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await expect.poll(() => box.inputValue()).toBe('');
}

/** The message bubbles, received (`in`) or sent (`out`), that contain `text`. */
export function bubble(p: Person, direction: 'in' | 'out', text: string): Locator {
  return p.page.getByTestId(`bubble-${direction}`).filter({ hasText: text });
}

/** axe-core finds no serious or critical violation on the page; `what` names the screen. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const violations = await seriousViolations(page);
  expect(violations, `${what}: ${JSON.stringify(violations)}`).toEqual([]);
}

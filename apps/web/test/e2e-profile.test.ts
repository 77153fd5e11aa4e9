/**
 * Profile pictures in real Chromium against an in-process relay: Alice picks a PNG (drawn in
 * the test) in Settings -> Profile; the app resizes it to a 128 px avatar and pushes it
 * end-to-end encrypted; Bob's conversation list then shows it as an image instead of her
 * initials. Removing it brings the initials back. axe-core must find no serious violation in
 * the settings panel. Screenshots go to test-results/web/profile-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_BROWSER, shot, startWebRig, type WebRig } from './browser-support.js';
import { addContact, expectAccessible, myCode, onboard, type Person, person, T } from './web-people.js';

describe.skipIf(SKIP_BROWSER)('profile pictures in Chromium', () => {
  let web: WebRig;
  let alice: Person;
  let bob: Person;

  beforeAll(async () => {
    web = await startWebRig();
    alice = await person(web.browser, web.server.url, 'Alice');
    bob = await person(web.browser, web.server.url, 'Bob');
    await Promise.all([onboard(alice), onboard(bob)]);
    await addContact(bob, await myCode(alice), 'Alice');
    await addContact(alice, await myCode(bob), 'Bob');
  }, 90_000);

  afterAll(async () => {
    await web?.close();
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
    await expectAccessible(alice.page, 'settings with a profile picture');
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

/**
 * The chat features end to end in real Chromium against an in-process relay serving the
 * built app, with three people (Carol at a 390x844 phone viewport): a group of three is
 * created and named (then renamed), everyone sees everyone's messages with sender names,
 * replies, reactions and a file work in the group, the local search finds group messages, a
 * removed member sees no more; a disappearing message vanishes on both sides while one read
 * before the timer stays; an image travels with a browser-made thumbnail and downloads as the
 * very same bytes; another file shows upload progress, downloads intact, and a dropped file is
 * sent; reply (the quote leads back), reaction (by keyboard), edit and delete reach the other
 * browser. Screenshots go to test-results/web; axe-core must find no serious or critical
 * violation on the group chat and the group panel (desktop and phone) and on rich messages.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_BROWSER, shot, startWebRig, type WebRig } from './browser-support.js';
import {
  addContact,
  bubble,
  expectAccessible,
  myCode,
  onboard,
  type Person,
  person,
  sendText,
  T,
} from './web-people.js';

const GROUP = 'Weekend trip';

async function toList(p: Person): Promise<void> {
  await p.page.keyboard.press('Escape');
  const back = p.page.getByRole('button', { name: 'Back to conversations' });
  if (await back.isVisible()) await back.click();
}

/** Open a conversation from the list by its title. */
async function open(p: Person, title: string): Promise<void> {
  await toList(p);
  await p.page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('button', { name: new RegExp(`^${title}`, 'u') })
    .first()
    .click({ timeout: T });
  await p.page.getByRole('heading', { name: title, exact: true }).waitFor({ timeout: T });
}

async function actions(p: Person, direction: 'in' | 'out', text: string): Promise<void> {
  await bubble(p, direction, text).getByRole('button', { name: 'Message actions' }).click();
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A small RGB PNG (a colour gradient), encoded here so the test needs no image file. */
function makePng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = (x * 255) / width;
      raw[row + 2 + x * 3] = (y * 255) / height;
      raw[row + 3 + x * 3] = 160;
    }
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array()),
  ]);
}

/** Wait for Bob's message in Carol's list, then open the conversation (which reads it). */
async function carolOpensWith(carol: Person, text: string): Promise<void> {
  await carol.page
    .getByRole('navigation', { name: 'Conversations' })
    .getByRole('button', { name: /^Bob/u })
    .filter({ hasText: text })
    .waitFor({ timeout: T });
  await open(carol, 'Bob');
  await bubble(carol, 'in', text).waitFor({ timeout: T });
}

describe.skipIf(SKIP_BROWSER)('web chat in Chromium: groups, rich messages, attachments', () => {
  let web: WebRig;
  let alice: Person;
  let bob: Person;
  let carol: Person;

  beforeAll(async () => {
    web = await startWebRig();
    alice = await person(web.browser, web.server.url, 'Alice');
    bob = await person(web.browser, web.server.url, 'Bob');
    carol = await person(web.browser, web.server.url, 'Carol', { phone: true });
  }, 120_000);

  afterAll(async () => {
    await web?.close();
  });

  it('three people onboard and add each other', async () => {
    await Promise.all([onboard(alice), onboard(bob), onboard(carol)]);
    const [a, b, c] = [await myCode(alice), await myCode(bob), await myCode(carol)];
    await Promise.all([
      (async () => {
        await addContact(alice, b, 'Bob');
        await addContact(alice, c, 'Carol');
      })(),
      (async () => {
        await addContact(bob, a, 'Alice');
        await addContact(bob, c, 'Carol');
      })(),
      (async () => {
        await addContact(carol, a, 'Alice');
        await addContact(carol, b, 'Bob');
      })(),
    ]);
  }, 120_000);

  it('a disappearing timer is set and shown on both sides', async () => {
    // A message read before the timer is set stays.
    await Promise.all([open(bob, 'Carol'), toList(carol)]);
    await sendText(bob, 'Before the timer');
    await carolOpensWith(carol, 'Before the timer');
    await bubble(bob, 'out', 'Before the timer').locator('[data-status="read"]').waitFor({ timeout: T });
    await bob.page.getByRole('combobox', { name: 'Disappearing messages' }).selectOption('30');
    await expect
      .poll(() => carol.page.getByRole('combobox', { name: 'Disappearing messages' }).inputValue(), { timeout: T })
      .toBe('30');
    await toList(carol);
    await sendText(bob, 'This will vanish');
    await bubble(bob, 'out', 'This will vanish').getByRole('img', { name: 'Disappearing message' }).waitFor();
    // Reading it starts Carol's copy's timer.
    await carolOpensWith(carol, 'This will vanish');
  }, 60_000);

  it('a group of three: created and named, everyone sees everyone (phone too), renamed', async () => {
    await toList(alice);
    await alice.page.getByRole('button', { name: 'New group' }).click();
    await alice.page.getByLabel('Group name').fill(GROUP);
    await alice.page.getByRole('checkbox', { name: 'Bob' }).check();
    await alice.page.getByRole('checkbox', { name: 'Carol' }).check();
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.getByRole('heading', { name: GROUP, exact: true }).waitFor({ timeout: T });
    await sendText(alice, 'Hi all, Alice here');
    await Promise.all([open(bob, GROUP), open(carol, GROUP)]);
    await sendText(bob, 'Bob says hello');
    await sendText(carol, 'Carol on her phone');
    for (const [p, others] of [
      [alice, ['Bob says hello', 'Carol on her phone']],
      [bob, ['Hi all, Alice here', 'Carol on her phone']],
      [carol, ['Hi all, Alice here', 'Bob says hello']],
    ] as const) {
      for (const text of others) await bubble(p, 'in', text).waitFor({ timeout: T });
    }
    // Replies and reactions work in the group too.
    await actions(bob, 'in', 'Hi all, Alice here');
    await bob.page.getByRole('button', { name: 'Reply', exact: true }).click();
    await sendText(bob, 'Count me in');
    for (const p of [alice, carol]) {
      await bubble(p, 'in', 'Count me in').getByTestId('quote').filter({ hasText: 'Hi all, Alice here' }).waitFor({
        timeout: T,
      });
    }
    await actions(alice, 'in', 'Count me in');
    await alice.page.getByRole('button', { name: 'React ❤️' }).click();
    await bubble(bob, 'out', 'Count me in').getByRole('button', { name: '❤️ 1' }).waitFor({ timeout: T });
    // A file to the group, and the local search finds group messages.
    await alice.page
      .getByTestId('file-input')
      .setInputFiles({ name: 'plan.txt', mimeType: 'text/plain', buffer: Buffer.from('day 1: hike') });
    await bubble(carol, 'in', 'plan.txt').waitFor({ timeout: T });
    await toList(bob);
    await bob.page.getByRole('searchbox', { name: 'Search conversations' }).fill('count me');
    const hit = bob.page.getByTestId('message-hit').filter({ hasText: 'Count me in' });
    await hit.filter({ hasText: GROUP }).waitFor({ timeout: T });
    await hit.click();
    await bob.page.getByRole('heading', { name: GROUP, exact: true }).waitFor();
    await bob.page.getByRole('searchbox', { name: 'Search conversations' }).fill('');
    // Group bubbles name their sender.
    expect(await bubble(bob, 'in', 'Hi all, Alice here').locator('.bubble-sender').textContent()).toBe('Alice');
    expect(await bubble(alice, 'in', 'Carol on her phone').locator('.bubble-sender').textContent()).toBe('Carol');
    // The list shows the group with the last message and its sender.
    await toList(carol);
    await carol.page
      .getByTestId('group-row')
      .filter({ hasText: GROUP })
      .filter({ hasText: 'Alice: [file] plan.txt' })
      .waitFor({ timeout: T });
    await shot(carol.page, 'phone-group-01-list');
    await open(carol, GROUP);
    await shot(carol.page, 'phone-group-02-chat');
    await shot(alice.page, 'group-01-chat');
    await expectAccessible(alice.page, 'group chat');
    await expectAccessible(carol.page, 'group chat (phone)');

    await alice.page.getByRole('button', { name: 'Group info' }).click();
    const members = alice.page.getByTestId('group-member');
    await expect.poll(() => members.count()).toBe(3);
    expect(await members.filter({ hasText: 'admin' }).allTextContents()).toEqual([expect.stringContaining('You')]);
    // Bob is no admin: no rename field, no remove buttons, but he can leave.
    await bob.page.getByRole('button', { name: 'Group info' }).click();
    await bob.page.getByRole('button', { name: 'Leave group' }).waitFor();
    expect(await bob.page.getByRole('button', { name: /^Remove/u }).count()).toBe(0);
    await bob.page.keyboard.press('Escape');
    await alice.page.locator('#group-rename').fill(`${GROUP} 2027`);
    await alice.page.getByRole('button', { name: 'Rename' }).click();
    await bob.page.getByRole('heading', { name: `${GROUP} 2027`, exact: true }).waitFor({ timeout: T });
    await shot(alice.page, 'group-02-panel');
    await expectAccessible(alice.page, 'group panel');
    await carol.page.getByRole('button', { name: 'Group info' }).click();
    await carol.page.getByTestId('group-member').nth(2).waitFor();
    await shot(carol.page, 'phone-group-03-panel');
    await expectAccessible(carol.page, 'group panel (phone)');
  }, 120_000);

  it('a removed member no longer sees new messages', async () => {
    await alice.page.getByRole('button', { name: 'Remove Carol' }).click();
    await expect.poll(() => alice.page.getByTestId('group-member').count(), { timeout: T }).toBe(2);
    await carol.page.getByText('You are no longer a member of this group.').waitFor({ timeout: T });
    await carol.page.keyboard.press('Escape');
    await carol.page.getByText('You are no longer a member', { exact: true }).waitFor({ timeout: T });
    await alice.page.keyboard.press('Escape');
    await sendText(alice, 'Only the two of us now');
    await bubble(bob, 'in', 'Only the two of us now').waitFor({ timeout: T });
    await sendText(bob, 'Indeed');
    await bubble(alice, 'in', 'Indeed').waitFor({ timeout: T });
    // Carol's composer is closed, and nothing new reaches her.
    expect(await carol.page.getByRole('textbox', { name: 'Message' }).isDisabled()).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await bubble(carol, 'in', 'Only the two of us now').count()).toBe(0);
    expect(await bubble(carol, 'in', 'Indeed').count()).toBe(0);
    await bubble(carol, 'in', 'Bob says hello').waitFor();
  }, 60_000);

  it('an image: thumbnail preview on the other side, full image, and the same bytes downloaded', async () => {
    const png = makePng(96, 64);
    await open(alice, 'Bob');
    await alice.page
      .getByTestId('file-input')
      .setInputFiles({ name: 'sunset.png', mimeType: 'image/png', buffer: png });
    await bubble(alice, 'out', 'sunset.png').getByTestId('attachment-preview').waitFor({ timeout: T });
    await open(bob, 'Alice');
    const received = bubble(bob, 'in', 'sunset.png');
    const preview = received.getByTestId('attachment-preview');
    await preview.waitFor({ timeout: T });
    await expect
      .poll(() => preview.evaluate((img) => (img as HTMLImageElement).naturalWidth), { timeout: T })
      .toBeGreaterThan(0);
    await shot(bob.page, 'group-03-image-message');
    const [download] = await Promise.all([
      bob.page.waitForEvent('download', { timeout: T }),
      received.getByRole('button', { name: 'Download sunset.png' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('sunset.png');
    expect(Buffer.compare(readFileSync(await download.path()), png)).toBe(0);
    await received.getByRole('button', { name: 'Open image sunset.png' }).click();
    const full = bob.page.getByTestId('attachment-full');
    await full.waitFor({ timeout: T });
    expect(await full.evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(96);
    await bob.page.getByRole('button', { name: 'Close', exact: true }).click();
    await expect.poll(() => full.count()).toBe(0);
  }, 60_000);

  it('any other file: a progress bar while it uploads, then "Download" gives the same bytes', async () => {
    const data = randomBytes(1536 * 1024);
    // Watch the upload's progress bar: it is there only while the file goes up.
    await alice.page.evaluate(() => {
      const w = window as unknown as { progressSeen: number };
      w.progressSeen = -1;
      new MutationObserver(() => {
        const bar = document.querySelector<HTMLProgressElement>('[data-testid="upload-progress"] progress');
        if (bar) w.progressSeen = Math.max(w.progressSeen, bar.value / bar.max);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await alice.page
      .getByTestId('file-input')
      .setInputFiles({ name: 'notes.bin', mimeType: 'application/octet-stream', buffer: data });
    const received = bubble(bob, 'in', 'notes.bin');
    await received.waitFor({ timeout: T });
    expect(await received.getByTestId('attachment-preview').count()).toBe(0);
    const seen = await alice.page.evaluate(() => (window as unknown as { progressSeen: number }).progressSeen);
    expect(seen).toBeGreaterThan(0);
    await expect.poll(() => alice.page.getByTestId('upload-progress').count()).toBe(0);
    const [download] = await Promise.all([
      bob.page.waitForEvent('download', { timeout: T }),
      received.getByRole('button', { name: 'Download notes.bin' }).click(),
    ]);
    expect(Buffer.compare(readFileSync(await download.path()), data)).toBe(0);
    // A file dropped on the chat pane is sent too.
    const drop = await alice.page.evaluateHandle(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File(['dropped on the chat'], 'dropped.txt', { type: 'text/plain' }));
      return transfer;
    });
    const pane = alice.page.getByRole('region', { name: 'Chat with Bob' });
    await pane.dispatchEvent('dragover', { dataTransfer: drop });
    await pane.dispatchEvent('drop', { dataTransfer: drop });
    await bubble(bob, 'in', 'dropped.txt').waitFor({ timeout: T });
  }, 60_000);

  it('reply, reaction, edit and delete reach the other browser', async () => {
    await sendText(bob, 'Pizza or pasta tonight?');
    await bubble(alice, 'in', 'Pizza or pasta tonight?').waitFor({ timeout: T });
    await actions(alice, 'in', 'Pizza or pasta tonight?');
    await alice.page.getByRole('button', { name: 'Reply', exact: true }).click();
    await alice.page.getByTestId('replying').waitFor();
    await sendText(alice, 'Pizza!');
    const reply = bubble(bob, 'in', 'Pizza!');
    await reply.getByTestId('quote').filter({ hasText: 'Pizza or pasta tonight?' }).waitFor({ timeout: T });

    // The quote leads back to the original message.
    await reply.getByTestId('quote').click();
    await bubble(bob, 'out', 'Pizza or pasta tonight?').and(bob.page.locator('[aria-current="true"]')).waitFor();
    // By keyboard: the action button opens the menu, Tab reaches the first reaction.
    await reply.getByRole('button', { name: 'Message actions' }).focus();
    await bob.page.keyboard.press('Enter');
    await bob.page.keyboard.press('Tab');
    expect(await bob.page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('React 👍');
    await bob.page.keyboard.press('Enter');
    await bubble(alice, 'out', 'Pizza!').getByRole('button', { name: '👍 1' }).waitFor({ timeout: T });
    expect(await reply.getByRole('button', { name: '👍 1, yours' }).getAttribute('aria-pressed')).toBe('true');

    await actions(alice, 'out', 'Pizza!');
    await alice.page.getByRole('button', { name: 'Edit', exact: true }).click();
    const editor = alice.page.getByRole('textbox', { name: 'Edit message' });
    await editor.fill('Pizza, definitely!');
    await editor.press('Enter');
    const edited = bubble(bob, 'in', 'Pizza, definitely!');
    await edited.getByText('edited', { exact: true }).waitFor({ timeout: T });
    await shot(alice.page, 'group-04-rich');

    await actions(alice, 'out', 'Pizza, definitely!');
    await alice.page.getByRole('button', { name: 'Delete…' }).click();
    await alice.page.getByRole('button', { name: 'Delete for everyone' }).click();
    await expect.poll(() => bubble(bob, 'in', 'Pizza, definitely!').count(), { timeout: T }).toBe(0);
    await bubble(bob, 'in', 'Message deleted').waitFor();
    await bubble(alice, 'out', 'Message deleted').waitFor();
    await expectAccessible(bob.page, 'chat with rich messages');
  }, 60_000);

  it('the disappearing message has vanished on both sides', async () => {
    await Promise.all([open(bob, 'Carol'), open(carol, 'Bob')]);
    // The history is on screen (the message before the timer stays), then the other one goes.
    await bubble(bob, 'out', 'Before the timer').waitFor({ timeout: T });
    await bubble(carol, 'in', 'Before the timer').waitFor({ timeout: T });
    await expect.poll(() => bubble(bob, 'out', 'This will vanish').count(), { timeout: 45_000 }).toBe(0);
    await expect.poll(() => bubble(carol, 'in', 'This will vanish').count(), { timeout: 45_000 }).toBe(0);
    expect(await bubble(carol, 'in', 'Before the timer').count()).toBe(1);
    for (const p of [alice, bob, carol]) {
      expect(p.pageErrors, p.name).toEqual([]);
      expect(p.cspErrors, p.name).toEqual([]);
    }
  }, 100_000);
});

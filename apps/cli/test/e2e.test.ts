/**
 * End-to-end with real processes: one `vaultex serve` and `vaultex` clients (one-shot
 * commands, `listen`, `daemon`, `device link`) on loopback, each profile in a temporary
 * home. The scenarios of issue 4 run in order and share the accounts.
 */
import { openSqlCipherStore } from '@vaultex/client/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Home, type Proc, type Relay, startRelay } from './cli-support.js';

type Line = Record<string, unknown>;
interface Msg {
  id: string;
  text?: string;
  direction: string;
  senderDevice: number;
  sender: string;
}

const messagesOf = (lines: Line[]): Msg[] => lines.filter((l) => l.type === 'message').map((l) => l.message as Msg);
const onlineIn = (lines: Line[]) => lines.some((l) => l.type === 'connection' && l.state === 'online');

describe('vaultex end to end (real processes)', () => {
  let relay: Relay;
  let home: Home;
  const ids: Record<string, { userId: string; deviceId: number; contactCode: string }> = {};
  let bobSeed = '';

  beforeAll(async () => {
    relay = await startRelay();
    home = new Home(relay.url);
  }, 60_000);

  afterAll(async () => {
    await home?.close();
    await relay?.stop();
  });

  it('Alice (two devices) and Bob talk; her second device sees what she sent', async () => {
    type Init = { seedPhrase: string; userId: string; deviceId: number; contactCode: string };
    const [[alice], [bob]] = await Promise.all([
      home.json<Init>('alice', ['init', '--name', 'Alice', '--device-name', 'laptop']),
      home.json<Init>('bob', ['init', '--name', 'Bob']),
    ]);
    expect(alice!.seedPhrase).toMatch(/^(\w+ ){23}\w+$/u);
    bobSeed = bob!.seedPhrase;
    ids.alice = alice!;
    ids.bob = bob!;
    await Promise.all([
      home.json('alice', ['contact', 'add', ids.bob!.contactCode]),
      home.json('bob', ['contact', 'add', ids.alice!.contactCode]),
    ]);

    // The phone links itself: it shows a code and waits; the laptop approves it.
    const link = home.start('alice-phone', ['--json', 'device', 'link', '--device-name', 'phone']);
    const { code } = await link.waitFor((l) => l.find((x) => x.event === 'link-code'), 'the link code');
    const approved = await home.json<{ deviceId: number }>('alice', ['device', 'approve', code as string]);
    const linked = await link.waitFor((l) => l.find((x) => x.event === 'linked'), 'linked');
    expect(await link.exited).toBe(0);
    expect(linked.userId).toBe(ids.alice!.userId);
    expect(linked.deviceId).toBe(approved[0]!.deviceId);
    ids['alice-phone'] = { ...ids.alice!, deviceId: linked.deviceId as number };
    const devices = await home.json<{ name: string }[]>('alice', ['device', 'list']);
    expect(devices[0]!.map((d) => d.name).sort()).toEqual(['laptop', 'phone']);

    const bobListen = home.start('bob', ['--json', 'listen']);
    await bobListen.waitFor(onlineIn, 'Bob online');
    await Promise.all([
      home.json('alice', ['send', 'bob', 'from the laptop']),
      home.json('alice-phone', ['send', 'Bob', 'from the phone']),
    ]);
    const got = await bobListen.waitFor((l) => {
      const m = messagesOf(l);
      return m.length >= 2 && m;
    }, 'Bob gets both');
    expect(got.map((m) => m.text).sort()).toEqual(['from the laptop', 'from the phone']);
    const byText = Object.fromEntries(got.map((m) => [m.text, m]));
    expect(byText['from the laptop']!.senderDevice).toBe(ids.alice!.deviceId);
    expect(byText['from the phone']!.senderDevice).toBe(ids['alice-phone']!.deviceId);
    expect(await bobListen.interrupt()).toBe(0);

    await home.json('bob', ['send', 'alice', 'to both of you']);
    const [laptop, phone] = await Promise.all([home.json('alice', ['sync']), home.json('alice-phone', ['sync'])]);
    const laptopMsgs = messagesOf(laptop);
    const phoneMsgs = messagesOf(phone);
    expect(laptopMsgs.some((m) => m.text === 'to both of you' && m.direction === 'in')).toBe(true);
    expect(phoneMsgs.some((m) => m.text === 'to both of you' && m.direction === 'in')).toBe(true);
    // Sent transcripts: each device has what the other sent in its history (a one-shot
    // command that ran meanwhile, like the phone's own send, may have received it).
    const [[laptopHistory], [phoneHistory]] = await Promise.all([
      home.json<Msg[]>('alice', ['messages', 'bob']),
      home.json<Msg[]>('alice-phone', ['messages', 'bob']),
    ]);
    expect(phoneHistory!.some((m) => m.text === 'from the laptop' && m.direction === 'out')).toBe(true);
    expect(laptopHistory!.some((m) => m.text === 'from the phone' && m.direction === 'out')).toBe(true);
  }, 90_000);

  it('Bob is offline while Alice sends 50; he comes back and gets all 50 in order, once', async () => {
    const daemon = home.start('alice', ['daemon']);
    for (let i = 0; i < 50; i++) {
      daemon.send({ jsonrpc: '2.0', id: i, method: 'messages.send', params: { to: 'Bob', text: `offline ${i}` } });
    }
    const accepted = await daemon.waitFor((l) => {
      const r = l.filter((x) => 'result' in x);
      return r.length === 50 && r.map((x) => (x.result as { id: string }).id);
    }, '50 answers');
    await daemon.waitFor(
      (l) => l.filter((x) => x.method === 'event.status' && (x.params as Line).status === 'sent').length >= 50,
      '50 sent',
    );
    daemon.child.stdin!.end();
    expect(await daemon.exited).toBe(0);

    const listen = home.start('bob', ['--json', 'listen']);
    const got = await listen.waitFor((l) => {
      const m = messagesOf(l).filter((x) => x.text?.startsWith('offline '));
      return m.length >= 50 && m;
    }, 'all 50');
    // Anything duplicated would arrive right behind; give it a moment.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await listen.interrupt()).toBe(0);
    const all = messagesOf(listen.json()).filter((x) => x.text?.startsWith('offline '));
    expect(all.map((m) => m.text)).toEqual(Array.from({ length: 50 }, (_, i) => `offline ${i}`));
    expect(all.map((m) => m.id)).toEqual(accepted);
    expect(got.length).toBe(50);
  }, 90_000);

  it('restores from the seed phrase on a fresh profile and keeps talking', async () => {
    // Bob's first device is online to hand his contacts to the restored one.
    const bobListen = home.start('bob', ['--json', 'listen']);
    await bobListen.waitFor(onlineIn, 'Bob online');
    const restored = await home.json<{ userId: string; deviceId: number }>(
      'bob-new',
      ['restore', '--device-name', 'new laptop'],
      `${bobSeed}\n`,
    );
    expect(restored[0]!.userId).toBe(ids.bob!.userId);
    expect(restored[0]!.deviceId).not.toBe(ids.bob!.deviceId);
    ids['bob-new'] = { ...ids.bob!, deviceId: restored[0]!.deviceId };

    await home.json('alice', ['send', 'bob', 'to every Bob']);
    const newGot = messagesOf(await home.json('bob-new', ['sync']));
    expect(newGot.map((m) => m.text)).toContain('to every Bob');
    await bobListen.waitFor((l) => messagesOf(l).some((m) => m.text === 'to every Bob'), 'the old device gets it too');
    expect(await bobListen.interrupt()).toBe(0);

    await home.json('bob-new', ['send', 'alice', 'restored and back']);
    const aliceGot = messagesOf(await home.json('alice', ['sync']));
    const back = aliceGot.find((m) => m.text === 'restored and back');
    expect(back?.senderDevice).toBe(ids['bob-new']!.deviceId);
  }, 90_000);

  it('Bob revokes a device and it receives nothing more', async () => {
    const listed = await home.json<{ id: number }[]>('bob', ['device', 'list']);
    expect(listed[0]!.map((d) => d.id)).toContain(ids['bob-new']!.deviceId);
    const after = await home.json<{ id: number }[]>('bob', ['device', 'revoke', String(ids['bob-new']!.deviceId)]);
    expect(after[0]!.map((d) => d.id)).not.toContain(ids['bob-new']!.deviceId);

    await home.json('alice', ['send', 'bob', 'after the revoke']);
    expect(messagesOf(await home.json('bob', ['sync'])).map((m) => m.text)).toContain('after the revoke');
    const revoked = await home.run('bob-new', ['--json', 'sync']);
    expect(revoked.stdout).not.toContain('after the revoke');
    expect(revoked.code).toBe(3);
    expect(revoked.stderr).toMatch(/revoked|removed from the account/u);
  }, 60_000);

  it('a client killed with kill -9 mid-send loses nothing and sends nothing twice', async () => {
    const daemon: Proc = home.start('alice', ['daemon']);
    const total = 40;
    for (let i = 0; i < total; i++) {
      daemon.send({ jsonrpc: '2.0', id: i, method: 'messages.send', params: { to: 'Bob', text: `burst ${i}` } });
    }
    await daemon.waitFor(
      (l) => l.filter((x) => x.method === 'event.status' && (x.params as Line).status === 'sent').length >= 5,
      'a few sent',
    );
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    const acceptedIds = daemon
      .json()
      .filter((x) => 'result' in x)
      .map((x) => (x.result as { id: string }).id);
    const sentBeforeKill = daemon.json().filter((x) => x.method === 'event.status').length;
    expect(acceptedIds.length).toBeGreaterThanOrEqual(5);
    // The kill came while messages were still queued (otherwise this test proves nothing).
    expect(sentBeforeKill).toBeLessThan(total);

    // Alice's next run sends what was left; Bob receives.
    await home.json('alice', ['sync']);
    const history = (await home.json<Msg[]>('alice', ['messages', 'bob', '--limit', '1000']))[0]!;
    const burst = history.filter((m) => m.text?.startsWith('burst '));
    expect(new Set(burst.map((m) => m.id)).size).toBe(burst.length);
    for (const id of acceptedIds) {
      const m = history.find((x) => x.id === id) as (Msg & { status: string }) | undefined;
      expect(m && ['sent', 'delivered', 'read'].includes(m.status), `message ${id} went out`).toBe(true);
    }

    const bobGot = messagesOf(await home.json('bob', ['sync'])).filter((m) => m.text?.startsWith('burst '));
    const bobIds = bobGot.map((m) => m.id);
    expect(new Set(bobIds).size).toBe(bobIds.length);
    for (const id of acceptedIds) expect(bobIds).toContain(id);
    // Nothing twice in Bob's history either.
    const bobHistory = (await home.json<Msg[]>('bob', ['messages', 'alice', '--limit', '1000']))[0]!;
    const texts = bobHistory.filter((m) => m.text?.startsWith('burst ')).map((m) => m.text);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts.length).toBe(burst.length);
  }, 90_000);

  it("a contact's key change is refused until accepted", async () => {
    // Stand-in for a key change (a user ID is the hash of its key, so only the pin can
    // differ): Alice's pinned key for Bob is replaced while her client is not running.
    const store = await openSqlCipherStore({
      directory: `${home.dir}/profiles/alice`,
      passphrase: 'correct horse battery staple',
    });
    const bobId = ids.bob!.userId;
    const contact = (await store.getContact(bobId))!;
    await store.deleteSessions(bobId);
    await store.putContact({ ...contact, identityKey: new Uint8Array(32).fill(7) });
    await store.close();

    const first = await home.run('alice', ['send', 'bob', 'before accepting']);
    expect(first.code).toBe(3);
    expect(first.stderr).toMatch(/Bob's safety number changed\. Compare it \(`vaultex --profile alice verify Bob`\)/u);
    expect(first.stderr).toContain('`vaultex --profile alice contact accept-key Bob`');
    const second = await home.run('alice', ['send', 'bob', 'still refused']);
    expect(second.code).toBe(3);
    const [verify] = await home.json<{ contact: { keyChanged: boolean }; groups: string[] }>('alice', [
      'verify',
      'bob',
    ]);
    expect(verify!.contact.keyChanged).toBe(true);
    expect(verify!.groups).toHaveLength(12);

    await home.json('alice', ['contact', 'accept-key', 'bob']);
    await home.json('alice', ['send', 'bob', 'after accepting']);
    const got = messagesOf(await home.json('bob', ['sync'])).map((m) => m.text);
    expect(got).toContain('after accepting');
    expect(got).not.toContain('before accepting');
    expect(got).not.toContain('still refused');
  }, 60_000);

  it('with the relay down, send exits 2 and keeps the message; it goes out once the relay is back', async () => {
    const halted = await relay.halt();
    expect(halted, relay.log()).toBe(0);
    const down = await home.run('alice', ['send', 'bob', 'while the relay is down']);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain(`The relay at ${relay.url} did not take the message`);
    expect(down.stderr).toContain('`vaultex --profile alice sync`');
    await relay.resume();
    await home.json('alice', ['sync']);
    const got = messagesOf(await home.json('bob', ['sync'])).map((m) => m.text);
    expect(got.filter((t) => t === 'while the relay is down')).toHaveLength(1);
  }, 60_000);

  it('errors say what to do next, with their exit codes', async () => {
    // One process per profile at a time: these run in parallel on different profiles.
    const [noProfile, badContact, wrongPass, locked] = await Promise.all([
      home.run('nobody', ['id']),
      home.run('alice', ['send', 'zed', 'hi']),
      home.run('bob', ['id'], { env: { VAULTEX_PASSPHRASE: 'wrong' } }),
      (async () => {
        const listen = home.start('alice-phone', ['--json', 'listen']);
        await listen.waitFor(onlineIn, 'online');
        const r = await home.run('alice-phone', ['id']);
        await listen.interrupt();
        return r;
      })(),
    ]);
    expect(noProfile.code).toBe(4);
    expect(noProfile.stderr).toContain('`vaultex --profile nobody init`');
    expect(badContact.code).toBe(4);
    expect(badContact.stderr).toContain('contact list');
    const badCode = await home.run('alice', ['contact', 'add', 'vaultex://contact?v=1&d=AAAA']);
    expect(badCode.code).toBe(1);
    expect(badCode.stderr).toContain('vaultex id');
    expect(wrongPass.code).toBe(5);
    expect(wrongPass.stderr).toContain('VAULTEX_PASSPHRASE');
    expect(locked.code).toBe(5);
    expect(locked.stderr).toMatch(/in use by process \d+/u);
    const usage = await home.run('alice', ['send']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('`vaultex send --help`');
  }, 60_000);
});

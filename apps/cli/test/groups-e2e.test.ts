/**
 * Issue 5's group checks with real processes (`vaultex serve` and `vaultex` commands):
 * a group of four (Alice admin; Bob with a second linked device); Dave is removed and the
 * relay holds nothing addressed to him afterwards (its SQLite file, read-only); edits,
 * deletes and reactions reach every device of every member; a 2 s disappearing message is
 * gone from every member's profile and from the relay after its timer; then the relay's
 * database files hold no text canary, no attachment plaintext and no group title.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Home, type Relay, startRelay } from './cli-support.js';

type Line = Record<string, unknown>;
interface Msg {
  id: string;
  text?: string;
  direction: 'in' | 'out';
  sender: string;
  group?: string;
  senderName?: string;
  editedAt?: number;
  deleted?: boolean;
  reactions?: { accountId: string; emoji: string }[];
  expiresAt?: number;
  kind: string;
}
interface GroupOut {
  id: string;
  title: string;
  member: boolean;
  admin: boolean;
  members: { id: string; name: string; admin: boolean; you: boolean }[];
}

const tag = randomBytes(6).toString('hex');
const TITLE = `Zebra crew ${tag}`;
const RENAMED = `Okapi crew ${tag}`;
const CANARY_1 = `canary-one-${tag}`;
const CANARY_2 = `canary-after-removal-${tag}`;
const CANARY_3 = `canary-fleeting-${tag}`;
const CANARY_EDIT = `canary-edited-${tag}`;
const CANARY_FILE = `canary-inside-the-file-${tag}`;
const CANARY_CAPTION = `canary-caption-${tag}`;

const MEMBERS = ['alice', 'bob', 'carol', 'dave'] as const;
/** Every device of every member that stays: Bob has a laptop and a phone. */
const STAYING = ['alice', 'bob', 'bob-phone', 'carol'] as const;
const RECEIVERS = ['bob', 'bob-phone', 'carol'] as const;

const response = (id: number) => (lines: Line[]) => lines.find((l) => l.id === id && ('result' in l || 'error' in l));

describe('vaultex group: a group of four with real processes', () => {
  let relay: Relay;
  let home: Home;
  const ids: Record<string, string> = {};
  let groupId = '';

  /** The relay's database, read-only (the relay keeps running). */
  function relayDb<T>(fn: (db: Database.Database) => T): T {
    const db = new Database(join(relay.dir, 'data', 'vaultex.db'), { readonly: true, fileMustExist: true });
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }

  async function history(profile: string, conversation = groupId): Promise<Msg[]> {
    return (await home.json<Msg[]>(profile, ['messages', conversation, '--limit', '200']))[0]!;
  }

  /** Sync until `check` holds on the group history (a few rounds: sender keys may arrive after a message). */
  async function syncUntil(profile: string, check: (list: Msg[]) => boolean, what: string): Promise<Msg[]> {
    let list: Msg[] = [];
    for (let round = 0; round < 6; round++) {
      await home.json(profile, ['sync']);
      list = await history(profile);
      if (check(list)) return list;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`${profile}: ${what} did not happen; history: ${JSON.stringify(list)}`);
  }

  beforeAll(async () => {
    relay = await startRelay();
    home = new Home(relay.url);
    type Init = { userId: string; contactCode: string };
    const inits = await Promise.all(MEMBERS.map((m) => home.json<Init>(m, ['init', '--name', cap(m)])));
    const codes: Record<string, string> = {};
    for (const [i, m] of MEMBERS.entries()) {
      ids[m] = inits[i]![0]!.userId;
      codes[m] = inits[i]![0]!.contactCode;
    }
    // Everyone knows everyone: members send each other their sender keys over pairwise sessions.
    await Promise.all(
      MEMBERS.map(async (m) => {
        for (const other of MEMBERS) if (other !== m) await home.json(m, ['contact', 'add', codes[other]!]);
      }),
    );
    // Bob's second device, linked before the group exists so that it gets every key.
    const link = home.start('bob-phone', ['--json', 'device', 'link', '--device-name', 'phone']);
    const { code } = await link.waitFor((l) => l.find((x) => x.event === 'link-code'), 'the link code');
    // Approving waits for the phone to register and adopts the new list: no `device list`
    // needed before the laptop's group messages (its reaction and reply below) reach the phone.
    const [approved] = await home.json<{ deviceId: number; linked: boolean }>('bob', [
      'device',
      'approve',
      code as string,
    ]);
    expect(approved).toMatchObject({ linked: true });
    await link.waitFor((l) => l.find((x) => x.event === 'linked'), 'linked');
    expect(await link.exited).toBe(0);
    ids['bob-phone'] = ids.bob!;
  }, 180_000);

  afterAll(async () => {
    await home?.close();
    await relay?.stop();
  });

  it('creates the group; every member device sees it and the first message with its sender', async () => {
    const [created] = await home.json<GroupOut>('alice', ['group', 'create', TITLE, 'bob', 'carol', 'dave']);
    groupId = created!.id;
    expect(groupId).toMatch(/^[0-9a-f]{32}$/u);
    expect(created!.admin).toBe(true);
    expect(created!.members.map((m) => m.id).sort()).toEqual(MEMBERS.map((m) => ids[m]).sort());
    expect(created!.members.find((m) => m.id === ids.bob)).toMatchObject({ name: 'Bob', admin: false });

    const [sent] = await home.json<{ id: string; group: string; status: string }>('alice', [
      'group',
      'send',
      TITLE.slice(0, 8),
      CANARY_1,
    ]);
    expect(sent).toMatchObject({ group: groupId, status: 'sent' });

    for (const p of [...RECEIVERS, 'dave']) {
      const list = await syncUntil(p, (l) => l.some((m) => m.text === CANARY_1), 'the first message');
      const got = list.find((m) => m.text === CANARY_1)!;
      expect(got).toMatchObject({
        id: sent!.id,
        direction: 'in',
        sender: ids.alice,
        senderName: 'Alice',
        group: groupId,
      });
      const [shown] = await home.json<GroupOut>(p, ['group', 'show', groupId.slice(0, 6)]);
      expect(shown!.title).toBe(TITLE);
      expect(shown!.members).toHaveLength(4);
      expect(shown!.admin).toBe(false);
    }
    // Human output: the sender's name in front of the text.
    const text = await home.run('carol', ['messages', TITLE]);
    expect(text.stdout).toContain(`Alice: ${CANARY_1}`);
  }, 240_000);

  it('refuses non-admins and unknown groups with their exit codes', async () => {
    const notAdmin = await home.run('bob', ['group', 'remove', TITLE, 'carol']);
    expect(notAdmin.code).toBe(3);
    expect(notAdmin.stderr).toMatch(/only its admins/u);
    const unknown = await home.run('bob', ['group', 'show', 'no such group']);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toMatch(/group list/u);
    const notMember = await home.run('alice', ['group', 'remove', TITLE, 'nobody']);
    expect(notMember.code).toBe(4);
  }, 60_000);

  it('removes Dave: what follows is not addressed to him and he never sees it', async () => {
    const [after] = await home.json<GroupOut>('alice', ['group', 'remove', TITLE, 'dave']);
    expect(after!.members).toHaveLength(3);
    // Dave learns he was removed and drains his inbox; the others apply the change (and rotate).
    await home.json('dave', ['sync']);
    const [daveView] = await home.json<GroupOut>('dave', ['group', 'show', TITLE]);
    expect(daveView!.member).toBe(false);
    for (const p of RECEIVERS) {
      await home.json(p, ['sync']);
      const [g] = await home.json<GroupOut>(p, ['group', 'show', TITLE]);
      expect(g!.members.map((m) => m.id)).not.toContain(ids.dave);
    }
    const dave = Buffer.from(ids.dave!, 'hex');
    const alice = Buffer.from(ids.alice!, 'hex');
    const before = relayDb(
      (db) => (db.prepare('SELECT max(seq) AS s FROM messages').get() as { s: number | null }).s ?? 0,
    );

    const [sent] = await home.json<{ id: string }>('alice', ['group', 'send', TITLE, CANARY_2]);

    // The relay: the message is stored once, from Alice, for the remaining devices only.
    const rows = relayDb((db) => {
      const msgs = db.prepare('SELECT seq, source_account AS src FROM messages WHERE seq > ?').all(before) as {
        seq: number;
        src: Buffer | null;
      }[];
      const targets = db
        .prepare('SELECT account_id AS a, message_seq AS seq FROM message_targets WHERE message_seq > ?')
        .all(before) as { a: Buffer; seq: number }[];
      const daves = (
        db.prepare('SELECT count(*) AS n FROM message_targets WHERE account_id = ?').get(dave) as {
          n: number;
        }
      ).n;
      return { msgs, targets, daves };
    });
    const fromAlice = rows.msgs.filter((m) => m.src !== null && Buffer.from(m.src).equals(alice));
    expect(fromAlice).toHaveLength(1);
    const targeted = rows.targets
      .filter((t) => t.seq === fromAlice[0]!.seq)
      .map((t) => Buffer.from(t.a).toString('hex'));
    expect(targeted.sort()).toEqual([ids.bob, ids.bob, ids.carol].sort());
    // Nothing at all waits for Dave: no ciphertext he could try.
    expect(rows.daves).toBe(0);

    // Carol listens (after the check above: her device acknowledges what it gets): a group
    // message is printed with its group and its sender.
    const listen = home.start('carol', ['--json', 'listen']);

    const shown = await listen.waitFor(
      (l) =>
        l.find((x) => x.type === 'message' && (x.message as Msg | undefined)?.text === CANARY_2) as
          | { message: Msg }
          | undefined,
      'the group message in listen',
    );
    expect(shown.message).toMatchObject({ group: groupId, senderName: 'Alice', sender: ids.alice });
    expect(await listen.interrupt()).toBe(0);

    for (const p of ['bob', 'bob-phone']) {
      await syncUntil(p, (l) => l.some((m) => m.id === sent!.id && m.text === CANARY_2), 'the message after removal');
    }
    const daveSync = await home.json<Line>('dave', ['sync']);
    expect(JSON.stringify(daveSync)).not.toContain(CANARY_2);
    expect((await history('dave')).some((m) => m.id === sent!.id)).toBe(false);
    // Dave can no longer write to the group.
    expect((await home.run('dave', ['group', 'send', TITLE, 'still here?'])).code).toBe(3);
  }, 240_000);

  it('edits, deletes and reactions reach every device of every member', async () => {
    const [keep] = await home.json<{ id: string }>('alice', ['group', 'send', TITLE, 'typo here']);
    const [gone] = await home.json<{ id: string }>('alice', ['group', 'send', TITLE, 'regrettable']);
    for (const p of RECEIVERS) await syncUntil(p, (l) => l.some((m) => m.id === gone!.id), 'the two messages');

    await home.json('alice', ['edit', TITLE, keep!.id, CANARY_EDIT]);
    await home.json('alice', ['delete', TITLE, gone!.id]);
    await home.json('bob', ['react', TITLE, keep!.id, '👍']);
    await home.json('carol', ['react', TITLE, keep!.id, '🎉']);
    // Bob's reply, quoting the message (the group send option).
    const [reply] = await home.json<{ id: string }>('bob', ['group', 'send', TITLE, '--reply', keep!.id, 'agreed']);

    for (const p of STAYING) {
      const list = await syncUntil(
        p,
        (l) => {
          const k = l.find((m) => m.id === keep!.id);
          const g = l.find((m) => m.id === gone!.id);
          return (
            k?.text === CANARY_EDIT &&
            (k.reactions?.length ?? 0) === 2 &&
            g?.deleted === true &&
            l.some((m) => m.id === reply!.id)
          );
        },
        'the edit, the delete and both reactions',
      );
      const k = list.find((m) => m.id === keep!.id)!;
      expect(k.editedAt).toBeGreaterThan(0);
      expect(k.reactions).toEqual(
        expect.arrayContaining([
          { accountId: ids.bob, emoji: '👍' },
          { accountId: ids.carol, emoji: '🎉' },
        ]),
      );
      expect(list.find((m) => m.id === gone!.id)!.text).toBe('');
    }
    // Only the sender edits: Carol is refused with the trust exit code.
    expect((await home.run('carol', ['edit', TITLE, keep!.id, 'mine now'])).code).toBe(3);
  }, 300_000);

  it('a 2 s disappearing message is gone from every profile and from the relay after its timer', async () => {
    const [timer] = await home.json<{ seconds: number; group: string }>('alice', ['timer', TITLE, '2']);
    expect(timer).toMatchObject({ seconds: 2, group: groupId });
    for (const p of RECEIVERS) await home.json(p, ['sync']);

    const alice = Buffer.from(ids.alice!, 'hex');
    const before = relayDb(
      (db) => (db.prepare('SELECT max(seq) AS s FROM messages').get() as { s: number | null }).s ?? 0,
    );
    const [sent] = await home.json<{ id: string }>('alice', ['group', 'send', TITLE, CANARY_3]);
    const stored = relayDb(
      (db) =>
        db.prepare('SELECT seq, source_account AS src FROM messages WHERE seq > ?').all(before) as {
          seq: number;
          src: Buffer | null;
        }[],
    ).filter((m) => m.src !== null && Buffer.from(m.src).equals(alice));
    expect(stored).toHaveLength(1);
    const [mine] = (await history('alice')).filter((m) => m.id === sent!.id);
    expect(mine!.expiresAt).toBeLessThanOrEqual(Date.now() + 2_000);

    // Each member reads it (a receiver's timer starts when read).
    for (const p of RECEIVERS) {
      await syncUntil(p, (l) => l.some((m) => m.id === sent!.id), 'the disappearing message');
      const read = (await home.json<Msg[]>(p, ['messages', TITLE, '--mark-read']))[0]!;
      expect(read.find((m) => m.id === sent!.id)!.text).toBe(CANARY_3);
    }
    await new Promise((r) => setTimeout(r, 2_500));
    for (const p of STAYING) {
      await home.json(p, ['sync']);
      expect(
        (await history(p)).some((m) => m.id === sent!.id),
        p,
      ).toBe(false);
    }
    // The relay: every target acknowledged it, or its time ran out; its row is gone either way.
    const deadline = Date.now() + 20_000;
    for (;;) {
      const left = relayDb(
        (db) =>
          db.prepare('SELECT count(*) AS n FROM messages WHERE seq = ?').get(stored[0]!.seq) as {
            n: number;
          },
      ).n;
      if (left === 0) break;
      if (Date.now() > deadline) throw new Error('the relay still holds the disappearing message');
      await new Promise((r) => setTimeout(r, 250));
    }
    await home.json('alice', ['timer', TITLE, 'off']);
  }, 240_000);

  it('sends a file to the group; the relay database holds no plaintext, no file content, no title', async () => {
    const file = join(home.dir, 'notes.txt');
    writeFileSync(file, `${'padding '.repeat(10_000)}${CANARY_FILE}\n`);
    const [sent] = await home.json<{ id: string; file: { size: number } }>('alice', [
      'group',
      'send',
      TITLE,
      '--file',
      file,
      CANARY_CAPTION,
    ]);
    expect(sent!.file.size).toBe(readFileSync(file).length);
    await syncUntil('carol', (l) => l.some((m) => m.id === sent!.id), 'the file message');
    const out = join(home.dir, 'carol-notes.txt');
    await home.json('carol', ['attachment', 'get', sent!.id, out]);
    expect(readFileSync(out).equals(readFileSync(file))).toBe(true);

    const [renamed] = await home.json<GroupOut>('alice', ['group', 'rename', TITLE, RENAMED]);
    expect(renamed!.title).toBe(RENAMED);
    await syncUntil('bob', () => true, 'a sync');
    const [g] = await home.json<GroupOut>('bob', ['group', 'show', groupId]);
    expect(g!.title).toBe(RENAMED);

    // The relay's files as they are on disk: the database and its write-ahead log.
    const files = readdirSync(join(relay.dir, 'data')).map((n) => readFileSync(join(relay.dir, 'data', n)));
    const dump = Buffer.concat(files);
    expect(files.length).toBeGreaterThanOrEqual(2);
    expect(dump.length).toBeGreaterThan(100_000);
    for (const needle of [
      CANARY_1,
      CANARY_2,
      CANARY_3,
      CANARY_EDIT,
      CANARY_FILE,
      CANARY_CAPTION,
      TITLE,
      RENAMED,
      tag,
    ]) {
      expect(dump.includes(Buffer.from(needle, 'utf8')), needle).toBe(false);
    }
  }, 240_000);

  it('the daemon offers the group methods', async () => {
    const daemon = home.start('carol', ['daemon']);
    let next = 1;
    const call = async (method: string, params?: unknown): Promise<Line> => {
      const rid = next++;
      daemon.send({ jsonrpc: '2.0', id: rid, method, ...(params === undefined ? {} : { params }) });
      return daemon.waitFor(response(rid), method);
    };
    await call('sync');
    const got = (await call('groups.get', { group: RENAMED.slice(0, 5) })).result as GroupOut;
    expect(got.id).toBe(groupId);
    expect(got.members).toHaveLength(3);
    const sent = (await call('groups.send', { group: groupId, text: 'from the daemon' })).result as { id: string };
    expect(sent.id).toMatch(/^[0-9a-f]{32}$/u);
    const refused = await call('groups.rename', { group: groupId, title: 'mine' });
    expect((refused.error as { code: number; data: { code: string } }).data.code).toBe('GROUP_FORBIDDEN');
    const unknown = await call('groups.get', { group: 'no such group' });
    expect((unknown.error as { code: number }).code).toBe(-32004);
    const list = (await call('messages.list', { contact: groupId, limit: 5 })).result as Msg[];
    expect(list[0]!.text).toBe('from the daemon');
    await call('sync');
    expect(await daemon.interrupt()).toBe(0);
    await syncUntil('alice', (l) => l.some((m) => m.text === 'from the daemon'), 'the daemon message');
  }, 120_000);
});

function cap(s: string): string {
  return s[0]!.toUpperCase() + s.slice(1);
}

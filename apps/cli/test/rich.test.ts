/**
 * Rich messages from the command line and the daemon: `edit`, `react`, `delete`, `timer`
 * and the daemon methods messages.react / messages.setTimer, with real processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTimer } from '../src/commands/rich.js';
import { Home, type Relay, startRelay } from './cli-support.js';

type Line = Record<string, unknown>;
interface Msg {
  id: string;
  text?: string;
  editedAt?: number;
  deleted?: boolean;
  reactions?: { accountId: string; emoji: string }[];
  expiresAt?: number;
}

const response = (id: number) => (lines: Line[]) => lines.find((l) => l.id === id && ('result' in l || 'error' in l));

describe('vaultex react / edit / delete / timer', () => {
  let relay: Relay;
  let home: Home;
  let alice = '';
  let bob = '';

  beforeAll(async () => {
    relay = await startRelay();
    home = new Home(relay.url);
    type Init = { userId: string; contactCode: string };
    const [[a], [b]] = await Promise.all([
      home.json<Init>('alice', ['init', '--name', 'Alice']),
      home.json<Init>('bob', ['init', '--name', 'Bob']),
    ]);
    alice = a!.userId;
    bob = b!.userId;
    await Promise.all([
      home.json('alice', ['contact', 'add', b!.contactCode]),
      home.json('bob', ['contact', 'add', a!.contactCode]),
    ]);
  }, 60_000);

  afterAll(async () => {
    await home?.close();
    await relay?.stop();
  });

  async function history(profile: string, contact: string): Promise<Msg[]> {
    await home.json(profile, ['sync']);
    return (await home.json<Msg[]>(profile, ['messages', contact]))[0]!;
  }

  it('parses timers', () => {
    expect(parseTimer('off')).toBe(0);
    expect(parseTimer('30')).toBe(30);
    expect(parseTimer('5m')).toBe(300);
    expect(parseTimer('1d')).toBe(86_400);
    expect(() => parseTimer('soon')).toThrow(/Invalid timer/u);
  });

  it('edit, react, delete and timer reach the other side', async () => {
    const [sent] = await home.json<{ id: string }>('alice', ['send', 'bob', 'helo']);
    const id = sent!.id;

    await home.json('alice', ['edit', 'bob', id, 'hello', 'there']);
    const edited = (await history('bob', 'alice')).find((m) => m.id === id)!;
    expect(edited.text).toBe('hello there');
    expect(edited.editedAt).toBeGreaterThan(0);

    // Only the sender may edit: Bob is refused with the trust exit code.
    const refused = await home.run('bob', ['edit', 'alice', id, 'mine now']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/only its sender/u);

    await home.json('bob', ['react', 'alice', id, '👍']);
    const reacted = (await history('alice', 'bob')).find((m) => m.id === id)!;
    expect(reacted.reactions).toEqual([{ accountId: bob, emoji: '👍' }]);

    const [timer] = await home.json<{ seconds: number }>('alice', ['timer', 'bob', '1h']);
    expect(timer!.seconds).toBe(3600);
    const [next] = await home.json<{ id: string }>('alice', ['send', 'bob', 'fleeting']);
    const mine = (await history('alice', 'bob')).find((m) => m.id === next!.id)!;
    expect(mine.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);

    await home.json('alice', ['delete', 'bob', id]);
    const gone = (await history('bob', 'alice')).find((m) => m.id === id)!;
    expect(gone.deleted).toBe(true);
    expect(gone.text).toBe('');
  }, 120_000);

  it('the daemon offers messages.react and messages.setTimer', async () => {
    const [sent] = await home.json<{ id: string }>('alice', ['send', 'bob', 'daemon, react']);
    const daemon = home.start('bob', ['daemon']);
    let next = 1;
    const call = async (method: string, params?: unknown): Promise<Line> => {
      const rid = next++;
      daemon.send({ jsonrpc: '2.0', id: rid, method, ...(params === undefined ? {} : { params }) });
      return daemon.waitFor(response(rid), method);
    };
    await call('sync');
    expect((await call('messages.react', { contact: 'alice', id: sent!.id, emoji: '🎉' })).result).toEqual({
      id: sent!.id,
      emoji: '🎉',
    });
    expect((await call('messages.setTimer', { contact: 'alice', seconds: 0 })).result).toEqual({ seconds: 0 });
    const bad = await call('messages.edit', { contact: 'alice', id: sent!.id, text: 'not yours' });
    expect((bad.error as { data: { code: string } }).data.code).toBe('MESSAGE_FORBIDDEN');
    await call('sync');
    expect(await daemon.interrupt()).toBe(0);

    const got = (await history('alice', 'bob')).find((m) => m.id === sent!.id)!;
    expect(got.reactions).toEqual([{ accountId: bob, emoji: '🎉' }]);
    const [again] = await home.json<{ id: string }>('alice', ['send', 'bob', 'stays']);
    expect((await history('alice', 'bob')).find((m) => m.id === again!.id)!.expiresAt).toBeUndefined();
    expect(alice).toMatch(/^[0-9a-f]{32}$/u);
  }, 120_000);
});

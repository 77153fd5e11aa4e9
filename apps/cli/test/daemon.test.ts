/**
 * A bot drives `vaultex daemon` over JSON-RPC only (stdio, then a Unix socket with two
 * clients at once); a person uses the `vaultex` command on the other side.
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Home, type Proc, type Relay, startRelay } from './cli-support.js';

type Line = Record<string, unknown>;

/** A JSON-RPC client over a Unix socket. */
class SocketClient {
  readonly lines: Line[] = [];
  #partial = '';
  readonly socket: Socket;

  constructor(path: string) {
    this.socket = connect(path);
    this.socket.setEncoding('utf8');
    this.socket.on('data', (chunk: string) => {
      const parts = (this.#partial + chunk).split('\n');
      this.#partial = parts.pop()!;
      for (const p of parts) if (p) this.lines.push(JSON.parse(p) as Line);
    });
  }

  send(value: unknown): void {
    this.socket.write(`${JSON.stringify(value)}\n`);
  }

  async waitFor<T>(check: (lines: Line[]) => T, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check(this.lines);
      if (v) return v as NonNullable<T>;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

const response = (id: number) => (lines: Line[]) => lines.find((l) => l.id === id && ('result' in l || 'error' in l));

describe('a bot on `vaultex daemon` (JSON-RPC only)', () => {
  let relay: Relay;
  let home: Home;
  let daemon: Proc;
  let carol: { userId: string; contactCode: string };
  let botId = '';

  beforeAll(async () => {
    relay = await startRelay();
    home = new Home(relay.url);
    const [[c]] = await Promise.all([
      home.json<{ userId: string; contactCode: string }>('carol', ['init', '--name', 'Carol']),
      home.json('bot', ['init', '--name', 'Helpful Bot']),
    ]);
    carol = c!;
  }, 60_000);

  afterAll(async () => {
    await home?.close();
    await relay?.stop();
  });

  it('adds a contact, gets a message as a notification, replies', async () => {
    daemon = home.start('bot', ['daemon']);
    let next = 1;
    const call = async (method: string, params?: unknown): Promise<Line> => {
      const id = next++;
      daemon.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) });
      return daemon.waitFor(response(id), method);
    };

    const id = (await call('id')).result as { userId: string; contactCode: string; name: string };
    expect(id.name).toBe('Helpful Bot');
    botId = id.userId;
    const added = (await call('contacts.add', { code: carol.contactCode })).result as { id: string; name: string };
    expect(added).toMatchObject({ id: carol.userId, name: 'Carol' });
    await daemon.waitFor(
      (l) => l.some((x) => x.method === 'event.connection' && (x.params as Line).state === 'online'),
      'online',
    );

    await home.json('carol', ['contact', 'add', id.contactCode]);
    await home.json('carol', ['send', 'helpful', 'ping']);
    const note = await daemon.waitFor(
      (l) => l.find((x) => x.method === 'event.message' && ((x.params as Line).message as Line).text === 'ping'),
      'the message notification',
    );
    expect('id' in note).toBe(false);
    const message = (note.params as { message: Line }).message;
    expect(message).toMatchObject({ direction: 'in', sender: carol.userId, contactName: 'Carol', kind: 'text' });

    const sent = (await call('messages.send', { to: message.contact, text: 'pong' })).result as { id: string };
    await daemon.waitFor(
      (l) =>
        l.some(
          (x) =>
            x.method === 'event.status' && (x.params as Line).id === sent.id && (x.params as Line).status === 'sent',
        ),
      'sent',
    );
    const got = (await home.json('carol', ['sync'])).filter((l) => l.type === 'message');
    expect(got.map((l) => (l.message as Line).text)).toContain('pong');
    // Carol's client sent a delivery receipt: the bot hears about it.
    await daemon.waitFor(
      (l) =>
        l.some(
          (x) =>
            x.method === 'event.status' &&
            (x.params as Line).id === sent.id &&
            (x.params as Line).status === 'delivered',
        ),
      'delivered',
    );

    const history = (await call('messages.list', { contact: 'carol', limit: 10 })).result as Line[];
    expect(history.map((m) => m.text)).toEqual(['pong', 'ping']);
    expect(((await call('messages.markRead', { contact: 'carol' })).result as { count: number }).count).toBe(1);
    const sn = (await call('contacts.safetyNumber', { contact: 'carol' })).result as { groups: string[] };
    expect(sn.groups).toHaveLength(12);
    expect(((await call('contacts.markVerified', { contact: 'carol' })).result as Line).verified).toBe(true);
    const devices = (await call('devices.list')).result as { current: boolean }[];
    expect(devices.filter((d) => d.current)).toHaveLength(1);
  }, 90_000);

  it('answers errors, batches and notifications as JSON-RPC 2.0 says', async () => {
    daemon.send('{"jsonrpc":"2.0","id":100,"method":"messages.send","params":{"to":"nobody","text":"x"}}');
    const unknown = await daemon.waitFor(response(100), 'error');
    expect(unknown.error).toMatchObject({ code: -32004, data: { code: 'UNKNOWN_CONTACT' } });
    daemon.send('{"jsonrpc":"2.0","id":101,"method":"contacts.add","params":{"code":"vaultex://contact?v=1&d=AA"}}');
    expect((await daemon.waitFor(response(101), 'bad code')).error).toMatchObject({
      code: -32001,
      data: { code: 'INVALID_CONTACT_CODE' },
    });
    daemon.send('{"jsonrpc":"2.0","id":102,"method":"messages.send","params":{"to":"carol"}}');
    expect(((await daemon.waitFor(response(102), 'invalid params')).error as Line).code).toBe(-32602);
    daemon.send('{"jsonrpc":"2.0","id":103,"method":"contacts.frobnicate"}');
    expect(((await daemon.waitFor(response(103), 'no method')).error as Line).code).toBe(-32601);
    daemon.send('this is not json');
    await daemon.waitFor(
      (l) => l.some((x) => x.id === null && (x.error as Line | undefined)?.code === -32700),
      'parse error',
    );
    daemon.send(
      '[{"jsonrpc":"2.0","id":104,"method":"id"},{"jsonrpc":"2.0","method":"sync"},{"jsonrpc":"2.0","id":105,"method":"contacts.list"}]',
    );
    const batch = await daemon.waitFor(
      (l) => l.find((x) => Array.isArray(x)) as unknown as Line[] | undefined,
      'the batch answer',
    );
    // The notification in the middle has no answer; the others answer in order.
    expect(batch.map((r) => r.id)).toEqual([104, 105]);
    expect((batch[1]!.result as Line[]).map((c) => c.name)).toEqual(['Carol']);

    daemon.child.stdin!.end();
    expect(await daemon.exited).toBe(0);
  }, 30_000);

  it('serves several clients at once on a Unix socket; events go to all', async () => {
    const path = join(home.dir, 'bot.sock');
    const socketDaemon = home.start('bot', ['daemon', '--socket', path]);
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 30_000;
      const poll = () => {
        if (socketDaemon.stderr.includes('ready as')) return resolve();
        if (Date.now() > deadline) return reject(new Error(`daemon not ready: ${socketDaemon.stderr}`));
        setTimeout(poll, 50);
      };
      poll();
    });
    const a = new SocketClient(path);
    const b = new SocketClient(path);
    a.send({ jsonrpc: '2.0', id: 1, method: 'id' });
    b.send({ jsonrpc: '2.0', id: 1, method: 'contacts.list' });
    expect(((await a.waitFor(response(1), 'a: id')).result as Line).userId).toBe(botId);
    expect(((await b.waitFor(response(1), 'b: contacts')).result as Line[]).length).toBe(1);

    await home.json('carol', ['send', 'helpful', 'to the socket']);
    const seen = (c: SocketClient) =>
      c.waitFor(
        (l) =>
          l.find((x) => x.method === 'event.message' && ((x.params as Line).message as Line).text === 'to the socket'),
        'the notification',
      );
    await Promise.all([seen(a), seen(b)]);

    a.socket.end();
    b.send({ jsonrpc: '2.0', id: 2, method: 'messages.send', params: { to: 'carol', text: 'one client left' } });
    expect(((await b.waitFor(response(2), 'b: send')).result as Line).id).toMatch(/^[0-9a-f]{32}$/u);
    b.socket.end();
    socketDaemon.child.kill('SIGTERM');
    expect(await socketDaemon.exited).toBe(0);
    const got = (await home.json('carol', ['sync'])).filter((l) => l.type === 'message');
    expect(got.map((l) => (l.message as Line).text)).toContain('one client left');
  }, 60_000);
});

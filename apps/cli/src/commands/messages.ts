/**
 * Messaging: `send` (returns once the relay holds the message durably), `listen` (runs
 * until Ctrl-C, one line per event, acknowledging as it goes) and `messages` (history).
 */
import { ClientError, type ClientEvents, type VaultexClient } from '@vaultex/client';
import type { Command } from 'commander';
import { aboutContact, type CommandEnv, envOf, type RunState, untilSignal, withClient } from '../command-env.js';
import { CliError, describeError } from '../errors.js';
import { type EventRecord, onEvents, printEvent } from '../event-lines.js';
import { dateTime } from '../output.js';
import { canPrompt, readStdin } from '../prompt.js';
import { label, resolveContact, resolveConversation } from '../resolve.js';
import { ContactNames, conversationMessageJson } from '../views.js';
import { uploadFile } from './attachments.js';

/** A sent message after one round with the relay. */
export interface SentOutcome {
  readonly id: string;
  readonly status: string;
  /** Messages received in the same round. */
  readonly received: number;
}

/**
 * Queue a message with `queue`, do one round with the relay and check the relay took it.
 * @throws CliError NOT_SENT when it is still queued (relay unreachable); the failure of a failed send.
 */
export async function confirmSent(
  env: CommandEnv,
  client: VaultexClient,
  conversationId: string,
  queue: () => Promise<string>,
): Promise<SentOutcome> {
  const failures = new Map<string, unknown>();
  const off = client.on('message-status', (s) => {
    if (s.status === 'failed') failures.set(s.id, s.error);
  });
  let id: string;
  let network: unknown;
  let received = 0;
  try {
    id = await queue();
    try {
      ({ received } = await client.sync());
    } catch (e) {
      network = e;
    }
  } finally {
    off();
  }
  if (failures.has(id)) throw failures.get(id) ?? new CliError('NOT_SENT', 'The message failed.');
  const status = await statusOf(client, conversationId, id);
  if (status === 'failed') throw network ?? new CliError('NOT_SENT', 'The message failed.');
  if (status === 'pending' || status === undefined) {
    if (network !== undefined && !isNetwork(network)) throw network;
    throw new CliError(
      'NOT_SENT',
      `The relay at ${client.profile.serverUrl} did not take the message (it is unreachable or busy). It is saved and goes out with the next \`${env.command} sync\`, \`listen\` or \`send\`.`,
    );
  }
  return { id, status, received };
}

/** How a queued message ended up after one round with the relay. */
async function statusOf(client: VaultexClient, conversationId: string, id: string): Promise<string | undefined> {
  for (let before: { sentAt: number; id: string } | undefined, page = 0; page < 20; page++) {
    const list = await client.messages.list(conversationId, { limit: 200, ...(before ? { before } : {}) });
    const m = list.find((x) => x.id === id);
    if (m) return m.status;
    if (list.length < 200) return undefined;
    const last = list[list.length - 1]!;
    before = { sentAt: last.sentAt, id: last.id };
  }
  return undefined;
}

function parseLimit(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new CliError('USAGE', `Invalid --limit '${value}': give 1..1000.`);
  return n;
}

/** Register `send`, `listen`, `messages`. */
export function registerMessages(program: Command, state: RunState): void {
  program
    .command('send')
    .summary('send a text to a contact; returns once the relay has it')
    .description(
      'Send a text message to a contact. The text is the remaining arguments, or stdin when none ' +
        'is given. Exits 0 once the relay has stored it for every device of the contact (and your ' +
        'other devices); exits 2 when the relay cannot be reached: the message then stays queued ' +
        'and goes out with the next `vaultex sync`, `listen` or `send`.',
    )
    .argument('<contact>', 'display name, account id or id prefix')
    .argument('[text...]', 'the message (default: stdin); with --file, an optional caption')
    .option(
      '--file <path>',
      'send a file, encrypted (progress on a terminal); run again to resume an interrupted upload',
    )
    .action(async (who: string, words: string[], opts: { file?: string }, cmd: Command) => {
      const env = envOf(cmd, state);
      aboutContact(env, who);
      let text = words.join(' ');
      if (text.length === 0 && opts.file === undefined) {
        if (canPrompt()) throw new CliError('USAGE', `No text. Usage: \`${env.command} send <contact> <text>\`.`);
        text = (await readStdin()).replace(/\r?\n$/u, '');
      }
      if (text.length === 0 && opts.file === undefined) throw new CliError('USAGE', 'The message is empty.');
      await withClient(env, async (client) => {
        const contact = await resolveContact(client, who, env.command);
        aboutContact(env, label(contact));
        const file = opts.file === undefined ? undefined : await uploadFile(env, client, opts.file);
        const { id, status, received } = await confirmSent(env, client, `d:${contact.accountId}`, () =>
          file
            ? client.messages.sendAttachment(contact.accountId, file.pointer, text.length > 0 ? { caption: text } : {})
            : client.messages.send(contact.accountId, text),
        );
        if (received > 0) {
          env.out.note(
            `(${received} new message${received === 1 ? '' : 's'} received: \`${env.command} messages <contact>\`)`,
          );
        }
        env.out.result(`Sent to ${label(contact)} (${status}). Message id ${id}.`, {
          id,
          contact: contact.accountId,
          status,
          ...(file
            ? { file: { name: file.pointer.name, size: file.pointer.size, resumedFrom: file.resumedFrom } }
            : {}),
        });
      });
    });

  program
    .command('listen')
    .summary('print incoming messages and events until Ctrl-C')
    .description(
      'Stay connected and print every event as it happens: messages (yours from other devices too), ' +
        'status changes (sent, delivered, read, failed), typing, key changes, message requests, group ' +
        'messages (`[group] sender: text`) and changes, and the connection state. With --json: one JSON ' +
        'object per line, `type` being message (with `group` and `senderName` in a group), status, typing, ' +
        'identity-changed, message-request, message-updated, timer, group or connection. Messages are acknowledged to the ' +
        'relay once stored, and queued messages are sent. Stops on Ctrl-C or SIGTERM.',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const names = new ContactNames(client);
        let printing = Promise.resolve();
        let ended: ((reason: 'revoked' | 'replaced') => void) | undefined;
        const terminated = new Promise<'revoked' | 'replaced'>((resolve) => {
          ended = resolve;
        });
        const off = onEvents(client, (r: EventRecord) => {
          printing = printing.then(() => printEvent(env, r, names)).catch(() => undefined);
          if (r.event === 'connection') {
            const reason = (r.payload as ClientEvents['connection']).reason;
            if (reason === 'revoked' || reason === 'replaced') ended?.(reason);
          }
        });
        const offError = client.on('error', ({ error, context }) =>
          env.out.warn(`${context}: ${describeError(error, env.state.context).message}`),
        );
        const stop = untilSignal();
        client.start();
        env.out.note(`Listening as ${client.id().formatted}. Ctrl-C stops.`);
        const why = await Promise.race([stop.promise, terminated]);
        stop.dispose();
        await client.stop();
        off();
        offError();
        await printing;
        if (why === 'revoked') {
          throw new ClientError('DEVICE_REVOKED', 'this device was removed from the account');
        }
        if (why === 'replaced') {
          throw new CliError(
            'PROFILE_LOCKED',
            'Another process connected as this device (the same profile copied elsewhere?). Only one may run at a time.',
          );
        }
      });
    });

  program
    .command('messages')
    .summary('show the conversation with a contact or a group')
    .argument('<contact|group>', 'contact name or id, or group title or id')
    .option('--limit <n>', 'how many of the latest messages (default 20, at most 1000)')
    .option('--mark-read', 'mark them read (sends read receipts when enabled)')
    .action(async (who: string, opts: { limit?: string; markRead?: boolean }, cmd: Command) => {
      const env = envOf(cmd, state);
      aboutContact(env, who);
      const limit = parseLimit(opts.limit, 20);
      await withClient(env, async (client) => {
        const conv = await resolveConversation(client, who, env.command);
        aboutContact(env, conv.name);
        const list = (await client.messages.list(conv.conversationId, { limit })).reverse();
        if (opts.markRead) {
          await client.messages.markRead(conv.conversationId);
          await client.sync().catch(() => undefined);
        }
        const names = new ContactNames(client);
        const json = await Promise.all(list.map((m) => conversationMessageJson(m, conv, names)));
        env.out.result(
          () =>
            json.length === 0
              ? `No messages with ${conv.name} yet.`
              : json
                  .map((m) => {
                    const from =
                      m.direction === 'out' ? 'you' : (m.senderName ?? m.contactName) || m.sender.slice(0, 8);
                    const mark = m.direction === 'out' ? ` [${m.status}]` : '';
                    const body = m.deleted
                      ? '(deleted)'
                      : m.kind === 'attachment'
                        ? `[file ${m.attachment?.name}] ${m.text ?? ''}`
                        : (m.text ?? '(unsupported)');
                    return `[${dateTime(m.sentAt)}] ${from}: ${body}${mark}`;
                  })
                  .join('\n'),
          json,
        );
      });
    });
}

function isNetwork(e: unknown): boolean {
  return (e as { code?: string } | undefined)?.code === 'NETWORK_ERROR';
}

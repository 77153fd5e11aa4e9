/**
 * Rich-message commands: `react`, `edit`, `delete` (for everyone) and `timer` (disappearing
 * messages), in a conversation with a contact or in a group. Each changes the local conversation at once, then does one round with the relay;
 * when it is unreachable the change stays queued and goes out with the next sync.
 */
import type { VaultexClient } from '@vaultex/client';
import type { Command } from 'commander';
import { aboutContact, type CommandEnv, envOf, type RunState, withClient } from '../command-env.js';
import { CliError } from '../errors.js';
import { resolveConversation } from '../resolve.js';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * Parse a timer: `off`, `0`, or a number of seconds with an optional unit (`30s`, `5m`, `1h`, `1d`, `1w`).
 * @throws CliError USAGE.
 */
export function parseTimer(value: string): number {
  if (value === 'off') return 0;
  const m = /^(\d{1,9})([smhdw]?)$/u.exec(value);
  if (!m) throw new CliError('USAGE', `Invalid timer '${value}': give seconds (e.g. 30, 5m, 1h, 1d) or 'off'.`);
  return Number(m[1]) * UNITS[m[2] || 's']!;
}

/**
 * A message id as given on the command line, lower-cased.
 * @throws CliError USAGE unless it is 32 hex digits.
 */
export function checkMessageId(id: string): string {
  const lower = id.toLowerCase();
  if (!/^[0-9a-f]{32}$/u.test(lower)) {
    throw new CliError(
      'USAGE',
      `Invalid message id '${id}': give the 32 hex digits \`send\` or \`messages --json\` print.`,
    );
  }
  return lower;
}

/** Resolve the contact or group, apply the change, then one round with the relay. */
async function change(
  env: CommandEnv,
  who: string,
  run: (client: VaultexClient, conversationId: string) => Promise<void>,
  done: (name: string) => string,
  json: Record<string, unknown>,
): Promise<void> {
  aboutContact(env, who);
  await withClient(env, async (client) => {
    const conv = await resolveConversation(client, who, env.command);
    aboutContact(env, conv.name);
    await run(client, conv.conversationId);
    let queued = false;
    try {
      await client.sync();
    } catch {
      // The change is stored and queued: it goes out with the next sync.
      queued = true;
    }
    const suffix = queued
      ? ` (queued: the relay is unreachable; it goes out with the next \`${env.command} sync\`)`
      : '';
    const where = conv.kind === 'group' ? { group: conv.group.groupId } : { contact: conv.contact.accountId };
    env.out.result(`${done(conv.name)}${suffix}`, { ...json, ...where, queued });
  });
}

/** Register `react`, `edit`, `delete`, `timer`. */
export function registerRich(program: Command, state: RunState): void {
  program
    .command('react')
    .summary('react to a message with an emoji (no emoji: remove your reaction)')
    .argument('<contact|group>', 'contact name or id, or group title or id')
    .argument('<messageId>', 'the 32 hex digits of the message')
    .argument('[emoji]', 'at most 16 characters; omit to remove your reaction')
    .action(async (who: string, id: string, emoji: string | undefined, _opts: unknown, cmd: Command) => {
      const messageId = checkMessageId(id);
      const e = emoji ?? '';
      await change(
        envOf(cmd, state),
        who,
        (client, conv) => client.messages.react(conv, messageId, e),
        (name) => (e ? `Reacted ${e} to ${messageId} with ${name}.` : `Removed your reaction to ${messageId}.`),
        { id: messageId, emoji: e },
      );
    });

  program
    .command('edit')
    .summary('replace the text of one of your messages, on every device')
    .argument('<contact|group>')
    .argument('<messageId>')
    .argument('<text...>')
    .action(async (who: string, id: string, words: string[], _opts: unknown, cmd: Command) => {
      const messageId = checkMessageId(id);
      const text = words.join(' ');
      await change(
        envOf(cmd, state),
        who,
        (client, conv) => client.messages.edit(conv, messageId, text),
        (name) => `Edited ${messageId} in the conversation with ${name}.`,
        { id: messageId },
      );
    });

  program
    .command('delete')
    .summary('delete one of your messages for everyone')
    .argument('<contact|group>')
    .argument('<messageId>')
    .action(async (who: string, id: string, _opts: unknown, cmd: Command) => {
      const messageId = checkMessageId(id);
      await change(
        envOf(cmd, state),
        who,
        (client, conv) => client.messages.delete(conv, messageId),
        (name) => `Deleted ${messageId} for everyone in the conversation with ${name}.`,
        { id: messageId, deleted: true },
      );
    });

  program
    .command('timer')
    .summary('set disappearing messages for a conversation (both sides)')
    .description(
      'Messages sent after this disappear: yours a given time after sending, theirs a given time after ' +
        'you read them; the relay keeps its copy at most as long (rounded up to its time bucket). ' +
        "Either side may change it; 'off' turns it off.",
    )
    .argument('<contact|group>')
    .argument('<seconds>', "seconds, or 30s / 5m / 1h / 1d / 1w, or 'off'")
    .action(async (who: string, value: string, _opts: unknown, cmd: Command) => {
      const seconds = parseTimer(value);
      await change(
        envOf(cmd, state),
        who,
        (client, conv) => client.messages.setTimer(conv, seconds),
        (name) =>
          seconds === 0
            ? `Disappearing messages are off with ${name}.`
            : `Messages with ${name} now disappear after ${value}${/\d$/u.test(value) ? ' s' : ''}.`,
        { seconds },
      );
    });
}

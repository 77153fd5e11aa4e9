/**
 * Contacts: `contact add|list|accept|block|unblock|accept-key`, `verify` (the safety
 * number) and opt-in `discovery`.
 */
import type { ContactView, VaultexClient } from '@vaultex/client';
import type { Command } from 'commander';
import { aboutContact, type CommandEnv, envOf, type RunState, withClient } from '../command-env.js';
import { CliError } from '../errors.js';
import { table, terminalQr } from '../output.js';
import { canPrompt, readStdin } from '../prompt.js';
import { label, resolveContact } from '../resolve.js';
import { contactJson, safetyGroups, safetyJson } from '../views.js';

const STATES = ['accepted', 'request', 'blocked'] as const;

function stateText(c: ContactView): string {
  const parts: string[] = [c.state];
  if (c.verified) parts.push('verified');
  if (c.keyChanged) parts.push('KEY CHANGED');
  return parts.join(', ');
}

async function readCode(arg: string): Promise<string> {
  if (arg !== '-') return arg.trim();
  if (canPrompt()) throw new CliError('USAGE', "'-' reads the contact code from stdin: pipe it in.");
  return (await readStdin()).trim();
}

/** One contact command that changes a contact and prints it. */
function contactAction(
  state: RunState,
  change: (client: VaultexClient, c: ContactView) => Promise<ContactView>,
  done: (c: ContactView, env: CommandEnv) => string,
) {
  return async (who: string, _opts: unknown, cmd: Command) => {
    const env = envOf(cmd, state);
    aboutContact(env, who);
    await withClient(env, async (client) => {
      const c = await resolveContact(client, who, env.command);
      aboutContact(env, label(c));
      const updated = await change(client, c);
      env.out.result(() => done(updated, env), contactJson(updated));
    });
  };
}

/** Register `contact ...`, `verify`, `discovery ...`. */
export function registerContacts(program: Command, state: RunState): void {
  const contact = program
    .command('contact')
    .summary('add, list, accept, block contacts; accept a key change')
    .description(
      'Manage contacts. <contact> is a display name (or its unique beginning), an account id, ' +
        'or at least 4 hex digits of one.',
    );

  contact
    .command('add')
    .summary('add a contact from their contact code')
    .description("Add a contact from the code `vaultex id` prints on their side ('-' reads it from stdin).")
    .argument('<code>', 'vaultex://contact?... code, or - for stdin')
    .option('--name <name>', 'the name you want to see for them (default: the name in the code)')
    .action(async (codeArg: string, opts: { name?: string }, cmd: Command) => {
      const env = envOf(cmd, state);
      const code = await readCode(codeArg);
      await withClient(env, async (client) => {
        const c = await client.contacts.add(code, opts.name ? { displayName: opts.name } : {});
        env.out.result(
          `Added ${label(c)} (${c.formatted}). Write to them: \`${env.command} send ${JSON.stringify(label(c))} <text>\`.`,
          contactJson(c),
        );
      });
    });

  contact
    .command('list')
    .summary('list contacts')
    .option('--state <state>', `only contacts in this state (${STATES.join(', ')})`)
    .action(async (opts: { state?: string }, cmd: Command) => {
      const env = envOf(cmd, state);
      const wanted = opts.state;
      if (wanted !== undefined && !(STATES as readonly string[]).includes(wanted)) {
        throw new CliError('USAGE', `Invalid --state '${wanted}': use one of ${STATES.join(', ')}.`);
      }
      await withClient(env, async (client) => {
        const list = await client.contacts.list(wanted as (typeof STATES)[number] | undefined);
        env.out.result(
          () =>
            list.length === 0
              ? `No contacts yet. Add one with \`${env.command} contact add <code>\`.`
              : table([['NAME', 'USER ID', 'STATE'], ...list.map((c) => [label(c), c.formatted, stateText(c)])]),
          list.map(contactJson),
        );
      });
    });

  contact
    .command('accept')
    .summary('accept a message request')
    .argument('<contact>')
    .action(
      contactAction(
        state,
        (client, c) => client.contacts.accept(c.accountId),
        (c) => `Accepted ${label(c)}.`,
      ),
    );

  contact
    .command('block')
    .summary('block a contact: their messages are dropped, you cannot write to them')
    .argument('<contact>')
    .action(
      contactAction(
        state,
        (client, c) => client.contacts.block(c.accountId),
        (c, env) => `Blocked ${label(c)}. Undo with \`${env.command} contact unblock ${JSON.stringify(label(c))}\`.`,
      ),
    );

  contact
    .command('unblock')
    .summary('unblock a contact')
    .argument('<contact>')
    .action(
      contactAction(
        state,
        (client, c) => client.contacts.unblock(c.accountId),
        (c) => `Unblocked ${label(c)}.`,
      ),
    );

  contact
    .command('accept-key')
    .summary("accept a contact's changed identity key (after comparing safety numbers)")
    .description(
      "Accept a contact's new identity key. Sends to them are refused until you do. Compare the new " +
        'safety number first (`vaultex verify <contact>`), in person or over a channel you trust.',
    )
    .argument('<contact>')
    .action(
      contactAction(
        state,
        (client, c) => client.contacts.acceptKeyChange(c.accountId),
        (c, env) =>
          `Accepted the new key of ${label(c)}. Verify it when you can: \`${env.command} verify ${JSON.stringify(label(c))}\`.`,
      ),
    );

  program
    .command('verify')
    .summary('show the safety number with a contact (--mark once it matches)')
    .description(
      'Show the 60-digit safety number of you and a contact. Compare it with the one their device ' +
        'shows; if it matches, mark the contact verified with --mark.',
    )
    .argument('<contact>')
    .option('--mark', 'mark the contact as verified')
    .option('--unmark', 'mark the contact as not verified')
    .option('--qr', 'also draw the safety number as a QR code')
    .action(async (who: string, opts: { mark?: boolean; unmark?: boolean; qr?: boolean }, cmd: Command) => {
      const env = envOf(cmd, state);
      aboutContact(env, who);
      if (opts.mark && opts.unmark) throw new CliError('USAGE', 'Give --mark or --unmark, not both.');
      await withClient(env, async (client) => {
        let c = await resolveContact(client, who, env.command);
        aboutContact(env, label(c));
        if (opts.mark || opts.unmark) c = await client.contacts.markVerified(c.accountId, opts.mark === true);
        const sn = await client.contacts.safetyNumber(c.accountId);
        const groups = safetyGroups(sn.digits);
        const qr = opts.qr && !env.out.json ? await terminalQr(sn.qrText) : '';
        const name = JSON.stringify(label(c));
        env.out.result(
          () =>
            [
              `Safety number with ${label(c)}:`,
              '',
              ...[0, 4, 8].map((i) => `    ${groups.slice(i, i + 4).join(' ')}`),
              '',
              ...(qr ? [qr, ''] : []),
              c.keyChanged
                ? `${label(c)}'s key changed and is not accepted yet: compare, then \`${env.command} contact accept-key ${name}\`.`
                : c.verified
                  ? `${label(c)} is verified.`
                  : `Not verified. Compare it with the number on ${label(c)}'s device; if it matches: \`${env.command} verify ${name} --mark\`.`,
            ].join('\n'),
          { contact: contactJson(c), ...safetyJson(sn) },
        );
      });
    });

  const discovery = program
    .command('discovery')
    .summary('opt in to (or out of) search by display name; search others')
    .description('Discovery is opt-in: only accounts that turned it on can be found, by display name.');

  discovery
    .command('on')
    .summary('let others find you by display name')
    .option('--name <name>', 'the name to be found by (default: your display name)')
    .action(async (opts: { name?: string }, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        await client.discovery.set(true, opts.name);
        env.out.result('Discovery is on: others can find you by name.', { discoverable: true });
      });
    });

  discovery
    .command('off')
    .summary('stop being findable')
    .action(async (_opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        await client.discovery.set(false);
        env.out.result('Discovery is off.', { discoverable: false });
      });
    });

  discovery
    .command('search')
    .summary('find accounts that opted in, by display name')
    .argument('<query>')
    .action(async (query: string, _opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const hits = await client.discovery.search(query);
        env.out.result(
          () =>
            hits.length === 0
              ? 'Nobody found (only accounts that turned discovery on can be found).'
              : table([['NAME', 'USER ID'], ...hits.map((h) => [h.displayName ?? '', h.formatted])]),
          hits.map((h) => ({ id: h.accountId, formatted: h.formatted, name: h.displayName ?? '' })),
        );
      });
    });
}

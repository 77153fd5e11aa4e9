/**
 * Groups: `group create|list|show|rename|add|remove|leave|send`. A group is named by its
 * title (a unique prefix works) or its id; members by contact name or id, as everywhere.
 * Each change is applied locally, then one round with the relay sends it (it stays queued
 * when the relay is unreachable). `messages <group>` shows the history; `react`, `edit`,
 * `delete` and `timer` accept a group where they accept a contact.
 */
import type { ContactView, GroupView, VaultexClient } from '@vaultex/client';
import type { Command } from 'commander';
import { aboutContact, type CommandEnv, envOf, type RunState, withClient } from '../command-env.js';
import { CliError } from '../errors.js';
import { table } from '../output.js';
import { label, pickContact, resolveContact, resolveGroup } from '../resolve.js';
import { ContactNames, type GroupJson, groupJson } from '../views.js';
import { uploadFile } from './attachments.js';
import { confirmSent } from './messages.js';
import { checkMessageId } from './rich.js';

/** One round with the relay; true when it could not be reached (the change stays queued). */
async function syncOnce(client: VaultexClient): Promise<boolean> {
  try {
    await client.sync();
    return false;
  } catch {
    // Stored and queued: it goes out with the next sync.
    return true;
  }
}

function queuedSuffix(env: CommandEnv, queued: boolean): string {
  return queued ? ` (queued: the relay is unreachable; it goes out with the next \`${env.command} sync\`)` : '';
}

/** Human lines of a group. */
function groupText(g: GroupJson): string {
  const head = `${g.title}  (group ${g.id}, version ${g.version}${g.member ? '' : ', you are no longer a member'})`;
  const rows = g.members.map((m) => [
    m.you ? `${m.name || m.id.slice(0, 8)} (you)` : m.name || m.id.slice(0, 8),
    m.id,
    m.admin ? 'admin' : '',
  ]);
  return `${head}\n${table([['member', 'account id', ''], ...rows])}`;
}

/** The member of `group` that `query` names (a contact name, an account id or an id prefix). */
function pickMember(group: GroupView, contacts: readonly ContactView[], query: string, command: string): string {
  const byId = new Map(contacts.map((c) => [c.accountId, c.displayName]));
  const members = group.members.map((m) => ({ accountId: m.accountId, displayName: byId.get(m.accountId) ?? '' }));
  try {
    return pickContact(members, query, command).accountId;
  } catch (e) {
    if (e instanceof CliError && e.code === 'UNKNOWN_CONTACT') {
      throw new CliError(
        'UNKNOWN_CONTACT',
        `No member of ${group.title} matches '${query}'. See \`${command} group show ${group.groupId.slice(0, 8)}\`.`,
      );
    }
    throw e;
  }
}

/** Resolve the group, run `fn`, one round with the relay, print the group after the change. */
async function changeGroup(
  env: CommandEnv,
  query: string,
  fn: (client: VaultexClient, group: GroupView) => Promise<GroupView>,
  done: (g: GroupView) => string,
): Promise<void> {
  aboutContact(env, query);
  await withClient(env, async (client) => {
    const group = await resolveGroup(client, query, env.command);
    aboutContact(env, group.title);
    const after = await fn(client, group);
    const queued = await syncOnce(client);
    const json = await groupJson(after, client.id().userId, new ContactNames(client));
    env.out.result(`${done(after)}${queuedSuffix(env, queued)}`, { ...json, queued });
  });
}

/** Register `group` and its subcommands. */
export function registerGroups(program: Command, state: RunState): void {
  const group = program
    .command('group')
    .summary('groups: create, list, show, rename, add, remove, leave, send')
    .description(
      'End-to-end encrypted groups (Sender Keys). A group is named by its title (a unique prefix ' +
        'works) or its id; members by contact name or id. Only admins rename, add and remove; ' +
        'the creator is the first admin. `messages <group>` shows its history; `react`, `edit`, ' +
        '`delete` and `timer` take a group where they take a contact.',
    );

  group
    .command('create')
    .summary('create a group with you as admin and the given contacts as members')
    .argument('<title>', 'the group title (quote it if it has spaces)')
    .argument('<member...>', 'contacts: display name, account id or id prefix')
    .action(async (title: string, who: string[], _opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const ids: string[] = [];
        for (const w of who) {
          aboutContact(env, w);
          ids.push((await resolveContact(client, w, env.command)).accountId);
        }
        const created = await client.groups.create(title, ids);
        const queued = await syncOnce(client);
        const json = await groupJson(created, client.id().userId, new ContactNames(client));
        env.out.result(
          `Created group ${created.title} (${created.groupId}) with ${created.members.length} members.${queuedSuffix(env, queued)}`,
          { ...json, queued },
        );
      });
    });

  group
    .command('list')
    .summary('your groups (including ones you left), most recently active first')
    .action(async (_opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const names = new ContactNames(client);
        const me = client.id().userId;
        const list = await Promise.all((await client.groups.list()).map((g) => groupJson(g, me, names)));
        env.out.result(
          () =>
            list.length === 0
              ? `No groups yet. Create one with \`${env.command} group create <title> <member...>\`.`
              : table([
                  ['title', 'group id', 'members', ''],
                  ...list.map((g) => [
                    g.title,
                    g.id,
                    String(g.members.length),
                    g.member ? (g.admin ? 'admin' : '') : 'left',
                  ]),
                ]),
          list,
        );
      });
    });

  group
    .command('show')
    .summary('a group: title, id, members and admins')
    .argument('<group>', 'title, title prefix, group id or id prefix')
    .action(async (query: string, _opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      aboutContact(env, query);
      await withClient(env, async (client) => {
        const g = await resolveGroup(client, query, env.command);
        const json = await groupJson(g, client.id().userId, new ContactNames(client));
        env.out.result(() => groupText(json), json);
      });
    });

  group
    .command('rename')
    .summary('change the title of a group (admins)')
    .argument('<group>')
    .argument('<title>')
    .action(async (query: string, title: string, _opts: unknown, cmd: Command) => {
      await changeGroup(
        envOf(cmd, state),
        query,
        (client, g) => client.groups.rename(g.groupId, title),
        (g) => `Renamed the group to ${g.title}.`,
      );
    });

  group
    .command('add')
    .summary('add contacts to a group (admins)')
    .argument('<group>')
    .argument('<member...>', 'contacts: display name, account id or id prefix')
    .action(async (query: string, who: string[], _opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await changeGroup(
        env,
        query,
        async (client, g) => {
          const ids: string[] = [];
          for (const w of who) ids.push((await resolveContact(client, w, env.command)).accountId);
          return client.groups.add(g.groupId, ids);
        },
        (g) => `${g.title} now has ${g.members.length} members.`,
      );
    });

  group
    .command('remove')
    .summary('remove a member (admins); the others rotate their keys so they cannot read what follows')
    .argument('<group>')
    .argument('<member>', 'contact name, account id or id prefix')
    .action(async (query: string, who: string, _opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      let removed = '';
      await changeGroup(
        env,
        query,
        async (client, g) => {
          const contacts = await client.contacts.list();
          const id = pickMember(g, contacts, who, env.command);
          const c = contacts.find((x) => x.accountId === id);
          removed = c ? label(c) : id.slice(0, 8);
          return client.groups.remove(g.groupId, id);
        },
        (g) => `Removed ${removed} from ${g.title}; ${g.members.length} members left.`,
      );
    });

  group
    .command('leave')
    .summary('leave a group (the others are told and rotate their keys)')
    .argument('<group>')
    .action(async (query: string, _opts: unknown, cmd: Command) => {
      await changeGroup(
        envOf(cmd, state),
        query,
        (client, g) => client.groups.leave(g.groupId),
        (g) => `You left ${g.title}.`,
      );
    });

  group
    .command('send')
    .summary('send a text or a file to a group; returns once the relay has it')
    .description(
      'Send a text (the remaining arguments) or, with --file, a file (encrypted, resumable; the ' +
        'remaining arguments are its caption) to every member. The message is encrypted once with ' +
        'your Sender Key and stored once on the relay for every member device. Exits 0 once the ' +
        'relay holds it; 2 when it is unreachable (the message stays queued).',
    )
    .argument('<group>', 'title, title prefix, group id or id prefix')
    .argument('[text...]', 'the message; with --file, an optional caption')
    .option('--reply <messageId>', 'quote a message of the group (32 hex digits)')
    .option('--file <path>', 'send a file (progress on a terminal); run again to resume an interrupted upload')
    .action(async (query: string, words: string[], opts: { reply?: string; file?: string }, cmd: Command) => {
      const env = envOf(cmd, state);
      aboutContact(env, query);
      const text = words.join(' ');
      if (text.length === 0 && opts.file === undefined) {
        throw new CliError('USAGE', `No text. Usage: \`${env.command} group send <group> <text>\` or --file <path>.`);
      }
      const replyTo = opts.reply === undefined ? undefined : checkMessageId(opts.reply);
      await withClient(env, async (client) => {
        const g = await resolveGroup(client, query, env.command);
        aboutContact(env, g.title);
        const file = opts.file === undefined ? undefined : await uploadFile(env, client, opts.file);
        const outcome = await confirmSent(env, client, g.conversationId, async () =>
          file
            ? client.groups.sendAttachment(g.groupId, file.pointer, text.length > 0 ? { caption: text } : {})
            : client.groups.send(g.groupId, text, replyTo ? { replyTo } : {}),
        );
        env.out.result(`Sent to ${g.title} (${outcome.status}). Message id ${outcome.id}.`, {
          id: outcome.id,
          group: g.groupId,
          status: outcome.status,
          ...(file
            ? { file: { name: file.pointer.name, size: file.pointer.size, resumedFrom: file.resumedFrom } }
            : {}),
        });
      });
    });
}

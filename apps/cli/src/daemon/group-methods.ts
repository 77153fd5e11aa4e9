/**
 * The daemon's group methods: groups.create|list|get|rename|add|remove|leave|send|sendFile.
 * A group is named like on the command line (`group`: a title, a unique title prefix, an
 * id or an id prefix), members like contacts. Changes are queued at once; the daemon's
 * connection sends them (or `sync`).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { VaultexClient } from '@vaultex/client';
import * as z from 'zod';
import { mimeOf } from '../commands/attachments.js';
import { CliError } from '../errors.js';
import { pickContact, pickGroup } from '../resolve.js';
import { ContactNames, groupJson } from '../views.js';
import { method, type RpcMethod } from './json-rpc.js';

const who = z.string().min(1).max(200);
const title = z.string().min(1).max(200);
const oneGroup = z.object({ group: who }).strict();
const messageId = z.string().regex(/^[0-9a-f]{32}$/u);

/** The group methods of a client. */
export function createGroupMethods(client: VaultexClient): Record<string, RpcMethod> {
  const names = new ContactNames(client);
  const find = async (query: string) => pickGroup(await client.groups.list(), query);
  const accounts = async (queries: readonly string[]) => {
    const contacts = await client.contacts.list();
    return queries.map((q) => pickContact(contacts, q).accountId);
  };
  const view = async (g: Parameters<typeof groupJson>[0]) => groupJson(g, client.id().userId, names);

  return {
    'groups.create': method(
      'Create a group with us as admin and the given contacts as members',
      z.object({ title, members: z.array(who).min(1).max(999) }).strict(),
      async ({ title: t, members }) => view(await client.groups.create(t, await accounts(members))),
    ),
    'groups.list': method(
      'Our groups (including ones we left), most recently active first',
      z.object({}).strict(),
      async () => Promise.all((await client.groups.list()).map(view)),
    ),
    'groups.get': method('One group: title, members, admins', oneGroup, async ({ group }) => view(await find(group))),
    'groups.rename': method(
      'Rename a group (admins)',
      z.object({ group: who, title }).strict(),
      async ({ group, title: t }) => view(await client.groups.rename((await find(group)).groupId, t)),
    ),
    'groups.add': method(
      'Add contacts to a group (admins)',
      z.object({ group: who, members: z.array(who).min(1).max(999) }).strict(),
      async ({ group, members }) => view(await client.groups.add((await find(group)).groupId, await accounts(members))),
    ),
    'groups.remove': method(
      'Remove a member (admins); the others rotate their sender keys',
      z.object({ group: who, member: who }).strict(),
      async ({ group, member }) => {
        const g = await find(group);
        const contacts = new Map((await client.contacts.list()).map((c) => [c.accountId, c.displayName]));
        const list = g.members.map((m) => ({ accountId: m.accountId, displayName: contacts.get(m.accountId) ?? '' }));
        return view(await client.groups.remove(g.groupId, pickContact(list, member).accountId));
      },
    ),
    'groups.leave': method('Leave a group', oneGroup, async ({ group }) =>
      view(await client.groups.leave((await find(group)).groupId)),
    ),
    'groups.send': method(
      'Send a text to a group; the id is returned once it is queued (event.status follows)',
      z.object({ group: who, text: z.string().min(1), replyTo: messageId.optional() }).strict(),
      async ({ group, text, replyTo }) => {
        const g = await find(group);
        const id = await client.groups.send(g.groupId, text, replyTo ? { replyTo } : {});
        return { id, group: g.groupId };
      },
    ),
    'groups.sendFile': method(
      'Upload a file (encrypted, resumable) and send it to a group; the id is returned once it is queued',
      z.object({ group: who, path: z.string().min(1).max(4096), caption: z.string().min(1).optional() }).strict(),
      async ({ group, path, caption }) => {
        const g = await find(group);
        let data: Uint8Array;
        try {
          data = new Uint8Array(await readFile(path));
        } catch {
          throw new CliError('USAGE', `Cannot read '${path}': give the path of a readable file.`);
        }
        const pointer = await client.attachments.upload(data, { name: basename(path), mime: mimeOf(path) });
        const id = await client.groups.sendAttachment(g.groupId, pointer, caption ? { caption } : {});
        return { id, group: g.groupId, size: pointer.size };
      },
    ),
  };
}

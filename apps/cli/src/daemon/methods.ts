/**
 * The daemon's JSON-RPC methods: every client operation, with params validated by zod
 * (strict objects: unknown params are refused), results in the JSON shapes of
 * `views.ts`. Contacts are named like on the command line (`contact`/`to`: a display
 * name, an account id or an id prefix); for messages.list|markRead|edit|delete|react|setTimer
 * `contact` may name a group too (title or group id). Group methods: group-methods.ts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { MAX_TIMER_SECONDS, type VaultexClient } from '@vaultex/client';
import * as z from 'zod';
import { mimeOf } from '../commands/attachments.js';
import { CliError, describeError, EXIT } from '../errors.js';
import { pickContact, pickConversation } from '../resolve.js';
import { ContactNames, contactJson, conversationMessageJson, deviceJson, safetyJson } from '../views.js';
import { createBackupMethods } from './backup-methods.js';
import { createGroupMethods } from './group-methods.js';
import { method, RPC_ERROR, type RpcErrorObject, type RpcMethod } from './json-rpc.js';

/**
 * A method's failure as a JSON-RPC error: -32602 for a bad argument the client found,
 * -32603 for a bug, else -32000 minus the CLI exit code (-32002 network, -32003 trust,
 * -32004 not found, -32005 profile, -32006 refused by the relay, -32007 timeout).
 * `data.code` is the ClientError (or CLI, `RELAY:<code>`, protocol) code.
 */
export function rpcError(error: unknown): RpcErrorObject {
  const problem = describeError(error, { command: 'vaultex' });
  if (problem.exit === EXIT.INTERNAL) {
    return { code: RPC_ERROR.INTERNAL_ERROR, message: problem.message, data: { code: problem.code } };
  }
  const code = problem.code === 'INVALID_ARGUMENT' ? RPC_ERROR.INVALID_PARAMS : -32000 - problem.exit;
  return { code, message: problem.message, data: { code: problem.code } };
}

const name = z.string().min(1).max(200);
const who = z.string().min(1).max(200);
const devId = z.number().int().min(1).max(0xffffffff);
const none = z.object({}).strict();
const oneContact = z.object({ contact: who }).strict();
const messageId = z.string().regex(/^[0-9a-f]{32}$/u);
const timerSeconds = z.number().int().min(0).max(MAX_TIMER_SECONDS);

async function readLocalFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    throw new CliError('USAGE', `Cannot read '${path}': give the path of a readable file.`);
  }
}

/** Build the method table of a client. */
export function createMethods(client: VaultexClient): Record<string, RpcMethod> {
  const find = async (query: string) => pickContact(await client.contacts.list(), query);
  const devices = () => client.devices.list().map(deviceJson);
  /** A contact's or a group's conversation (`contact` may name either). */
  const conversation = async (query: string) =>
    pickConversation(await client.contacts.list(), await client.groups.list(), query);
  const names = new ContactNames(client);

  return {
    id: method('Our user ID, contact code and device', none, () => {
      const id = client.id();
      return {
        userId: id.userId,
        formatted: id.formatted,
        contactCode: id.contactCode,
        deviceId: id.deviceId,
        name: id.displayName,
      };
    }),
    sync: method('Receive what is pending, send what is queued', none, () => client.sync()),

    'contacts.add': method(
      'Add a contact from their contact code',
      z.object({ code: z.string().min(1).max(4096), name: name.optional() }).strict(),
      async ({ code, name: displayName }) =>
        contactJson(await client.contacts.add(code, displayName ? { displayName } : {})),
    ),
    'contacts.list': method(
      'Contacts, optionally of one state',
      z.object({ state: z.enum(['accepted', 'request', 'blocked']).optional() }).strict(),
      async ({ state }) => (await client.contacts.list(state)).map(contactJson),
    ),
    'contacts.get': method('One contact', oneContact, async ({ contact }) => contactJson(await find(contact))),
    'contacts.accept': method('Accept a message request', oneContact, async ({ contact }) =>
      contactJson(await client.contacts.accept((await find(contact)).accountId)),
    ),
    'contacts.block': method('Block a contact', oneContact, async ({ contact }) =>
      contactJson(await client.contacts.block((await find(contact)).accountId)),
    ),
    'contacts.unblock': method('Unblock a contact', oneContact, async ({ contact }) =>
      contactJson(await client.contacts.unblock((await find(contact)).accountId)),
    ),
    'contacts.acceptKeyChange': method("Accept a contact's changed identity key", oneContact, async ({ contact }) =>
      contactJson(await client.contacts.acceptKeyChange((await find(contact)).accountId)),
    ),
    'contacts.safetyNumber': method('The safety number with a contact', oneContact, async ({ contact }) =>
      safetyJson(await client.contacts.safetyNumber((await find(contact)).accountId)),
    ),
    'contacts.markVerified': method(
      'Mark a contact verified (or not)',
      z.object({ contact: who, verified: z.boolean().default(true) }).strict(),
      async ({ contact, verified }) =>
        contactJson(await client.contacts.markVerified((await find(contact)).accountId, verified)),
    ),

    'messages.send': method(
      'Send a text; the id is returned once it is queued (event.status follows)',
      z.object({ to: who, text: z.string().min(1), replyTo: z.string().optional() }).strict(),
      async ({ to, text, replyTo }) => {
        const c = await find(to);
        const id = await client.messages.send(c.accountId, text, replyTo ? { replyTo } : {});
        return { id, contact: c.accountId };
      },
    ),
    'messages.sendFile': method(
      'Upload a file (encrypted, resumable) and send it; the id is returned once it is queued',
      z.object({ to: who, path: z.string().min(1).max(4096), caption: z.string().min(1).optional() }).strict(),
      async ({ to, path, caption }) => {
        const c = await find(to);
        const data = await readLocalFile(path);
        const pointer = await client.attachments.upload(data, { name: basename(path), mime: mimeOf(path) });
        const id = await client.messages.sendAttachment(c.accountId, pointer, caption ? { caption } : {});
        return { id, contact: c.accountId, size: pointer.size };
      },
    ),
    'attachments.download': method(
      'Download, verify and write the file of a message (refuses to overwrite unless force)',
      z.object({ id: messageId, path: z.string().min(1).max(4096), force: z.boolean().optional() }).strict(),
      async ({ id, path, force }) => {
        const pointer = await client.attachments.pointerOf(id);
        const data = await client.attachments.download(pointer);
        try {
          await writeFile(path, data, { flag: force ? 'w' : 'wx' });
        } catch {
          throw new CliError('USAGE', `Cannot write '${path}' (it exists, or the folder is not writable).`);
        }
        return { id, path, name: pointer.name, mime: pointer.mime, size: pointer.size };
      },
    ),
    'messages.list': method(
      'Messages with a contact or in a group, newest first',
      z
        .object({
          contact: who,
          limit: z.number().int().min(1).max(1000).default(50),
          before: z
            .object({ sentAt: z.number().int().min(0), id: z.string().min(1) })
            .strict()
            .optional(),
        })
        .strict(),
      async ({ contact, limit, before }) => {
        const c = await conversation(contact);
        const list = await client.messages.list(c.conversationId, { limit, ...(before ? { before } : {}) });
        return Promise.all(list.map((m) => conversationMessageJson(m, c, names)));
      },
    ),
    'messages.markRead': method('Mark a conversation read (sends read receipts)', oneContact, async ({ contact }) => ({
      count: await client.messages.markRead((await conversation(contact)).conversationId),
    })),
    'messages.typing': method(
      'Tell a contact we started or stopped typing',
      z.object({ to: who, started: z.boolean() }).strict(),
      async ({ to, started }) => ({ sent: await client.messages.typing((await find(to)).accountId, started) }),
    ),
    'messages.edit': method(
      'Replace the text of one of our messages, on every device of both sides (contact: a contact or a group)',
      z.object({ contact: who, id: messageId, text: z.string().min(1) }).strict(),
      async ({ contact, id, text }) => {
        await client.messages.edit((await conversation(contact)).conversationId, id, text);
        return { id };
      },
    ),
    'messages.delete': method(
      'Delete one of our messages for everyone',
      z.object({ contact: who, id: messageId }).strict(),
      async ({ contact, id }) => {
        await client.messages.delete((await conversation(contact)).conversationId, id);
        return { id, deleted: true };
      },
    ),
    'messages.react': method(
      "React to a message ('' removes our reaction)",
      z.object({ contact: who, id: messageId, emoji: z.string().max(16) }).strict(),
      async ({ contact, id, emoji }) => {
        await client.messages.react((await conversation(contact)).conversationId, id, emoji);
        return { id, emoji };
      },
    ),
    'messages.setTimer': method(
      'Set the disappearing-message timer of a conversation in seconds (0: off)',
      z.object({ contact: who, seconds: timerSeconds }).strict(),
      async ({ contact, seconds }) => {
        await client.messages.setTimer((await conversation(contact)).conversationId, seconds);
        return { seconds };
      },
    ),
    'conversations.list': method(
      'Conversations, most recent first',
      z.object({ limit: z.number().int().min(1).max(1000).optional() }).strict(),
      async ({ limit }) =>
        (await client.messages.conversations(limit)).map((c) => ({
          id: c.id,
          contact: c.id.slice(2),
          lastMessageAt: c.lastMessageAt,
          preview: c.lastMessagePreview,
          unread: c.unread,
        })),
    ),

    'devices.list': method(
      'Our devices (refresh: ask the relay first)',
      z.object({ refresh: z.boolean().default(false) }).strict(),
      async ({ refresh }) => {
        if (refresh) await client.devices.refresh();
        return devices();
      },
    ),
    'devices.rename': method(
      'Rename one of our devices',
      z.object({ deviceId: devId, name }).strict(),
      async ({ deviceId, name: newName }) => {
        await client.devices.rename(deviceId, newName);
        return devices();
      },
    ),
    'devices.revoke': method(
      'Remove one of our devices from the account',
      z.object({ deviceId: devId }).strict(),
      async ({ deviceId }) => {
        await client.devices.revoke(deviceId);
        return devices();
      },
    ),
    'devices.approveLink': method(
      'Approve a new device with its link code',
      z.object({ code: z.string().min(1).max(4096) }).strict(),
      async ({ code }) => ({ deviceId: await client.devices.approveLink(code) }),
    ),

    ...createGroupMethods(client),
    ...createBackupMethods(client),

    'discovery.set': method(
      'Opt in to (or out of) discovery by display name',
      z.object({ enabled: z.boolean(), name: name.optional() }).strict(),
      async ({ enabled, name: displayName }) => {
        await client.discovery.set(enabled, displayName);
        return { discoverable: enabled };
      },
    ),
    'discovery.search': method(
      'Find accounts that opted in, by display name',
      z.object({ query: z.string().min(1).max(200) }).strict(),
      async ({ query }) =>
        (await client.discovery.search(query)).map((h) => ({
          id: h.accountId,
          formatted: h.formatted,
          name: h.displayName ?? '',
        })),
    ),
  };
}

/**
 * The daemon's backup and history methods: backup.export, archive.push, archive.status,
 * messages.export and conversations.setRetention. A conversation is named like on the
 * command line (`contact`: a contact or a group).
 */
import type { VaultexClient } from '@vaultex/client';
import * as z from 'zod';
import { backupKdf, parseRetention, retentionJson, writePrivate } from '../commands/backup.js';
import { pickConversation } from '../resolve.js';
import { method, type RpcMethod } from './json-rpc.js';

const who = z.string().min(1).max(200);

/** The backup and history methods of a client. */
export function createBackupMethods(client: VaultexClient): Record<string, RpcMethod> {
  const conversation = async (query: string) =>
    pickConversation(await client.contacts.list(), await client.groups.list(), query);
  return {
    'backup.export': method(
      'Write an encrypted backup of the whole profile to `path` (mode 0600) under `password`',
      z.object({ path: z.string().min(1).max(4096), password: z.string().min(1).max(1024) }).strict(),
      async ({ path, password }) => {
        const kdf = backupKdf();
        const bytes = await client.backup.export(password, kdf ? { kdf } : {});
        writePrivate(path, bytes);
        return { path, bytes: bytes.length };
      },
    ),
    'archive.push': method('Upload the history of conversations with retention history', z.object({}).strict(), () =>
      client.archive.push(),
    ),
    'archive.status': method(
      'Whether an archive exists, its version and the backup codes left',
      z.object({}).strict(),
      () => client.archive.status(),
    ),
    'messages.export': method(
      'A conversation as readable JSON or text (`text` in the result)',
      z.object({ contact: who, format: z.enum(['json', 'text']).optional() }).strict(),
      async ({ contact, format }) => ({
        text: await client.messages.export((await conversation(contact)).conversationId, format ?? 'json'),
      }),
    ),
    'conversations.setRetention': method(
      'Set a conversation retention: burn, ttl (with days), history or default',
      z
        .object({
          contact: who,
          mode: z.enum(['burn', 'burn-on-read', 'ttl', 'history', 'default']),
          days: z.number().int().min(1).max(366).optional(),
        })
        .strict(),
      async ({ contact, mode, days }) =>
        retentionJson(
          await client.messages.setRetention(
            (await conversation(contact)).conversationId,
            parseRetention(mode, days === undefined ? undefined : String(days)),
          ),
        ),
    ),
  };
}

/**
 * Backups and history: `backup export|import` (the whole profile in one password-encrypted
 * file), `archive setup|push|restore|status` (the encrypted history archive on the relay),
 * `export` (a conversation as readable JSON or text) and `retention` (per conversation).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import {
  type ConversationRecord,
  importNodeBackup,
  type RetentionPolicy,
  type VaultexClient,
} from '@vaultex/client/node';
import type { Command } from 'commander';
import { type CommandEnv, envOf, type RunState, withClient } from '../command-env.js';
import { CliError } from '../errors.js';
import { table } from '../output.js';
import { fastTestMode, type GlobalOptions, newProfile } from '../profile.js';
import { canPrompt, promptHidden } from '../prompt.js';
import { resolveConversation } from '../resolve.js';

/** Tiny Argon2id in test mode (VAULTEX_TEST_FAST=1); the protocol default otherwise. */
export function backupKdf(): { t: number; m: number; p: number } | undefined {
  return fastTestMode() ? { t: 1, m: 64, p: 1 } : undefined;
}

/**
 * The backup password: `--password-file`, else asked without echo (twice when `confirm`).
 * @throws CliError USAGE (no terminal and no file, empty, mismatch, unreadable file).
 */
async function readBackupPassword(file: string | undefined, confirm: boolean): Promise<string> {
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new CliError('USAGE', `Cannot read the password file ${file}. Check the path and its permissions.`);
    }
    const password = text.replace(/\r?\n$/u, '');
    if (password.length === 0) throw new CliError('USAGE', `The password file ${file} is empty.`);
    return password;
  }
  if (!canPrompt()) {
    throw new CliError('USAGE', 'No backup password: pass --password-file <file> (there is no terminal to ask).');
  }
  const first = await promptHidden(confirm ? 'New backup password: ' : 'Backup password: ');
  if (first.length === 0) throw new CliError('USAGE', 'The backup password must not be empty.');
  if (confirm && (await promptHidden('Repeat the backup password: ')) !== first) {
    throw new CliError('USAGE', 'The two passwords differ. Run the command again.');
  }
  return first;
}

/** Write a file readable only by its owner. */
export function writePrivate(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data, { mode: 0o600 });
    // The mode of writeFileSync applies only to a new file.
    chmodSync(path, 0o600);
  } catch {
    throw new CliError('USAGE', `Cannot write '${path}': check the folder exists and is writable.`);
  }
}

/**
 * Parse `burn`, `ttl <days>`, `history` or `default` into a policy (`null`: the relay default).
 * @throws CliError USAGE.
 */
export function parseRetention(mode: string, days: string | undefined): RetentionPolicy | null {
  switch (mode) {
    case 'burn':
    case 'burn-on-read':
      return { mode: 'burn-on-read' };
    case 'history':
      return { mode: 'history' };
    case 'default':
      return null;
    case 'ttl': {
      const n = Number(days);
      if (days === undefined || !Number.isInteger(n) || n < 1 || n > 366) {
        throw new CliError('USAGE', 'ttl needs a number of days from 1 to 366, e.g. `ttl 14` or `ttl 30`.');
      }
      return { mode: 'ttl', ttlSeconds: n * 86_400 };
    }
    default:
      throw new CliError('USAGE', `Unknown retention '${mode}': use burn, ttl <days>, history or default.`);
  }
}

/** A retention policy in words. */
export function retentionText(policy: RetentionPolicy | undefined): string {
  if (!policy) return 'relay default (deleted once delivered, at most 30 days)';
  if (policy.mode === 'burn-on-read') return 'burn on read (deleted once delivered; never archived)';
  if (policy.mode === 'history') return 'history (kept in the encrypted history archive)';
  return `ttl ${Math.round(policy.ttlSeconds / 86_400)} days on the relay`;
}

/** A conversation's retention as JSON. */
export function retentionJson(conv: ConversationRecord): Record<string, unknown> {
  return { conversationId: conv.id, retention: conv.retention ?? null };
}

async function archiveStatus(env: CommandEnv, client: VaultexClient): Promise<void> {
  const s = await client.archive.status();
  env.out.result(
    () =>
      table([
        ['Archive keys:', s.setUp ? 'set up' : `none (run \`${env.command} archive setup\`)`],
        ['Archive:', s.exists ? `version ${s.version}, ${s.bytes} bytes` : 'nothing uploaded yet'],
        ['Backup codes left:', String(s.codesLeft)],
      ]),
    s,
  );
}

/** Register `backup`, `archive`, `export` and `retention`. */
export function registerBackup(program: Command, state: RunState): void {
  const backup = program
    .command('backup')
    .summary('export the whole profile to an encrypted file, or import one')
    .description(
      'A backup holds everything of this profile (keys, sessions, contacts, groups, messages) encrypted ' +
        'under a password (Argon2id + AES-256-GCM). Importing it makes a profile that IS this device: ' +
        'stop using the original afterwards.',
    );
  backup
    .command('export <file>')
    .summary('write an encrypted backup of this profile to <file> (mode 0600)')
    .option('--password-file <file>', 'read the backup password from this file (else asked twice)')
    .action(async (file: string, opts: { passwordFile?: string }, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const password = await readBackupPassword(opts.passwordFile, true);
        const kdf = backupKdf();
        const bytes = await client.backup.export(password, kdf ? { kdf } : {});
        writePrivate(file, bytes);
        env.out.result(`Backup written to ${file} (${bytes.length} bytes). Keep it and its password apart.`, {
          file,
          bytes: bytes.length,
        });
      });
    });
  backup
    .command('import <file>')
    .summary('create this profile from an encrypted backup (the profile must not exist)')
    .option('--password-file <file>', 'read the backup password from this file (else asked)')
    .action(async (file: string, opts: { passwordFile?: string }, cmd: Command) => {
      const env = envOf(cmd, state);
      let data: Uint8Array;
      try {
        data = new Uint8Array(readFileSync(file));
      } catch {
        throw new CliError('USAGE', `Cannot read '${file}': give the path of a backup file.`);
      }
      const password = await readBackupPassword(opts.passwordFile, false);
      const profile = await newProfile(env.g as GlobalOptions, undefined, (input) =>
        importNodeBackup({ ...input, backup: data, password }),
      );
      try {
        const id = profile.client.id();
        env.out.result(
          () =>
            [
              'Profile restored from the backup.',
              table([
                ['User ID:', id.formatted],
                ['Name:', id.displayName || '(none)'],
                ['Device:', String(id.deviceId)],
                ['Profile:', `${profile.ref.name} (${profile.ref.dir})`],
              ]),
            ].join('\n'),
          { userId: id.userId, deviceId: id.deviceId, name: id.displayName, profile: profile.ref.name },
        );
      } finally {
        await profile.close();
      }
    });

  const archive = program
    .command('archive')
    .summary('the encrypted history archive on the relay (setup, push, restore, status)')
    .description(
      'Conversations with retention `history` are uploaded encrypted under an archive key that only ' +
        'your account (its seed phrase) and your 8 single-use backup codes can open.',
    );
  archive
    .command('setup')
    .summary('create the archive keys and print 8 single-use backup codes (again: new codes)')
    .action(async (_opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const codes = await client.archive.setup();
        env.out.result(
          () =>
            [
              'History archive ready. Backup codes: write them down now, they are shown only once.',
              'Any one of them opens your archive, once:',
              '',
              ...codes.map((c, i) => `  ${String(i + 1).padStart(2)}. ${c}`),
              '',
              `Mark conversations for it with \`${env.command} retention <contact|group> history\`, then \`${env.command} archive push\`.`,
            ].join('\n'),
          { codes },
        );
      });
    });
  archive
    .command('push')
    .summary('upload the history of conversations with retention `history`')
    .action(async (_opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const r = await client.archive.push();
        env.out.result(
          `Archive version ${r.version}: ${r.conversations} conversations, ${r.messages} messages, ${r.bytes} bytes.`,
          r,
        );
      });
    });
  archive
    .command('restore')
    .summary('merge the archived history into this profile (--code: with a backup code, used up)')
    .option('--code <code>', 'open the archive with this backup code instead of the account key')
    .action(async (opts: { code?: string }, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const r = await client.archive.restore(opts.code !== undefined ? { backupCode: opts.code } : {});
        env.out.result(
          `Restored ${r.messages} messages in ${r.conversations} new conversations${opts.code ? ' (that backup code is now used up)' : ''}.`,
          r,
        );
      });
    });
  archive
    .command('status')
    .summary('whether an archive exists, its version and the backup codes left')
    .action(async (_opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, (client) => archiveStatus(env, client));
    });

  program
    .command('export <who>')
    .summary('export a conversation as readable JSON or text')
    .description('Print (or write with --out, mode 0600) the messages of a contact or group conversation.')
    .option('--format <format>', 'json or text', 'text')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (who: string, opts: { format: string; out?: string }, cmd: Command) => {
      const env = envOf(cmd, state);
      if (opts.format !== 'json' && opts.format !== 'text') {
        throw new CliError('USAGE', `Unknown format '${opts.format}': use json or text.`);
      }
      const format = opts.format;
      await withClient(env, async (client) => {
        const conv = await resolveConversation(client, who, env.command);
        const text = await client.messages.export(conv.conversationId, format);
        if (opts.out !== undefined) {
          writePrivate(opts.out, text);
          env.out.result(`Wrote ${conv.name} to ${opts.out}.`, { file: opts.out, bytes: Buffer.byteLength(text) });
        } else {
          process.stdout.write(text);
        }
      });
    });

  program
    .command('retention <who> [mode] [days]')
    .summary('show or set how long a conversation is kept: burn | ttl <days> | history | default')
    .description(
      'burn: deleted from the relay once delivered, never archived; ttl <days>: our sends expire on the ' +
        'relay after <days> (14 or 30 are usual); history: kept in the encrypted history archive; ' +
        'default: the relay default. Local to this device.',
    )
    .action(async (who: string, mode: string | undefined, days: string | undefined, _opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const conv = await resolveConversation(client, who, env.command);
        if (mode === undefined) {
          const rec = (await client.messages.conversations()).find((c) => c.id === conv.conversationId);
          env.out.result(`${conv.name}: ${retentionText(rec?.retention)}`, {
            conversationId: conv.conversationId,
            retention: rec?.retention ?? null,
          });
          return;
        }
        const updated = await client.messages.setRetention(conv.conversationId, parseRetention(mode, days));
        env.out.result(`${conv.name}: ${retentionText(updated.retention)}`, retentionJson(updated));
      });
    });
}

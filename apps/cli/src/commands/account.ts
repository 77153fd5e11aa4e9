/**
 * The account of a profile: `init` (new account; the seed phrase is shown once),
 * `restore` (from the seed phrase, as a new device of the account), `id` (user ID,
 * contact code, QR) and `sync` (receive what is pending, send what is queued).
 */
import { createNodeClient, restoreNodeClient, type VaultexClient } from '@vaultex/client/node';
import type { Command } from 'commander';
import { type CommandEnv, envOf, type RunState, withClient } from '../command-env.js';
import { CliError } from '../errors.js';
import { collectEvents, printEvent } from '../event-lines.js';
import { table, terminalQr } from '../output.js';
import { newProfile, type ProfileRef, serverUrl } from '../profile.js';
import { canPrompt, promptHidden, readStdin } from '../prompt.js';

interface SetupOptions {
  readonly name?: string;
  readonly deviceName?: string;
}

function seedTable(seed: string): string {
  const words = seed.split(' ');
  const rows: string[][] = [];
  for (let r = 0; r < 6; r++) {
    rows.push([0, 6, 12, 18].map((c) => `${String(c + r + 1).padStart(2)} ${words[c + r] ?? ''}`));
  }
  return table(rows)
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

function summary(env: CommandEnv, client: VaultexClient, ref: ProfileRef): string {
  const id = client.id();
  return table([
    ['User ID:', id.formatted],
    ['Name:', id.displayName || '(none)'],
    ['Device:', String(id.deviceId)],
    ['Profile:', `${ref.name} (${ref.dir})`],
    ['Relay:', client.profile.serverUrl],
    [
      'Next:',
      `share your contact code (\`${env.command} id --qr\`), add others (\`${env.command} contact add <code>\`)`,
    ],
  ]);
}

/** Read a seed phrase: prompt without echo on a terminal, else all of stdin. */
async function readSeed(): Promise<string> {
  const text = canPrompt() ? await promptHidden('Seed phrase (24 words): ') : await readStdin();
  const seed = text.trim().toLowerCase().split(/\s+/u).join(' ');
  if (seed.length === 0) {
    throw new CliError('USAGE', 'No seed phrase given. Type it when asked, or pipe it: `vaultex restore < seed.txt`.');
  }
  return seed;
}

/** Register `init`, `restore`, `id`, `sync`. */
export function registerAccount(program: Command, state: RunState): void {
  program
    .command('init')
    .summary('create an account in a new profile')
    .description(
      'Create a VAULTEX account in a new profile, registered on --server (saved in the profile). ' +
        'Prints the 24-word seed phrase ONCE: write it down, it is the only way to restore the account.',
    )
    .option('--name <name>', 'display name shown to your contacts')
    .option('--device-name <name>', 'name of this device in your device list (default cli@<hostname>)')
    .action(async (opts: SetupOptions, cmd: Command) => {
      const env = envOf(cmd, state);
      const server = serverUrl(env.g);
      env.state.context = { ...env.state.context, server };
      let seed = '';
      const profile = await newProfile(env.g, opts.deviceName, async (input) => {
        const made = await createNodeClient({
          ...input,
          serverUrl: server,
          ...(opts.name ? { displayName: opts.name } : {}),
        });
        seed = made.seedPhrase;
        return made.client;
      });
      try {
        const id = profile.client.id();
        env.out.result(
          () =>
            [
              'Account created.',
              '',
              'Seed phrase: write these 24 words down now, in order, and keep them offline.',
              'They are shown only this once and are the only way to restore this account:',
              '',
              seedTable(seed),
              '',
              summary(env, profile.client, profile.ref),
            ].join('\n'),
          {
            userId: id.userId,
            formatted: id.formatted,
            seedPhrase: seed,
            contactCode: id.contactCode,
            deviceId: id.deviceId,
            name: id.displayName,
            profile: profile.ref.name,
            server,
          },
        );
      } finally {
        seed = '';
        await profile.close();
      }
    });

  program
    .command('restore')
    .summary('restore an account from its seed phrase into a new profile')
    .description(
      'Restore an account from its 24-word seed phrase into a new profile: this becomes a new device ' +
        'of the account. The seed phrase is asked without echo on a terminal, else read from stdin ' +
        '(then give the passphrase with $VAULTEX_PASSPHRASE or --passphrase-file). Your other devices ' +
        'send their contacts once they are online; contacts open new sessions with their next message.',
    )
    .option('--name <name>', 'display name shown to your contacts')
    .option('--device-name <name>', 'name of this device in your device list (default cli@<hostname>)')
    .action(async (opts: SetupOptions, cmd: Command) => {
      const env = envOf(cmd, state);
      const server = serverUrl(env.g);
      env.state.context = { ...env.state.context, server };
      const profile = await newProfile(env.g, opts.deviceName, async (input) => {
        const seedPhrase = await readSeed();
        return restoreNodeClient({
          ...input,
          serverUrl: server,
          seedPhrase,
          ...(opts.name ? { displayName: opts.name } : {}),
        });
      });
      try {
        const id = profile.client.id();
        env.out.result(
          () => ['Account restored on this device.', '', summary(env, profile.client, profile.ref)].join('\n'),
          {
            userId: id.userId,
            formatted: id.formatted,
            deviceId: id.deviceId,
            name: id.displayName,
            profile: profile.ref.name,
            server,
          },
        );
      } finally {
        await profile.close();
      }
    });

  program
    .command('id')
    .summary('show your user ID and contact code (--qr: as a QR code)')
    .description('Show your user ID and your contact code; others add you with `vaultex contact add <code>`.')
    .option('--qr', 'also draw the contact code as a QR code')
    .action(async (opts: { qr?: boolean }, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const id = client.id();
        const qr = opts.qr && !env.out.json ? await terminalQr(id.contactCode) : '';
        env.out.result(
          () =>
            [
              table([
                ['User ID:', id.formatted],
                ['Name:', id.displayName || '(none)'],
                ['Device:', String(id.deviceId)],
                ['Relay:', client.profile.serverUrl],
              ]),
              '',
              'Contact code (give it to people who should be able to write to you):',
              id.contactCode,
              ...(qr ? ['', qr] : []),
            ].join('\n'),
          {
            userId: id.userId,
            formatted: id.formatted,
            contactCode: id.contactCode,
            deviceId: id.deviceId,
            name: id.displayName,
            server: client.profile.serverUrl,
          },
        );
      });
    });

  program
    .command('sync')
    .summary('receive pending messages and send queued ones, then exit')
    .description(
      'Receive everything the relay holds for this device (printed like `listen` does) and send ' +
        'everything queued in the outbox, then exit.',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        const events = collectEvents(client);
        const { received } = await client.sync();
        for (const e of events.stop()) await printEvent(env, e, events.names);
        env.out.note(`Received ${received} message${received === 1 ? '' : 's'} from the relay.`);
      });
    });
}

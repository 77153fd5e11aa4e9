/**
 * Devices of the account: `device link` (on the NEW device, into a new profile: shows a
 * code and waits), `device approve <code>` (on a device already in the account), `device
 * list`, `device rename`, `device revoke`. No device is primary: any one can link or
 * revoke the others.
 */
import { type DeviceInfo, linkNodeClient, nodeDeps, VaultexClient } from '@vaultex/client/node';
import type { Command } from 'commander';
import { envOf, type RunState, withClient } from '../command-env.js';
import { CliError } from '../errors.js';
import { table, terminalQr } from '../output.js';
import { newProfile, serverUrl } from '../profile.js';
import { canPrompt, readStdin } from '../prompt.js';
import { deviceJson } from '../views.js';

function deviceId(value: string): number {
  const n = Number(value);
  if (!/^\d+$/u.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 0xffffffff) {
    throw new CliError('USAGE', `Invalid device id '${value}': use a number from \`vaultex device list\`.`);
  }
  return n;
}

function deviceTable(devices: readonly DeviceInfo[]): string {
  return table([
    ['ID', 'NAME', ''],
    ...[...devices]
      .sort((a, b) => a.deviceId - b.deviceId)
      .map((d) => [String(d.deviceId), d.name, d.current ? '(this device)' : '']),
  ]);
}

function seconds(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 3600)
    throw new CliError('USAGE', `Invalid --timeout '${value}': give 1..3600 seconds.`);
  return n;
}

/** Register `device ...`. */
export function registerDevices(program: Command, state: RunState): void {
  const device = program.command('device').summary('link, approve, list, rename, revoke devices of your account');

  device
    .command('link')
    .summary('link this computer as a new device of an existing account (new profile)')
    .description(
      'On the NEW device: start a link into a new profile. Prints a code (and a QR code) and waits; ' +
        'on a device already in the account run `vaultex device approve <code>`. The new device gets ' +
        'the contacts and makes its own device key, certified by the account key.',
    )
    .option('--device-name <name>', 'name of this device in your device list (default cli@<hostname>)')
    .option('--timeout <seconds>', 'how long to wait for the approval (default 600)')
    .action(async (opts: { deviceName?: string; timeout?: string }, cmd: Command) => {
      const env = envOf(cmd, state);
      const server = serverUrl(env.g);
      env.state.context = { ...env.state.context, server };
      const timeoutMs = seconds(opts.timeout, 600) * 1000;
      const profile = await newProfile(env.g, opts.deviceName, async (input) => {
        const request = VaultexClient.createLinkCode({ serverUrl: server, deps: nodeDeps() });
        if (env.out.json) {
          env.out.jsonLine({ event: 'link-code', code: request.code });
        } else {
          env.out.text(`On a device already in your account, run:\n\n  vaultex device approve '${request.code}'\n`);
          env.out.text(await terminalQr(request.code));
          env.out.text(`Waiting for the approval (up to ${Math.round(timeoutMs / 1000)} s)...`);
        }
        return linkNodeClient({ ...input, request, timeoutMs });
      });
      try {
        const id = profile.client.id();
        env.out.result(
          `Linked: this is device ${id.deviceId} of ${id.formatted}${id.displayName ? ` (${id.displayName})` : ''}. Contacts arrive from your other devices.`,
          { event: 'linked', userId: id.userId, formatted: id.formatted, deviceId: id.deviceId, name: id.displayName },
        );
      } finally {
        await profile.close();
      }
    });

  device
    .command('approve')
    .summary('approve a new device with the code it shows')
    .argument('<code>', "the vaultex://link?... code printed by `vaultex device link` ('-' for stdin)")
    .action(async (codeArg: string, _opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      let code = codeArg.trim();
      if (code === '-') {
        if (canPrompt()) throw new CliError('USAGE', "'-' reads the link code from stdin: pipe it in.");
        code = (await readStdin()).trim();
      }
      await withClient(env, async (client) => {
        // Waits (up to 30 s) for the new device to register, so this device sends to it from now on.
        const assigned = await client.devices.approveLink(code);
        const linked = client.devices.list().some((d) => d.deviceId === assigned);
        env.out.result(
          linked
            ? `Approved: the new device (id ${assigned}) is linked and in your device list.`
            : `Approved. The new device (id ${assigned}) finishes linking by itself; \`vaultex device list\` shows it once it has.`,
          { deviceId: assigned, linked },
        );
      });
    });

  device
    .command('list')
    .summary('list the devices of your account')
    .action(async (_opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client) => {
        let devices: DeviceInfo[];
        try {
          devices = await client.devices.refresh();
        } catch (e) {
          env.out.warn(`could not ask the relay (${(e as Error).message}); showing the list this device knows.`);
          devices = client.devices.list();
        }
        env.out.result(() => deviceTable(devices), devices.map(deviceJson));
      });
    });

  device
    .command('rename')
    .summary('rename a device')
    .argument('<id>', 'device id (see `vaultex device list`)')
    .argument('<name>', 'the new name')
    .action(async (idArg: string, name: string, _opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      const id = deviceId(idArg);
      await withClient(env, async (client) => {
        await client.devices.refresh().catch(() => undefined);
        await client.devices.rename(id, name);
        const devices = client.devices.list();
        env.out.result(() => deviceTable(devices), devices.map(deviceJson));
      });
    });

  device
    .command('revoke')
    .summary('remove a device from your account: it receives nothing more')
    .argument('<id>', 'device id (see `vaultex device list`)')
    .action(async (idArg: string, _opts: unknown, cmd: Command) => {
      const env = envOf(cmd, state);
      const id = deviceId(idArg);
      await withClient(env, async (client) => {
        await client.devices.refresh().catch(() => undefined);
        if (!client.devices.list().some((d) => d.deviceId === id)) {
          throw new CliError('UNKNOWN_DEVICE', `No device ${id} in your account. See \`${env.command} device list\`.`);
        }
        await client.devices.revoke(id);
        const devices = client.devices.list();
        env.out.result(() => `Revoked device ${id}.\n${deviceTable(devices)}`, devices.map(deviceJson));
      });
    });
}

/**
 * The `vaultex` program: commander wiring of every command, global options, and the one
 * place where failures become a message on stderr and an exit code.
 */
import { Command, CommanderError, Option } from 'commander';
import type { RunState } from './command-env.js';
import { registerAccount } from './commands/account.js';
import { registerAttachments } from './commands/attachments.js';
import { registerBackup } from './commands/backup.js';
import { registerContacts } from './commands/contacts.js';
import { registerDaemon } from './commands/daemon.js';
import { registerDevices } from './commands/devices.js';
import { registerGroups } from './commands/groups.js';
import { registerMessages } from './commands/messages.js';
import { registerRich } from './commands/rich.js';
import { registerMigrate, registerServe } from './commands/serve.js';
import { describeError, EXIT, type ExitCode } from './errors.js';

const EPILOG = `
Profiles: one account per folder <home>/profiles/<name>/ (home: --home, $VAULTEX_HOME or ~/.vaultex).
Passphrase: --passphrase-file <file>, $VAULTEX_PASSPHRASE, or asked without echo on a terminal.
  There is deliberately no --passphrase flag: it would be kept in your shell history.
Relay: --server or $VAULTEX_SERVER for init, restore and device link (default http://localhost:8080);
  the profile remembers it.

Exit codes: 0 ok, 1 usage, 2 network (relay unreachable; a message stays queued), 3 trust (key
  changed, contact blocked, device revoked, failed proof, not a group admin or member), 4 not found, 5 profile (wrong passphrase,
  exists, in use, damaged), 6 refused by the relay, 7 timeout, 70 internal error.

Examples:
  vaultex serve --port 8080 --data ./data
  vaultex init --name Alice
  vaultex id --qr
  vaultex contact add 'vaultex://contact?v=1&d=...' --name Bob
  vaultex send bob "hello"
  vaultex group create Climbing bob carol
  vaultex group send Climbing "hi all"
  vaultex listen --json
  vaultex --profile work daemon --socket`;

/** Build the program. `state.context` is filled in as commands learn what they are about. */
export function createProgram(state: RunState): Command {
  const program = new Command('vaultex');
  program
    .description('VAULTEX: end-to-end encrypted messenger — relay, client and JSON-RPC daemon for bots.')
    .version('0.1.0', '-V, --version')
    .addOption(new Option('--home <dir>', 'folder of the profiles (default $VAULTEX_HOME or ~/.vaultex)'))
    .addOption(new Option('-p, --profile <name>', 'the account to use, one profile per account (default "default")'))
    .addOption(new Option('--passphrase-file <file>', 'read the profile passphrase from this file'))
    .addOption(
      new Option(
        '--server <url>',
        'relay URL for init, restore and device link (default $VAULTEX_SERVER or http://localhost:8080)',
      ),
    )
    .addOption(new Option('--json', 'print JSON (one value per line) instead of text'))
    .addHelpText('after', EPILOG)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  registerServe(program, state);
  registerMigrate(program);
  registerAccount(program, state);
  registerContacts(program, state);
  registerMessages(program, state);
  registerAttachments(program, state);
  registerRich(program, state);
  registerGroups(program, state);
  registerDevices(program, state);
  registerBackup(program, state);
  registerDaemon(program, state);
  for (const cmd of allCommands(program)) {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: () => undefined });
    cmd.showSuggestionAfterError(true);
  }
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** The command words of `args` (e.g. `contact add`), as far as they name commands. */
function commandWords(program: Command, args: readonly string[]): string[] {
  const words: string[] = [];
  let cmd = program;
  for (const arg of args) {
    const next = cmd.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    // Options and their values are skipped; the first word that names no subcommand ends it.
    if (!next) continue;
    words.push(next.name());
    cmd = next;
  }
  return words;
}

/** The exit code of commander's own outcome (help, version, usage errors). */
function commanderExit(e: CommanderError, program: Command, argv: readonly string[]): ExitCode {
  if (e.exitCode === 0) return EXIT.OK;
  // A command group without its subcommand: commander has shown the group's help.
  if (e.code === 'commander.help') return EXIT.USAGE;
  const help = ['vaultex', ...commandWords(program, argv.slice(2)), '--help'].join(' ');
  const text = e.message
    .replace(/^error: /u, '')
    .replace(/\s*\n\s*/gu, ' ')
    .replace(/\.?$/u, '.');
  process.stderr.write(`vaultex: ${text[0]!.toUpperCase()}${text.slice(1)} See \`${help}\`.\n`);
  return EXIT.USAGE;
}

/**
 * Run the program on `argv` (process.argv form).
 * @returns the exit code.
 */
export async function run(argv: readonly string[]): Promise<ExitCode> {
  const state: RunState = { context: {} };
  const program = createProgram(state);
  if (argv.length <= 2) {
    program.outputHelp();
    return EXIT.USAGE;
  }
  try {
    await program.parseAsync([...argv]);
    return EXIT.OK;
  } catch (e) {
    if (e instanceof CommanderError) return commanderExit(e, program, argv);
    const problem = describeError(e, state.context);
    process.stderr.write(`vaultex: ${problem.message}\n`);
    if (problem.exit === EXIT.INTERNAL && process.env.VAULTEX_DEBUG === '1' && e instanceof Error) {
      process.stderr.write(`${e.stack}\n`);
    }
    return problem.exit;
  }
}

/**
 * Profiles: one folder per account under `<home>/profiles/<name>/` holding the SQLCipher
 * store of `@vaultex/client/node`. This file finds the folder, gets the passphrase (file,
 * environment or a prompt, never a command-line flag: it would land in shell history),
 * keeps one process per profile (a lock file), and opens or creates the client.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ClientError,
  type ClientOptions,
  deleteSqlCipherProfile,
  type NodeProfileInput,
  openNodeClient,
  type VaultexClient,
} from '@vaultex/client/node';
import { CliError, type ProblemContext } from './errors.js';
import { canPrompt, promptHidden } from './prompt.js';

/** The options every command accepts (commander's global options). */
export interface GlobalOptions {
  readonly home?: string;
  readonly profile?: string;
  readonly passphraseFile?: string;
  readonly server?: string;
  readonly json?: boolean;
}

/** Where the relay is when neither --server nor $VAULTEX_SERVER says. */
export const DEFAULT_SERVER = 'http://localhost:8080';

/**
 * Test mode (`VAULTEX_TEST_FAST=1`): tiny Argon2id cost for new profiles and small prekey
 * batches, so end-to-end tests can create many accounts quickly. For tests only: it makes
 * the profile passphrase cheap to guess.
 */
export function fastTestMode(): boolean {
  return process.env.VAULTEX_TEST_FAST === '1';
}

/** A profile's name and folder. */
export interface ProfileRef {
  readonly home: string;
  readonly name: string;
  readonly dir: string;
}

/**
 * The profile the options select.
 * @throws CliError USAGE for a profile name that is not a plain folder name.
 */
export function profileRef(g: GlobalOptions): ProfileRef {
  const home = resolve(g.home ?? process.env.VAULTEX_HOME ?? join(homedir(), '.vaultex'));
  const name = g.profile ?? 'default';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/u.test(name)) {
    throw new CliError(
      'USAGE',
      `Invalid profile name '${name}'. Use letters, digits, '.', '_' or '-' (at most 64), e.g. --profile work.`,
    );
  }
  return { home, name, dir: join(home, 'profiles', name) };
}

/** Whether the profile folder holds a store. */
export function profileExists(ref: ProfileRef): boolean {
  return existsSync(join(ref.dir, 'profile.json'));
}

/** How to call vaultex for this profile, for the advice in error messages. */
export function commandFor(g: GlobalOptions): string {
  const parts = ['vaultex'];
  if (g.home) parts.push('--home', g.home);
  if (g.profile && g.profile !== 'default') parts.push('--profile', g.profile);
  return parts.join(' ');
}

/** The problem context of commands run with these options. */
export function problemContext(g: GlobalOptions, extra: ProblemContext = {}): ProblemContext {
  return { command: commandFor(g), profile: g.profile ?? 'default', ...extra };
}

/** The relay URL for a new profile: --server, $VAULTEX_SERVER, or the default. */
export function serverUrl(g: GlobalOptions): string {
  const url = g.server ?? process.env.VAULTEX_SERVER ?? DEFAULT_SERVER;
  if (!/^https?:\/\/\S+$/u.test(url)) {
    throw new CliError('USAGE', `Invalid --server '${url}': give an http(s) URL such as ${DEFAULT_SERVER}.`);
  }
  return url.replace(/\/+$/u, '');
}

/**
 * The passphrase: --passphrase-file, then $VAULTEX_PASSPHRASE, then a prompt without echo
 * (twice for a new profile).
 * @throws CliError NO_PASSPHRASE when none is available; USAGE for an unreadable file or mismatch.
 */
export async function readPassphrase(g: GlobalOptions, confirm: boolean): Promise<string> {
  if (g.passphraseFile) {
    let text: string;
    try {
      text = readFileSync(g.passphraseFile, 'utf8');
    } catch {
      throw new CliError(
        'USAGE',
        `Cannot read the passphrase file ${g.passphraseFile}. Check the path and its permissions.`,
      );
    }
    const passphrase = text.replace(/\r?\n$/u, '');
    if (passphrase.length === 0) throw new CliError('USAGE', `The passphrase file ${g.passphraseFile} is empty.`);
    return passphrase;
  }
  const env = process.env.VAULTEX_PASSPHRASE;
  if (env !== undefined && env.length > 0) return env;
  if (!canPrompt()) {
    throw new CliError(
      'NO_PASSPHRASE',
      'No passphrase for the profile. Set $VAULTEX_PASSPHRASE or pass --passphrase-file <file> (there is no terminal to ask).',
    );
  }
  const first = await promptHidden(confirm ? 'New passphrase for this profile: ' : 'Passphrase: ');
  if (first.length === 0) throw new CliError('USAGE', 'The passphrase must not be empty.');
  if (confirm && (await promptHidden('Repeat the passphrase: ')) !== first) {
    throw new CliError('USAGE', 'The two passphrases differ. Run the command again.');
  }
  return first;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * Take the profile's lock file (one vaultex process per profile: two would both receive
 * and both run the outbox). A lock left by a dead process (kill -9) is taken over.
 * @returns the function that releases it.
 * @throws CliError PROFILE_LOCKED while another live process holds it.
 */
export function lockProfile(ref: ProfileRef): () => void {
  mkdirSync(ref.dir, { recursive: true, mode: 0o700 });
  const path = join(ref.dir, 'vaultex.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        rmSync(path, { force: true });
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim() || '0', 10);
    if (pid > 0 && pid !== process.pid && alive(pid)) {
      throw new CliError(
        'PROFILE_LOCKED',
        `Profile '${ref.name}' is in use by process ${pid} (vaultex listen or daemon). Stop it first, or talk to its daemon socket instead.`,
      );
    }
    rmSync(path, { force: true });
  }
  throw new CliError('PROFILE_LOCKED', `Cannot take the lock of profile '${ref.name}'. Retry.`);
}

/** What creating or opening a profile needs besides the folder and passphrase. */
export function nodeInput(ref: ProfileRef, passphrase: string, deviceName?: string): NodeProfileInput {
  const fast = fastTestMode();
  const options: ClientOptions = {
    deviceName: deviceName ?? `cli@${hostname()}`,
    ...(fast ? { oneTimePreKeys: 5, kemPreKeys: 2, archiveCodeKdf: { t: 1, m: 8, p: 1 } } : {}),
  };
  return {
    profileDir: ref.dir,
    passphrase,
    options,
    ...(fast ? { argon2: { t: 1, m: 64, p: 1 } } : {}),
  };
}

/** An open profile: its client and how to close it. */
export interface OpenProfile {
  readonly client: VaultexClient;
  readonly ref: ProfileRef;
  close(): Promise<void>;
}

/**
 * Open the account of the selected profile (locked for this process until `close`).
 * @throws ClientError NO_PROFILE, WRONG_PASSPHRASE; CliError NO_PASSPHRASE, PROFILE_LOCKED.
 */
export async function openProfile(g: GlobalOptions): Promise<OpenProfile> {
  const ref = profileRef(g);
  if (!profileExists(ref)) throw new ClientError('NO_PROFILE', 'no profile.json in the profile folder');
  const release = lockProfile(ref);
  try {
    const passphrase = await readPassphrase(g, false);
    const client = await openNodeClient(nodeInput(ref, passphrase));
    return {
      client,
      ref,
      async close() {
        try {
          await client.close();
        } finally {
          release();
        }
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}

/**
 * Make an account in a new profile with `make` (create, restore or link). A failed attempt
 * leaves no half-made profile behind.
 * @throws ClientError PROFILE_EXISTS when the profile already holds a store.
 */
export async function newProfile(
  g: GlobalOptions,
  deviceName: string | undefined,
  make: (input: NodeProfileInput) => Promise<VaultexClient>,
): Promise<OpenProfile> {
  const ref = profileRef(g);
  if (profileExists(ref)) throw new ClientError('PROFILE_EXISTS', 'profile.json exists');
  const release = lockProfile(ref);
  let client: VaultexClient;
  try {
    if (profileExists(ref)) throw new ClientError('PROFILE_EXISTS', 'profile.json exists');
    const passphrase = await readPassphrase(g, true);
    try {
      client = await make(nodeInput(ref, passphrase, deviceName));
    } catch (e) {
      deleteSqlCipherProfile(ref.dir);
      throw e;
    }
  } catch (e) {
    release();
    throw e;
  }
  return {
    client,
    ref,
    async close() {
      try {
        await client.close();
      } finally {
        release();
      }
    },
  };
}

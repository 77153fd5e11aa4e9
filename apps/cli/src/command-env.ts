/**
 * What a command's action works with: the global options, where to print, and the
 * problem context that error messages use (filled in as the command learns it: the
 * contact it is about, the relay URL).
 */
import type { VaultexClient } from '@vaultex/client';
import type { Command } from 'commander';
import type { ProblemContext } from './errors.js';
import { Output } from './output.js';
import { type GlobalOptions, type OpenProfile, openProfile, problemContext } from './profile.js';

/** Per-run state shared between the program and its commands. */
export interface RunState {
  /** Read by the error handler when a command fails. */
  context: ProblemContext;
}

/** A command's environment. */
export interface CommandEnv {
  readonly g: GlobalOptions;
  readonly out: Output;
  readonly state: RunState;
  /** `vaultex` plus the profile options, for advice lines. */
  readonly command: string;
}

/** The environment of the command being run (global options merged in). */
export function envOf(cmd: Command, state: RunState): CommandEnv {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  state.context = { ...problemContext(g), ...state.context };
  return { g, out: new Output(g.json === true), state, command: state.context.command ?? 'vaultex' };
}

/** Note the contact a command is about (for error messages). */
export function aboutContact(env: CommandEnv, contact: string): void {
  env.state.context = { ...env.state.context, contact };
}

/** Open the profile, run `fn` with its client, close it whatever happens. */
export async function withClient<T>(
  env: CommandEnv,
  fn: (client: VaultexClient, profile: OpenProfile) => Promise<T>,
): Promise<T> {
  const profile = await openProfile(env.g);
  env.state.context = { ...env.state.context, server: profile.client.profile.serverUrl };
  try {
    return await fn(profile.client, profile);
  } finally {
    await profile.close();
  }
}

/** Resolves on the first SIGINT or SIGTERM (for commands that run until stopped). */
export function untilSignal(): { promise: Promise<NodeJS.Signals>; dispose(): void } {
  let dispose = (): void => undefined;
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    const onInt = () => resolve('SIGINT');
    const onTerm = () => resolve('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    dispose = () => {
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
    };
  });
  return { promise, dispose };
}

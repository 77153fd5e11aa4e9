/**
 * `vaultex daemon`: the profile's client, connected, behind JSON-RPC 2.0 for bots: over
 * stdio (default) and/or a Unix socket (--socket). Incoming events are notifications
 * (`event.message`, `event.status`, ...). Stops on SIGINT/SIGTERM, or when stdin ends in
 * stdio mode.
 */
import { join } from 'node:path';
import type { ClientEvents } from '@vaultex/client';
import type { Command } from 'commander';
import { envOf, type RunState, untilSignal, withClient } from '../command-env.js';
import { JsonRpcEngine, notificationText } from '../daemon/json-rpc.js';
import { createMethods, rpcError } from '../daemon/methods.js';
import { type SocketServer, serveSocket } from '../daemon/socket.js';
import { serveStdio } from '../daemon/stdio.js';
import { describeError } from '../errors.js';
import { onEvents } from '../event-lines.js';
import { ContactNames, eventJson, REPORTED_EVENTS } from '../views.js';

interface DaemonOptions {
  /** A path, or true for the default path in the profile folder. */
  readonly socket?: string | boolean;
  readonly stdio?: boolean;
}

/** Register `daemon`. */
export function registerDaemon(program: Command, state: RunState): void {
  program
    .command('daemon')
    .summary('serve the account over JSON-RPC 2.0 (stdio or a Unix socket), for bots')
    .description(
      'Run the profile connected and answer JSON-RPC 2.0, one JSON value per line: on stdio by ' +
        'default, on a Unix socket with --socket (default <profile>/daemon.sock; several clients ' +
        'at once; add --stdio to serve both). Methods: id, sync, contacts.add|list|get|accept|block|' +
        'unblock|acceptKeyChange|safetyNumber|markVerified, messages.send|sendFile|list|markRead|typing|' +
        'edit|delete|react|setTimer (contact: a contact or a group), attachments.download, ' +
        'groups.create|list|get|rename|add|remove|leave|send|sendFile, ' +
        'conversations.list, devices.list|rename|revoke|approveLink, discovery.set|search. ' +
        'Notifications: event.message, event.status, event.typing, event.identityChanged, ' +
        'event.messageRequest, event.connection, event.messageUpdated, event.timer, event.group. Errors carry data.code (the client error code). ' +
        'Stops on SIGINT/SIGTERM, or when stdin ends in stdio mode.',
    )
    .option('--socket [path]', 'listen on a Unix socket (default <profile folder>/daemon.sock)')
    .option('--stdio', 'also serve stdio when --socket is given')
    .action(async (opts: DaemonOptions, cmd: Command) => {
      const env = envOf(cmd, state);
      await withClient(env, async (client, profile) => {
        const engine = new JsonRpcEngine(createMethods(client), { mapError: rpcError });
        const sinks: ((line: string) => void)[] = [];
        const names = new ContactNames(client);
        let notifying = Promise.resolve();
        const off = onEvents(client, (r) => {
          notifying = notifying
            .then(async () => {
              const params = await eventJson(r.event, r.payload as ClientEvents[typeof r.event], names);
              const line = notificationText(REPORTED_EVENTS[r.event].method, params);
              for (const sink of sinks) sink(line);
            })
            .catch(() => undefined);
        });
        const offError = client.on('error', ({ error, context }) =>
          process.stderr.write(`vaultex daemon: ${context}: ${describeError(error).message}\n`),
        );
        const stop = untilSignal();
        let socket: SocketServer | undefined;
        const waits: Promise<unknown>[] = [stop.promise];
        try {
          if (opts.socket) {
            const path = typeof opts.socket === 'string' ? opts.socket : join(profile.ref.dir, 'daemon.sock');
            socket = await serveSocket(engine, path);
            const s = socket;
            sinks.push((line) => s.broadcast(line));
            process.stderr.write(`vaultex daemon: listening on ${path}\n`);
          }
          if (!opts.socket || opts.stdio) {
            const stdio = serveStdio(engine);
            sinks.push((line) => stdio.peer.notify(line));
            waits.push(stdio.ended);
          }
          client.start();
          process.stderr.write(`vaultex daemon: ready as ${client.id().formatted}\n`);
          await Promise.race(waits);
        } finally {
          stop.dispose();
          off();
          offError();
          await client.stop();
          await notifying;
          await socket?.close();
          process.stdin.pause();
        }
      });
    });
}

/**
 * Client events as printed lines: one JSON object per line (`{"type": ..., ...}`) with
 * --json, else a short sentence per event. Used by `listen` (live) and `sync` (after the
 * round).
 */
import { ClientError, type ClientEvents, type VaultexClient } from '@vaultex/client';
import type { CommandEnv } from './command-env.js';
import { describeError } from './errors.js';
import { clock } from './output.js';
import { ContactNames, eventJson, REPORTED_EVENTS, type ReportedEvent } from './views.js';

/** One event as it happened. */
export interface EventRecord<E extends ReportedEvent = ReportedEvent> {
  readonly event: E;
  readonly payload: ClientEvents[E];
  readonly at: number;
}

/** Subscribe to every reported event; `handler` gets each one in order. */
export function onEvents(client: VaultexClient, handler: (record: EventRecord) => void): () => void {
  const offs = (Object.keys(REPORTED_EVENTS) as ReportedEvent[]).map((event) =>
    client.on(event, (payload: ClientEvents[typeof event]) =>
      handler({ event, payload, at: Date.now() } as EventRecord),
    ),
  );
  return () => {
    for (const off of offs) off();
  };
}

/** Record events until `stop()`, which returns them. */
export function collectEvents(client: VaultexClient): { names: ContactNames; stop(): EventRecord[] } {
  const records: EventRecord[] = [];
  const off = onEvents(client, (r) => records.push(r));
  return {
    names: new ContactNames(client),
    stop() {
      off();
      return records;
    },
  };
}

function who(name: string, id: string): string {
  return name || id.slice(0, 8);
}

/** A contact's name or `[group title]`, for sentences. */
async function conversationName(names: ContactNames, conversationId: string): Promise<string> {
  const id = conversationId.slice(2);
  if (conversationId.startsWith('g:')) return `[${(await names.group(id)) || id.slice(0, 8)}]`;
  return who(await names.get(id), id);
}

/** The sentence for an event (human mode). */
export async function eventText(env: CommandEnv, r: EventRecord, names: ContactNames): Promise<string | undefined> {
  const t = `[${clock(r.at)}]`;
  const v = env.command;
  switch (r.event) {
    case 'message': {
      const m = (r.payload as ClientEvents['message']).message;
      const body =
        m.kind === 'text'
          ? m.text
          : m.kind === 'attachment'
            ? `[file ${m.attachment?.name ?? ''}] ${m.text ?? ''}`
            : '(a message this version cannot show)';
      if (m.conversationId.startsWith('g:')) {
        const title = (await names.group(m.conversationId.slice(2))) || m.conversationId.slice(2, 10);
        if (m.direction === 'out') return `${t} you → [${title}]: ${body}`;
        return `${t} [${title}] ${who(await names.get(m.senderAccountId), m.senderAccountId)}: ${body}`;
      }
      const peer = m.conversationId.slice(2);
      const name = who(await names.get(peer), peer);
      if (m.direction === 'out') return `${t} you → ${name}: ${body}`;
      return `${t} ${m.request ? '(request) ' : ''}${name}: ${body}`;
    }
    case 'message-status': {
      const p = r.payload as ClientEvents['message-status'];
      const name = await conversationName(names, p.conversationId);
      if (p.status === 'failed') {
        const problem = describeError(p.error, { command: v, contact: name });
        return `${t} ✗ message ${p.id.slice(0, 8)} to ${name} failed: ${problem.message}`;
      }
      return `${t} ✓ ${p.status} ${p.id.slice(0, 8)} to ${name}`;
    }
    case 'typing': {
      const p = r.payload as ClientEvents['typing'];
      const name = who(await names.get(p.accountId), p.accountId);
      return p.started ? `${t} ${name} is typing…` : `${t} ${name} stopped typing`;
    }
    case 'identity-changed': {
      const p = r.payload as ClientEvents['identity-changed'];
      const name = who(await names.get(p.accountId), p.accountId);
      const changed = new ClientError('UNTRUSTED_IDENTITY', 'identity key changed');
      return `${t} ! ${describeError(changed, { command: v, contact: name }).message}`;
    }
    case 'message-request': {
      const p = r.payload as ClientEvents['message-request'];
      const name = who(p.displayName, p.accountId);
      return `${t} ${name} (not a contact) wants to talk to you: \`${v} contact accept ${name}\` or \`${v} contact block ${name}\`.`;
    }
    case 'message-updated': {
      const p = r.payload as ClientEvents['message-updated'];
      const name = await conversationName(names, p.conversationId);
      const m = p.message;
      if (!m) return `${t} message ${p.id.slice(0, 8)} with ${name} disappeared`;
      if (m.deleted) return `${t} message ${p.id.slice(0, 8)} with ${name} was deleted`;
      const reactions = (m.reactions ?? []).map((x) => x.emoji).join(' ');
      return `${t} message ${p.id.slice(0, 8)} with ${name}: ${m.text ?? ''}${m.editedAt ? ' (edited)' : ''}${reactions ? ` [${reactions}]` : ''}`;
    }
    case 'timer-changed': {
      const p = r.payload as ClientEvents['timer-changed'];
      const name = await conversationName(names, p.conversationId);
      return p.seconds === 0
        ? `${t} disappearing messages with ${name} are off`
        : `${t} messages with ${name} now disappear after ${p.seconds} s`;
    }
    case 'group-updated': {
      const { group: g, by } = r.payload as ClientEvents['group-updated'];
      const actor = by === names.me() ? 'you' : who(await names.get(by), by);
      const state = g.member ? `${g.members.length} members` : 'you are no longer a member';
      return `${t} group ${g.title} (${g.groupId.slice(0, 8)}) changed by ${actor}: ${state}`;
    }
    default: {
      const p = r.payload as ClientEvents['connection'];
      return `${t} connection: ${p.state}${p.reason ? ` (${p.reason})` : ''}`;
    }
  }
}

/** Print one event in the env's mode. */
export async function printEvent(env: CommandEnv, r: EventRecord, names: ContactNames): Promise<void> {
  if (env.out.json) {
    env.out.jsonLine({
      type: REPORTED_EVENTS[r.event].type,
      at: r.at,
      ...(await eventJson(r.event, r.payload, names)),
    });
    return;
  }
  const line = await eventText(env, r, names);
  if (line) env.out.text(line);
}

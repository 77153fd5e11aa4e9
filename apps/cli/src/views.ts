/**
 * The JSON shapes the CLI prints (`--json`) and the daemon returns: plain objects with
 * hex strings for keys, shared so that `vaultex listen --json` and the daemon's
 * notifications carry the same fields.
 */
import type {
  ClientEvents,
  ContactView,
  DeviceInfo,
  GroupView,
  MessageView,
  SafetyNumberView,
  VaultexClient,
} from '@vaultex/client';
import { bytesToHex } from '@vaultex/protocol';
import { describeError } from './errors.js';

/** A contact as JSON. */
export interface ContactJson {
  readonly id: string;
  readonly formatted: string;
  readonly name: string;
  readonly state: string;
  readonly verified: boolean;
  readonly keyChanged: boolean;
  readonly identityKey: string;
  readonly addedAt: number;
}

/** A contact as JSON. */
export function contactJson(c: ContactView): ContactJson {
  return {
    id: c.accountId,
    formatted: c.formatted,
    name: c.displayName,
    state: c.state,
    verified: c.verified,
    keyChanged: c.keyChanged,
    identityKey: bytesToHex(c.identityKey),
    addedAt: c.addedAt,
  };
}

/** A message as JSON; `contact` is the other party of the conversation. */
export interface MessageJson {
  readonly id: string;
  readonly conversationId: string;
  readonly contact: string;
  readonly contactName: string;
  readonly direction: 'in' | 'out';
  readonly sender: string;
  readonly senderDevice: number;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly status: string;
  readonly kind: string;
  readonly text?: string;
  readonly replyTo?: string;
  readonly request?: boolean;
  readonly editedAt?: number;
  readonly deleted?: boolean;
  readonly reactions?: readonly { readonly accountId: string; readonly emoji: string }[];
  readonly expiresAt?: number;
  readonly attachment?: { readonly name: string; readonly mime: string; readonly size: number };
  /** Group messages: the group id (`contact` holds it too) and the sender's name. */
  readonly group?: string;
  readonly senderName?: string;
}

/** A message as JSON. */
export function messageJson(m: MessageView, contactName = ''): MessageJson {
  return {
    id: m.id,
    conversationId: m.conversationId,
    contact: m.conversationId.slice(2),
    contactName,
    direction: m.direction,
    sender: m.senderAccountId,
    senderDevice: m.senderDeviceId,
    sentAt: m.sentAt,
    receivedAt: m.receivedAt,
    status: m.status,
    kind: m.kind,
    ...(m.text !== undefined ? { text: m.text } : {}),
    ...(m.replyTo !== undefined ? { replyTo: m.replyTo } : {}),
    ...(m.request ? { request: true } : {}),
    ...(m.editedAt !== undefined ? { editedAt: m.editedAt } : {}),
    ...(m.deleted ? { deleted: true } : {}),
    ...(m.reactions ? { reactions: m.reactions.map((r) => ({ ...r })) } : {}),
    ...(m.expiresAt !== undefined ? { expiresAt: m.expiresAt } : {}),
    ...(m.attachment
      ? { attachment: { name: m.attachment.name, mime: m.attachment.mime, size: m.attachment.size } }
      : {}),
  };
}

/**
 * A message of a direct or group conversation as JSON. For a group, `contact` is the group
 * id, `contactName` its title, and `group`/`senderName` say who wrote it.
 */
export async function conversationMessageJson(
  m: MessageView,
  conv: { readonly kind: 'contact' | 'group'; readonly name: string },
  names: ContactNames,
): Promise<MessageJson> {
  if (conv.kind === 'contact') return messageJson(m, conv.name);
  return groupMessageJson(m, conv.name, names);
}

async function groupMessageJson(m: MessageView, title: string, names: ContactNames): Promise<MessageJson> {
  const senderName = m.direction === 'out' ? '' : await names.get(m.senderAccountId);
  return { ...messageJson(m, title), group: m.conversationId.slice(2), senderName };
}

/** A group as JSON; `you` marks our own account among the members. */
export interface GroupJson {
  readonly id: string;
  readonly conversationId: string;
  readonly title: string;
  readonly version: number;
  /** False once we left or were removed. */
  readonly member: boolean;
  /** We are one of its admins. */
  readonly admin: boolean;
  readonly members: readonly {
    readonly id: string;
    readonly name: string;
    readonly admin: boolean;
    readonly you: boolean;
  }[];
}

/** A group as JSON, with the members' contact names. */
export async function groupJson(g: GroupView, me: string, names: ContactNames): Promise<GroupJson> {
  const members = [];
  for (const m of g.members) {
    members.push({
      id: m.accountId,
      name: m.accountId === me ? '' : await names.get(m.accountId),
      admin: m.admin,
      you: m.accountId === me,
    });
  }
  return {
    id: g.groupId,
    conversationId: g.conversationId,
    title: g.title,
    version: g.version,
    member: g.member,
    admin: g.members.some((m) => m.accountId === me && m.admin),
    members,
  };
}

/** A device as JSON. */
export function deviceJson(d: DeviceInfo): { id: number; name: string; current: boolean; deviceKey: string } {
  return { id: d.deviceId, name: d.name, current: d.current, deviceKey: bytesToHex(d.deviceKey) };
}

/** The 60 digits in 12 groups of 5. */
export function safetyGroups(digits: string): string[] {
  return digits.match(/\d{5}/gu) ?? [];
}

/** A safety number as JSON. */
export function safetyJson(s: SafetyNumberView): { digits: string; groups: string[]; qrText: string } {
  return { digits: s.digits, groups: safetyGroups(s.digits), qrText: s.qrText };
}

/** Display names of contacts, refreshed when an unknown id shows up. */
export class ContactNames {
  readonly #names = new Map<string, string>();
  #client: VaultexClient;

  constructor(client: VaultexClient) {
    this.#client = client;
  }

  /** The name of an account (or its short id when it has none). */
  async get(accountId: string): Promise<string> {
    if (!this.#names.has(accountId)) {
      const c = await this.#client.contacts.get(accountId).catch(() => undefined);
      if (c?.displayName) this.#names.set(accountId, c.displayName);
    }
    return this.#names.get(accountId) ?? '';
  }

  /** Forget a name (it may have changed). */
  forget(accountId: string): void {
    this.#names.delete(accountId);
  }

  /** Our own account id. */
  me(): string {
    return this.#client.id().userId;
  }

  /** The title of a group (re-read every time: renames happen). */
  async group(groupId: string): Promise<string> {
    const g = await this.#client.groups.get(groupId).catch(() => undefined);
    return g?.title ?? '';
  }

  /** The name of a conversation: a contact's name or a group's title. */
  async conversation(conversationId: string): Promise<string> {
    const id = conversationId.slice(2);
    return conversationId.startsWith('g:') ? this.group(id) : this.get(id);
  }
}

/** The client events the CLI reports, under their JSON-line `type` and daemon method names. */
export const REPORTED_EVENTS = {
  message: { type: 'message', method: 'event.message' },
  'message-status': { type: 'status', method: 'event.status' },
  typing: { type: 'typing', method: 'event.typing' },
  'identity-changed': { type: 'identity-changed', method: 'event.identityChanged' },
  'message-request': { type: 'message-request', method: 'event.messageRequest' },
  connection: { type: 'connection', method: 'event.connection' },
  'message-updated': { type: 'message-updated', method: 'event.messageUpdated' },
  'timer-changed': { type: 'timer', method: 'event.timer' },
  'group-updated': { type: 'group', method: 'event.group' },
} as const;

/** A reported event name. */
export type ReportedEvent = keyof typeof REPORTED_EVENTS;

/** The JSON payload of a reported event. */
export async function eventJson<E extends ReportedEvent>(
  event: E,
  payload: ClientEvents[E],
  names: ContactNames,
): Promise<Record<string, unknown>> {
  switch (event) {
    case 'message': {
      const { message } = payload as ClientEvents['message'];
      const conv = message.conversationId.startsWith('g:') ? ('group' as const) : ('contact' as const);
      const name = await names.conversation(message.conversationId);
      return { message: await conversationMessageJson(message, { kind: conv, name }, names) };
    }
    case 'message-status': {
      const p = payload as ClientEvents['message-status'];
      return {
        id: p.id,
        contact: p.conversationId.slice(2),
        status: p.status,
        ...(p.error !== undefined ? { error: errorJson(p.error, await names.conversation(p.conversationId)) } : {}),
      };
    }
    case 'typing': {
      const p = payload as ClientEvents['typing'];
      return {
        contact: p.accountId,
        contactName: await names.get(p.accountId),
        device: p.deviceId,
        started: p.started,
      };
    }
    case 'identity-changed': {
      const p = payload as ClientEvents['identity-changed'];
      return { contact: p.accountId, contactName: await names.get(p.accountId), newKey: bytesToHex(p.newKey) };
    }
    case 'message-request': {
      const p = payload as ClientEvents['message-request'];
      names.forget(p.accountId);
      return { contact: p.accountId, contactName: p.displayName };
    }
    case 'message-updated': {
      const p = payload as ClientEvents['message-updated'];
      const contact = p.conversationId.slice(2);
      // No message: it disappeared (its timer ran out) and is gone from this profile.
      const conv = p.conversationId.startsWith('g:') ? ('group' as const) : ('contact' as const);
      const name = await names.conversation(p.conversationId);
      return p.message
        ? { id: p.id, contact, message: await conversationMessageJson(p.message, { kind: conv, name }, names) }
        : { id: p.id, contact, expired: true };
    }
    case 'timer-changed': {
      const p = payload as ClientEvents['timer-changed'];
      return { contact: p.conversationId.slice(2), seconds: p.seconds, by: p.by };
    }
    case 'group-updated': {
      const p = payload as ClientEvents['group-updated'];
      return { group: await groupJson(p.group, names.me(), names), by: p.by, byName: await names.get(p.by) };
    }
    default: {
      const p = payload as ClientEvents['connection'];
      return { state: p.state, ...(p.reason ? { reason: p.reason } : {}) };
    }
  }
}

/** An error as JSON: its code and the advice line. */
export function errorJson(error: unknown, contact = ''): { code: string; message: string } {
  const problem = describeError(error, contact ? { contact } : {});
  return { code: problem.code, message: problem.message };
}

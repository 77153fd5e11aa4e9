/**
 * The JSON shapes the CLI prints (`--json`) and the daemon returns: plain objects with
 * hex strings for keys, shared so that `vaultex listen --json` and the daemon's
 * notifications carry the same fields.
 */
import type {
  ClientEvents,
  ContactView,
  DeviceInfo,
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
      const contact = message.conversationId.slice(2);
      return { message: messageJson(message, await names.get(contact)) };
    }
    case 'message-status': {
      const p = payload as ClientEvents['message-status'];
      return {
        id: p.id,
        contact: p.conversationId.slice(2),
        status: p.status,
        ...(p.error !== undefined ? { error: errorJson(p.error, await names.get(p.conversationId.slice(2))) } : {}),
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
      return p.message
        ? { id: p.id, contact, message: messageJson(p.message, await names.get(contact)) }
        : { id: p.id, contact, expired: true };
    }
    case 'timer-changed': {
      const p = payload as ClientEvents['timer-changed'];
      return { contact: p.conversationId.slice(2), seconds: p.seconds, by: p.by };
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

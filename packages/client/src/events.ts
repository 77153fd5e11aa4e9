/**
 * The client's typed events and a tiny synchronous emitter. Handlers run in registration
 * order; one that throws is reported on 'error' and does not stop the others.
 */

import type { Avatar } from './avatar.js';
import type { ContactView } from './services/contacts.js';
import type { MessageStatus } from './storage/records.js';
import type { ConnectionState } from './transport/socket.js';

/** A message as applications see it. */
export interface MessageView {
  readonly id: string;
  readonly conversationId: string;
  readonly direction: 'in' | 'out';
  readonly senderAccountId: string;
  readonly senderDeviceId: number;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly status: MessageStatus;
  /** 'text', or 'unsupported' for a kind this version does not know. */
  readonly kind: 'text' | 'attachment' | 'unsupported';
  readonly text?: string;
  readonly replyTo?: string;
  /** From an account in state 'request' (not accepted yet). */
  readonly request?: boolean;
  /** For kind 'attachment': the file (fetch it with `attachments.downloadMessage(id)`). */
  readonly attachment?: {
    readonly name: string;
    readonly mime: string;
    readonly size: number;
    readonly thumbnail?: Uint8Array;
  };
  /** When its sender last edited it (the edit's sentAt). */
  readonly editedAt?: number;
  /** Deleted for everyone by its sender: `text` is empty. */
  readonly deleted?: boolean;
  /** One reaction per account that reacted, in the order they first reacted. */
  readonly reactions?: readonly { readonly accountId: string; readonly emoji: string }[];
  /** When this disappearing message is wiped. */
  readonly expiresAt?: number;
}

/** A group as applications see it. */
export interface GroupView {
  /** 32 hex digits; the conversation id is `g:<groupId>`. */
  readonly groupId: string;
  readonly conversationId: string;
  readonly title: string;
  readonly members: readonly { readonly accountId: string; readonly admin: boolean }[];
  readonly version: number;
  /** False once we left or were removed. */
  readonly member: boolean;
}

/** One device of our account, from the signed device list. */
export interface DeviceInfo {
  readonly deviceId: number;
  readonly name: string;
  /** Ed25519 device key. */
  readonly deviceKey: Uint8Array;
  /** This device. */
  readonly current: boolean;
}

/** Every event and its payload. */
export interface ClientEvents {
  /** A new message was received (or a sent transcript from another of our devices). */
  message: { readonly message: MessageView };
  /** An outgoing message changed state; `error` is set for 'failed'. */
  'message-status': {
    readonly id: string;
    readonly conversationId: string;
    readonly status: MessageStatus;
    readonly error?: unknown;
  };
  /**
   * A stored message changed: edited, deleted for everyone, reacted to, or started its
   * disappearing timer (`message` set); or it expired and was wiped (`message` absent).
   */
  'message-updated': { readonly id: string; readonly conversationId: string; readonly message?: MessageView };
  /** A conversation's disappearing-message timer was set (0: off), by us or by the other side. */
  'timer-changed': { readonly conversationId: string; readonly seconds: number; readonly by: string };
  /** An attachment upload or download moved on; `sent` and `total` count ciphertext bytes. */
  'attachment-progress': {
    readonly id: string;
    readonly direction: 'upload' | 'download';
    readonly sent: number;
    readonly total: number;
  };
  /** A contact started or stopped typing (ephemeral). */
  typing: { readonly accountId: string; readonly deviceId: number; readonly started: boolean };
  /** A contact's identity key differs from the pinned one: sends are refused until accepted. */
  'identity-changed': { readonly accountId: string; readonly newKey: Uint8Array };
  /** An accepted contact pushed a new display name or avatar. */
  'contact-updated': { readonly contact: ContactView };
  /** Another of our devices changed our display name or avatar (absent: none). */
  'profile-updated': { readonly displayName: string; readonly avatar?: Avatar };
  /** Someone not in our contacts wrote to us. */
  'message-request': { readonly accountId: string; readonly displayName: string };
  /** The connection to the relay changed. */
  connection: { readonly state: ConnectionState; readonly reason?: string };
  /** Our account's device list changed (link, rename, revoke). */
  'device-list-changed': { readonly devices: readonly DeviceInfo[] };
  /** A message could not be decrypted; the session is re-established. */
  'decrypt-failed': { readonly accountId?: string; readonly deviceId?: number; readonly code: string };
  /** A group's state changed (created, renamed, members added or removed, someone left). */
  'group-updated': { readonly group: GroupView; readonly by: string };
  /** A group change from another member was refused (bad signature, not an admin, wrong version). */
  'group-rejected': { readonly groupId: string; readonly from: string; readonly reason: string };
  /** A background task failed (outbox worker, receive loop, maintenance). */
  error: { readonly error: unknown; readonly context: string };
}

/** An event name. */
export type ClientEventName = keyof ClientEvents;
/** A handler of one event. */
export type ClientEventHandler<E extends ClientEventName> = (payload: ClientEvents[E]) => void;

/** A minimal typed emitter. */
export class Emitter {
  private readonly handlers = new Map<ClientEventName, Set<(payload: never) => void>>();

  /** Register a handler; returns a function that removes it. */
  on<E extends ClientEventName>(event: E, handler: ClientEventHandler<E>): () => void {
    let set = this.handlers.get(event);
    if (!set) {
      set = new Set();
      this.handlers.set(event, set);
    }
    set.add(handler as (payload: never) => void);
    return () => this.off(event, handler);
  }

  /** Remove a handler. */
  off<E extends ClientEventName>(event: E, handler: ClientEventHandler<E>): void {
    this.handlers.get(event)?.delete(handler as (payload: never) => void);
  }

  /** Call every handler of `event`. */
  emit<E extends ClientEventName>(event: E, payload: ClientEvents[E]): void {
    const set = this.handlers.get(event);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        (handler as ClientEventHandler<E>)(payload);
      } catch (error) {
        if (event !== 'error') this.emit('error', { error, context: `handler of '${event}'` });
      }
    }
  }
}

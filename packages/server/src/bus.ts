/**
 * The bus carries events to the connections of one device: new stored messages,
 * ephemeral messages, "a newer connection of this device opened", "this device was
 * removed". In-process by default; the Redis bus (redis-bus.ts) carries the same events
 * between instances and adds `resync` when notifications may have been lost.
 */
import type { StoredMessage, Target } from './storage/storage.js';

/** An event for one device. */
export type BusEvent =
  | { readonly kind: 'message'; readonly message: StoredMessage }
  | { readonly kind: 'ephemeral'; readonly blob: Uint8Array; readonly source?: Target }
  | { readonly kind: 'connected'; readonly connectionId: string }
  | { readonly kind: 'revoked' }
  /**
   * Notifications may have been lost or reordered (a bus reconnect, a periodic sweep):
   * re-read the mailbox from storage after `afterSeq` (0: everything still pending;
   * repeats are fine, clients de-duplicate by message id).
   */
  | { readonly kind: 'resync'; readonly afterSeq: number };

/** Publish/subscribe per device. */
export interface Bus {
  /** Deliver an event to every subscriber of the device (none: dropped). Returns the number reached locally. */
  publish(accountId: Uint8Array, deviceId: number, event: BusEvent): number;
  /** Subscribe to a device's events; returns the unsubscribe function. */
  subscribe(accountId: Uint8Array, deviceId: number, handler: (event: BusEvent) => void): () => void;
}

function channel(accountId: Uint8Array, deviceId: number): string {
  return `${Buffer.from(accountId.buffer, accountId.byteOffset, accountId.byteLength).toString('hex')}:${deviceId}`;
}

/** The in-process bus: a map of channel -> handlers. */
export class InProcessBus implements Bus {
  private readonly channels = new Map<string, Set<(event: BusEvent) => void>>();

  publish(accountId: Uint8Array, deviceId: number, event: BusEvent): number {
    const handlers = this.channels.get(channel(accountId, deviceId));
    if (!handlers) return 0;
    for (const handler of [...handlers]) handler(event);
    return handlers.size;
  }

  subscribe(accountId: Uint8Array, deviceId: number, handler: (event: BusEvent) => void): () => void {
    const key = channel(accountId, deviceId);
    let handlers = this.channels.get(key);
    if (!handlers) {
      handlers = new Set();
      this.channels.set(key, handlers);
    }
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
      if (handlers.size === 0) this.channels.delete(key);
    };
  }
}

/**
 * Message delivery states only move forward: a late or replayed receipt must never turn
 * "read" back into "delivered", and a message the server accepted cannot become "failed".
 */
import type { MessageStatus } from './records.js';

const RANK: Readonly<Record<Exclude<MessageStatus, 'failed'>, number>> = { pending: 0, sent: 1, delivered: 2, read: 3 };

/**
 * Whether a message in status `from` may move to `to`: pending < sent < delivered < read,
 * and failed only from pending. Staying in the same status is not a move.
 * @example canAdvanceStatus('sent', 'read') // true
 */
export function canAdvanceStatus(from: MessageStatus, to: MessageStatus): boolean {
  if (to === 'failed') return from === 'pending';
  if (from === 'failed') return false;
  return RANK[to] > RANK[from];
}

/** The statuses a message may be in for a move to `to` to be allowed (for SQL `IN (...)`). */
export function statusesBefore(to: MessageStatus): MessageStatus[] {
  const all: MessageStatus[] = ['pending', 'sent', 'delivered', 'read', 'failed'];
  return all.filter((from) => canAdvanceStatus(from, to));
}

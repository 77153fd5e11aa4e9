/**
 * Shared pieces of the store conformance suite: the test-framework surface it needs
 * (passed in, so the suite runs under Vitest in Node and in a browser bundle alike),
 * sample records and small assertion helpers. Runtime-neutral.
 */
import { isClientError } from '../errors.js';
import type { ClientStore } from './client-store.js';
import type {
  ContactRecord,
  ConversationRecord,
  MessageRecord,
  OutboxRecord,
  PrekeyRecord,
  ProfileRecord,
} from './records.js';

/** The matchers the suite uses (a subset of Vitest's / Jest's). */
export interface ConformanceMatchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeUndefined(): void;
  toBeGreaterThan(expected: number): void;
  readonly not: { toBe(expected: unknown): void; toEqual(expected: unknown): void };
}

/** The test framework functions the suite registers its tests with. */
export interface ConformanceTestApi {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>): void;
  expect(actual: unknown): ConformanceMatchers;
}

/** Adapter-specific extras of the suite. */
export interface ConformanceOptions {
  /**
   * Reopen the (closed) store `store` came from, e.g. the same directory or database
   * name. When given, the suite also checks that everything survives close and reopen.
   */
  readonly reopen?: (store: ClientStore) => Promise<ClientStore>;
}

/** What each group of tests gets. */
export interface Suite {
  readonly t: ConformanceTestApi;
  readonly options: ConformanceOptions;
  /** Run `body` on a fresh store, closing it afterwards (also on failure). */
  withStore(body: (store: ClientStore) => Promise<void>): Promise<void>;
  /** Assert that `promise` rejects with a ClientError of `code`. */
  rejects(promise: Promise<unknown>, code: string): Promise<void>;
}

/** Make the helpers for one run of the suite. */
export function makeSuite(t: ConformanceTestApi, open: () => Promise<ClientStore>, options: ConformanceOptions): Suite {
  return {
    t,
    options,
    async withStore(body) {
      const store = await open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    },
    async rejects(promise, code) {
      let error: unknown = 'resolved';
      try {
        await promise;
      } catch (e) {
        error = e;
      }
      t.expect(isClientError(error) ? error.code : describeError(error)).toBe(code);
    },
  };
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** `len` bytes of `fill`. */
export const bytes = (len: number, fill: number): Uint8Array => new Uint8Array(len).fill(fill);
/** A 32-hex-digit id numbered `n` (account ids, message ids, distribution ids). */
export const hexId = (n: number): string => n.toString(16).padStart(32, '0');
/** The direct conversation with account `n`. */
export const direct = (n: number): string => `d:${hexId(n)}`;

/** A profile numbered `n`. */
export function sampleProfile(n: number, over: Partial<ProfileRecord> = {}): ProfileRecord {
  return {
    userId: hexId(n),
    accountPublicKey: bytes(32, 1),
    accountSecretKey: bytes(32, 2),
    deviceId: 1,
    deviceSecretKey: bytes(32, 3),
    devicePublicKey: bytes(32, 4),
    certificate: bytes(120, 5),
    deviceListCounter: 0,
    serverUrl: 'https://relay.example',
    displayName: `Alice ${n} ☕`,
    createdAt: 1_700_000_000_000,
    accessKey: bytes(16, 6),
    settings: { readReceipts: true, typingIndicators: false, discoverable: false },
    ...over,
  };
}

/** A prekey. */
export function samplePrekey(kind: PrekeyRecord['kind'], id: number, over: Partial<PrekeyRecord> = {}): PrekeyRecord {
  return {
    kind,
    id,
    record: bytes(kind === 'kem' ? 3200 : 64, id & 0xff),
    createdAt: 1000 + id,
    lastResort: false,
    ...over,
  };
}

/** A contact numbered `n`. */
export function sampleContact(n: number, over: Partial<ContactRecord> = {}): ContactRecord {
  return {
    accountId: hexId(n),
    identityKey: bytes(32, n),
    displayName: `Contact ${n}`,
    state: 'accepted',
    verified: false,
    addedAt: 5000 + n,
    ...over,
  };
}

/** The direct conversation with account `n`. */
export function sampleConversation(n: number, over: Partial<ConversationRecord> = {}): ConversationRecord {
  return { id: direct(n), kind: 'direct', lastMessageAt: 10_000 + n, unread: 0, ...over };
}

/** Message `n` of a conversation, sent at `sentAt`. */
export function sampleMessage(
  conversationId: string,
  n: number,
  sentAt: number,
  over: Partial<MessageRecord> = {},
): MessageRecord {
  return {
    id: hexId(n),
    conversationId,
    senderAccountId: hexId(7),
    senderDeviceId: 1,
    direction: 'in',
    sentAt,
    receivedAt: sentAt + 5,
    body: bytes(10 + (n % 7), n & 0xff),
    status: 'delivered',
    ...over,
  };
}

/** An outbox entry. */
export function sampleOutbox(id: string, nextAttemptAt: number, createdAt: number): OutboxRecord {
  return { id, createdAt, attempts: 0, nextAttemptAt, kind: 'message', payload: bytes(40, 9) };
}

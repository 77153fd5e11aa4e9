/**
 * Set-up of the profile-open measurement (untimed): fill Bob's profile up to a given number
 * of messages through the store API, in transactions of 1,000. Half the messages go to the
 * conversation with Alice (the one whose first page is listed), the rest to 199 other
 * direct conversations, so the conversation list has 200 entries. Bodies are real encoded
 * text contents, so listing decodes them as the application would.
 */
import { randomBytes } from 'node:crypto';
import { encodeContent, type MessageRecord } from '@vaultex/client';
import { openSqlCipherStore } from '@vaultex/client/node';

const BATCH = 1000;
const OTHER_CONVERSATIONS = 199;
const DAY_MS = 86_400_000;

/** What was built. */
export interface BuiltProfile {
  /** Messages in the profile after the build. */
  readonly messages: number;
  readonly conversations: number;
  /** Messages in the conversation with Alice. */
  readonly mainConversationMessages: number;
  readonly buildMs: number;
}

const hexId = (): string => randomBytes(16).toString('hex');

/**
 * Adds messages to the profile until it holds `total`.
 * @throws ClientError from the store (a wrong passphrase, a full disk).
 */
export async function fillProfile(input: {
  readonly profileDir: string;
  readonly passphrase: string;
  readonly ownId: string;
  readonly peerId: string;
  readonly total: number;
}): Promise<BuiltProfile> {
  const start = performance.now();
  const store = await openSqlCipherStore({ directory: input.profileDir, passphrase: input.passphrase });
  try {
    const main = `d:${input.peerId}`;
    const existing = await store.countMessages(main);
    const toAdd = Math.max(0, input.total - existing);
    const others = Array.from({ length: OTHER_CONVERSATIONS }, () => hexId());
    // Older than the measured exchange, so the live conversation stays on top of the list.
    const base = Date.now() - 365 * DAY_MS;
    const step = Math.floor((300 * DAY_MS) / Math.max(1, toAdd));
    let mainCount = existing;
    for (let done = 0; done < toAdd; ) {
      const size = Math.min(BATCH, toAdd - done);
      await store.transaction(async (tx) => {
        for (let k = 0; k < size; k++) {
          const i = done + k;
          // Every other message goes to the main conversation, the rest round-robin.
          const peer = i % 2 === 0 ? input.peerId : (others[(i >> 1) % OTHER_CONVERSATIONS] as string);
          const incoming = i % 4 < 2;
          const id = hexId();
          const sentAt = base + i * step;
          const body = encodeContent({
            kind: 'text',
            id,
            sentAt,
            body: `Archived message ${i}: the quick brown fox jumps over the lazy dog.`,
          });
          const record: MessageRecord = {
            id,
            conversationId: `d:${peer}`,
            senderAccountId: incoming ? peer : input.ownId,
            senderDeviceId: 1,
            direction: incoming ? 'in' : 'out',
            sentAt,
            receivedAt: sentAt + 1000,
            body,
            status: 'read',
          };
          await tx.insertMessage(record);
          if (peer === input.peerId) mainCount++;
        }
      });
      done += size;
    }
    const last = base + toAdd * step;
    await store.transaction(async (tx) => {
      for (const [j, peer] of others.entries()) {
        await tx.putConversation({
          id: `d:${peer}`,
          kind: 'direct',
          title: `Contact ${j}`,
          lastMessageAt: last - j * 1000,
          lastMessagePreview: 'Archived message',
          unread: 0,
        });
      }
    });
    return {
      messages: existing + toAdd,
      conversations: (await store.listConversations()).length,
      mainConversationMessages: mainCount,
      buildMs: performance.now() - start,
    };
  } finally {
    await store.close();
  }
}

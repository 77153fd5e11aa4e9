/**
 * Test-only page: writes a long conversation straight into a profile's encrypted IndexedDB
 * store through the client's store API, so the app's history paths (windowed list,
 * scroll-back, search) can be measured on 10,000 messages without sending them. Parameters
 * come from the URL fragment: profile, pin, account (32 hex), count. Publishes
 * `globalThis.__seeded` ({ count, ms } or { error }) for the driving test.
 */
import { encodeContent, type MessageRecord, openIndexedDbStore } from '@vaultex/client/browser';

const BATCH = 500;

function hex32(n: number): string {
  return n.toString(16).padStart(32, '0');
}

async function seed(): Promise<{ count: number; ms: number }> {
  const params = new URLSearchParams(location.hash.slice(1));
  const profile = params.get('profile') ?? 'vaultex-profile';
  const pin = params.get('pin') ?? '';
  const account = params.get('account') ?? '';
  const count = Number(params.get('count') ?? '10000');
  const started = performance.now();
  const store = await openIndexedDbStore({ name: profile, passphrase: pin });
  const conversationId = `d:${account}`;
  const base = Date.now() - count * 60_000;
  const me = (await store.getProfile())?.userId ?? account;
  for (let from = 0; from < count; from += BATCH) {
    const records: MessageRecord[] = [];
    for (let i = from; i < Math.min(count, from + BATCH); i++) {
      const id = hex32(i + 1);
      const sentAt = base + i * 60_000;
      const incoming = i % 3 !== 0;
      const body = encodeContent({ kind: 'text', id, sentAt, body: `History message ${i} needle-${i}` });
      records.push({
        id,
        conversationId,
        senderAccountId: incoming ? account : me,
        senderDeviceId: 1,
        direction: incoming ? 'in' : 'out',
        sentAt,
        receivedAt: sentAt,
        body,
        status: 'read',
      });
    }
    await store.transaction(async (tx) => {
      for (const r of records) await tx.insertMessage(r);
    });
  }
  await store.putConversation({
    id: conversationId,
    kind: 'direct',
    lastMessageAt: base + (count - 1) * 60_000,
    lastMessagePreview: `History message ${count - 1} needle-${count - 1}`,
    unread: 0,
  });
  await store.close();
  return { count, ms: Math.round(performance.now() - started) };
}

const out = globalThis as unknown as { __seeded?: unknown };
seed().then(
  (r) => {
    out.__seeded = r;
  },
  (e: unknown) => {
    out.__seeded = { error: String(e) };
  },
);

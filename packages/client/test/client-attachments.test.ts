import { createHash } from 'node:crypto';
import { nodeProvider } from '@vaultex/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ATTACHMENT_SEGMENT_BYTES,
  attachmentCiphertextSize,
  decryptAttachment,
  encryptAttachment,
  type FetchLike,
  isClientError,
  type VaultexClient,
} from '../src/index.js';
import { befriend, newClient, pattern, record, startRelay, type TestRelay } from './core-support.js';

const MB = 1024 * 1024;

/** Byte equality (vitest's deep equality takes seconds on megabytes). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

function sha(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

describe('attachment encryption', () => {
  const key = new Uint8Array(32).fill(7);

  it('round-trips sizes around segment boundaries', () => {
    for (const size of [
      0,
      1,
      ATTACHMENT_SEGMENT_BYTES - 1,
      ATTACHMENT_SEGMENT_BYTES,
      3 * ATTACHMENT_SEGMENT_BYTES + 5,
    ]) {
      const plain = pattern(size, size);
      const ct = encryptAttachment(nodeProvider, key, plain);
      expect(ct.length).toBe(attachmentCiphertextSize(size));
      expect(same(decryptAttachment(nodeProvider, key, ct, { size, sha256: sha(ct) }), plain)).toBe(true);
    }
  });

  it('refuses a flipped bit, a wrong key and a truncation at a segment boundary', () => {
    const plain = pattern(3 * ATTACHMENT_SEGMENT_BYTES, 1);
    const ct = encryptAttachment(nodeProvider, key, plain);
    const flipped = ct.slice();
    flipped[ATTACHMENT_SEGMENT_BYTES + 100]! ^= 1;
    const corrupt = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return isClientError(e, 'ATTACHMENT_CORRUPT');
      }
      return false;
    };
    // Even with a matching hash (an attacker who also rewrote the pointer's hash), the tag fails.
    expect(
      corrupt(() => decryptAttachment(nodeProvider, key, flipped, { size: plain.length, sha256: sha(flipped) })),
    ).toBe(true);
    expect(corrupt(() => decryptAttachment(nodeProvider, key, flipped, { size: plain.length, sha256: sha(ct) }))).toBe(
      true,
    );
    const other = new Uint8Array(32).fill(8);
    expect(corrupt(() => decryptAttachment(nodeProvider, other, ct, { size: plain.length, sha256: sha(ct) }))).toBe(
      true,
    );
    // Two whole segments of three, claimed as the whole file: the final-segment flag does not match.
    const cut = ct.slice(0, 2 * (ATTACHMENT_SEGMENT_BYTES + 16));
    expect(
      corrupt(() =>
        decryptAttachment(nodeProvider, key, cut, { size: 2 * ATTACHMENT_SEGMENT_BYTES, sha256: sha(cut) }),
      ),
    ).toBe(true);
    expect(corrupt(() => decryptAttachment(nodeProvider, key, cut, { size: plain.length, sha256: sha(cut) }))).toBe(
      true,
    );
  });
});

describe('attachments between two clients', () => {
  let relay: TestRelay;
  let alice: VaultexClient;
  let bob: VaultexClient;
  // Alice's fetch: counts chunk uploads and can stop the relay after a given one.
  let stopAfterChunk = -1;
  let chunksPut = 0;

  beforeAll(async () => {
    relay = await startRelay();
    const fetchFn: FetchLike = async (url, init) => {
      const res = await globalThis.fetch(url, init);
      if (init.method === 'PUT' && url.includes('/chunks/')) {
        chunksPut++;
        if (chunksPut === stopAfterChunk) {
          // The relay stored the chunk but goes away before the client hears back.
          await relay.stop();
          throw new TypeError('fetch failed');
        }
      }
      return res;
    };
    alice = (await newClient(relay, 'Alice', { fetch: fetchFn })).client;
    bob = (await newClient(relay, 'Bob')).client;
    await befriend(alice, bob);
  });

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await relay?.close();
  });

  it('a few-MB file goes both ways, encrypted, with progress events', async () => {
    const file = pattern(3 * MB + 123, 42);
    const progress = record(alice, 'attachment-progress');
    const pointer = await alice.attachments.upload(file, { name: 'photo.jpg', mime: 'image/jpeg' });
    const total = attachmentCiphertextSize(file.length);
    expect(progress[0]).toMatchObject({ id: pointer.id, direction: 'upload', sent: 0, total });
    expect(progress.at(-1)).toMatchObject({ sent: total, total });
    expect(progress.length).toBe(Math.ceil(total / (512 * 1024)) + 1);
    // The relay holds ciphertext only.
    const stored = await relay.storage.readAttachmentChunk(Buffer.from(pointer.id, 'base64url'), 0);
    expect(stored?.subarray(0, 64)).not.toEqual(file.subarray(0, 64));

    const id = await alice.messages.sendAttachment(bob.id().userId, pointer, { caption: 'look' });
    await alice.sync();
    const bobMessages = record(bob, 'message');
    await bob.sync();
    const got = bobMessages.find((m) => m.message.id === id)?.message;
    expect(got).toMatchObject({
      kind: 'attachment',
      text: 'look',
      attachment: { name: 'photo.jpg', size: file.length },
    });
    const bobProgress = record(bob, 'attachment-progress');
    const received = await bob.attachments.download(await bob.attachments.pointerOf(id));
    expect(same(received, file)).toBe(true);
    expect(bobProgress.at(-1)).toMatchObject({ direction: 'download', sent: total, total });

    // And back, with a thumbnail.
    const reply = pattern(MB, 9);
    const thumbnail = pattern(2000, 3);
    const back = await bob.attachments.upload(reply, { name: 'r.bin', thumbnail });
    const replyId = await bob.messages.sendAttachment(alice.id().userId, back);
    await bob.sync();
    await alice.sync();
    const [latest] = await alice.messages.list(`d:${bob.id().userId}`, { limit: 1 });
    expect(latest).toMatchObject({ id: replyId, kind: 'attachment', attachment: { thumbnail } });
    expect(same(await alice.attachments.download(await alice.attachments.pointerOf(replyId)), reply)).toBe(true);
  });

  it('ciphertext altered on the relay is refused with ATTACHMENT_CORRUPT', async () => {
    const file = pattern(MB, 5);
    const pointer = await alice.attachments.upload(file);
    const key = Buffer.from(pointer.id, 'base64url');
    const chunk = (await relay.storage.readAttachmentChunk(key, 1))!;
    const altered = Uint8Array.from(chunk);
    altered[1000]! ^= 0x80;
    // The relay's database is private to it; a test reaches in to play a malicious operator.
    const db = (relay.storage as unknown as { db: { prepare(sql: string): { run(...a: unknown[]): unknown } } }).db;
    db.prepare('UPDATE attachment_chunks SET data = ? WHERE attachment_id = ? AND idx = 1').run(altered, key);
    const error = await bob.attachments.download(pointer).catch((e: unknown) => e);
    expect(isClientError(error, 'ATTACHMENT_CORRUPT')).toBe(true);
    // A forged pointer whose hash matches the altered ciphertext still fails on the segment tag.
    const whole = encryptAttachment(nodeProvider, pointer.key, file);
    whole.set(altered, 512 * 1024);
    const forged = { ...pointer, sha256: sha(whole) };
    const error2 = await bob.attachments.download(forged).catch((e: unknown) => e);
    expect(isClientError(error2, 'ATTACHMENT_CORRUPT')).toBe(true);
    expect((error2 as Error).message).toMatch(/segment/u);
  });

  it('an upload cut by a relay stop resumes after the restart and arrives intact', async () => {
    const file = pattern(3 * MB, 77);
    const progress = record(alice, 'attachment-progress');
    chunksPut = 0;
    stopAfterChunk = 3;
    const error = await alice.attachments.upload(file, { name: 'big.bin' }).catch((e: unknown) => e);
    expect(isClientError(error, 'NETWORK_ERROR')).toBe(true);
    const firstId = progress[0]!.id;
    stopAfterChunk = -1;
    await relay.restart();
    progress.length = 0;
    chunksPut = 0;
    const pointer = await alice.attachments.upload(file, { name: 'big.bin' });
    // Same relay upload, continued after the 3 chunks the relay kept: not started again.
    expect(pointer.id).toBe(firstId);
    expect(progress[0]!.sent).toBe(3 * 512 * 1024);
    expect(chunksPut).toBe(Math.ceil(attachmentCiphertextSize(file.length) / (512 * 1024)) - 3);
    expect(same(await bob.attachments.download(pointer), file)).toBe(true);
    // The upload state is gone once complete: the next upload of the same bytes is a new one.
    const again = await alice.attachments.upload(file);
    expect(again.id).not.toBe(pointer.id);
  });

  it('a file over the relay limit is refused with ATTACHMENT_TOO_LARGE', async () => {
    const error = await alice.attachments.upload(new Uint8Array(100 * MB + 1)).catch((e: unknown) => e);
    expect(isClientError(error, 'ATTACHMENT_TOO_LARGE')).toBe(true);
  });
});

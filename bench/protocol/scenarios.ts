/**
 * The three protocol scenarios, written once against {@link ProtocolPeer} so that every
 * implementation runs exactly the same steps. Every decrypted plaintext is checked.
 */
import { type Batch, type Limits, type Rate, runBounded, timed } from '../lib/measure.js';
import {
  type Conversation,
  expectPlaintext,
  type PendingSetup,
  type ProtocolPeer,
  type WireMessage,
  wireSize,
} from './peers/peer.js';

/** Plaintext size of every message in the protocol benchmark. */
export const MESSAGE_BYTES = 200;

/**
 * Distinct 200-byte plaintexts (random bytes with the index in the first four), made once and
 * outside timing. Each is its own exact ArrayBuffer, which the privacyresearch API requires.
 */
export function makePlaintexts(count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = new Uint8Array(MESSAGE_BYTES);
    globalThis.crypto.getRandomValues(bytes);
    new DataView(bytes.buffer).setUint32(0, i);
    out.push(bytes);
  }
  return out;
}

/** Largest timed batches (runBounded grows batches up to these): setups are prepared per batch. */
const SETUP_BATCH = 10;
const MESSAGE_BATCH = 50;

/** Sizes of normal (non-prekey) messages seen on the wire. */
export interface SizeSummary {
  count: number;
  total: number;
  min: number;
  max: number;
}

/** Sizes seen on the wire during a run. */
export interface WireStats {
  readonly prekey: SizeSummary;
  readonly normal: SizeSummary;
}

/** A summary of no sizes yet. */
export function emptySizes(): SizeSummary {
  return { count: 0, total: 0, min: Number.POSITIVE_INFINITY, max: 0 };
}

/** Adds one observed size. */
export function recordSize(summary: SizeSummary, bytes: number): void {
  summary.count++;
  summary.total += bytes;
  summary.min = Math.min(summary.min, bytes);
  summary.max = Math.max(summary.max, bytes);
}

/** Adds every size of `from` to `into`. */
export function mergeSizes(into: SizeSummary, from: SizeSummary): void {
  into.count += from.count;
  into.total += from.total;
  into.min = Math.min(into.min, from.min);
  into.max = Math.max(into.max, from.max);
}

/** A rate plus the wire sizes observed while measuring it. */
export interface ScenarioResult {
  readonly rate: Rate;
  readonly wire: WireStats;
}

function newStats(): WireStats {
  return { prekey: emptySizes(), normal: emptySizes() };
}

/**
 * Session setups per second: Bob's bundle is prepared untimed; Alice processes it, encrypts the
 * first message and Bob decrypts it (consuming the prekeys) inside the timed section.
 */
export async function measureSetups(peer: ProtocolPeer, limits: Limits): Promise<ScenarioResult> {
  const wire = newStats();
  const plaintexts = makePlaintexts(SETUP_BATCH);
  const rate = await runBounded(limits, async (maxOps) => {
    const n = Math.min(SETUP_BATCH, maxOps);
    const pending: PendingSetup[] = [];
    for (let i = 0; i < n; i++) pending.push(await peer.prepare());
    const prekeyMessages: WireMessage[] = [];
    const ms = await timed(async () => {
      for (let i = 0; i < n; i++) {
        prekeyMessages.push((await pending[i]!.establish(plaintexts[i]!)).prekeyMessage);
      }
    });
    for (const message of prekeyMessages) recordSize(wire.prekey, wireSize(message));
    return { ops: n, ms } satisfies Batch;
  });
  return { rate, wire };
}

/**
 * A fresh, confirmed conversation: setup plus one reply from Bob, so that Alice's messages are
 * normal messages, not prekey messages. Untimed.
 */
async function confirmedConversation(peer: ProtocolPeer, wire: WireStats): Promise<Conversation> {
  const [first, reply] = makePlaintexts(2) as [Uint8Array, Uint8Array];
  const established = await (await peer.prepare()).establish(first);
  recordSize(wire.prekey, wireSize(established.prekeyMessage));
  const { alice, bob } = established.conversation;
  expectPlaintext(await alice.decrypt(await bob.encrypt(reply)), reply, `${peer.name} reply`);
  return established.conversation;
}

/** One-way messages per second: Alice encrypts a batch, then Bob decrypts it in order. */
export async function measureOneWay(peer: ProtocolPeer, limits: Limits): Promise<ScenarioResult> {
  const wire = newStats();
  const { alice, bob } = await confirmedConversation(peer, wire);
  const plaintexts = makePlaintexts(MESSAGE_BATCH);
  const messages: WireMessage[] = new Array(MESSAGE_BATCH);
  const rate = await runBounded(limits, async (maxOps) => {
    const n = Math.min(MESSAGE_BATCH, maxOps);
    const ms = await timed(async () => {
      for (let i = 0; i < n; i++) messages[i] = await alice.encrypt(plaintexts[i]!);
      for (let i = 0; i < n; i++) {
        expectPlaintext(await bob.decrypt(messages[i]!), plaintexts[i]!, `${peer.name} one-way`);
      }
    });
    for (let i = 0; i < n; i++) recordSize(wire.normal, wireSize(messages[i]!));
    return { ops: n, ms };
  });
  return { rate, wire };
}

/** Ping-pong round trips per second: A->B then B->A, so every step turns the DH ratchet. */
export async function measurePingPong(peer: ProtocolPeer, limits: Limits): Promise<ScenarioResult> {
  const wire = newStats();
  const { alice, bob } = await confirmedConversation(peer, wire);
  const plaintexts = makePlaintexts(2 * MESSAGE_BATCH);
  const sizes: number[] = new Array(2 * MESSAGE_BATCH);
  const rate = await runBounded(limits, async (maxOps) => {
    const n = Math.min(MESSAGE_BATCH, maxOps);
    const ms = await timed(async () => {
      for (let i = 0; i < n; i++) {
        const ping = plaintexts[2 * i]!;
        const pong = plaintexts[2 * i + 1]!;
        const toBob = await alice.encrypt(ping);
        expectPlaintext(await bob.decrypt(toBob), ping, `${peer.name} ping`);
        const toAlice = await bob.encrypt(pong);
        expectPlaintext(await alice.decrypt(toAlice), pong, `${peer.name} pong`);
        sizes[2 * i] = wireSize(toBob);
        sizes[2 * i + 1] = wireSize(toAlice);
      }
    });
    for (let i = 0; i < 2 * n; i++) recordSize(wire.normal, sizes[i] ?? 0);
    return { ops: n, ms };
  });
  return { rate, wire };
}

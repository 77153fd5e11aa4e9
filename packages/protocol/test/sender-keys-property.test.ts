import {
  createDistributionMessage,
  createSenderKey,
  DuplicateMessageError,
  deserializeSenderKeyState,
  groupDecrypt,
  groupEncrypt,
  isProtocolError,
  MAX_SENDER_KEY_CHAINS,
  manualClock,
  NoSenderKeyError,
  processDistributionMessage,
  rotateSenderKey,
  type SenderKeyState,
  serializeSenderKeyState,
  utf8ToBytes,
} from '@vaultex/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { providers, rng, toHex } from './support.js';

const SENDERS = 2;
const RECEIVERS = 3;
const HOUR = 60 * 60 * 1000;

type Command =
  | { kind: 'send'; sender: number }
  | { kind: 'deliver'; pick: number; receiver: number }
  | { kind: 'tamper'; pick: number; receiver: number; byte: number; bit: number }
  | { kind: 'restore'; receiver: number }
  | { kind: 'rotate'; sender: number }
  | { kind: 'tick'; ms: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), sender: fc.nat(SENDERS - 1) }) },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat(), receiver: fc.nat(RECEIVERS - 1) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('tamper' as const),
      pick: fc.nat(),
      receiver: fc.nat(RECEIVERS - 1),
      byte: fc.nat(),
      bit: fc.nat(7),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restore' as const), receiver: fc.nat(RECEIVERS - 1) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('rotate' as const), sender: fc.nat(SENDERS - 1) }) },
  // Ticks stay short so that a run (at most 60 commands) never reaches the 30-day key expiry.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.nat(11 * HOUR) }) },
);

interface Sent {
  readonly sender: number;
  /** Which of the sender's chains (0 = first, +1 per rotation). */
  readonly generation: number;
  readonly bytes: Uint8Array;
  readonly text: string;
}

describe.each(providers)('sender keys under reordering, loss, duplication and restore ($name)', (p) => {
  it('decrypts every delivered message exactly once and never changes state on failure', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(command, { minLength: 10, maxLength: 60, size: 'max' }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        (seed, commands, shuffle) => {
          const random = rng(seed);
          const clock = manualClock(1_700_000_000_000);
          const distributionIds = Array.from({ length: SENDERS }, () => random(16));
          const own: SenderKeyState[] = distributionIds.map((id) => createSenderKey(id, p, random));
          const generation = own.map(() => 0);
          // states[r][s]: receiver r's state for sender s; held[r][s]: generations it holds, newest first.
          const states = Array.from({ length: RECEIVERS }, () =>
            own.map((o) => processDistributionMessage(createDistributionMessage(o))),
          );
          const held = Array.from({ length: RECEIVERS }, () => own.map(() => [0]));
          const network: Sent[] = [];
          const opened = new Map<string, number>();

          const deliver = (index: number, r: number): void => {
            const m = network[index]!;
            const state = states[r]![m.sender]!;
            const key = `${index}:${r}`;
            const before = toHex(serializeSenderKeyState(state));
            // The chain is looked up before replays are detected: an evicted chain wins.
            if (!held[r]![m.sender]!.includes(m.generation)) {
              expect(() => groupDecrypt(state, m.bytes, p, clock)).toThrow(NoSenderKeyError);
            } else if (opened.has(key)) {
              expect(() => groupDecrypt(state, m.bytes, p, clock)).toThrow(DuplicateMessageError);
            } else {
              expect(new TextDecoder().decode(groupDecrypt(state, m.bytes, p, clock))).toBe(m.text);
              opened.set(key, 1);
              return;
            }
            expect(toHex(serializeSenderKeyState(state))).toBe(before);
          };

          for (const c of commands) {
            switch (c.kind) {
              case 'send': {
                const text = `s${c.sender} #${network.length}`;
                const bytes = groupEncrypt(own[c.sender]!, utf8ToBytes(text), p);
                network.push({ sender: c.sender, generation: generation[c.sender]!, bytes, text });
                break;
              }
              case 'deliver':
                if (network.length > 0) deliver(c.pick % network.length, c.receiver);
                break;
              case 'tamper': {
                if (network.length === 0) break;
                const m = network[c.pick % network.length]!;
                const state = states[c.receiver]![m.sender]!;
                const bad = m.bytes.slice();
                bad[c.byte % bad.length]! ^= 1 << c.bit;
                const before = toHex(serializeSenderKeyState(state));
                let thrown: unknown;
                try {
                  groupDecrypt(state, bad, p, clock);
                } catch (e) {
                  thrown = e;
                }
                expect(isProtocolError(thrown)).toBe(true);
                expect(toHex(serializeSenderKeyState(state))).toBe(before);
                break;
              }
              case 'restore':
                states[c.receiver] = states[c.receiver]!.map((s) =>
                  deserializeSenderKeyState(serializeSenderKeyState(s)),
                );
                break;
              case 'rotate': {
                own[c.sender] = rotateSenderKey(own[c.sender]!, p, random);
                generation[c.sender]! += 1;
                const dist = createDistributionMessage(own[c.sender]!);
                for (let r = 0; r < RECEIVERS; r++) {
                  processDistributionMessage(dist, states[r]![c.sender]);
                  held[r]![c.sender] = [generation[c.sender]!, ...held[r]![c.sender]!].slice(0, MAX_SENDER_KEY_CHAINS);
                }
                break;
              }
              case 'tick':
                clock.advance(c.ms);
                break;
            }
          }

          // Finally deliver everything still pending, in a scrambled order: each opens once.
          const pending: [number, number][] = [];
          for (let i = 0; i < network.length; i++) for (let r = 0; r < RECEIVERS; r++) pending.push([i, r]);
          const order = pending.map((pair, i) => ({ pair, k: shuffle[i % shuffle.length]! ^ (i * 7919) }));
          order.sort((a, b) => a.k - b.k);
          for (const { pair } of order) deliver(pair[0], pair[1]);
          // Every message whose chain is still held was opened, once: a second delivery is a replay.
          for (let i = 0; i < network.length; i++) {
            for (let r = 0; r < RECEIVERS; r++) {
              if (held[r]![network[i]!.sender]!.includes(network[i]!.generation)) {
                expect(opened.has(`${i}:${r}`)).toBe(true);
                deliver(i, r);
              }
            }
          }
        },
      ),
      { seed: 42, numRuns: p.name === 'noble' ? 15 : 40 },
    );
  });
});

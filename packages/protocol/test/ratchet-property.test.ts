/**
 * Property tests of the Double Ratchet through the Session API: random interleavings of
 * sends, delayed and reordered delivery, loss, duplication, tampering and restoring a
 * session from its serialised form, for two parties and for one device talking to two.
 */
import {
  bytesToHex,
  DEFAULT_RATCHET_LIMITS,
  decodeWire,
  isProtocolError,
  type Session,
  Session as SessionClass,
  type SessionDeps,
} from '@vaultex/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { establish, makeDeps, makeDevice, msg, text } from './session-support.js';
import { providers, rng } from './support.js';

/** The ratchet public key in a message header (either message kind). */
function headerKey(message: Uint8Array): string {
  return decodeWire(message, {
    what: 'test message',
    versions: [1],
    read: (r) => {
      const kind = r.uint('kind');
      if (kind === 2) for (let i = 0; i < 6; i++) r.raw('prekey field');
      const dh = r.bytes('dh', 32);
      r.raw('pn');
      r.raw('n');
      r.raw('ciphertext');
      r.end();
      return bytesToHex(dh);
    },
  });
}

/** One end of a link: its session and the chains (ratchet keys) it has accepted, in order. */
interface End {
  session: Session;
  readonly deps: SessionDeps;
  readonly chains: string[];
}

/** A session pair: ends[0] is the shared device A, ends[1] the peer. */
interface Link {
  readonly ends: [End, End];
}

interface Flight {
  readonly link: number;
  /** Index of the receiving end. */
  readonly to: 0 | 1;
  readonly bytes: Uint8Array;
  readonly plaintext: string;
}

type Command =
  | { t: 'send'; link: number; from: 0 | 1 }
  | { t: 'deliver'; pick: number }
  | { t: 'drop'; pick: number }
  | { t: 'duplicate'; pick: number }
  | { t: 'flip'; pick: number; pos: number; mask: number }
  | { t: 'restore'; link: number; end: 0 | 1 }
  | { t: 'misroute'; pick: number };

function command(links: number): fc.Arbitrary<Command> {
  const link = fc.nat({ max: links - 1 });
  const side = fc.constantFrom<0 | 1>(0, 1);
  const pick = fc.nat({ max: 1000 });
  const options: fc.WeightedArbitrary<Command>[] = [
    { weight: 5, arbitrary: fc.record({ t: fc.constant('send' as const), link, from: side }) },
    { weight: 5, arbitrary: fc.record({ t: fc.constant('deliver' as const), pick }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), pick }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constant('duplicate' as const), pick }) },
    {
      weight: 2,
      arbitrary: fc.record({
        t: fc.constant('flip' as const),
        pick,
        pos: fc.nat({ max: 5000 }),
        mask: fc.integer({ min: 1, max: 255 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('restore' as const), link, end: side }) },
  ];
  if (links > 1) options.push({ weight: 1, arbitrary: fc.record({ t: fc.constant('misroute' as const), pick }) });
  return fc.oneof(...options);
}

function expectUnchanged(end: End, op: () => unknown, what: string): unknown {
  const before = end.session.serialize();
  let error: unknown;
  try {
    op();
  } catch (e) {
    error = e;
  }
  expect(error, `${what} must fail`).toBeDefined();
  expect(isProtocolError(error), `${what} must fail with a ProtocolError`).toBe(true);
  expect(bytesToHex(end.session.serialize()), `${what} changed the session`).toBe(bytesToHex(before));
  return error;
}

/** What the runs exercised, so that a test can show its commands were not vacuous. */
interface Stats {
  delivered: number;
  duplicates: number;
  forgotten: number;
  tampered: number;
  restored: number;
  misrouted: number;
}

const newStats = (): Stats => ({ delivered: 0, duplicates: 0, forgotten: 0, tampered: 0, restored: 0, misrouted: 0 });

/** Runs commands against fresh copies of the given sessions and checks every outcome. */
function run(
  start: { bytes: [Uint8Array, Uint8Array]; chains: [string[], string[]] }[],
  commands: Command[],
  provider: Parameters<typeof makeDeps>[0],
  stats: Stats,
): void {
  const links: Link[] = start.map((s, i) => {
    const end = (j: 0 | 1): End => {
      const deps = makeDeps(provider, rng(1000 + i * 2 + j));
      return { session: SessionClass.deserialize(s.bytes[j], deps), deps, chains: [...s.chains[j]] };
    };
    return { ends: [end(0), end(1)] };
  });
  const flights: Flight[] = [];
  const delivered: Flight[] = [];
  let counter = 0;

  const deliver = (f: Flight) => {
    const end = links[f.link]!.ends[f.to];
    expect(text(end.session.decrypt(f.bytes))).toBe(f.plaintext);
    const key = headerKey(f.bytes);
    if (!end.chains.includes(key)) end.chains.push(key);
    delivered.push(f);
    stats.delivered++;
  };

  for (const c of commands) {
    switch (c.t) {
      case 'send': {
        const from = links[c.link]!.ends[c.from];
        const label = `${c.link}.${c.from}.${counter++}`;
        flights.push({
          link: c.link,
          to: c.from === 0 ? 1 : 0,
          bytes: from.session.encrypt(msg(label)),
          plaintext: `message ${label}`,
        });
        break;
      }
      case 'deliver':
        if (flights.length > 0) deliver(flights.splice(c.pick % flights.length, 1)[0]!);
        break;
      case 'drop':
        if (flights.length > 0) flights.splice(c.pick % flights.length, 1);
        break;
      case 'duplicate': {
        if (delivered.length === 0) break;
        const f = delivered[c.pick % delivered.length]!;
        const end = links[f.link]!.ends[f.to];
        const position = end.chains.indexOf(headerKey(f.bytes));
        expect(position).toBeGreaterThanOrEqual(0);
        const age = end.chains.length - 1 - position;
        const error = expectUnchanged(end, () => end.session.decrypt(f.bytes), 'a duplicate');
        // A replay is a duplicate while its chain is remembered; older ones fail to authenticate.
        const expected = age <= DEFAULT_RATCHET_LIMITS.maxPreviousChains ? 'DUPLICATE_MESSAGE' : 'INVALID_MESSAGE';
        expect((error as { code: string }).code).toBe(expected);
        if (expected === 'DUPLICATE_MESSAGE') stats.duplicates++;
        else stats.forgotten++;
        break;
      }
      case 'flip': {
        const pool = [...flights, ...delivered];
        if (pool.length === 0) break;
        const f = pool[c.pick % pool.length]!;
        const bad = f.bytes.slice();
        bad[c.pos % bad.length]! ^= c.mask;
        const end = links[f.link]!.ends[f.to];
        expectUnchanged(end, () => end.session.decrypt(bad), 'a tampered message');
        stats.tampered++;
        break;
      }
      case 'restore': {
        const end = links[c.link]!.ends[c.end];
        end.session = SessionClass.deserialize(end.session.serialize(), end.deps);
        stats.restored++;
        break;
      }
      case 'misroute': {
        const pool = [...flights, ...delivered];
        if (pool.length === 0) break;
        const f = pool[c.pick % pool.length]!;
        const wrong = links[(f.link + 1) % links.length]!.ends[f.to];
        expectUnchanged(wrong, () => wrong.session.decrypt(f.bytes), 'a message for another session');
        stats.misrouted++;
        break;
      }
    }
  }
  // Whatever was not lost still arrives, in any order.
  for (const f of flights.reverse()) deliver(f);
}

describe.each(providers)('ratchet properties ($name)', (provider) => {
  // Session setup (ML-KEM, signatures) is done once; each run starts from copies.
  const device = makeDevice(provider, 40);
  const snapshot = (label: number, confirm: boolean) => {
    const pair = establish(provider, { label, confirm, aliceDevice: device });
    // The chains each side has already accepted. Confirmed: Bob holds Alice's first chain,
    // which she will not use again (a placeholder suffices), and Alice holds Bob's current
    // one. Unconfirmed: Bob holds the chain Alice still sends on; Alice holds none.
    const probe = establish(provider, { label, confirm, aliceDevice: device });
    const bobChains = confirm ? ['first chain'] : [headerKey(probe.alice.encrypt(msg('probe')))];
    const aliceChains = confirm ? [headerKey(probe.bob.encrypt(msg('probe')))] : [];
    return {
      bytes: [pair.alice.serialize(), pair.bob.serialize()] as [Uint8Array, Uint8Array],
      chains: [aliceChains, bobChains] as [string[], string[]],
    };
  };
  const numRuns = provider.name === 'node' ? 150 : 30;

  it('two parties: every message decrypts exactly once; duplicates and tampering are refused', () => {
    const confirmed = snapshot(41, true);
    const fresh = snapshot(42, false);
    const stats = newStats();
    fc.assert(
      fc.property(fc.boolean(), fc.array(command(1), { minLength: 10, maxLength: 60 }), (isConfirmed, commands) => {
        run([isConfirmed ? confirmed : fresh], commands, provider, stats);
      }),
      { seed: 42, numRuns },
    );
    expect(stats.delivered).toBeGreaterThan(numRuns * 3);
    expect(stats.duplicates).toBeGreaterThan(numRuns / 4);
    expect(stats.tampered).toBeGreaterThan(numRuns / 4);
    expect(stats.restored).toBeGreaterThan(numRuns / 4);
  });

  it('one device with two peers: sessions stay independent', () => {
    const b1 = snapshot(43, true);
    const b2 = snapshot(44, false);
    const stats = newStats();
    fc.assert(
      fc.property(fc.array(command(2), { minLength: 10, maxLength: 60 }), (commands) => {
        run([b1, b2], commands, provider, stats);
      }),
      { seed: 42, numRuns },
    );
    expect(stats.delivered).toBeGreaterThan(numRuns * 3);
    expect(stats.misrouted).toBeGreaterThan(numRuns / 4);
  });

  it('long runs cross the remembered-chain bound', () => {
    // Many ping-pong turns so that replays reach chains older than maxPreviousChains.
    const start = snapshot(45, true);
    const turn: Command[] = [
      { t: 'send', link: 0, from: 0 },
      { t: 'deliver', pick: 0 },
      { t: 'send', link: 0, from: 1 },
      { t: 'deliver', pick: 0 },
    ];
    const stats = newStats();
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 6 }), (picks) => {
        const commands = [
          ...Array.from({ length: 9 }, () => turn).flat(),
          ...picks.map((pick) => ({ t: 'duplicate' as const, pick })),
        ];
        run([start], commands, provider, stats);
      }),
      { seed: 42, numRuns: provider.name === 'node' ? 20 : 4 },
    );
    expect(stats.forgotten).toBeGreaterThan(0);
    expect(stats.duplicates).toBeGreaterThan(0);
  });
});

import { nodeProvider } from '@vaultex/protocol/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeWrapKey, unwrapWithCode, wrapForCodes } from '../src/archive-crypto.js';
import {
  type ClientOptions,
  generateBackupCodes,
  isClientError,
  normalizeBackupCode,
  openMemoryStore,
  VaultexClient,
} from '../src/index.js';
import { nodeDeps } from '../src/node/index.js';
import { arrived, befriend, newClient, record, startRelay, TEST_OPTIONS, type TestRelay } from './core-support.js';

/** Cheap Argon2id for the code envelopes: these tests check the flow, not the cost. */
const OPTIONS: ClientOptions = { ...TEST_OPTIONS, archiveCodeKdf: { t: 1, m: 8, p: 1 } };
/** A deterministic RandomSource: every call gives new bytes. */
function rng(seed: number): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    counter++;
    return new Uint8Array(n).map((_, i) => (seed * 31 + counter * 101 + i * 7 + ((i * counter) >> 3)) & 0xff);
  };
}

describe('archive crypto', () => {
  it('issues 8 distinct 100-bit codes in four groups of five and normalises typed ones', () => {
    const codes = generateBackupCodes(rng(1));
    expect(codes).toHaveLength(8);
    for (const c of codes) expect(c).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}$/u);
    const real = generateBackupCodes((n) => crypto.getRandomValues(new Uint8Array(n)));
    expect(new Set(real).size).toBe(8);
    const code = real[0] ?? '';
    expect(normalizeBackupCode(` ${code.toLowerCase().replace(/0/gu, 'o')} `)).toBe(code.replace(/-/gu, ''));
    expect(() => normalizeBackupCode('ABCDE-ABCDE')).toThrow(/backupCode/u);
    expect(() => normalizeBackupCode('UUUUU-UUUUU-UUUUU-UUUUU')).toThrow(/backupCode/u);
  });

  it('opens a code envelope only with its code and only in its slot', () => {
    const key = new Uint8Array(32).fill(9);
    const codes = generateBackupCodes(rng(2), 3);
    const kdf = { t: 1, m: 8, p: 1 };
    const envelopes = wrapForCodes(nodeProvider, rng(3), codes, key, kdf).map((envelope, i) => ({
      slot: i + 1,
      envelope,
    }));
    const opened = unwrapWithCode(nodeProvider, codes[1] ?? '', envelopes);
    expect(opened?.slot).toBe(2);
    expect(Array.from(opened?.key ?? [])).toEqual(Array.from(key));
    expect(unwrapWithCode(nodeProvider, generateBackupCodes(rng(4), 1)[0] ?? '', envelopes)).toBeUndefined();
    // The relay cannot move an envelope to another slot: the slot is authenticated.
    const moved = envelopes.map((e) => ({ ...e, slot: e.slot === 2 ? 5 : e.slot }));
    expect(unwrapWithCode(nodeProvider, codes[1] ?? '', moved)).toBeUndefined();
    // Argon2id, not a fast hash: the same code and salt give the same key, another code another.
    const salt = new Uint8Array(16);
    expect(codeWrapKey(nodeProvider, codes[0] ?? '', salt, kdf)).toEqual(
      codeWrapKey(nodeProvider, codes[0] ?? '', salt, kdf),
    );
    expect(codeWrapKey(nodeProvider, codes[0] ?? '', salt, kdf)).not.toEqual(
      codeWrapKey(nodeProvider, codes[2] ?? '', salt, kdf),
    );
  });
});

describe('history archive on the relay', () => {
  let relay: TestRelay;
  let alice: VaultexClient;
  let seedPhrase: string;
  let bob: VaultexClient;
  let carol: VaultexClient;
  let codes: string[];
  const others: VaultexClient[] = [];

  async function fromSeed(): Promise<VaultexClient> {
    const device = await VaultexClient.restore({
      store: await openMemoryStore(),
      deps: nodeDeps(),
      options: OPTIONS,
      serverUrl: relay.url,
      seedPhrase,
    });
    others.push(device);
    return device;
  }

  beforeAll(async () => {
    relay = await startRelay();
    const created = await VaultexClient.create({
      store: await openMemoryStore(),
      deps: nodeDeps(),
      options: OPTIONS,
      serverUrl: relay.url,
      displayName: 'Alice',
    });
    alice = created.client;
    seedPhrase = created.seedPhrase;
    bob = (await newClient(relay, 'Bob')).client;
    carol = (await newClient(relay, 'Carol')).client;
    await befriend(alice, bob);
    await befriend(alice, carol);
    await alice.sync();
    await bob.sync();
    await carol.sync();
    const got = record(alice, 'message');
    await alice.messages.send(bob.id().userId, 'archived one');
    await alice.messages.send(carol.id().userId, 'not archived');
    await alice.sync();
    const reply = await bob.messages.send(alice.id().userId, 'archived two');
    await bob.sync();
    await alice.sync();
    await arrived(got, reply, 'Alice receives');
    await alice.messages.setRetention(`d:${bob.id().userId}`, { mode: 'history' });
    await alice.messages.setRetention(`d:${carol.id().userId}`, { mode: 'burn-on-read' });
  });

  afterAll(async () => {
    for (const c of [alice, bob, carol, ...others]) await c?.stop();
    await relay?.close();
  });

  it('reports no archive and refuses to push before setup', async () => {
    expect(await alice.archive.status()).toEqual({ setUp: false, exists: false, version: 0, bytes: 0, codesLeft: 0 });
    const e = await alice.archive.push().catch((x: unknown) => x);
    expect(isClientError(e, 'ARCHIVE_NOT_SET_UP')).toBe(true);
  });

  it('sets up 8 codes and pushes only the history conversations', async () => {
    codes = await alice.archive.setup();
    expect(codes).toHaveLength(8);
    expect(await alice.archive.status()).toMatchObject({ setUp: true, exists: false, codesLeft: 8 });
    const pushed = await alice.archive.push();
    expect(pushed).toMatchObject({ conversations: 1, messages: 2, version: 1 });
    const status = await alice.archive.status();
    expect(status).toMatchObject({ exists: true, version: 1, codesLeft: 8 });
    expect(status.bytes).toBe(pushed.bytes);
    // Padded: the size is a multiple of the bucket step, not the exact payload length.
    expect((pushed.bytes - 5 - 12 - 16) % 256).toBe(0);
  });

  it('a device restored from the seed phrase gets the history, once', async () => {
    const device = await fromSeed();
    expect(await device.messages.list(`d:${bob.id().userId}`)).toEqual([]);
    expect(await device.archive.restore()).toEqual({ conversations: 1, messages: 2 });
    const texts = (await device.messages.list(`d:${bob.id().userId}`)).map((m) => m.text);
    expect(texts).toEqual(['archived two', 'archived one']);
    expect((await device.contacts.list()).some((c) => c.displayName === 'Bob')).toBe(true);
    expect(await device.messages.list(`d:${carol.id().userId}`)).toEqual([]);
    const conv = (await device.messages.conversations()).find((c) => c.id === `d:${bob.id().userId}`);
    expect(conv?.retention).toEqual({ mode: 'history' });
    // Merging again adds nothing.
    expect(await device.archive.restore()).toEqual({ conversations: 0, messages: 0 });
  });

  it('a backup code opens the archive once', async () => {
    const device = await fromSeed();
    const code = codes[3] ?? '';
    expect(await device.archive.restore({ backupCode: code.toLowerCase() })).toEqual({ conversations: 1, messages: 2 });
    expect((await device.archive.status()).codesLeft).toBe(7);
    const again = await device.archive.restore({ backupCode: code }).catch((x: unknown) => x);
    expect(isClientError(again, 'BACKUP_CODE_REJECTED')).toBe(true);
    const malformed = await device.archive.restore({ backupCode: 'not a code' }).catch((x: unknown) => x);
    expect(isClientError(malformed, 'INVALID_ARGUMENT')).toBe(true);
    // Another code still works.
    const third = await fromSeed();
    expect((await third.archive.restore({ backupCode: codes[5] ?? '' })).messages).toBe(2);
  });

  it('two devices pushing at once both land: the conflict is merged and retried', async () => {
    const device = await fromSeed();
    await device.archive.restore();
    const got = record(device, 'message');
    const late = await bob.messages.send(alice.id().userId, 'archived three');
    await bob.sync();
    await device.sync();
    await arrived(got, late, 'the second device receives');
    const before = (await alice.archive.status()).version;
    const [a, b] = await Promise.all([alice.archive.push(), device.archive.push()]);
    expect(new Set([a.version, b.version])).toEqual(new Set([before + 1, before + 2]));
    const fresh = await fromSeed();
    const restored = await fresh.archive.restore();
    expect(restored.messages).toBe(3);
  });

  it('setup again keeps the archive readable and replaces the codes', async () => {
    const fresh = await alice.archive.setup();
    expect(fresh).not.toContain(codes[0]);
    const device = await fromSeed();
    const old = await device.archive.restore({ backupCode: codes[0] ?? '' }).catch((x: unknown) => x);
    expect(isClientError(old, 'BACKUP_CODE_REJECTED')).toBe(true);
    expect((await device.archive.restore({ backupCode: fresh[0] ?? '' })).messages).toBe(3);
  });
});

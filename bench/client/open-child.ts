/**
 * Child-process entry of the client benchmark: opens a profile as an application starting
 * up would (SQLCipher store, then `VaultexClient.open`), lists the first page of one
 * conversation and the conversation list, and then, separately, derives a key with the
 * default Argon2id parameters. A fresh process, so the peak RSS is that of the start-up and
 * not of the benchmark. Prints one JSON line ({@link OpenFigures}).
 *
 * Run: node --conditions=@vaultex/source --import tsx bench/client/open-child.ts <profileDir> <passphrase> <conversationId>
 */
import { writeFileSync } from 'node:fs';
import { VaultexClient } from '@vaultex/client';
import { nodeDeps, openSqlCipherStore } from '@vaultex/client/node';
import { nodeProvider } from '@vaultex/protocol/node';
import { DEFAULT_STORE_KDF_PARAMS, derivePassphraseKey } from '../../packages/client/src/storage/passphrase-key.js';
import { ownMemory } from './processes.js';

/** What one start-up measured (ms and KiB). */
export interface OpenFigures {
  /** `openSqlCipherStore`: profile.json, key derivation with the profile's (set-up) parameters, SQLCipher open, schema check. */
  readonly storeOpenMs: number;
  /** `VaultexClient.open` on the open store. */
  readonly clientOpenMs: number;
  /** `messages.list(conversation)`: the first page (50), decoded. */
  readonly firstPageMs: number;
  readonly firstPageSize: number;
  /** `messages.conversations()`: the whole list. */
  readonly conversationsMs: number;
  readonly conversations: number;
  /** Argon2id with the default parameters (t=3, m=64 MiB, p=1), as unlocking a default profile costs. */
  readonly argon2DefaultMs: number;
  /** RSS after imports, before opening. */
  readonly rssBeforeKiB: number;
  /** Peak RSS from just before opening to after both listings. */
  readonly peakOpenKiB: number;
  /** Peak RSS during the default Argon2id derivation. */
  readonly peakArgon2KiB: number;
  /** False when the peak could not be reset (then the peaks include start-up). */
  readonly peakReset: boolean;
}

function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

const [directory, passphrase, conversationId] = process.argv.slice(2);
if (directory === undefined || passphrase === undefined || conversationId === undefined) {
  console.error('usage: open-child.ts <profileDir> <passphrase> <conversationId>');
  process.exit(2);
}

const rssBeforeKiB = ownMemory().rssKiB;
let peakReset = resetPeak();
const t0 = performance.now();
const store = await openSqlCipherStore({ directory, passphrase });
const t1 = performance.now();
const client = await VaultexClient.open({ store, deps: nodeDeps() });
const t2 = performance.now();
const page = await client.messages.list(conversationId);
const t3 = performance.now();
const conversations = await client.messages.conversations();
const t4 = performance.now();
const peakOpenKiB = ownMemory().peakKiB;
await client.close();

peakReset = resetPeak() && peakReset;
const a0 = performance.now();
const key = derivePassphraseKey(nodeProvider, passphrase, new Uint8Array(16), DEFAULT_STORE_KDF_PARAMS);
const a1 = performance.now();
key.fill(0);
const figures: OpenFigures = {
  storeOpenMs: t1 - t0,
  clientOpenMs: t2 - t1,
  firstPageMs: t3 - t2,
  firstPageSize: page.length,
  conversationsMs: t4 - t3,
  conversations: conversations.length,
  argon2DefaultMs: a1 - a0,
  rssBeforeKiB,
  peakOpenKiB,
  peakArgon2KiB: ownMemory().peakKiB,
  peakReset,
};
console.log(JSON.stringify(figures));

/**
 * Web Worker: Argon2id for the PIN-derived store key, off the page's main thread so the
 * unlock screen stays responsive (its spinner keeps turning) while the key is derived.
 * Besides the key it returns the slot note (HMAC-SHA256 of the key; see state/profiles.ts),
 * so the key never has to be hashed again on the page.
 */
import { argon2id } from '@noble/hashes/argon2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { type Argon2Reply, type Argon2Request, NOTE_LABEL } from './argon2-messages.js';

const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<Argon2Request>) => void) | null;
  postMessage(message: Argon2Reply, transfer?: Transferable[]): void;
};

scope.onmessage = (e) => {
  const { password, salt, t, m, p, dkLen } = e.data;
  try {
    const key = argon2id(password, salt, { t, m, p, dkLen });
    const note = hmac(sha256, key, new TextEncoder().encode(NOTE_LABEL));
    password.fill(0);
    scope.postMessage({ ok: true, key, note }, [key.buffer as ArrayBuffer, note.buffer as ArrayBuffer]);
  } catch (error) {
    scope.postMessage({ ok: false, message: error instanceof Error ? error.message : 'argon2id failed' });
  }
};

/**
 * Argon2id in a Web Worker, shaped as the store's `argon2id` hook: one short-lived worker
 * per derivation, so two profile slots derive in parallel (state/profiles.ts) and no worker
 * keeps ~19 MiB alive after the unlock.
 */
import { type Argon2Params, nobleProvider } from '@vaultex/protocol';
import { type Argon2Reply, type Argon2Request, NOTE_LABEL } from './argon2-messages.js';

/** What a derivation hands back besides the key: the slot note (HMAC of the key). */
export type NoteSink = (note: Uint8Array) => void;

function inWorker(password: Uint8Array, salt: Uint8Array, params: Argon2Params): Promise<Argon2Reply> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./argon2-worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<Argon2Reply>) => {
      worker.terminate();
      resolve(e.data);
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message || 'the Argon2id worker failed'));
    };
    const request: Argon2Request = { password: password.slice(), salt: salt.slice(), ...params };
    worker.postMessage(request, [request.password.buffer as ArrayBuffer]);
  });
}

/**
 * A store `argon2id` hook that runs in a worker and passes the slot note to `sink`. Without
 * a working Worker it derives on the calling thread (same result, the page blocked meanwhile).
 */
export function workerArgon2id(sink?: NoteSink) {
  return async (password: Uint8Array, salt: Uint8Array, params: Argon2Params): Promise<Uint8Array> => {
    let reply: Argon2Reply | undefined;
    if (typeof Worker !== 'undefined') reply = await inWorker(password, salt, params).catch(() => undefined);
    if (!reply) {
      // No worker (or its script could not load, e.g. offline before it was ever cached).
      const key = nobleProvider.argon2id(password, salt, params);
      sink?.(nobleProvider.hmacSha256(key, new TextEncoder().encode(NOTE_LABEL)));
      return key;
    }
    if (!reply.ok) throw new Error(reply.message);
    sink?.(reply.note);
    return reply.key;
  };
}

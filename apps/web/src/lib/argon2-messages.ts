/** The messages between the page and the Argon2id worker (lib/argon2-worker.ts). */

/** HMAC label of the slot note: a value only the holder of the slot's PIN can recompute. */
export const NOTE_LABEL = 'vaultex/web/slot-note/v1';

/** Page -> worker: one derivation. */
export interface Argon2Request {
  readonly password: Uint8Array;
  readonly salt: Uint8Array;
  readonly t: number;
  readonly m: number;
  readonly p: number;
  readonly dkLen: number;
}

/** Worker -> page: the key and its note, or why it failed. */
export type Argon2Reply =
  | { readonly ok: true; readonly key: Uint8Array; readonly note: Uint8Array }
  | { readonly ok: false; readonly message: string };

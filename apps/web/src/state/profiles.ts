/**
 * The two profile slots behind the PIN, and the duress PIN.
 *
 * Every installation has two encrypted IndexedDB databases, `vaultex-profile` and
 * `vaultex-profile-2`. One holds the account; the other holds either a decoy account (a
 * real, empty account on the relay, opened by the duress PIN) or filler: a store sealed
 * under a random passphrase nobody knows, so that "a second database exists" says nothing.
 * Unlocking derives a key for BOTH slots (two Argon2id runs in parallel workers, whatever
 * the PIN) and opens the one the PIN fits; the code does not know which slot is "real".
 *
 * The "wipe the other profile when this PIN is used" choice is a per-slot note in
 * localStorage: HMAC-SHA256(slot key, label) when the choice is on, 32 random bytes
 * otherwise. Both notes always exist; without the slot's PIN the two cases look alike.
 * docs/SECURITY.md "Duress PIN" lists what stays visible.
 */
import {
  browserDeps,
  ClientError,
  type ClientStore,
  isClientError,
  openIndexedDbStore,
  VaultexClient,
} from '@vaultex/client/browser';
import { bytesToHex, equalBytes, hexToBytes } from '@vaultex/protocol';
import { workerArgon2id } from '../lib/argon2.js';

/** The slot databases; the first is the name older versions used for the only profile. */
export const SLOTS = ['vaultex-profile', 'vaultex-profile-2'] as const;
/** A slot index. */
export type Slot = 0 | 1;
const NOTES_KEY = 'vaultex.slots';
/**
 * Argon2id cost of the PIN-derived store key: OWASP's minimum (19 MiB, t=2), so unlocking
 * stays near a second with the pure-TS implementation on phones.
 */
export const ARGON2 = { t: 2, m: 19456, p: 1 } as const;

const other = (slot: Slot): Slot => (slot === 0 ? 1 : 0);

/** The open profile's store and slot (for the key history and the duress set-up). */
let opened: { store: ClientStore; slot: Slot } | undefined;

/** The open profile, if any. */
export function openedProfile(): { store: ClientStore; slot: Slot } | undefined {
  return opened;
}

/** Remember (or forget, on lock and wipe) the open profile. */
export function setOpenedProfile(profile: { store: ClientStore; slot: Slot } | undefined): void {
  opened = profile;
}

const randomHex = (n: number) => bytesToHex(crypto.getRandomValues(new Uint8Array(n)));

function readNotes(): [string, string] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(NOTES_KEY) ?? 'null');
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string' && /^[0-9a-f]{64}$/u.test(x))) {
      return [v[0] as string, v[1] as string];
    }
  } catch {
    // A damaged entry is replaced below.
  }
  const fresh: [string, string] = [randomHex(32), randomHex(32)];
  localStorage.setItem(NOTES_KEY, JSON.stringify(fresh));
  return fresh;
}

function writeNote(slot: Slot, note: string): void {
  const notes = readNotes();
  notes[slot] = note;
  localStorage.setItem(NOTES_KEY, JSON.stringify(notes));
}

/** Which slot databases exist. */
async function existing(): Promise<[boolean, boolean]> {
  const names = new Set((await indexedDB.databases()).map((d) => d.name));
  return [names.has(SLOTS[0]), names.has(SLOTS[1])];
}

/** Delete one slot's database. */
export function deleteSlot(slot: Slot): Promise<void> {
  return new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(SLOTS[slot]);
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}

/** Open (or create) a slot's store with the PIN, Argon2id in a worker; also returns its note. */
export async function openSlot(slot: Slot, pin: string): Promise<{ store: ClientStore; note: string }> {
  let note = '';
  const store = await openIndexedDbStore({
    name: SLOTS[slot],
    passphrase: pin,
    argon2: ARGON2,
    argon2id: workerArgon2id((n) => {
      note = bytesToHex(n);
    }),
  });
  return { store, note };
}

/** The same Argon2id work as a slot that does not exist, so its absence costs the same time. */
async function decoyWork(pin: string): Promise<never> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  await workerArgon2id()(new TextEncoder().encode(pin), salt, { ...ARGON2, dkLen: 32 });
  throw new ClientError('WRONG_PASSPHRASE', 'the passphrase does not open this profile');
}

/** Replace a slot with filler: a store under a random passphrase, and a random note. */
export async function fillSlot(slot: Slot): Promise<void> {
  await deleteSlot(slot);
  const { store } = await openSlot(slot, randomHex(32));
  await store.close();
  writeNote(slot, randomHex(32));
  performance.mark('vaultex:filler:done');
}

/**
 * A slot the PIN opened must hold an account. One that does not is a store whose creation
 * was cut short (a reload while filler was being made leaves no check record, so the first
 * PIN tried claims it): it counts as not opened and is made filler again.
 */
async function withAccount(slot: Slot, opened: { store: ClientStore; note: string }) {
  if (await opened.store.getProfile()) return opened;
  await opened.store.close();
  void fillSlot(slot).catch(() => undefined);
  throw new ClientError('WRONG_PASSPHRASE', 'the passphrase does not open this profile');
}

/**
 * Unlock: derive for both slots, open the one the PIN fits. When its note says so (a duress
 * PIN with "wipe"), the other slot is deleted and refilled, and both notes are renewed so
 * the installation looks like any other.
 * @throws ClientError WRONG_PASSPHRASE when the PIN opens neither slot.
 */
export async function unlockSlots(pin: string): Promise<{ store: ClientStore; slot: Slot }> {
  const present = await existing();
  const tries = await Promise.allSettled(
    ([0, 1] as const).map((slot) =>
      present[slot] ? openSlot(slot, pin).then((opened) => withAccount(slot, opened)) : decoyWork(pin),
    ),
  );
  const slot = tries.findIndex((t) => t.status === 'fulfilled') as Slot | -1;
  tries.forEach((t, i) => {
    if (t.status === 'fulfilled' && i !== slot) void t.value.store.close();
  });
  if (slot === -1) {
    const reasons = tries.map((t) => (t.status === 'rejected' ? t.reason : undefined));
    throw reasons.find((r) => !isClientError(r, 'WRONG_PASSPHRASE')) ?? reasons[0];
  }
  const opened = tries[slot] as PromiseFulfilledResult<{ store: ClientStore; note: string }>;
  const { store, note } = opened.value;
  if (equalBytes(hexToBytes(note), hexToBytes(readNotes()[slot]))) {
    // Duress with "wipe": the other profile goes before anything is shown. Its filler is
    // made in the background so the wipe adds no visible delay to this unlock.
    await deleteSlot(other(slot));
    writeNote(slot, randomHex(32));
    void fillSlot(other(slot)).catch(() => undefined);
  } else if (!present[other(slot)]) {
    // A profile from before the slots: give it its filler now.
    void fillSlot(other(slot)).catch(() => undefined);
  }
  return { store, slot };
}

/** The duress set-up: the PIN of the decoy and whether using it wipes the real profile. */
export interface DuressChoice {
  readonly pin: string;
  readonly wipe: boolean;
}

/**
 * Fill the slot beside `slot` (the one holding the account): a decoy account under the
 * duress PIN (registered on the relay like any new account, same display name), or filler.
 * @throws ClientError, RelayError when the decoy account cannot be created.
 */
export async function setUpOtherSlot(
  slot: Slot,
  duress: DuressChoice | undefined,
  account: { serverUrl: string; displayName: string },
): Promise<void> {
  const target = other(slot);
  if (!duress) return fillSlot(target);
  await deleteSlot(target);
  const { store, note } = await openSlot(target, duress.pin);
  try {
    const made = await VaultexClient.create({
      store,
      serverUrl: account.serverUrl,
      deps: browserDeps(),
      ...(account.displayName ? { displayName: account.displayName } : {}),
    });
    await made.client.close();
  } catch (e) {
    await store.close().catch(() => undefined);
    await fillSlot(target);
    throw e;
  }
  writeNote(target, duress.wipe ? note : randomHex(32));
}

/**
 * Whether `pin` opens the slot (used to refuse a duress PIN equal to the PIN).
 * @throws ClientError other than WRONG_PASSPHRASE.
 */
export async function pinOpens(slot: Slot, pin: string): Promise<boolean> {
  try {
    const { store } = await openSlot(slot, pin);
    await store.close();
    return true;
  } catch (e) {
    if (isClientError(e, 'WRONG_PASSPHRASE')) return false;
    throw e;
  }
}

/** Forget both slots and their notes (wipe this browser's profile). */
export async function wipeSlots(): Promise<void> {
  await Promise.all([deleteSlot(0), deleteSlot(1)]);
  localStorage.removeItem(NOTES_KEY);
}

/**
 * What the open profile offers beside the chat: its contacts' identity-key history, and the
 * duress PIN set, replaced or removed from the settings (the slot design is in profiles.ts).
 */
import type { KeyHistoryEntry } from '@vaultex/client/browser';
import { humanError } from '../lib/errors.js';
import { openedProfile, pinOpens, setUpOtherSlot } from './profiles.js';
import { useApp } from './store.js';

/** A contact's identity-key history (first seen key, then each change), oldest first. */
export async function keyHistory(accountId: string): Promise<KeyHistoryEntry[]> {
  const opened = openedProfile();
  return opened ? opened.store.listKeyHistory(accountId) : [];
}

/**
 * Set (or replace) the duress PIN from the settings: a new decoy account beside this
 * profile. Returns an error message or undefined.
 */
export async function setDuressPin(pin: string, wipe: boolean): Promise<string | undefined> {
  const { client } = useApp.getState();
  const opened = openedProfile();
  if (!client || !opened) return 'Not signed in.';
  try {
    if (await pinOpens(opened.slot, pin)) return 'The duress PIN must differ from your PIN.';
    await setUpOtherSlot(
      opened.slot,
      { pin, wipe },
      { serverUrl: client.profile.serverUrl, displayName: client.profile.displayName },
    );
    return undefined;
  } catch (e) {
    return humanError(e);
  }
}

/** Remove the duress PIN: the decoy beside this profile becomes filler. */
export async function removeDuressPin(): Promise<string | undefined> {
  const opened = openedProfile();
  if (!opened) return 'Not signed in.';
  try {
    await setUpOtherSlot(opened.slot, undefined, { serverUrl: '', displayName: '' });
    return undefined;
  } catch (e) {
    return humanError(e);
  }
}

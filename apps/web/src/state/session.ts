/**
 * The client's lifecycle in the page: create, restore or unlock the profile, wire the
 * client's events into the store, and the actions the screens call.
 */
import {
  createBrowserClient,
  openBrowserClient,
  restoreBrowserClient,
  type VaultexClient,
} from '@vaultex/client/browser';
import { humanError } from '../lib/errors.js';
import { type Theme, useApp } from './store.js';

/** One profile per browser origin for now. */
const PROFILE = 'vaultex-profile';
const PROFILE_FLAG = 'vaultex.profile';
/**
 * Argon2id cost of the PIN-derived store key: OWASP's minimum (19 MiB, t=2), so unlocking
 * stays near a second with the pure-TS implementation on phones.
 */
const ARGON2 = { t: 2, m: 19456, p: 1 } as const;

const set = useApp.setState;
const get = useApp.getState;

/** The server: the page's own origin (the relay serves the app). */
export function serverUrl(): string {
  return location.origin;
}

/** First screen: unlock when a profile exists, else welcome. */
export function boot(): void {
  set({ phase: localStorage.getItem(PROFILE_FLAG) ? 'unlock' : 'welcome' });
}

async function busy<T>(label: string, work: () => Promise<T>): Promise<T | undefined> {
  set({ busy: label, error: undefined });
  // Let the busy state paint: Argon2id and key generation block the main thread.
  await new Promise((r) => setTimeout(r, 30));
  try {
    return await work();
  } catch (e) {
    set({ error: humanError(e) });
    return undefined;
  } finally {
    set({ busy: undefined });
  }
}

/** The PIN step: create or restore the account with the PIN as store passphrase. */
export async function submitPin(pin: string): Promise<void> {
  const { mode, displayName, seedPhrase } = get();
  if (mode === 'create') {
    const made = await busy('Generating your keys…', () =>
      createBrowserClient({ name: PROFILE, passphrase: pin, argon2: ARGON2, serverUrl: serverUrl(), displayName }),
    );
    if (!made) return;
    localStorage.setItem(PROFILE_FLAG, '1');
    await attach(made.client);
    set({ seedPhrase: made.seedPhrase, phase: 'seed' });
  } else {
    const client = await busy('Restoring your account…', async () => {
      await deleteProfile();
      return restoreBrowserClient({
        name: PROFILE,
        passphrase: pin,
        argon2: ARGON2,
        serverUrl: serverUrl(),
        seedPhrase: seedPhrase.trim().toLowerCase().split(/\s+/u).join(' '),
        ...(displayName ? { displayName } : {}),
      });
    });
    if (!client) return;
    localStorage.setItem(PROFILE_FLAG, '1');
    await attach(client);
    set({ seedPhrase: '', phase: 'main' });
  }
}

/** Unlock an existing profile. */
export async function unlock(pin: string): Promise<void> {
  const client = await busy('Unlocking…', () => openBrowserClient({ name: PROFILE, passphrase: pin }));
  if (!client) return;
  await attach(client);
  set({ phase: 'main' });
}

function deleteProfile(): Promise<void> {
  return new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(PROFILE);
    req.onsuccess = req.onerror = req.onblocked = () => resolve();
  });
}

let refreshing: Promise<void> | undefined;
let again = false;

/** Reload contacts, conversations and the open conversation from the store (coalesced). */
export function refresh(): Promise<void> {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      again = false;
      const client = get().client;
      if (!client) return;
      const [contacts, conversations] = await Promise.all([client.contacts.list(), client.messages.conversations()]);
      const selected = get().selected;
      const messages = selected ? (await client.messages.list(`d:${selected}`, { limit: 200 })).reverse() : [];
      set({ contacts, conversations, messages });
    } while (again);
  })().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

async function attach(client: VaultexClient): Promise<void> {
  set({ client, me: client.id() });
  const onChange = () => {
    refresh().catch((e: unknown) => set({ notice: humanError(e) }));
  };
  client.on('message', ({ message }) => {
    onChange();
    if (message.direction === 'in' && message.conversationId === `d:${get().selected}` && document.hasFocus()) {
      void client.messages.markRead(message.conversationId).then(onChange);
    }
  });
  client.on('message-status', ({ status, error }) => {
    onChange();
    if (status === 'failed' && error) set({ notice: humanError(error) });
  });
  client.on('message-request', onChange);
  client.on('identity-changed', () => {
    onChange();
    set({ notice: "A contact's safety number changed. Open their info to review it." });
  });
  client.on('typing', ({ accountId, started }) => {
    clearTimeout(typingTimers.get(accountId));
    set({ typing: { ...get().typing, [accountId]: started } });
    // A lost "stopped" must not leave the indicator on forever.
    if (started) {
      typingTimers.set(
        accountId,
        setTimeout(() => set({ typing: { ...get().typing, [accountId]: false } }), 8000),
      );
    }
  });
  client.on('connection', ({ state }) => {
    set({ connection: state });
    if (state === 'online') set({ notice: undefined });
  });
  client.on('error', ({ error }) => {
    const code = (error as { code?: string; apiCode?: string }).apiCode;
    if (code === 'RATE_LIMITED') set({ notice: humanError(error) });
  });
  client.start();
  await refresh();
}

/**
 * The browser went offline: disconnect (sends wait in the outbox). Back online: reconnect
 * at once instead of waiting for the socket's backoff.
 */
export async function setBrowserOnline(online: boolean): Promise<void> {
  set({ browserOnline: online });
  const client = get().client;
  if (!client) return;
  await client.stop();
  if (online && get().client === client) client.start();
}

/** Open a conversation. */
export async function select(accountId: string | undefined): Promise<void> {
  set({ selected: accountId, messages: [], panel: get().panel === 'contacts' ? 'none' : get().panel });
  await refresh();
  const client = get().client;
  if (client && accountId && get().conversations.some((c) => c.id === `d:${accountId}` && c.unread > 0)) {
    await client.messages.markRead(`d:${accountId}`);
    await refresh();
  }
}

/** Send a text to the open conversation. */
export async function send(text: string): Promise<void> {
  const { client, selected } = get();
  if (!client || !selected || !text.trim()) return;
  try {
    await client.messages.send(selected, text);
    await refresh();
  } catch (e) {
    set({ notice: humanError(e) });
  }
}

let typingSent = 0;
/** Tell the open conversation we are typing (at most every 3 s). */
export function typing(started: boolean): void {
  const { client, selected } = get();
  if (!client || !selected) return;
  const now = Date.now();
  if (started && now - typingSent < 3000) return;
  typingSent = started ? now : 0;
  void client.messages.typing(selected, started).catch(() => undefined);
}

/** Add a contact from a pasted code; returns an error message or undefined. */
export async function addContact(code: string): Promise<string | undefined> {
  const client = get().client;
  if (!client) return 'Not signed in.';
  try {
    const contact = await client.contacts.add(code.trim());
    await refresh();
    await select(contact.accountId);
    return undefined;
  } catch (e) {
    return humanError(e);
  }
}

/** Accept, block or unblock a contact. */
export async function setContactState(accountId: string, action: 'accept' | 'block' | 'unblock'): Promise<void> {
  const client = get().client;
  if (!client) return;
  try {
    await client.contacts[action](accountId);
    await refresh();
  } catch (e) {
    set({ notice: humanError(e) });
  }
}

/** Mark a contact verified or not. */
export async function setVerified(accountId: string, verified: boolean): Promise<void> {
  const client = get().client;
  if (!client) return;
  try {
    await client.contacts.markVerified(accountId, verified);
    await refresh();
  } catch (e) {
    set({ notice: humanError(e) });
  }
}

/** Accept a pending safety-number change. */
export async function acceptKeyChange(accountId: string): Promise<void> {
  const client = get().client;
  if (!client) return;
  await client.contacts.acceptKeyChange(accountId);
  await refresh();
}

/** Choose and remember the theme. */
export function setTheme(theme: Theme): void {
  localStorage.setItem('vaultex.theme', theme);
  set({ theme });
}

/** Lock: close the store; the PIN opens it again. */
export async function lock(): Promise<void> {
  const client = get().client;
  set({ client: undefined, me: undefined, contacts: [], conversations: [], messages: [], selected: undefined });
  await client?.close();
  set({ phase: 'unlock', panel: 'none' });
}

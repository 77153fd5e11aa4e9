/**
 * The client's lifecycle in the page: create, restore or unlock the profile, wire the
 * client's events into the store, and the actions the screens call.
 */
import {
  type Avatar,
  browserDeps,
  type DeviceInfo,
  type MessageView,
  VaultexClient,
  withStore,
} from '@vaultex/client/browser';
import { humanError } from '../lib/errors.js';
import { backupError, chooseBackup, pendingBackup } from './backup.js';
import { conversationOf, wireChat } from './chat-actions.js';
import {
  type DuressChoice,
  deleteSlot,
  openSlot,
  type Slot,
  setOpenedProfile,
  setUpOtherSlot,
  unlockSlots,
  wipeSlots,
} from './profiles.js';
import { type Theme, useApp } from './store.js';

/** One account per browser origin, in one of two profile slots (state/profiles.ts). */
const PROFILE_FLAG = 'vaultex.profile';
/** The relay chosen on the onboarding screens; the page's origin unless changed. */
let chosenServer: string | undefined;

const set = useApp.setState;
const get = useApp.getState;

/** The server: the page's own origin (the relay serves the app) unless another was chosen. */
export function serverUrl(): string {
  return chosenServer ?? location.origin;
}

/** Choose the relay for a new, restored or linked profile (empty: the page's origin). */
export function setServerUrl(url: string): void {
  const trimmed = url.trim().replace(/\/+$/u, '');
  chosenServer = trimmed && trimmed !== location.origin ? trimmed : undefined;
}

/** Fill the slot beside the account: the duress decoy, or filler. A failure is reported, not fatal. */
async function otherSlot(slot: Slot, duress: DuressChoice | undefined, displayName: string): Promise<void> {
  try {
    await setUpOtherSlot(slot, duress, { serverUrl: serverUrl(), displayName });
  } catch (e) {
    set({ notice: `The duress PIN could not be set up (${humanError(e)}). Set it again in Settings.` });
  }
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

/**
 * The PIN step: create or restore the account with the PIN as store passphrase; with a
 * duress PIN, the decoy profile beside it.
 */
export async function submitPin(pin: string, duress?: DuressChoice): Promise<void> {
  const { mode, displayName, seedPhrase } = get();
  if (mode === 'create') {
    const made = await busy('Generating your keys…', async () => {
      const { store } = await openSlot(0, pin);
      const made = await withStore(store, (s) =>
        VaultexClient.create({ store: s, serverUrl: serverUrl(), displayName, deps: browserDeps() }),
      );
      setOpenedProfile({ store, slot: 0 });
      await otherSlot(0, duress, displayName);
      return made;
    });
    if (!made) return;
    localStorage.setItem(PROFILE_FLAG, '1');
    await attach(made.client);
    set({ seedPhrase: made.seedPhrase, phase: 'seed' });
  } else if (mode === 'link') {
    await startLink(pin, duress);
  } else if (pendingBackup) {
    await restoreBackup(pin, duress, pendingBackup);
  } else {
    const client = await busy('Restoring your account…', async () => {
      await deleteSlot(0);
      const { store } = await openSlot(0, pin);
      const client = await withStore(store, (s) =>
        VaultexClient.restore({
          store: s,
          serverUrl: serverUrl(),
          seedPhrase: seedPhrase.trim().toLowerCase().split(/\s+/u).join(' '),
          deps: browserDeps(),
          ...(displayName ? { displayName } : {}),
        }),
      );
      setOpenedProfile({ store, slot: 0 });
      await otherSlot(0, duress, client.profile.displayName);
      return client;
    });
    if (!client) return;
    localStorage.setItem(PROFILE_FLAG, '1');
    await attach(client);
    set({ seedPhrase: '', phase: 'main' });
  }
}

/** Restore from a backup file into a new profile under `pin`; a failure returns to the restore screen. */
async function restoreBackup(
  pin: string,
  duress: DuressChoice | undefined,
  backup: { readonly bytes: Uint8Array; readonly password: string },
): Promise<void> {
  set({ busy: 'Restoring your backup…', error: undefined });
  await new Promise((r) => setTimeout(r, 30));
  try {
    await deleteSlot(0);
    const { store } = await openSlot(0, pin);
    const client = await withStore(store, (s) =>
      VaultexClient.importBackup({ store: s, deps: browserDeps(), backup: backup.bytes, password: backup.password }),
    );
    setOpenedProfile({ store, slot: 0 });
    await otherSlot(0, duress, client.profile.displayName);
    chooseBackup(undefined);
    localStorage.setItem(PROFILE_FLAG, '1');
    await attach(client);
    set({ phase: 'main' });
  } catch (e) {
    await deleteSlot(0);
    set({ phase: 'restore', error: backupError(e) });
  } finally {
    set({ busy: undefined });
  }
}

/** How long the new browser waits for the existing device to approve the link. */
const LINK_TIMEOUT_MS = 10 * 60_000;

/**
 * Link this browser to an existing account: a fresh profile store under the PIN, a link
 * code to show, then wait until the existing device approves it (devices panel there).
 */
async function startLink(pin: string, duress: DuressChoice | undefined): Promise<void> {
  const ready = await busy('Preparing the link…', async () => {
    await deleteSlot(0);
    const { store } = await openSlot(0, pin);
    const request = VaultexClient.createLinkCode({ serverUrl: serverUrl(), deps: browserDeps() });
    return { store, request };
  });
  if (!ready) return;
  set({ linkCode: ready.request.code, phase: 'link' });
  try {
    const client = await VaultexClient.completeLink({
      store: ready.store,
      deps: browserDeps(),
      request: ready.request,
      timeoutMs: LINK_TIMEOUT_MS,
    });
    setOpenedProfile({ store: ready.store, slot: 0 });
    await otherSlot(0, duress, client.profile.displayName);
    localStorage.setItem(PROFILE_FLAG, '1');
    await attach(client);
    set({ linkCode: '', phase: 'main' });
  } catch (e) {
    await ready.store.close().catch(() => undefined);
    set({ linkCode: '', phase: 'welcome', error: humanError(e) });
  }
}

/** This account's devices, fresh from the relay (the cached list when offline). */
export async function loadDevices(): Promise<DeviceInfo[]> {
  const client = get().client;
  if (!client) return [];
  try {
    return await client.devices.refresh();
  } catch {
    return client.devices.list();
  }
}

/** Approve a new device from the code it shows; returns an error message or undefined. */
export async function approveLink(code: string): Promise<string | undefined> {
  const client = get().client;
  if (!client) return 'Not signed in.';
  try {
    await client.devices.approveLink(code.trim());
    return undefined;
  } catch (e) {
    return humanError(e);
  }
}

/** Revoke another of our devices; returns an error message or undefined. */
export async function revokeDevice(deviceId: number): Promise<string | undefined> {
  const client = get().client;
  if (!client) return 'Not signed in.';
  try {
    await client.devices.revoke(deviceId);
    return undefined;
  } catch (e) {
    return humanError(e);
  }
}

/**
 * Unlock: the PIN is tried on both profile slots (Argon2id in workers, the page stays
 * responsive); a duress PIN opens the decoy, wiping the real profile first if so chosen.
 */
export async function unlock(pin: string): Promise<void> {
  // Marks for the time-to-interactive figures (docs/PERFORMANCE.md "Web app").
  performance.mark('vaultex:unlock:start');
  const client = await busy('Unlocking…', async () => {
    const opened = await unlockSlots(pin);
    performance.mark('vaultex:unlock:keys');
    const client = await withStore(opened.store, (s) => VaultexClient.open({ store: s, deps: browserDeps() }));
    setOpenedProfile(opened);
    return client;
  });
  if (!client) return;
  await attach(client);
  set({ phase: 'main' });
  performance.mark('vaultex:unlock:done');
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
      const latest = selected ? await client.messages.list(conversationOf(selected), { limit: PAGE }) : [];
      // Still the same conversation: keep the older pages already loaded (scroll-back).
      const kept = get().selected === selected ? get().messages : [];
      set({ contacts, conversations, messages: mergeMessages(kept, latest) });
      if (kept.length === 0) set({ hasOlder: latest.length === PAGE });
    } while (again);
  })().finally(() => {
    refreshing = undefined;
  });
  return refreshing;
}

/** Messages per page read from the store (the newest on open, then older ones on scroll-up). */
const PAGE = 50;

function byPosition(a: MessageView, b: MessageView): number {
  return a.sentAt - b.sentAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** `current` updated with `fresh` (newer statuses win), oldest first, without duplicates. */
export function mergeMessages(current: readonly MessageView[], fresh: readonly MessageView[]): MessageView[] {
  if (fresh.length === 0) return [...current];
  const byId = new Map(current.map((m) => [m.id, m]));
  for (const m of fresh) byId.set(m.id, m);
  return [...byId.values()].sort(byPosition);
}

let loadingOlder = false;

/** Scroll-back: read the page before the oldest loaded message of the open conversation. */
export async function loadOlder(limit = PAGE): Promise<void> {
  const { client, selected, messages, hasOlder } = get();
  const oldest = messages[0];
  if (!client || !selected || !oldest || !hasOlder || loadingOlder) return;
  loadingOlder = true;
  try {
    const page = await client.messages.list(conversationOf(selected), {
      limit,
      before: { sentAt: oldest.sentAt, id: oldest.id },
    });
    if (get().selected !== selected) return;
    set({ messages: mergeMessages(get().messages, page), hasOlder: page.length === limit });
  } catch (e) {
    set({ notice: humanError(e) });
  } finally {
    loadingOlder = false;
  }
}

/** One hit of the message search. */
export interface SearchHit {
  /** The contact's account id, or `g:<groupId>`: what `select` opens. */
  readonly accountId: string;
  readonly message: MessageView;
}

/**
 * Search the decrypted history in the local store: every conversation, newest first, read
 * page by page through the client (nothing leaves the device). Case-insensitive substring.
 */
export async function searchMessages(query: string, max = 50): Promise<SearchHit[]> {
  const client = get().client;
  const needle = query.trim().toLowerCase();
  if (!client || needle.length < 2) return [];
  const hits: SearchHit[] = [];
  for (const conv of get().conversations) {
    if (!conv.id.startsWith('d:') && !conv.id.startsWith('g:')) continue;
    let before: { sentAt: number; id: string } | undefined;
    for (;;) {
      const page = await client.messages.list(conv.id, { limit: 1000, ...(before ? { before } : {}) });
      for (const m of page) {
        if (m.kind === 'text' && m.text?.toLowerCase().includes(needle)) {
          hits.push({ accountId: conv.id.startsWith('g:') ? conv.id : conv.id.slice(2), message: m });
          if (hits.length >= max) return hits;
        }
      }
      const last = page[page.length - 1];
      if (page.length < 1000 || !last) break;
      before = { sentAt: last.sentAt, id: last.id };
    }
  }
  return hits;
}

/** Open a search hit: its conversation, scrolled back as far as the message, which is marked. */
export async function openHit(hit: SearchHit): Promise<void> {
  await select(hit.accountId);
  while (!get().messages.some((m) => m.id === hit.message.id) && get().hasOlder && get().selected === hit.accountId) {
    const before = get().messages.length;
    await loadOlder(1000);
    if (get().messages.length === before) break;
  }
  set({ jumpTo: hit.message.id });
}

const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();

async function attach(client: VaultexClient): Promise<void> {
  set({ client, me: client.id() });
  const onChange = () => {
    refresh().catch((e: unknown) => set({ notice: humanError(e) }));
  };
  client.on('message', ({ message }) => {
    onChange();
    if (message.direction === 'in') notifyIncoming();
    if (
      message.direction === 'in' &&
      message.conversationId === conversationOf(get().selected ?? '') &&
      document.hasFocus()
    ) {
      void client.messages.markRead(message.conversationId).then(onChange);
    }
  });
  client.on('message-status', ({ status, error }) => {
    onChange();
    if (status === 'failed' && error) set({ notice: humanError(error) });
  });
  client.on('message-request', onChange);
  client.on('contact-updated', onChange);
  client.on('profile-updated', () => set({ me: client.id() }));
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
  wireChat(client);
  client.start();
  armAutoLock();
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
  set({
    selected: accountId,
    messages: [],
    hasOlder: false,
    jumpTo: undefined,
    panel: get().panel === 'contacts' ? 'none' : get().panel,
  });
  await refresh();
  const client = get().client;
  if (client && accountId && get().conversations.some((c) => c.id === conversationOf(accountId) && c.unread > 0)) {
    await client.messages.markRead(conversationOf(accountId));
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
  setOpenedProfile(undefined);
  await client?.close();
  set({ phase: 'unlock', panel: 'none' });
}

/** Change the display name or the read-receipt and typing settings (synced to our devices). */
export async function saveProfile(changes: {
  displayName?: string;
  readReceipts?: boolean;
  typingIndicators?: boolean;
  /** A resized picture, or null to remove ours (pushed to contacts end-to-end encrypted). */
  avatar?: Avatar | null;
}): Promise<string | undefined> {
  const client = get().client;
  if (!client) return 'Not signed in.';
  try {
    await client.updateProfile(changes);
    set({ me: client.id() });
    return undefined;
  } catch (e) {
    return humanError(e);
  }
}

/** Be findable by display name on the relay (opt-in), or stop. */
export async function setDiscoverable(enabled: boolean): Promise<string | undefined> {
  const client = get().client;
  if (!client) return 'Not signed in.';
  try {
    await client.discovery.set(enabled, client.profile.displayName || undefined);
    return undefined;
  } catch (e) {
    return humanError(e);
  }
}

const AUTO_LOCK_KEY = 'vaultex.autolock';
const NOTIFY_KEY = 'vaultex.notify';

/** Minutes without activity before the app locks itself; 0 = never. */
export function autoLockMinutes(): number {
  const v = Number(localStorage.getItem(AUTO_LOCK_KEY) ?? '15');
  return Number.isFinite(v) && v >= 0 ? v : 15;
}

/** Change the auto-lock timeout. */
export function setAutoLockMinutes(minutes: number): void {
  localStorage.setItem(AUTO_LOCK_KEY, String(minutes));
  armAutoLock();
}

let lastActivity = Date.now();
let autoLockTimer: ReturnType<typeof setInterval> | undefined;
const touch = () => {
  lastActivity = Date.now();
};

function armAutoLock(): void {
  clearInterval(autoLockTimer);
  lastActivity = Date.now();
  for (const event of ['pointerdown', 'keydown', 'wheel'] as const)
    window.addEventListener(event, touch, { passive: true });
  autoLockTimer = setInterval(() => {
    const minutes = autoLockMinutes();
    if (get().phase === 'main' && minutes > 0 && Date.now() - lastActivity > minutes * 60_000) void lock();
  }, 10_000);
}

/** Browser notifications are on (opt-in) and allowed. */
export function notificationsOn(): boolean {
  return (
    localStorage.getItem(NOTIFY_KEY) === '1' && 'Notification' in globalThis && Notification.permission === 'granted'
  );
}

/** Opt in to notifications (asks the browser) or out; returns whether they are on. */
export async function setNotifications(on: boolean): Promise<boolean> {
  if (!on || !('Notification' in globalThis)) {
    localStorage.removeItem(NOTIFY_KEY);
    return false;
  }
  const permission = await Notification.requestPermission();
  if (permission === 'granted') localStorage.setItem(NOTIFY_KEY, '1');
  return notificationsOn();
}

/** A new message while the page is hidden: a notification that never carries its content. */
function notifyIncoming(): void {
  if (!document.hidden || !notificationsOn()) return;
  try {
    new Notification('VAULTEX', { body: 'New message', tag: 'vaultex-message', icon: '/icon.svg' });
  } catch {
    // Some platforms only allow notifications from a service worker: the in-app unread count remains.
  }
}

/** Delete this browser's profile (keys and history) and start over. The account itself stays. */
export async function wipeProfile(): Promise<void> {
  const client = get().client;
  clearInterval(autoLockTimer);
  set({ client: undefined, me: undefined, contacts: [], conversations: [], messages: [], selected: undefined });
  setOpenedProfile(undefined);
  await client?.close().catch(() => undefined);
  await wipeSlots();
  localStorage.removeItem(PROFILE_FLAG);
  localStorage.removeItem(NOTIFY_KEY);
  set({ phase: 'welcome', panel: 'none' });
}

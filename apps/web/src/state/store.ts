/** The app's state (Zustand). Actions that talk to the client live in session.ts. */
import type {
  ClientIdentity,
  ConnectionState,
  ContactView,
  ConversationRecord,
  MessageView,
  VaultexClient,
} from '@vaultex/client/browser';
import { create } from 'zustand';

/** Which screen is shown. */
export type Phase =
  | 'loading'
  | 'welcome'
  | 'create-name'
  | 'restore'
  | 'pin'
  | 'seed'
  | 'confirm'
  | 'unlock'
  | 'link'
  | 'main';

/** The side panel of the main screen. */
export type Panel = 'none' | 'info' | 'contacts' | 'devices' | 'settings' | 'new-group';

/** Colour theme; 'system' follows prefers-color-scheme. */
export type Theme = 'system' | 'light' | 'dark';

/** Everything the screens render. */
export interface AppState {
  phase: Phase;
  /** What the PIN step finishes. */
  mode: 'create' | 'restore' | 'link';
  /** The code this browser shows while it waits to be linked to an existing device. */
  linkCode: string;
  displayName: string;
  /** The seed phrase typed on the restore screen, or shown once after creation. */
  seedPhrase: string;
  busy: string | undefined;
  error: string | undefined;
  client: VaultexClient | undefined;
  me: ClientIdentity | undefined;
  contacts: ContactView[];
  conversations: ConversationRecord[];
  /** The open conversation: its contact's account id, or `g:<groupId>` for a group. */
  selected: string | undefined;
  /** Messages of the open conversation, oldest first. */
  messages: MessageView[];
  /** The open conversation has messages older than the loaded ones. */
  hasOlder: boolean;
  /** A message to scroll to and mark (a search hit). */
  jumpTo: string | undefined;
  typing: Record<string, boolean>;
  connection: ConnectionState;
  browserOnline: boolean;
  panel: Panel;
  search: string;
  theme: Theme;
  notice: string | undefined;
}

const storedTheme = (): Theme => {
  const t = globalThis.localStorage?.getItem('vaultex.theme');
  return t === 'light' || t === 'dark' ? t : 'system';
};

/** The store hook. */
export const useApp = create<AppState>(() => ({
  phase: 'loading',
  mode: 'create',
  linkCode: '',
  displayName: '',
  seedPhrase: '',
  busy: undefined,
  error: undefined,
  client: undefined,
  me: undefined,
  contacts: [],
  conversations: [],
  selected: undefined,
  messages: [],
  hasOlder: false,
  jumpTo: undefined,
  typing: {},
  connection: 'offline',
  browserOnline: globalThis.navigator?.onLine ?? true,
  panel: 'none',
  search: '',
  theme: storedTheme(),
  notice: undefined,
}));

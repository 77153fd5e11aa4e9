/** The main layout: sidebar (list), chat pane, side panel; one column at phone width. */
import type { Avatar } from '@vaultex/client/browser';
import { AvatarImage } from '../components/avatar.js';
import { ChatPane } from '../components/chat-pane.js';
import { ContactsPanel } from '../components/contacts-panel.js';
import { ConversationList } from '../components/conversation-list.js';
import { DevicesPanel } from '../components/devices-panel.js';
import { GroupPanel, NewGroupPanel } from '../components/group-panel.js';
import { AddContactIcon, DevicesIcon, LockIcon, SettingsIcon, ThemeIcon } from '../components/icons.js';
import { InfoPanel } from '../components/info-panel.js';
import { SettingsPanel } from '../components/settings-panel.js';
import { lock, setTheme } from '../state/session.js';
import { type Theme, useApp } from '../state/store.js';

const NEXT_THEME: Record<Theme, Theme> = { system: 'dark', dark: 'light', light: 'system' };

function StatusBar() {
  const connection = useApp((s) => s.connection);
  const online = useApp((s) => s.browserOnline);
  const notice = useApp((s) => s.notice);
  const text = !online
    ? 'You are offline. Messages are kept and sent when you are back online.'
    : connection === 'reconnecting'
      ? 'Cannot reach the server. Reconnecting…'
      : undefined;
  if (!text && !notice) return null;
  return (
    <div className="status" role="status" data-testid="status">
      {text && <p>{text}</p>}
      {notice && (
        <p>
          {notice}{' '}
          <button type="button" className="link" onClick={() => useApp.setState({ notice: undefined })}>
            Dismiss
          </button>
        </p>
      )}
    </div>
  );
}

/** The main screen. */
export function MainScreen() {
  const me = useApp((s) => s.me);
  const profile = useApp((s) => s.client)?.profile;
  const panel = useApp((s) => s.panel);
  const selected = useApp((s) => s.selected);
  const theme = useApp((s) => s.theme);
  const connection = useApp((s) => s.connection);
  const classes = ['layout', selected ? 'has-chat' : 'no-chat', panel !== 'none' ? 'has-panel' : ''].join(' ');
  return (
    <div className={classes}>
      <div className="sidebar">
        <header className="sidebar-header">
          <AvatarImage
            name={me?.displayName ?? ''}
            className="me"
            {...(profile?.avatar && profile.avatarMime
              ? { avatar: { mime: profile.avatarMime as Avatar['mime'], bytes: profile.avatar } }
              : {})}
          />
          <h1 className="app-title">VAULTEX</h1>
          <span className={`dot ${connection}`} role="img" aria-label={`Connection: ${connection}`} />
          <button
            type="button"
            className="icon"
            aria-label="Contacts and my code"
            aria-pressed={panel === 'contacts'}
            onClick={() => useApp.setState({ panel: panel === 'contacts' ? 'none' : 'contacts' })}
          >
            <AddContactIcon />
          </button>
          <button
            type="button"
            className="icon"
            aria-label="Devices"
            aria-pressed={panel === 'devices'}
            onClick={() => useApp.setState({ panel: panel === 'devices' ? 'none' : 'devices' })}
          >
            <DevicesIcon />
          </button>
          <button
            type="button"
            className="icon"
            aria-label="Settings"
            aria-pressed={panel === 'settings'}
            onClick={() => useApp.setState({ panel: panel === 'settings' ? 'none' : 'settings' })}
          >
            <SettingsIcon />
          </button>
          <button
            type="button"
            className="icon"
            aria-label={`Theme: ${theme}. Change theme`}
            onClick={() => setTheme(NEXT_THEME[theme])}
          >
            <ThemeIcon />
          </button>
          <button type="button" className="icon" aria-label="Lock" onClick={() => void lock()}>
            <LockIcon />
          </button>
        </header>
        <StatusBar />
        <ConversationList />
      </div>
      <ChatPane />
      {panel === 'info' && (selected?.startsWith('g:') ? <GroupPanel /> : <InfoPanel />)}
      {panel === 'new-group' && <NewGroupPanel />}
      {panel === 'contacts' && <ContactsPanel />}
      {panel === 'devices' && <DevicesPanel />}
      {panel === 'settings' && <SettingsPanel />}
    </div>
  );
}

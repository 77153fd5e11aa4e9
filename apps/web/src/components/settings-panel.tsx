/** Settings: profile name, privacy (read receipts, typing, discoverability), security, notifications. */
import { type FormEvent, useState } from 'react';
import {
  autoLockMinutes,
  notificationsOn,
  saveProfile,
  setAutoLockMinutes,
  setDiscoverable,
  setNotifications,
  wipeProfile,
} from '../state/session.js';
import { useApp } from '../state/store.js';
import { CloseIcon } from './icons.js';

const AUTO_LOCK_CHOICES = [1, 5, 15, 60, 0] as const;

/** The settings panel. */
export function SettingsPanel() {
  const client = useApp((s) => s.client);
  const me = useApp((s) => s.me);
  const settings = client?.profile.settings;
  const [name, setName] = useState(me?.displayName ?? '');
  const [receipts, setReceipts] = useState(settings?.readReceipts ?? true);
  const [typingOn, setTypingOn] = useState(settings?.typingIndicators ?? true);
  const [discoverable, setDisc] = useState(settings?.discoverable ?? false);
  const [autoLock, setAutoLock] = useState(autoLockMinutes());
  const [notify, setNotify] = useState(notificationsOn());
  const [message, setMessage] = useState<{ error: boolean; text: string }>();
  if (!client || !me) return null;
  const report = (problem: string | undefined, ok: string) =>
    setMessage(problem ? { error: true, text: problem } : { error: false, text: ok });
  const submitName = async (e: FormEvent) => {
    e.preventDefault();
    report(await saveProfile({ displayName: name.trim() }), 'Name saved.');
  };
  return (
    <aside className="panel" aria-labelledby="settings-title">
      <header className="panel-header">
        <h2 id="settings-title">Settings</h2>
        <button
          type="button"
          className="icon"
          aria-label="Close settings"
          onClick={() => useApp.setState({ panel: 'none' })}
        >
          <CloseIcon />
        </button>
      </header>
      {message && (
        <p className={message.error ? 'error' : 'hint'} role={message.error ? 'alert' : 'status'}>
          {message.text}
        </p>
      )}
      <h3>Profile</h3>
      <form onSubmit={(e) => void submitName(e)}>
        <label htmlFor="settings-name">Display name</label>
        <input id="settings-name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />
        <div className="actions">
          <button type="submit" className="primary" disabled={!name.trim() || name.trim() === me.displayName}>
            Save name
          </button>
        </div>
      </form>
      <h3>Privacy</h3>
      <label className="toggle">
        <input
          type="checkbox"
          checked={receipts}
          onChange={async (e) => {
            const on = e.target.checked;
            setReceipts(on);
            report(await saveProfile({ readReceipts: on }), on ? 'Read receipts on.' : 'Read receipts off.');
          }}
        />
        Send read receipts
      </label>
      <label className="toggle">
        <input
          type="checkbox"
          checked={typingOn}
          onChange={async (e) => {
            const on = e.target.checked;
            setTypingOn(on);
            report(
              await saveProfile({ typingIndicators: on }),
              on ? 'Typing indicators on.' : 'Typing indicators off.',
            );
          }}
        />
        Send typing indicators
      </label>
      <label className="toggle">
        <input
          type="checkbox"
          checked={discoverable}
          onChange={async (e) => {
            const on = e.target.checked;
            setDisc(on);
            const problem = await setDiscoverable(on);
            if (problem) setDisc(!on);
            report(problem, on ? 'Others can find you by your name.' : 'You can no longer be found by name.');
          }}
        />
        Let people find me by my display name
      </label>
      <h3>Security</h3>
      <label htmlFor="auto-lock">Lock after inactivity</label>
      <select
        id="auto-lock"
        value={autoLock}
        onChange={(e) => {
          const minutes = Number(e.target.value);
          setAutoLock(minutes);
          setAutoLockMinutes(minutes);
          report(undefined, 'Auto-lock changed.');
        }}
      >
        {AUTO_LOCK_CHOICES.map((m) => (
          <option key={m} value={m}>
            {m === 0 ? 'Never' : m === 1 ? '1 minute' : `${m} minutes`}
          </option>
        ))}
      </select>
      <div className="actions">
        <button
          type="button"
          className="danger"
          onClick={() => {
            if (
              window.confirm('Delete this profile from this browser? Without your seed phrase it is gone for good.')
            ) {
              void wipeProfile();
            }
          }}
        >
          Wipe this profile
        </button>
      </div>
      <h3>Notifications</h3>
      <label className="toggle">
        <input
          type="checkbox"
          checked={notify}
          onChange={async (e) => {
            const wanted = e.target.checked;
            setNotify(wanted);
            const on = await setNotifications(wanted);
            setNotify(on);
            report(
              wanted && !on ? 'The browser did not allow notifications.' : undefined,
              on ? 'Notifications on (they never show message content).' : 'Notifications off.',
            );
          }}
        />
        Notify me of new messages (no content shown)
      </label>
    </aside>
  );
}

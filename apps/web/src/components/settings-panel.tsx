/**
 * Settings: profile name and picture, privacy (read receipts, typing, discoverability), security (auto-lock,
 * duress PIN, wipe), notifications, network (the relay).
 */
import type { Avatar } from '@vaultex/client/browser';
import { type FormEvent, useState } from 'react';
import { resizeAvatar } from '../lib/avatar-image.js';
import { DuressFields } from '../screens/onboarding.js';
import { exportBackup } from '../state/backup.js';
import { removeDuressPin, setDuressPin } from '../state/duress.js';
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
import { AvatarImage } from './avatar.js';
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
      <AvatarSettings name={me.displayName} report={report} />
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
      <Toggle
        checked={receipts}
        label="Send read receipts"
        onChange={async (on) => {
          setReceipts(on);
          report(await saveProfile({ readReceipts: on }), on ? 'Read receipts on.' : 'Read receipts off.');
        }}
      />
      <Toggle
        checked={typingOn}
        label="Send typing indicators"
        onChange={async (on) => {
          setTypingOn(on);
          report(await saveProfile({ typingIndicators: on }), on ? 'Typing indicators on.' : 'Typing indicators off.');
        }}
      />
      <Toggle
        checked={discoverable}
        label="Let people find me by my display name"
        onChange={async (on) => {
          setDisc(on);
          const problem = await setDiscoverable(on);
          if (problem) setDisc(!on);
          report(problem, on ? 'Others can find you by your name.' : 'You can no longer be found by name.');
        }}
      />
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
      <DuressSettings report={report} />
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
      <Toggle
        checked={notify}
        label="Notify me of new messages (no content shown)"
        onChange={async (wanted) => {
          setNotify(wanted);
          const on = await setNotifications(wanted);
          setNotify(on);
          report(
            wanted && !on ? 'The browser did not allow notifications.' : undefined,
            on ? 'Notifications on (they never show message content).' : 'Notifications off.',
          );
        }}
      />
      <BackupExport report={report} />
      <h3>Network</h3>
      <p className="small">
        Server:{' '}
        <span className="mono" data-testid="server-url">
          {client.profile.serverUrl}
        </span>
      </p>
    </aside>
  );
}

/**
 * Pick, replace or remove our profile picture: resized here to 128 px, then pushed end-to-end
 * encrypted to our contacts and other devices.
 */
function AvatarSettings({ name, report }: { name: string; report: (problem: string | undefined, ok: string) => void }) {
  const profile = useApp((s) => s.client)?.profile;
  const [working, setWorking] = useState(false);
  const avatar: Avatar | undefined =
    profile?.avatar && profile.avatarMime
      ? { mime: profile.avatarMime as Avatar['mime'], bytes: profile.avatar }
      : undefined;
  const run = async (work: () => Promise<string | undefined>, ok: string) => {
    setWorking(true);
    let problem: string | undefined;
    try {
      problem = await work();
    } catch (e) {
      problem = e instanceof Error ? e.message : 'The picture could not be used.';
    }
    setWorking(false);
    report(problem, ok);
  };
  return (
    <div className="avatar-picker">
      <AvatarImage name={name} className="large" {...(avatar ? { avatar } : {})} />
      <div>
        <label htmlFor="settings-avatar">Profile picture</label>
        <input
          id="settings-avatar"
          type="file"
          accept="image/png,image/jpeg,image/webp,image/gif"
          disabled={working}
          onChange={(e) => {
            const file = e.target.files?.[0];
            e.target.value = '';
            if (file) {
              void run(
                async () => saveProfile({ avatar: await resizeAvatar(file) }),
                'Profile picture saved. Your contacts will see it.',
              );
            }
          }}
        />
        {avatar && (
          <div className="actions">
            <button
              type="button"
              disabled={working}
              onClick={() => void run(() => saveProfile({ avatar: null }), 'Profile picture removed.')}
            >
              Remove picture
            </button>
          </div>
        )}
      </div>
    </div>
  );
}

/** Export an encrypted backup file: the password twice, then the download. */
function BackupExport({ report }: { report: (problem: string | undefined, ok: string) => void }) {
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [working, setWorking] = useState(false);
  const ready = password.length >= 8 && password === again;
  return (
    <form
      aria-labelledby="backup-title"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!ready) return;
        setWorking(true);
        const problem = await exportBackup(password);
        setWorking(false);
        if (!problem) {
          setPassword('');
          setAgain('');
        }
        report(problem, 'Backup downloaded. Keep the file and its password apart.');
      }}
    >
      <h3 id="backup-title">Backup</h3>
      <p className="hint">
        An encrypted file with your keys, contacts and history. Anyone with the file and its password can read it.
      </p>
      <label htmlFor="backup-password">Backup password (at least 8 characters)</label>
      <input
        id="backup-password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <label htmlFor="backup-password-again">Repeat the backup password</label>
      <input
        id="backup-password-again"
        type="password"
        autoComplete="new-password"
        value={again}
        aria-invalid={again.length > 0 && again !== password}
        onChange={(e) => setAgain(e.target.value)}
      />
      <div className="actions">
        <button type="submit" disabled={!ready || working}>
          {working ? 'Encrypting…' : 'Download backup'}
        </button>
      </div>
    </form>
  );
}

/**
 * Set, replace or remove the duress PIN. The panel never says whether one is set: the app
 * cannot tell a decoy from filler without the duress PIN itself.
 */
function DuressSettings({ report }: { report: (problem: string | undefined, ok: string) => void }) {
  const [pin, setPin] = useState('');
  const [wipe, setWipe] = useState(false);
  const [working, setWorking] = useState(false);
  const problem = pin.length > 0 && pin.length < 6 ? 'The duress PIN needs at least 6 characters.' : undefined;
  const run = async (work: () => Promise<string | undefined>, ok: string) => {
    setWorking(true);
    const failed = await work();
    setWorking(false);
    if (!failed) setPin('');
    report(failed, ok);
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (pin.length >= 6) void run(() => setDuressPin(pin, wipe), 'Duress PIN set.');
      }}
    >
      <DuressFields pin={pin} setPin={setPin} wipe={wipe} setWipe={setWipe} problem={problem} />
      <div className="actions">
        <button type="submit" disabled={working || pin.length < 6}>
          Set duress PIN
        </button>
        <button type="button" disabled={working} onClick={() => void run(removeDuressPin, 'No duress PIN now.')}>
          Remove duress PIN
        </button>
      </div>
    </form>
  );
}

/** A labelled checkbox whose change runs an action (saving, asking the browser). */
function Toggle({
  checked,
  label,
  onChange,
}: {
  checked: boolean;
  label: string;
  onChange: (on: boolean) => Promise<void>;
}) {
  return (
    <label className="toggle">
      <input type="checkbox" checked={checked} onChange={(e) => void onChange(e.target.checked)} />
      {label}
    </label>
  );
}

/** First launch: welcome, name, restore, PIN, seed phrase shown and confirmed; and unlock. */
import { type FormEvent, type ReactNode, useMemo, useState } from 'react';
import { QrImage } from '../components/qr-image.js';
import { chooseBackup, pendingBackup } from '../state/backup.js';
import { serverUrl, setServerUrl, submitPin, unlock } from '../state/session.js';
import { useApp } from '../state/store.js';

const set = useApp.setState;

function Card(props: { title: string; children: ReactNode }) {
  const error = useApp((s) => s.error);
  const busy = useApp((s) => s.busy);
  return (
    <main className="onboarding">
      <section className="card" aria-labelledby="card-title">
        <div className="brand" aria-hidden="true">
          <img src="/icon.svg" alt="" width="48" height="48" />
        </div>
        <h1 id="card-title">{props.title}</h1>
        {props.children}
        {busy && (
          <p className="busy" role="status">
            <span className="spinner" aria-hidden="true" data-testid="spinner" />
            {busy}
          </p>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </section>
    </main>
  );
}

/** The relay a new, restored or linked profile uses (the page's origin by default). */
function ServerField() {
  const [url, setUrl] = useState(serverUrl());
  return (
    <details className="server-field">
      <summary>Server: {url}</summary>
      <label htmlFor="server-url">Server address</label>
      <input
        id="server-url"
        type="url"
        value={url}
        spellCheck={false}
        onChange={(e) => {
          setUrl(e.target.value);
          setServerUrl(e.target.value);
        }}
      />
      <p className="hint">The relay that carries your encrypted messages. Leave it as it is unless you run your own.</p>
    </details>
  );
}

/** Create or restore. */
export function Welcome() {
  return (
    <Card title="Welcome to VAULTEX">
      <p>End-to-end encrypted messages. No phone number, no e-mail: your account is a key on this device.</p>
      <ServerField />
      <div className="actions">
        <button
          type="button"
          className="primary"
          onClick={() => set({ phase: 'create-name', mode: 'create', error: undefined })}
        >
          Create account
        </button>
        <button type="button" onClick={() => set({ phase: 'restore', mode: 'restore', error: undefined })}>
          Restore from seed phrase
        </button>
        <button type="button" onClick={() => set({ phase: 'restore', mode: 'restore', error: undefined })}>
          Restore from a backup file
        </button>
        <button type="button" onClick={() => set({ phase: 'pin', mode: 'link', error: undefined })}>
          Link to an existing device
        </button>
      </div>
    </Card>
  );
}

/** The display name of a new account. */
export function CreateName() {
  const [name, setName] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    set({ displayName: name.trim(), phase: 'pin' });
  };
  return (
    <Card title="Your name">
      <form onSubmit={submit}>
        <label htmlFor="display-name">Display name (shown to your contacts only)</label>
        <input id="display-name" value={name} maxLength={64} onChange={(e) => setName(e.target.value)} />
        <div className="actions">
          <button type="button" onClick={() => set({ phase: 'welcome' })}>
            Back
          </button>
          <button type="submit" className="primary">
            Next
          </button>
        </div>
      </form>
    </Card>
  );
}

/** Restore: the 24 words. */
export function Restore() {
  const [words, setWords] = useState('');
  const count = words.trim() ? words.trim().split(/\s+/u).length : 0;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    chooseBackup(undefined);
    set({ seedPhrase: words, phase: 'pin', error: undefined });
  };
  return (
    <Card title="Restore your account">
      <form onSubmit={submit}>
        <label htmlFor="seed-input">Your 24-word seed phrase</label>
        <textarea
          id="seed-input"
          rows={4}
          value={words}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setWords(e.target.value)}
        />
        <p className="hint">{count} / 24 words</p>
        <div className="actions">
          <button type="button" onClick={() => set({ phase: 'welcome' })}>
            Back
          </button>
          <button type="submit" className="primary" disabled={count !== 24}>
            Next
          </button>
        </div>
      </form>
      <BackupRestore />
    </Card>
  );
}

/** Restore from a backup file (settings' export): the file and its password, then the PIN step. */
function BackupRestore() {
  // After a wrong password the file chosen before is kept: only the password is asked again.
  const [bytes, setBytes] = useState<Uint8Array | undefined>(pendingBackup?.bytes);
  const [password, setPassword] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!bytes || !password) return;
    chooseBackup({ bytes, password });
    set({ phase: 'pin', error: undefined });
  };
  return (
    <form onSubmit={submit} aria-labelledby="backup-restore-title">
      <h2 id="backup-restore-title" className="small-heading">
        Restore from a backup file
      </h2>
      <label htmlFor="backup-file">Backup file (.vxbk)</label>
      <input
        id="backup-file"
        type="file"
        accept=".vxbk"
        onChange={async (e) => {
          const file = e.target.files?.[0];
          setBytes(file ? new Uint8Array(await file.arrayBuffer()) : undefined);
        }}
      />
      {bytes && <p className="hint">Backup file chosen ({bytes.length.toLocaleString()} bytes).</p>}
      <label htmlFor="backup-password">Backup password</label>
      <input
        id="backup-password"
        type="password"
        autoComplete="off"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
      />
      <div className="actions">
        <button type="submit" className="primary" disabled={!bytes || !password}>
          Restore backup
        </button>
      </div>
    </form>
  );
}

/** Choose the PIN that encrypts this device's storage, and optionally a duress PIN. */
export function Pin() {
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const [duress, setDuress] = useState('');
  const [wipe, setWipe] = useState(false);
  const busy = useApp((s) => s.busy);
  const mismatch = again.length > 0 && pin !== again;
  const duressProblem =
    duress.length === 0
      ? undefined
      : duress.length < 6
        ? 'The duress PIN needs at least 6 characters.'
        : duress === pin
          ? 'The duress PIN must differ from your PIN.'
          : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (pin.length < 6 || pin !== again || duressProblem) return;
    void submitPin(pin, duress ? { pin: duress, wipe } : undefined);
  };
  return (
    <Card title="Choose a PIN">
      <form onSubmit={submit}>
        <p>
          The PIN encrypts everything stored on this device. It cannot be recovered: forget it and only your seed phrase
          helps.
        </p>
        <label htmlFor="pin">PIN (at least 6 characters)</label>
        <input
          id="pin"
          type="password"
          inputMode="numeric"
          autoComplete="new-password"
          value={pin}
          onChange={(e) => setPin(e.target.value)}
        />
        <label htmlFor="pin-again">Repeat the PIN</label>
        <input
          id="pin-again"
          type="password"
          inputMode="numeric"
          autoComplete="new-password"
          value={again}
          aria-invalid={mismatch}
          onChange={(e) => setAgain(e.target.value)}
        />
        {mismatch && <p className="hint">The PINs differ.</p>}
        <DuressFields pin={duress} setPin={setDuress} wipe={wipe} setWipe={setWipe} problem={duressProblem} />
        <div className="actions">
          <button
            type="submit"
            className="primary"
            disabled={Boolean(busy) || pin.length < 6 || pin !== again || Boolean(duressProblem)}
          >
            Continue
          </button>
        </div>
      </form>
    </Card>
  );
}

/** The optional duress PIN (onboarding and settings): opens an empty decoy profile. */
export function DuressFields(props: {
  pin: string;
  setPin: (v: string) => void;
  wipe: boolean;
  setWipe: (v: boolean) => void;
  problem: string | undefined;
}) {
  return (
    <details className="duress">
      <summary>Duress PIN (optional)</summary>
      <p className="hint">
        A second PIN for when someone forces you to unlock: it opens an empty profile that looks like a new account.
        Nothing on this device shows that it exists.
      </p>
      <label htmlFor="duress-pin">Duress PIN (at least 6 characters, not your PIN)</label>
      <input
        id="duress-pin"
        type="password"
        inputMode="numeric"
        autoComplete="off"
        value={props.pin}
        aria-invalid={Boolean(props.problem)}
        onChange={(e) => props.setPin(e.target.value)}
      />
      {props.problem && <p className="hint">{props.problem}</p>}
      <label className="toggle">
        <input type="checkbox" checked={props.wipe} onChange={(e) => props.setWipe(e.target.checked)} />
        Wipe my real profile from this device when the duress PIN is used
      </label>
    </details>
  );
}

/** Linking: the code to paste into the existing device, while this browser waits. */
export function LinkWait() {
  const code = useApp((s) => s.linkCode);
  return (
    <Card title="Link this browser">
      <p>
        On a device where you are signed in, open <strong>Devices</strong>, paste this code and approve. This page
        continues by itself.
      </p>
      {code && <QrImage text={code} label="QR code for linking this browser" />}
      <textarea className="mono small code" readOnly aria-label="Link code" value={code} rows={4} />
      <p className="busy" role="status">
        Waiting for approval…
      </p>
    </Card>
  );
}

/** The seed phrase, shown once. */
export function Seed() {
  const phrase = useApp((s) => s.seedPhrase);
  const words = phrase.split(' ');
  return (
    <Card title="Your seed phrase">
      <p>Write these 24 words down, in order, and keep them offline. They are the only way to restore your account.</p>
      <ol className="seed" aria-label="Seed phrase">
        {words.map((w, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: words can repeat; the position is the identity
          <li key={i} data-testid="seed-word">
            {w}
          </li>
        ))}
      </ol>
      <div className="actions">
        <button type="button" className="primary" onClick={() => set({ phase: 'confirm' })}>
          I wrote them down
        </button>
      </div>
    </Card>
  );
}

/** Three words asked back. */
export function Confirm() {
  const phrase = useApp((s) => s.seedPhrase);
  const words = phrase.split(' ');
  const positions = useMemo(() => {
    const picks = new Set<number>();
    const r = crypto.getRandomValues(new Uint32Array(16));
    for (const n of r) {
      picks.add(n % words.length);
      if (picks.size === 3) break;
    }
    return [...picks].sort((a, b) => a - b);
  }, [words.length]);
  const [answers, setAnswers] = useState<string[]>(['', '', '']);
  const [wrong, setWrong] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const ok = positions.every((p, i) => answers[i]?.trim().toLowerCase() === words[p]);
    setWrong(!ok);
    if (ok) set({ seedPhrase: '', phase: 'main' });
  };
  return (
    <Card title="Check your seed phrase">
      <form onSubmit={submit}>
        {positions.map((p, i) => (
          <div key={p}>
            <label htmlFor={`confirm-${i}`}>Word #{p + 1}</label>
            <input
              id={`confirm-${i}`}
              data-position={p + 1}
              autoComplete="off"
              spellCheck={false}
              value={answers[i]}
              onChange={(e) => setAnswers(answers.map((a, j) => (j === i ? e.target.value : a)))}
            />
          </div>
        ))}
        {wrong && (
          <p className="error" role="alert">
            Those words do not match. Look at your copy again.
          </p>
        )}
        <div className="actions">
          <button type="button" onClick={() => set({ phase: 'seed' })}>
            Show the words again
          </button>
          <button type="submit" className="primary">
            Confirm
          </button>
        </div>
      </form>
    </Card>
  );
}

/** The lock screen. */
export function Unlock() {
  const [pin, setPin] = useState('');
  const busy = useApp((s) => s.busy);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (pin) void unlock(pin);
  };
  return (
    <Card title="Unlock VAULTEX">
      <form onSubmit={submit}>
        <label htmlFor="unlock-pin">PIN</label>
        <input
          id="unlock-pin"
          type="password"
          inputMode="numeric"
          autoComplete="current-password"
          value={pin}
          onChange={(e) => setPin(e.target.value)}
        />
        <div className="actions">
          <button type="submit" className="primary" disabled={Boolean(busy) || !pin}>
            Unlock
          </button>
        </div>
      </form>
    </Card>
  );
}

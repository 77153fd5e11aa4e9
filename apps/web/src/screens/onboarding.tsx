/** First launch: welcome, name, restore, PIN, seed phrase shown and confirmed; and unlock. */
import { type FormEvent, type ReactNode, useMemo, useState } from 'react';
import { submitPin, unlock } from '../state/session.js';
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

/** Create or restore. */
export function Welcome() {
  return (
    <Card title="Welcome to VAULTEX">
      <p>End-to-end encrypted messages. No phone number, no e-mail: your account is a key on this device.</p>
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
    </Card>
  );
}

/** Choose the PIN that encrypts this device's storage. */
export function Pin() {
  const [pin, setPin] = useState('');
  const [again, setAgain] = useState('');
  const busy = useApp((s) => s.busy);
  const mismatch = again.length > 0 && pin !== again;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (pin.length < 6 || pin !== again) return;
    void submitPin(pin);
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
        <div className="actions">
          <button type="submit" className="primary" disabled={Boolean(busy) || pin.length < 6 || pin !== again}>
            Continue
          </button>
        </div>
      </form>
    </Card>
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

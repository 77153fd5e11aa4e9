/** My contact code (text + QR), add a contact by pasting a code, message requests and blocked contacts. */
import { type FormEvent, useState } from 'react';
import { addContact, select, setContactState } from '../state/session.js';
import { useApp } from '../state/store.js';
import { contactName } from './conversation-list.js';
import { CloseIcon } from './icons.js';
import { QrImage } from './qr-image.js';
import { ScanButton } from './scan-button.js';

/** The contacts panel. */
export function ContactsPanel() {
  const me = useApp((s) => s.me);
  const contacts = useApp((s) => s.contacts);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string>();
  const [copied, setCopied] = useState(false);
  if (!me) return null;
  const requests = contacts.filter((c) => c.state === 'request');
  const blocked = contacts.filter((c) => c.state === 'blocked');
  const add = async (text: string) => {
    const problem = await addContact(text);
    setError(problem);
    if (!problem) setCode('');
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (code.trim()) await add(code);
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(me.contactCode);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  return (
    <aside className="panel" aria-labelledby="contacts-title">
      <header className="panel-header">
        <h2 id="contacts-title">Contacts</h2>
        <button
          type="button"
          className="icon"
          aria-label="Close contacts"
          onClick={() => useApp.setState({ panel: 'none' })}
        >
          <CloseIcon />
        </button>
      </header>
      <h3>My contact code</h3>
      <p className="hint">
        Share it with people you want to talk to. {me.displayName && `You appear as ${me.displayName}.`}
      </p>
      <QrImage text={me.contactCode} label="My contact code as a QR code" />
      <textarea className="mono small code" readOnly aria-label="My contact code" value={me.contactCode} rows={4} />
      <div className="actions">
        <button type="button" onClick={() => void copy()}>
          {copied ? 'Copied' : 'Copy code'}
        </button>
      </div>
      <p className="small">
        User ID: <span className="mono">{me.formatted}</span>
      </p>
      <h3>Add a contact</h3>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="add-code">Paste their contact code</label>
        <textarea id="add-code" rows={3} value={code} spellCheck={false} onChange={(e) => setCode(e.target.value)} />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <ScanButton label="Camera view for scanning a contact QR code" onResult={(text) => void add(text)} />
          <button type="submit" className="primary" disabled={!code.trim()}>
            Add contact
          </button>
        </div>
      </form>
      {requests.length > 0 && (
        <>
          <h3>Message requests</h3>
          <ul className="plain">
            {requests.map((c) => (
              <li key={c.accountId} className="row">
                <button type="button" className="link" onClick={() => void select(c.accountId)}>
                  {contactName(c, c.accountId)}
                </button>
                <button type="button" className="primary" onClick={() => void setContactState(c.accountId, 'accept')}>
                  Accept
                </button>
                <button type="button" className="danger" onClick={() => void setContactState(c.accountId, 'block')}>
                  Block
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {blocked.length > 0 && (
        <>
          <h3>Blocked</h3>
          <ul className="plain">
            {blocked.map((c) => (
              <li key={c.accountId} className="row">
                <span>{contactName(c, c.accountId)}</span>
                <button type="button" onClick={() => void setContactState(c.accountId, 'unblock')}>
                  Unblock
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </aside>
  );
}

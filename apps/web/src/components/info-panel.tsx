/**
 * The contact's info: safety number (12 groups of 5) with its QR code, verified toggle, the
 * identity-key history with a pending change to accept, block.
 */
import type { SafetyNumberView } from '@vaultex/client/browser';
import { useEffect, useState } from 'react';
import { setContactState, setVerified } from '../state/session.js';
import { useApp } from '../state/store.js';
import { AvatarImage } from './avatar.js';
import { contactName } from './conversation-list.js';
import { CloseIcon } from './icons.js';
import { KeyHistory } from './key-history.js';
import { QrImage } from './qr-image.js';

/** The info panel of the open conversation. */
export function InfoPanel() {
  const client = useApp((s) => s.client);
  const selected = useApp((s) => s.selected);
  const contact = useApp((s) => s.contacts.find((c) => c.accountId === s.selected));
  const [sn, setSn] = useState<SafetyNumberView>();
  // The toggle moves at once; the store write follows.
  const [verifying, setVerifying] = useState<boolean>();
  const identityKey = contact?.identityKey;
  // biome-ignore lint/correctness/useExhaustiveDependencies: recompute when the pinned key changes
  useEffect(() => {
    if (!client || !selected) return;
    let live = true;
    client.contacts.safetyNumber(selected).then(
      (v) => live && setSn(v),
      () => live && setSn(undefined),
    );
    return () => {
      live = false;
    };
  }, [client, selected, identityKey]);
  if (!selected || !contact) return null;
  const name = contactName(contact, selected);
  return (
    <aside className="panel" aria-labelledby="info-title">
      <header className="panel-header">
        <h2 id="info-title">Contact info</h2>
        <button
          type="button"
          className="icon"
          aria-label="Close contact info"
          onClick={() => useApp.setState({ panel: 'none' })}
        >
          <CloseIcon />
        </button>
      </header>
      <AvatarImage name={name} className="large" {...(contact.avatar ? { avatar: contact.avatar } : {})} />
      <p className="info-name">{name}</p>
      <p className="small">
        User ID: <span className="mono">{contact.formatted}</span>
      </p>
      <KeyHistory contact={contact} name={name} />
      <h3>Safety number</h3>
      <p className="hint">Compare these digits with {name} in person or on a call, or scan each other's code.</p>
      {sn && (
        <>
          <div className="safety-number" data-testid="safety-number">
            {sn.groups.map((g, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: groups can repeat; the position is the identity
              <span key={i}>{g}</span>
            ))}
          </div>
          <QrImage text={sn.qrText} label={`Safety number QR code for ${name}`} size={180} />
        </>
      )}
      <label className="toggle">
        <input
          type="checkbox"
          checked={verifying ?? contact.verified}
          disabled={contact.keyChanged}
          onChange={(e) => {
            const verified = e.target.checked;
            setVerifying(verified);
            void setVerified(selected, verified).finally(() => setVerifying(undefined));
          }}
        />
        Marked as verified
      </label>
      <div className="actions">
        {contact.state === 'blocked' ? (
          <button type="button" onClick={() => void setContactState(selected, 'unblock')}>
            Unblock
          </button>
        ) : (
          <button type="button" className="danger" onClick={() => void setContactState(selected, 'block')}>
            Block {name}
          </button>
        )}
      </div>
    </aside>
  );
}

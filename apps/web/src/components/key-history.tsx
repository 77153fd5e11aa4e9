/**
 * A contact's identity keys over time (first seen, then each change) with fingerprints, the
 * verified state, and a warning with "Accept new key" while a change is pending.
 */
import type { ContactView, KeyHistoryEntry } from '@vaultex/client/browser';
import { bytesToHex, equalBytes, nobleProvider } from '@vaultex/protocol';
import { useEffect, useState } from 'react';
import { keyHistory } from '../state/duress.js';
import { acceptKeyChange } from '../state/session.js';

/** Short fingerprint of a key: the first 80 bits of its SHA-256 in groups of four hex digits. */
export function keyFingerprint(key: Uint8Array): string {
  return bytesToHex(nobleProvider.sha256(key).slice(0, 10)).match(/.{4}/gu)?.join(' ') ?? '';
}

const when = (ms: number) =>
  new Date(ms).toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });

/** The key-history section of the info panel. */
export function KeyHistory({ contact, name }: { contact: ContactView; name: string }) {
  const [history, setHistory] = useState<KeyHistoryEntry[]>();
  const [accepting, setAccepting] = useState(false);
  const { accountId, identityKey, keyChanged } = contact;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when the pin or the pending change moves
  useEffect(() => {
    let live = true;
    keyHistory(accountId).then(
      (h) => live && setHistory(h),
      () => live && setHistory([]),
    );
    return () => {
      live = false;
    };
  }, [accountId, identityKey, keyChanged]);
  const pending = keyChanged ? history?.[history.length - 1] : undefined;
  return (
    <section aria-labelledby="key-history-title">
      <h3 id="key-history-title">Identity key</h3>
      <p className="small" data-testid="verified-state">
        {keyChanged
          ? 'Not verified: the key changed.'
          : contact.verified
            ? 'You verified this safety number.'
            : 'Not verified yet.'}
      </p>
      {keyChanged && (
        <div className="banner warn key-warning" role="alert">
          <p>
            {name}'s identity key changed{pending ? ` on ${when(pending.seenAt)}` : ''}. This happens when they
            reinstall, or when someone tries to intercept your messages. Compare the new safety number before trusting
            it; messages to {name} are held until you accept.
          </p>
          <button
            type="button"
            className="primary"
            disabled={accepting}
            onClick={() => {
              setAccepting(true);
              void acceptKeyChange(accountId).finally(() => setAccepting(false));
            }}
          >
            Accept new key
          </button>
        </div>
      )}
      <h4 className="small">Key history</h4>
      <ol className="plain key-history" aria-label="Key history" data-testid="key-history">
        {(history ?? []).map((h) => {
          const current = equalBytes(h.identityKey, identityKey);
          const isPending = h === pending && !current;
          return (
            <li key={`${h.seenAt}-${bytesToHex(h.identityKey)}`} data-testid="key-entry">
              <span className="mono">{keyFingerprint(h.identityKey)}</span>{' '}
              <span className="small">first seen {when(h.seenAt)}</span>
              {current && <em className="small"> (current)</em>}
              {isPending && <em className="small"> (new, not accepted)</em>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

/** The open conversation: header, bubbles with day separators and ticks, typing, composer. */
import type { MessageStatus, MessageView } from '@vaultex/client/browser';
import { type KeyboardEvent, type ReactNode, useState } from 'react';
import { clockTime, dayKey, dayLabel, initials } from '../lib/format.js';
import { acceptKeyChange, loadOlder, select, send, setContactState, typing } from '../state/session.js';
import { useApp } from '../state/store.js';
import { contactName } from './conversation-list.js';
import { BackIcon, ClockIcon, InfoIcon, SendIcon } from './icons.js';
import { VirtualList, type VirtualRow } from './virtual-list.js';

const TICKS: Record<MessageStatus, { mark: ReactNode; label: string }> = {
  pending: { mark: <ClockIcon />, label: 'Waiting to send' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
  failed: { mark: '!', label: 'Not sent' },
};

function Bubble({ m, row, hit }: { m: MessageView; row: string; hit: boolean }) {
  const tick = TICKS[m.status];
  return (
    <li
      className={`bubble ${m.direction}${hit ? ' hit' : ''}`}
      data-testid={`bubble-${m.direction}`}
      data-row={row}
      aria-current={hit ? 'true' : undefined}
    >
      <p className="bubble-text">
        {m.kind === 'text' ? m.text : <em>This message needs a newer version of VAULTEX.</em>}
      </p>
      <span className="bubble-meta">
        <time dateTime={new Date(m.sentAt).toISOString()}>{clockTime(m.sentAt)}</time>
        {m.direction === 'out' && (
          <span
            className={`tick ${m.status}`}
            data-status={m.status}
            role="img"
            aria-label={tick.label}
            title={tick.label}
          >
            {tick.mark}
          </span>
        )}
      </span>
    </li>
  );
}

/** The chat pane (or an empty state when nothing is open). */
export function ChatPane() {
  const selected = useApp((s) => s.selected);
  const contacts = useApp((s) => s.contacts);
  const messages = useApp((s) => s.messages);
  const jumpTo = useApp((s) => s.jumpTo);
  const typingNow = useApp((s) => (s.selected ? s.typing[s.selected] : false));
  const [draft, setDraft] = useState('');
  if (!selected) {
    return (
      <section className="chat empty-chat" aria-label="Chat">
        <p>Select a conversation, or add a contact to start one.</p>
      </section>
    );
  }
  const contact = contacts.find((c) => c.accountId === selected);
  const name = contactName(contact, selected);
  const submit = () => {
    const text = draft;
    if (!text.trim()) return;
    setDraft('');
    typing(false);
    void send(text);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };
  const rows: VirtualRow[] = [];
  let day = -1;
  for (const m of messages) {
    const d = dayKey(m.sentAt);
    if (d !== day) {
      day = d;
      const key = `day-${d}`;
      rows.push({
        key,
        movable: true,
        render: () => (
          <li className="day" data-row={key}>
            {dayLabel(m.sentAt)}
          </li>
        ),
      });
    }
    rows.push({ key: m.id, render: () => <Bubble m={m} row={m.id} hit={m.id === jumpTo} /> });
  }
  const lastIn = [...messages].reverse().find((m) => m.direction === 'in');
  return (
    <section className="chat" aria-label={`Chat with ${name}`}>
      <header className="chat-header">
        <button
          type="button"
          className="icon back"
          aria-label="Back to conversations"
          onClick={() => void select(undefined)}
        >
          <BackIcon />
        </button>
        <span className="avatar" aria-hidden="true">
          {initials(name)}
        </span>
        <div className="chat-title">
          <h2>{name}</h2>
          <span className="chat-sub" aria-live="polite">
            {typingNow ? 'typing…' : contact?.verified ? 'Verified' : ''}
          </span>
        </div>
        <button
          type="button"
          className="icon"
          aria-label="Contact info"
          onClick={() => useApp.setState((s) => ({ panel: s.panel === 'info' ? 'none' : 'info' }))}
        >
          <InfoIcon />
        </button>
      </header>
      {contact?.state === 'request' && (
        <section className="banner" aria-label="Message request">
          <p>{name} is not in your contacts. Accept to reply, or block them.</p>
          <button type="button" className="primary" onClick={() => void setContactState(selected, 'accept')}>
            Accept
          </button>
          <button type="button" className="danger" onClick={() => void setContactState(selected, 'block')}>
            Block
          </button>
        </section>
      )}
      {contact?.keyChanged && (
        <div className="banner warn" role="alert">
          <p>{name}'s safety number changed. Messages are held until you accept the new one.</p>
          <button type="button" onClick={() => void acceptKeyChange(selected)}>
            Accept new safety number
          </button>
        </div>
      )}
      <VirtualList
        key={selected}
        rows={rows}
        label="Messages"
        className="messages"
        onNearTop={() => void loadOlder()}
        focusKey={jumpTo}
      />
      {/* The list is windowed, so announce the newest incoming message here instead. */}
      <p className="sr-only" aria-live="polite">
        {lastIn?.kind === 'text' ? `${name}: ${lastIn.text}` : ''}
      </p>
      {typingNow && (
        <p className="typing" data-testid="typing">
          <span className="dots" aria-hidden="true">
            <i />
            <i />
            <i />
          </span>
          {name} is typing
        </p>
      )}
      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <textarea
          rows={1}
          aria-label="Message"
          placeholder="Message"
          value={draft}
          disabled={contact?.state !== 'accepted' || contact.keyChanged}
          onChange={(e) => {
            setDraft(e.target.value);
            typing(e.target.value.length > 0);
          }}
          onKeyDown={onKey}
        />
        <button type="submit" className="send" aria-label="Send" disabled={!draft.trim()}>
          <SendIcon />
        </button>
      </form>
    </section>
  );
}

/** The open conversation: header, bubbles with day separators and ticks, typing, composer. */
import type { MessageStatus, MessageView } from '@vaultex/client/browser';
import { type JSX, type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from 'react';
import { clockTime, dayKey, dayLabel, initials } from '../lib/format.js';
import { acceptKeyChange, select, send, setContactState, typing } from '../state/session.js';
import { useApp } from '../state/store.js';
import { contactName } from './conversation-list.js';
import { BackIcon, ClockIcon, InfoIcon, SendIcon } from './icons.js';

const TICKS: Record<MessageStatus, { mark: ReactNode; label: string }> = {
  pending: { mark: <ClockIcon />, label: 'Waiting to send' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
  failed: { mark: '!', label: 'Not sent' },
};

function Bubble({ m }: { m: MessageView }) {
  const tick = TICKS[m.status];
  return (
    <li className={`bubble ${m.direction}`} data-testid={`bubble-${m.direction}`}>
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
  const typingNow = useApp((s) => (s.selected ? s.typing[s.selected] : false));
  const [draft, setDraft] = useState('');
  const end = useRef<HTMLDivElement>(null);
  const lastId = messages[messages.length - 1]?.id;
  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll when the newest message changes
  useEffect(() => {
    end.current?.scrollIntoView?.({ block: 'end' });
  }, [lastId, typingNow]);

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
  const items: JSX.Element[] = [];
  let day = -1;
  for (const m of messages) {
    const d = dayKey(m.sentAt);
    if (d !== day) {
      day = d;
      items.push(
        <li key={`day-${d}`} className="day">
          {dayLabel(m.sentAt)}
        </li>,
      );
    }
    items.push(<Bubble key={m.id} m={m} />);
  }
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
      <ol className="messages" aria-label="Messages" aria-live="polite">
        {items}
      </ol>
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
      <div ref={end} />
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

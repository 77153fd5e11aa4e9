/**
 * The open conversation (a contact or a group): header with the disappearing timer, bubbles
 * with day separators, typing, composer with replies and files (picked or dropped).
 */
import type { ContactView, GroupView, MessageView } from '@vaultex/client/browser';
import { type DragEvent, type KeyboardEvent, useEffect, useRef, useState } from 'react';
import { dayKey, dayLabel } from '../lib/format.js';
import {
  conversationOf,
  isGroupSelection,
  sendFiles,
  sendText,
  setTimer,
  TIMER_CHOICES,
  useChat,
} from '../state/chat-actions.js';
import { acceptKeyChange, loadOlder, select, setContactState, typing } from '../state/session.js';
import { useApp } from '../state/store.js';
import { AvatarImage } from './avatar.js';
import { contactName, senderName } from './conversation-list.js';
import { AttachIcon, BackIcon, CloseIcon, InfoIcon, SendIcon, TimerIcon } from './icons.js';
import { MessageBubble, snippet } from './message-bubble.js';
import { VirtualList, type VirtualRow } from './virtual-list.js';

function TimerSelect({ seconds }: { seconds: number }) {
  const known = TIMER_CHOICES.some((c) => c.seconds === seconds);
  return (
    <label className="timer" title="Disappearing messages">
      <TimerIcon />
      <select
        aria-label="Disappearing messages"
        value={seconds}
        onChange={(e) => void setTimer(Number(e.target.value))}
      >
        {!known && <option value={seconds}>{seconds} s</option>}
        {TIMER_CHOICES.map((c) => (
          <option key={c.seconds} value={c.seconds}>
            {c.label}
          </option>
        ))}
      </select>
    </label>
  );
}

function Banners({ contact, selected, name }: { contact: ContactView | undefined; selected: string; name: string }) {
  return (
    <>
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
    </>
  );
}

function Composer({ enabled, direct }: { enabled: boolean; direct: boolean }) {
  const [draft, setDraft] = useState('');
  const replyTo = useChat((s) => s.replyTo);
  const upload = useChat((s) => s.upload);
  const contacts = useApp((s) => s.contacts);
  const me = useApp((s) => s.me?.userId);
  const picker = useRef<HTMLInputElement>(null);
  // A reply belongs to its conversation: drop it when another one opens.
  useEffect(() => () => useChat.setState({ replyTo: undefined }), []);
  const submit = () => {
    const text = draft;
    if (!text.trim()) return;
    setDraft('');
    if (direct) typing(false);
    void sendText(text);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Escape' && replyTo) {
      e.stopPropagation();
      useChat.setState({ replyTo: undefined });
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };
  return (
    <div className="composer-area">
      {upload && (
        <div className="upload" data-testid="upload-progress">
          <span>Sending {upload.name}</span>
          <progress aria-label={`Uploading ${upload.name}`} value={upload.sent} max={upload.total || 1} />
        </div>
      )}
      {replyTo && (
        <div className="replying" data-testid="replying">
          <span>
            Replying to <strong>{senderName(contacts, replyTo.senderAccountId, me)}</strong>: {snippet(replyTo)}
          </span>
          <button
            type="button"
            className="icon"
            aria-label="Cancel reply"
            onClick={() => useChat.setState({ replyTo: undefined })}
          >
            <CloseIcon />
          </button>
        </div>
      )}
      <form
        className="composer"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          data-testid="file-input"
          onChange={(e) => {
            const files = [...(e.target.files ?? [])];
            e.target.value = '';
            if (files.length) void sendFiles(files);
          }}
        />
        <button
          type="button"
          className="icon attach"
          aria-label="Attach files"
          disabled={!enabled || upload !== undefined}
          onClick={() => picker.current?.click()}
        >
          <AttachIcon />
        </button>
        <textarea
          id="composer-input"
          rows={1}
          aria-label="Message"
          placeholder="Message"
          value={draft}
          disabled={!enabled}
          onChange={(e) => {
            setDraft(e.target.value);
            if (direct) typing(e.target.value.length > 0);
          }}
          onKeyDown={onKey}
        />
        <button type="submit" className="send" aria-label="Send" disabled={!draft.trim()}>
          <SendIcon />
        </button>
      </form>
    </div>
  );
}

function chatRows(messages: readonly MessageView[], jumpTo: string | undefined, inGroup: boolean, canAct: boolean) {
  const byId = new Map(messages.map((m) => [m.id, m]));
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
    const quoted = m.replyTo ? byId.get(m.replyTo) : undefined;
    rows.push({
      key: m.id,
      render: () => <MessageBubble m={m} hit={m.id === jumpTo} inGroup={inGroup} quoted={quoted} canAct={canAct} />,
    });
  }
  return rows;
}

function subtitle(group: GroupView | undefined, typingNow: boolean, contact: ContactView | undefined): string {
  if (group) return group.member ? `${group.members.length} members` : 'You are no longer a member';
  return typingNow ? 'typing…' : contact?.verified ? 'Verified' : '';
}

/** The chat pane (or an empty state when nothing is open). */
export function ChatPane() {
  const selected = useApp((s) => s.selected);
  const contacts = useApp((s) => s.contacts);
  const messages = useApp((s) => s.messages);
  const jumpTo = useApp((s) => s.jumpTo);
  const me = useApp((s) => s.me?.userId);
  const timer = useApp(
    (s) => s.conversations.find((c) => c.id === conversationOf(s.selected ?? ''))?.disappearingSeconds ?? 0,
  );
  const typingNow = useApp((s) => (s.selected ? (s.typing[s.selected] ?? false) : false));
  const group = useChat((s) => (selected ? s.groups[selected] : undefined));
  const [dragging, setDragging] = useState(false);
  if (!selected) {
    return (
      <section className="chat empty-chat" aria-label="Chat">
        <p>Select a conversation, or add a contact to start one.</p>
      </section>
    );
  }
  const inGroup = isGroupSelection(selected);
  const contact = inGroup ? undefined : contacts.find((c) => c.accountId === selected);
  const name = inGroup ? (group?.title ?? 'Group') : contactName(contact, selected);
  const enabled = inGroup ? (group?.member ?? false) : contact?.state === 'accepted' && !contact.keyChanged;
  const rows = chatRows(messages, jumpTo, inGroup, enabled);
  const lastIn = [...messages].reverse().find((m) => m.direction === 'in');
  const announced = lastIn && !lastIn.deleted ? snippet(lastIn) : '';
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const files = [...e.dataTransfer.files];
    if (files.length && enabled) void sendFiles(files);
  };
  return (
    <section
      className={`chat${dragging ? ' dragging' : ''}`}
      aria-label={`Chat with ${name}`}
      onDragOver={(e) => {
        if (!enabled || !e.dataTransfer.types.includes('Files')) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <header className="chat-header">
        <button
          type="button"
          className="icon back"
          aria-label="Back to conversations"
          onClick={() => void select(undefined)}
        >
          <BackIcon />
        </button>
        <AvatarImage
          name={name}
          {...(inGroup ? { className: 'group' } : {})}
          {...(contact?.avatar ? { avatar: contact.avatar } : {})}
        />
        <div className="chat-title">
          <h2>{name}</h2>
          <span className="chat-sub" aria-live="polite">
            {subtitle(group, typingNow, contact)}
          </span>
        </div>
        {enabled && <TimerSelect seconds={timer} />}
        <button
          type="button"
          className="icon"
          aria-label={inGroup ? 'Group info' : 'Contact info'}
          onClick={() => useApp.setState((s) => ({ panel: s.panel === 'info' ? 'none' : 'info' }))}
        >
          <InfoIcon />
        </button>
      </header>
      {!inGroup && <Banners contact={contact} selected={selected} name={name} />}
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
        {announced
          ? `${inGroup && lastIn ? senderName(contacts, lastIn.senderAccountId, me) : name}: ${announced}`
          : ''}
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
      {dragging && (
        <p className="drop-hint" aria-hidden="true">
          Drop files to send them to {name}
        </p>
      )}
      {/* Keys must differ from the list's: siblings share one key space. */}
      <Composer key={`composer-${selected}`} enabled={enabled} direct={!inGroup} />
    </section>
  );
}

/**
 * One message: sender (groups), quoted reply, text or file, "edited" and timer marks, ticks,
 * reactions with counts, and an action menu (reply, react, edit, delete for everyone) that
 * is reachable by keyboard.
 */
import type { MessageStatus, MessageView } from '@vaultex/client/browser';
import { type ReactNode, useState } from 'react';
import { clockTime } from '../lib/format.js';
import { deleteMessage, editMessage, REACTIONS, react, useChat } from '../state/chat-actions.js';
import { useApp } from '../state/store.js';
import { AttachmentView } from './attachment-view.js';
import { senderName } from './conversation-list.js';
import { ClockIcon, TimerIcon } from './icons.js';

const TICKS: Record<MessageStatus, { mark: ReactNode; label: string }> = {
  pending: { mark: <ClockIcon />, label: 'Waiting to send' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
  failed: { mark: '!', label: 'Not sent' },
};

/** What a quote shows of a message. */
export function snippet(m: MessageView): string {
  if (m.deleted) return 'Message deleted';
  if (m.kind === 'attachment') return m.text || m.attachment?.name || 'File';
  return m.kind === 'text' ? (m.text ?? '') : 'Message';
}

/** Reactions grouped by emoji, in first-seen order, with whether one of them is ours. */
export function groupReactions(
  reactions: MessageView['reactions'],
  me: string | undefined,
): { emoji: string; count: number; mine: boolean }[] {
  const out = new Map<string, { emoji: string; count: number; mine: boolean }>();
  for (const r of reactions ?? []) {
    const entry = out.get(r.emoji) ?? { emoji: r.emoji, count: 0, mine: false };
    entry.count++;
    entry.mine ||= r.accountId === me;
    out.set(r.emoji, entry);
  }
  return [...out.values()];
}

function Quote({ id, quoted, inGroup }: { id: string; quoted: MessageView | undefined; inGroup: boolean }) {
  const contacts = useApp((s) => s.contacts);
  const me = useApp((s) => s.me?.userId);
  if (!quoted) return <p className="quote missing">Reply to an earlier message</p>;
  const who = quoted.direction === 'out' ? 'You' : inGroup ? senderName(contacts, quoted.senderAccountId, me) : '';
  return (
    <button
      type="button"
      className="quote"
      data-testid="quote"
      onClick={() => useApp.setState({ jumpTo: id })}
      title="Show the original message"
    >
      <span className="sr-only">In reply to </span>
      {who && <span className="quote-who">{who}</span>}
      <span className="quote-text">{snippet(quoted)}</span>
    </button>
  );
}

function Editor({ m, onDone }: { m: MessageView; onDone: () => void }) {
  const [text, setText] = useState(m.text ?? '');
  const save = () => {
    if (text.trim() && text !== m.text) void editMessage(m.id, text);
    onDone();
  };
  return (
    <form
      className="edit-form"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <textarea
        aria-label="Edit message"
        value={text}
        // biome-ignore lint/a11y/noAutofocus: the editor opens from the action menu; typing goes straight into it
        autoFocus
        rows={2}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            // Only the editor closes, not the panel or (at phone width) the chat.
            e.stopPropagation();
            onDone();
          }
          if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            save();
          }
        }}
      />
      <div className="edit-actions">
        <button type="submit" className="primary small-button">
          Save
        </button>
        <button type="button" className="small-button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** One bubble of the chat. */
export function MessageBubble(props: {
  m: MessageView;
  hit: boolean;
  inGroup: boolean;
  quoted: MessageView | undefined;
  canAct: boolean;
}) {
  const { m, hit, inGroup, quoted, canAct } = props;
  const me = useApp((s) => s.me?.userId);
  const contacts = useApp((s) => s.contacts);
  const [menu, setMenu] = useState(false);
  const [editing, setEditing] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const tick = TICKS[m.status];
  const own = m.direction === 'out';
  const live = !m.deleted && m.kind !== 'unsupported';
  const closeMenu = () => {
    setMenu(false);
    setConfirmDelete(false);
  };
  const reactions = groupReactions(m.reactions, me);
  return (
    <li
      className={`bubble ${m.direction}${hit ? ' hit' : ''}${m.deleted ? ' deleted' : ''}`}
      data-testid={`bubble-${m.direction}`}
      data-row={m.id}
      aria-current={hit ? 'true' : undefined}
    >
      {inGroup && !own && <p className="bubble-sender">{senderName(contacts, m.senderAccountId, me)}</p>}
      {m.replyTo && !m.deleted && <Quote id={m.replyTo} quoted={quoted} inGroup={inGroup} />}
      {m.deleted ? (
        <p className="bubble-text tombstone">
          <em>Message deleted</em>
        </p>
      ) : editing ? (
        <Editor m={m} onDone={() => setEditing(false)} />
      ) : m.kind === 'attachment' ? (
        <>
          <AttachmentView m={m} />
          {m.text && <p className="bubble-text">{m.text}</p>}
        </>
      ) : (
        <p className="bubble-text">
          {m.kind === 'text' ? m.text : <em>This message needs a newer version of VAULTEX.</em>}
        </p>
      )}
      <span className="bubble-meta">
        {m.editedAt !== undefined && !m.deleted && <span className="edited">edited</span>}
        {m.expiresAt !== undefined && (
          <span className="expires" role="img" aria-label="Disappearing message" title="Disappearing message">
            <TimerIcon size={12} />
          </span>
        )}
        <time dateTime={new Date(m.sentAt).toISOString()}>{clockTime(m.sentAt)}</time>
        {own && (
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
        {live && canAct && (
          <button
            type="button"
            className="message-actions-button"
            aria-label="Message actions"
            aria-expanded={menu}
            onClick={() => (menu ? closeMenu() : setMenu(true))}
          >
            ⋯
          </button>
        )}
      </span>
      {reactions.length > 0 && (
        <ul className="reactions" aria-label="Reactions">
          {reactions.map((r) => (
            <li key={r.emoji}>
              <button
                type="button"
                className={`reaction${r.mine ? ' mine' : ''}`}
                aria-pressed={r.mine}
                aria-label={`${r.emoji} ${r.count}${r.mine ? ', yours' : ''}`}
                disabled={!canAct}
                onClick={() => void react(m.id, r.mine ? '' : r.emoji)}
              >
                {r.emoji} <span className="count">{r.count}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {menu && live && (
        // biome-ignore lint/a11y/noStaticElementInteractions: Escape closes the menu from any of its buttons
        <div
          className="message-menu"
          onKeyDown={(e) => {
            if (e.key === 'Escape') {
              e.stopPropagation();
              closeMenu();
            }
          }}
        >
          <fieldset className="picker">
            <legend className="sr-only">React</legend>
            {REACTIONS.map((emoji) => (
              <button
                key={emoji}
                type="button"
                className="emoji"
                aria-label={`React ${emoji}`}
                onClick={() => {
                  closeMenu();
                  void react(m.id, emoji);
                }}
              >
                {emoji}
              </button>
            ))}
          </fieldset>
          <button
            type="button"
            onClick={() => {
              closeMenu();
              useChat.setState({ replyTo: m });
              document.getElementById('composer-input')?.focus();
            }}
          >
            Reply
          </button>
          {own && m.kind === 'text' && (
            <button
              type="button"
              onClick={() => {
                closeMenu();
                setEditing(true);
              }}
            >
              Edit
            </button>
          )}
          {own &&
            (confirmDelete ? (
              <>
                <button
                  type="button"
                  className="danger"
                  onClick={() => {
                    closeMenu();
                    void deleteMessage(m.id);
                  }}
                >
                  Delete for everyone
                </button>
                <button type="button" onClick={() => setConfirmDelete(false)}>
                  Keep it
                </button>
              </>
            ) : (
              <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>
                Delete…
              </button>
            ))}
        </div>
      )}
    </li>
  );
}

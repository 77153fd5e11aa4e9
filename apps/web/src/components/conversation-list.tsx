/** The sidebar list: conversations and contacts, with preview, time, unread count and a filter. */
import type { Avatar, ContactView, ConversationRecord, GroupView } from '@vaultex/client/browser';
import { useEffect, useState } from 'react';
import { clockTime, dayLabel, listTime } from '../lib/format.js';
import { useChat } from '../state/chat-actions.js';
import { openHit, type SearchHit, searchMessages, select } from '../state/session.js';
import { useApp } from '../state/store.js';
import { AvatarImage } from './avatar.js';
import { NewGroupIcon } from './icons.js';

/** One row of the list. */
export interface ListEntry {
  /** What selecting it opens: a contact's account id, or `g:<groupId>`. */
  readonly id: string;
  readonly name: string;
  readonly preview: string;
  readonly at: number;
  readonly unread: number;
  readonly request: boolean;
  /** The contact's profile picture, if they shared one. */
  readonly avatar?: Avatar;
}

/** Contact name as shown: the display name, else the start of the formatted id. */
export function contactName(c: ContactView | undefined, accountId: string): string {
  if (c?.displayName) return c.displayName;
  return c ? c.formatted.slice(0, 14) : accountId.slice(0, 8);
}

/** Who wrote a group message, as shown: "You", the contact's name, or the start of the id. */
export function senderName(contacts: readonly ContactView[], accountId: string, me: string | undefined): string {
  if (accountId === me) return 'You';
  return contactName(
    contacts.find((c) => c.accountId === accountId),
    accountId,
  );
}

/** Extra inputs for group rows. */
export interface GroupListInput {
  readonly groups: Readonly<Record<string, GroupView>>;
  /** The author of each group's newest message. */
  readonly lastSender: Readonly<Record<string, string>>;
  readonly me: string | undefined;
}

/**
 * Conversations first (most recent first; groups with the last sender's name before the
 * preview), then contacts without one. Blocked contacts are left out.
 */
export function listEntries(
  contacts: readonly ContactView[],
  conversations: readonly ConversationRecord[],
  group: GroupListInput = { groups: {}, lastSender: {}, me: undefined },
): ListEntry[] {
  const byId = new Map(contacts.map((c) => [c.accountId, c]));
  const seen = new Set<string>();
  const out: ListEntry[] = [];
  for (const conv of conversations) {
    if (conv.id.startsWith('g:')) {
      const from = group.lastSender[conv.id];
      const preview = conv.lastMessagePreview ?? '';
      out.push({
        id: conv.id,
        name: group.groups[conv.id]?.title ?? conv.title ?? 'Group',
        preview: from && preview ? `${senderName(contacts, from, group.me)}: ${preview}` : preview,
        at: conv.lastMessageAt,
        unread: conv.unread,
        request: false,
      });
      continue;
    }
    if (!conv.id.startsWith('d:')) continue;
    const accountId = conv.id.slice(2);
    const c = byId.get(accountId);
    if (c?.state === 'blocked') continue;
    seen.add(accountId);
    out.push({
      id: accountId,
      name: contactName(c, accountId),
      preview: conv.lastMessagePreview ?? '',
      at: conv.lastMessageAt,
      unread: conv.unread,
      request: c?.state === 'request',
      ...(c?.avatar ? { avatar: c.avatar } : {}),
    });
  }
  for (const c of contacts) {
    if (seen.has(c.accountId) || c.state === 'blocked') continue;
    out.push({
      id: c.accountId,
      name: contactName(c, c.accountId),
      preview: '',
      at: 0,
      unread: 0,
      request: c.state === 'request',
      ...(c.avatar ? { avatar: c.avatar } : {}),
    });
  }
  return out;
}

/** The list with its search box. */
export function ConversationList() {
  const contacts = useApp((s) => s.contacts);
  const conversations = useApp((s) => s.conversations);
  const selected = useApp((s) => s.selected);
  const search = useApp((s) => s.search);
  const typing = useApp((s) => s.typing);
  const panel = useApp((s) => s.panel);
  const me = useApp((s) => s.me?.userId);
  const groups = useChat((s) => s.groups);
  const lastSender = useChat((s) => s.lastSender);
  const q = search.trim().toLowerCase();
  const entries = listEntries(contacts, conversations, { groups, lastSender, me }).filter(
    (e) => !q || e.name.toLowerCase().includes(q) || e.preview.toLowerCase().includes(q),
  );
  return (
    <nav className="conversations" aria-label="Conversations">
      <div className="search with-action">
        <input
          type="search"
          placeholder="Search"
          aria-label="Search conversations"
          value={search}
          onChange={(e) => useApp.setState({ search: e.target.value })}
        />
        <button
          type="button"
          className="icon"
          aria-label="New group"
          aria-pressed={panel === 'new-group'}
          onClick={() => useApp.setState({ panel: panel === 'new-group' ? 'none' : 'new-group' })}
        >
          <NewGroupIcon />
        </button>
      </div>
      {entries.length === 0 && (
        <p className="empty">{q ? 'No match.' : 'No conversations yet. Add a contact with their code.'}</p>
      )}
      <ul>
        {entries.map((e) => (
          <li key={e.id}>
            <button
              type="button"
              className={`conversation${selected === e.id ? ' active' : ''}`}
              aria-current={selected === e.id ? 'true' : undefined}
              data-testid={e.id.startsWith('g:') ? 'group-row' : undefined}
              onClick={() => void select(e.id)}
            >
              <AvatarImage name={e.name} {...(e.avatar ? { avatar: e.avatar } : {})} />
              <span className="conversation-main">
                <span className="conversation-top">
                  <span className="conversation-name">{e.name}</span>
                  {e.at > 0 && <span className="conversation-time">{listTime(e.at)}</span>}
                </span>
                <span className="conversation-bottom">
                  <span className="conversation-preview">
                    {typing[e.id] ? <em>typing…</em> : e.request ? 'Message request' : e.preview}
                  </span>
                  {e.unread > 0 && (
                    <span className="unread" data-testid="unread">
                      {e.unread}
                      <span className="sr-only"> unread</span>
                    </span>
                  )}
                </span>
              </span>
            </button>
          </li>
        ))}
      </ul>
      <MessageHits query={q} />
    </nav>
  );
}

/** Messages matching the search, from the local (decrypted) history; nothing leaves the device. */
function MessageHits({ query }: { query: string }) {
  const contacts = useApp((s) => s.contacts);
  const conversations = useApp((s) => s.conversations);
  const groups = useChat((s) => s.groups);
  const [hits, setHits] = useState<{ query: string; hits: SearchHit[] } | undefined>(undefined);
  // biome-ignore lint/correctness/useExhaustiveDependencies: search again when the history changes
  useEffect(() => {
    if (query.length < 2) {
      setHits(undefined);
      return;
    }
    let live = true;
    // Wait for a pause in typing before reading the whole history.
    const timer = setTimeout(() => {
      void searchMessages(query).then((found) => {
        if (live) setHits({ query, hits: found });
      });
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [query, conversations]);
  if (query.length < 2) return null;
  const byId = new Map(contacts.map((c) => [c.accountId, c]));
  return (
    <section className="message-hits" aria-label="Messages found">
      <h2 className="hits-title">Messages</h2>
      {!hits ? (
        <p className="empty">Searching…</p>
      ) : hits.hits.length === 0 ? (
        <p className="empty">No message matches.</p>
      ) : (
        <ul>
          {hits.hits.map((h) => (
            <li key={h.message.id}>
              <button
                type="button"
                className="conversation hit"
                data-testid="message-hit"
                onClick={() => void openHit(h)}
              >
                <span className="conversation-main">
                  <span className="conversation-top">
                    <span className="conversation-name">
                      {h.accountId.startsWith('g:')
                        ? (groups[h.accountId]?.title ?? 'Group')
                        : contactName(byId.get(h.accountId), h.accountId)}
                    </span>
                    <span className="conversation-time">
                      {dayLabel(h.message.sentAt)} {clockTime(h.message.sentAt)}
                    </span>
                  </span>
                  <span className="conversation-preview">{h.message.text}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

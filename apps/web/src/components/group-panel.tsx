/**
 * Groups: the "New group" form (title and members picked from contacts) and the group info
 * panel (members with admin marks; admins rename, add and remove; everyone may leave).
 */
import type { ContactView } from '@vaultex/client/browser';
import { type FormEvent, useState } from 'react';
import { addMembers, createGroup, leaveGroup, removeMember, renameGroup, useChat } from '../state/chat-actions.js';
import { useApp } from '../state/store.js';
import { contactName, senderName } from './conversation-list.js';
import { CloseIcon } from './icons.js';

/** Longest group title the client accepts. */
const MAX_TITLE = 128;

function PanelHeader({ id, title, close }: { id: string; title: string; close: string }) {
  return (
    <header className="panel-header">
      <h2 id={id}>{title}</h2>
      <button type="button" className="icon" aria-label={close} onClick={() => useApp.setState({ panel: 'none' })}>
        <CloseIcon />
      </button>
    </header>
  );
}

/** Checkboxes of contacts to pick from. */
function ContactPicker(props: {
  contacts: readonly ContactView[];
  picked: ReadonlySet<string>;
  onChange: (picked: Set<string>) => void;
  legend: string;
}) {
  const { contacts, picked, onChange, legend } = props;
  if (contacts.length === 0) return <p className="hint">No contacts to add. Add contacts with their code first.</p>;
  return (
    <fieldset className="member-picker">
      <legend>{legend}</legend>
      {contacts.map((c) => (
        <label key={c.accountId} className="toggle">
          <input
            type="checkbox"
            checked={picked.has(c.accountId)}
            onChange={(e) => {
              const next = new Set(picked);
              if (e.target.checked) next.add(c.accountId);
              else next.delete(c.accountId);
              onChange(next);
            }}
          />
          {contactName(c, c.accountId)}
        </label>
      ))}
    </fieldset>
  );
}

/** The "New group" panel. */
export function NewGroupPanel() {
  const contacts = useApp((s) => s.contacts).filter((c) => c.state === 'accepted');
  const [title, setTitle] = useState('');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!title.trim() || busy) return;
    setBusy(true);
    setError(await createGroup(title, [...picked]));
    setBusy(false);
  };
  return (
    <aside className="panel" aria-labelledby="new-group-title">
      <PanelHeader id="new-group-title" title="New group" close="Close new group" />
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="group-title">Group name</label>
        <input
          id="group-title"
          value={title}
          maxLength={MAX_TITLE}
          onChange={(e) => setTitle(e.target.value)}
          autoComplete="off"
        />
        <ContactPicker contacts={contacts} picked={picked} onChange={setPicked} legend="Members" />
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="actions">
          <button type="submit" className="primary" disabled={!title.trim() || busy}>
            Create group
          </button>
        </div>
      </form>
    </aside>
  );
}

/** The info panel of the open group. */
export function GroupPanel() {
  const selected = useApp((s) => s.selected);
  const contacts = useApp((s) => s.contacts);
  const me = useApp((s) => s.me?.userId);
  const group = useChat((s) => (selected ? s.groups[selected] : undefined));
  const [title, setTitle] = useState<string>();
  const [adding, setAdding] = useState<Set<string>>(new Set());
  const [confirmLeave, setConfirmLeave] = useState(false);
  const [error, setError] = useState<string>();
  if (!group) return null;
  const admin = group.members.some((m) => m.accountId === me && m.admin);
  const memberIds = new Set(group.members.map((m) => m.accountId));
  const addable = contacts.filter((c) => c.state === 'accepted' && !memberIds.has(c.accountId));
  const run = async (work: Promise<string | undefined>) => {
    setError(await work);
  };
  return (
    <aside className="panel group-panel" aria-labelledby="group-info-title">
      <PanelHeader id="group-info-title" title="Group info" close="Close group info" />
      <p className="info-name">{group.title}</p>
      {!group.member && <p className="hint">You are no longer a member of this group.</p>}
      {admin && group.member && (
        <form
          className="rename"
          onSubmit={(e) => {
            e.preventDefault();
            if (title?.trim()) void run(renameGroup(group.groupId, title)).then(() => setTitle(undefined));
          }}
        >
          <label htmlFor="group-rename">Group name</label>
          <input
            id="group-rename"
            value={title ?? group.title}
            maxLength={MAX_TITLE}
            onChange={(e) => setTitle(e.target.value)}
            autoComplete="off"
          />
          <button type="submit" disabled={!title?.trim() || title === group.title}>
            Rename
          </button>
        </form>
      )}
      <h3>
        {group.members.length} member{group.members.length === 1 ? '' : 's'}
      </h3>
      <ul className="members" aria-label="Members">
        {group.members.map((m) => {
          const name = senderName(contacts, m.accountId, me);
          return (
            <li key={m.accountId} data-testid="group-member">
              <span className="member-name">{name}</span>
              {m.admin && <span className="badge">admin</span>}
              {admin && group.member && m.accountId !== me && (
                <button
                  type="button"
                  className="danger small-button"
                  onClick={() => void run(removeMember(group.groupId, m.accountId))}
                >
                  Remove<span className="sr-only"> {name}</span>
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {admin && group.member && addable.length > 0 && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (adding.size === 0) return;
            void run(addMembers(group.groupId, [...adding])).then(() => setAdding(new Set()));
          }}
        >
          <ContactPicker contacts={addable} picked={adding} onChange={setAdding} legend="Add members" />
          <button type="submit" disabled={adding.size === 0}>
            Add to group
          </button>
        </form>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {group.member && (
        <div className="actions">
          {confirmLeave ? (
            <>
              <button type="button" className="danger" onClick={() => void run(leaveGroup(group.groupId))}>
                Leave for good
              </button>
              <button type="button" onClick={() => setConfirmLeave(false)}>
                Stay
              </button>
            </>
          ) : (
            <button type="button" className="danger" onClick={() => setConfirmLeave(true)}>
              Leave group
            </button>
          )}
        </div>
      )}
    </aside>
  );
}

/**
 * Naming a contact or a group on the command line. A contact: by account id (with or
 * without the `·` groups), by an id prefix of at least 4 hex digits, or by display name
 * (case-insensitive; a unique name prefix also works). A group: the same with its group id
 * (`g:` in front is accepted) and its title. Where either may be named (`messages`, `react`,
 * `edit`, `delete`, `timer`), both lists are searched tier by tier: an exact id, an exact
 * name, an id prefix, a name prefix; the first tier with a match decides.
 */
import type { ContactView, GroupView, VaultexClient } from '@vaultex/client';
import { CliError } from './errors.js';

/** The four match tiers of `items` for `query`, most exact first. */
function tiers<T>(
  items: readonly T[],
  query: string,
  id: (x: T) => string,
  name: (x: T) => string,
  idPrefix?: string,
): T[][] {
  const trimmed = query.trim();
  const q = idPrefix && trimmed.startsWith(idPrefix) ? trimmed.slice(idPrefix.length) : trimmed;
  const hex = q.toLowerCase().replace(/[·\s:-]/gu, '');
  const lower = q.toLowerCase();
  const isHex = /^[0-9a-f]{4,32}$/u.test(hex);
  return [
    items.filter((x) => id(x) === hex),
    items.filter((x) => name(x).toLowerCase() === lower),
    items.filter((x) => isHex && id(x).startsWith(hex)),
    items.filter((x) => lower.length > 0 && name(x).toLowerCase().startsWith(lower)),
  ];
}

/** What naming a contact needs of it. */
type Named = Pick<ContactView, 'accountId' | 'displayName'>;

const contactTiers = <C extends Named>(contacts: readonly C[], query: string) =>
  tiers(
    contacts,
    query,
    (c) => c.accountId,
    (c) => c.displayName,
  );
const groupTiers = (groups: readonly GroupView[], query: string) =>
  tiers(
    groups,
    query,
    (g) => g.groupId,
    (g) => g.title,
    'g:',
  );

function contactNames(list: readonly Named[]): string {
  return list.map((c) => `${c.displayName || '(no name)'} ${c.accountId.slice(0, 8)}`).join(', ');
}

function groupNames(list: readonly GroupView[]): string {
  return list.map((g) => `group ${g.title} ${g.groupId.slice(0, 8)}`).join(', ');
}

/**
 * The contact `query` names among `contacts`.
 * @throws CliError UNKNOWN_CONTACT when none matches, AMBIGUOUS_CONTACT when several do.
 */
export function pickContact<C extends Named>(contacts: readonly C[], query: string, command = 'vaultex'): C {
  for (const tier of contactTiers(contacts, query)) {
    if (tier.length === 1) return tier[0]!;
    if (tier.length > 1) {
      throw new CliError(
        'AMBIGUOUS_CONTACT',
        `'${query}' matches several contacts (${contactNames(tier)}). Use more of the id, as \`${command} contact list\` shows it.`,
      );
    }
  }
  throw new CliError(
    'UNKNOWN_CONTACT',
    `No contact matches '${query}'. See \`${command} contact list\`, or add them with \`${command} contact add <code>\`.`,
  );
}

/**
 * The group `query` names among `groups` (title, unique title prefix, id or id prefix).
 * @throws CliError UNKNOWN_GROUP when none matches, AMBIGUOUS_GROUP when several do.
 */
export function pickGroup(groups: readonly GroupView[], query: string, command = 'vaultex'): GroupView {
  for (const tier of groupTiers(groups, query)) {
    if (tier.length === 1) return tier[0]!;
    if (tier.length > 1) {
      throw new CliError(
        'AMBIGUOUS_GROUP',
        `'${query}' matches several groups (${groupNames(tier)}). Use more of the id, as \`${command} group list\` shows it.`,
      );
    }
  }
  throw new CliError('UNKNOWN_GROUP', `No group matches '${query}'. See \`${command} group list\`.`);
}

/** A conversation named on the command line: a contact's or a group's. */
export type Conversation =
  | { readonly kind: 'contact'; readonly conversationId: string; readonly name: string; readonly contact: ContactView }
  | { readonly kind: 'group'; readonly conversationId: string; readonly name: string; readonly group: GroupView };

function ofContact(contact: ContactView): Conversation {
  return { kind: 'contact', conversationId: `d:${contact.accountId}`, name: label(contact), contact };
}

function ofGroup(group: GroupView): Conversation {
  return { kind: 'group', conversationId: group.conversationId, name: group.title, group };
}

/**
 * The contact or group `query` names.
 * @throws CliError UNKNOWN_CONTACT when nothing matches, AMBIGUOUS_CONTACT / AMBIGUOUS_GROUP when several do.
 */
export function pickConversation(
  contacts: readonly ContactView[],
  groups: readonly GroupView[],
  query: string,
  command = 'vaultex',
): Conversation {
  const byContact = contactTiers(contacts, query);
  const byGroup = groupTiers(groups, query);
  for (let i = 0; i < byContact.length; i++) {
    const cs = byContact[i]!;
    const gs = byGroup[i]!;
    if (cs.length + gs.length === 1) return cs.length === 1 ? ofContact(cs[0]!) : ofGroup(gs[0]!);
    if (cs.length + gs.length > 1) {
      const names = [contactNames(cs), groupNames(gs)].filter((s) => s.length > 0).join(', ');
      throw new CliError(
        cs.length > 0 ? 'AMBIGUOUS_CONTACT' : 'AMBIGUOUS_GROUP',
        `'${query}' matches several conversations (${names}). Use more of the id, as \`${command} contact list\` or \`${command} group list\` shows it.`,
      );
    }
  }
  throw new CliError(
    groups.length > 0 && contacts.length === 0 ? 'UNKNOWN_GROUP' : 'UNKNOWN_CONTACT',
    `No contact or group matches '${query}'. See \`${command} contact list\` and \`${command} group list\`.`,
  );
}

/**
 * Resolve a contact argument with the client's contact list.
 * @throws CliError UNKNOWN_CONTACT, AMBIGUOUS_CONTACT.
 */
export async function resolveContact(client: VaultexClient, query: string, command?: string): Promise<ContactView> {
  return pickContact(await client.contacts.list(), query, command);
}

/**
 * Resolve a group argument with the client's groups (including ones we left).
 * @throws CliError UNKNOWN_GROUP, AMBIGUOUS_GROUP.
 */
export async function resolveGroup(client: VaultexClient, query: string, command?: string): Promise<GroupView> {
  return pickGroup(await client.groups.list(), query, command);
}

/**
 * Resolve an argument that names a contact or a group.
 * @throws CliError UNKNOWN_CONTACT, UNKNOWN_GROUP, AMBIGUOUS_CONTACT, AMBIGUOUS_GROUP.
 */
export async function resolveConversation(
  client: VaultexClient,
  query: string,
  command?: string,
): Promise<Conversation> {
  return pickConversation(await client.contacts.list(), await client.groups.list(), query, command);
}

/** A name to show for a contact: its display name, else its short id. */
export function label(c: Pick<ContactView, 'displayName' | 'accountId'>): string {
  return c.displayName || c.accountId.slice(0, 8);
}

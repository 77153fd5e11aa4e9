/**
 * Naming a contact on the command line: by account id (with or without the `·` groups),
 * by an id prefix of at least 4 hex digits, or by display name (case-insensitive; a
 * unique name prefix also works).
 */
import type { ContactView, VaultexClient } from '@vaultex/client';
import { CliError } from './errors.js';

/**
 * The contact `query` names among `contacts`.
 * @throws CliError UNKNOWN_CONTACT when none matches, AMBIGUOUS_CONTACT when several do.
 */
export function pickContact(contacts: readonly ContactView[], query: string, command = 'vaultex'): ContactView {
  const q = query.trim();
  const hex = q.toLowerCase().replace(/[·\s:-]/gu, '');
  const byId = (list: readonly ContactView[]) =>
    list.filter((c) => /^[0-9a-f]{4,32}$/u.test(hex) && c.accountId.startsWith(hex));
  const lower = q.toLowerCase();
  const tiers: ContactView[][] = [
    contacts.filter((c) => c.accountId === hex),
    contacts.filter((c) => c.displayName.toLowerCase() === lower),
    byId(contacts),
    contacts.filter((c) => lower.length > 0 && c.displayName.toLowerCase().startsWith(lower)),
  ];
  for (const tier of tiers) {
    if (tier.length === 1) return tier[0]!;
    if (tier.length > 1) {
      const names = tier.map((c) => `${c.displayName || '(no name)'} ${c.accountId.slice(0, 8)}`).join(', ');
      throw new CliError(
        'AMBIGUOUS_CONTACT',
        `'${query}' matches several contacts (${names}). Use more of the id, as \`${command} contact list\` shows it.`,
      );
    }
  }
  throw new CliError(
    'UNKNOWN_CONTACT',
    `No contact matches '${query}'. See \`${command} contact list\`, or add them with \`${command} contact add <code>\`.`,
  );
}

/**
 * Resolve a contact argument with the client's contact list.
 * @throws CliError UNKNOWN_CONTACT, AMBIGUOUS_CONTACT.
 */
export async function resolveContact(client: VaultexClient, query: string, command?: string): Promise<ContactView> {
  return pickContact(await client.contacts.list(), query, command);
}

/** A name to show for a contact: its display name, else its short id. */
export function label(c: Pick<ContactView, 'displayName' | 'accountId'>): string {
  return c.displayName || c.accountId.slice(0, 8);
}

/**
 * Opt-in discovery (off by default): an account may publish a display name and be found
 * by a substring search. Clients must show the identity key's fingerprint before adding.
 */
import * as z from 'zod';
import { AccountId, base64url, ED25519_PUBLIC_KEY_BYTES } from './common.js';

/** Longest display name. */
export const MAX_DISPLAY_NAME = 64;

const DisplayName = z.string().trim().min(1).max(MAX_DISPLAY_NAME);

/** `POST /users/me/discoverable` body; disabling clears the name. */
export const DiscoverableRequest = z.object({ enabled: z.boolean(), displayName: DisplayName.optional() });
export type DiscoverableRequest = z.output<typeof DiscoverableRequest>;

/** `GET /users/me/discoverable` response: the state the server holds. */
export const DiscoverableResponse = z.object({ enabled: z.boolean(), displayName: z.string().optional() });
export type DiscoverableResponse = z.output<typeof DiscoverableResponse>;

/** `GET /users?q=` query: matched literally (LIKE wildcards are escaped), case-insensitively. */
export const UserSearchQuery = z.object({ q: z.string().trim().min(2).max(MAX_DISPLAY_NAME) });
export type UserSearchQuery = z.output<typeof UserSearchQuery>;

/** `GET /users?q=` response: opted-in accounts only, the caller excluded, capped. */
export const UserSearchResponse = z.object({
  users: z.array(
    z.object({
      accountId: AccountId,
      identityKey: base64url(ED25519_PUBLIC_KEY_BYTES),
      displayName: z.string().optional(),
    }),
  ),
});
export type UserSearchResponse = z.output<typeof UserSearchResponse>;

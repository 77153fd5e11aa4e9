/**
 * Numbered schema migrations of the SQLite adapter. Each runs once, in order, inside a
 * transaction, and bumps `schema_version`. Never edit a released migration: add one.
 * The SQL is kept portable (BIGINT, BLOB/bytea, ON CONFLICT, RETURNING) so that the
 * PostgreSQL adapter can follow the same numbering; SQLite-only parts are marked.
 */

/** One schema step. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** The migrations, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'accounts, devices, tokens, prekeys, mailbox, transparency log, discovery, attachments',
    sql: `
CREATE TABLE server_secrets (
  name TEXT PRIMARY KEY,
  value BLOB NOT NULL
);
CREATE TABLE challenges (
  nonce_hash BLOB PRIMARY KEY,
  expires_at BIGINT NOT NULL
);
CREATE TABLE accounts (
  id BLOB PRIMARY KEY,
  identity_key BLOB NOT NULL UNIQUE,
  device_list BLOB NOT NULL,
  device_list_counter BIGINT NOT NULL,
  access_key_hash BLOB,
  created_at BIGINT NOT NULL,
  discoverable_name TEXT,
  discoverable_lower TEXT
);
CREATE INDEX accounts_discoverable ON accounts (discoverable_lower);
CREATE TABLE devices (
  account_id BLOB NOT NULL,
  device_id BIGINT NOT NULL,
  device_key BLOB NOT NULL,
  certificate BLOB NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, device_id)
);
CREATE TABLE tokens (
  token_hash BLOB PRIMARY KEY,
  account_id BLOB NOT NULL,
  device_id BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX tokens_device ON tokens (account_id, device_id);
CREATE INDEX tokens_expiry ON tokens (expires_at);
CREATE TABLE signed_prekeys (
  account_id BLOB NOT NULL,
  device_id BIGINT NOT NULL,
  key_id BIGINT NOT NULL,
  public_key BLOB NOT NULL,
  signature BLOB NOT NULL,
  PRIMARY KEY (account_id, device_id)
);
CREATE TABLE last_resort_kem_prekeys (
  account_id BLOB NOT NULL,
  device_id BIGINT NOT NULL,
  key_id BIGINT NOT NULL,
  public_key BLOB NOT NULL,
  signature BLOB NOT NULL,
  PRIMARY KEY (account_id, device_id)
);
CREATE TABLE one_time_prekeys (
  account_id BLOB NOT NULL,
  device_id BIGINT NOT NULL,
  key_id BIGINT NOT NULL,
  public_key BLOB NOT NULL,
  PRIMARY KEY (account_id, device_id, key_id)
);
CREATE TABLE kem_prekeys (
  account_id BLOB NOT NULL,
  device_id BIGINT NOT NULL,
  key_id BIGINT NOT NULL,
  public_key BLOB NOT NULL,
  signature BLOB NOT NULL,
  PRIMARY KEY (account_id, device_id, key_id)
);
-- SQLite-only: INTEGER PRIMARY KEY AUTOINCREMENT (PostgreSQL: BIGINT GENERATED ALWAYS AS IDENTITY).
CREATE TABLE messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id BLOB NOT NULL UNIQUE,
  blob BLOB NOT NULL,
  source_account BLOB,
  source_device BIGINT,
  expires_at BIGINT NOT NULL
);
CREATE INDEX messages_expiry ON messages (expires_at);
CREATE INDEX messages_source ON messages (source_account);
CREATE TABLE message_targets (
  account_id BLOB NOT NULL,
  device_id BIGINT NOT NULL,
  message_seq BIGINT NOT NULL,
  PRIMARY KEY (account_id, device_id, message_seq)
);
CREATE INDEX message_targets_seq ON message_targets (message_seq);
CREATE TABLE log_leaves (
  idx BIGINT PRIMARY KEY,
  leaf_hash BLOB NOT NULL
);
CREATE TABLE log_entries (
  idx BIGINT PRIMARY KEY,
  account_id BLOB NOT NULL,
  entry BLOB NOT NULL
);
CREATE INDEX log_entries_account ON log_entries (account_id, idx);
CREATE TABLE attachments (
  id BLOB PRIMARY KEY,
  size BIGINT NOT NULL,
  chunk_size BIGINT NOT NULL,
  received BIGINT NOT NULL,
  next_index BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX attachments_expiry ON attachments (expires_at);
CREATE TABLE attachment_chunks (
  attachment_id BLOB NOT NULL,
  idx BIGINT NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (attachment_id, idx)
);
`,
  },
  {
    version: 2,
    description: 'provisioning mailbox for device linking',
    sql: `
CREATE TABLE provisioning (
  channel BLOB PRIMARY KEY,
  blob BLOB NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX provisioning_expiry ON provisioning (expires_at);
`,
  },
  {
    version: 3,
    description: 'encrypted history archive and its key envelopes, one set per account',
    sql: `
CREATE TABLE archives (
  account_id BLOB PRIMARY KEY,
  version BIGINT NOT NULL,
  data BLOB NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE archive_keys (
  account_id BLOB NOT NULL,
  slot BIGINT NOT NULL,
  envelope BLOB NOT NULL,
  PRIMARY KEY (account_id, slot)
);
`,
  },
];

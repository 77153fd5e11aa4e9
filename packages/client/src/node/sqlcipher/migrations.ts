/**
 * Numbered schema migrations of the SQLCipher profile database, in portable SQL. Each
 * runs once, in order, in its own transaction, and records its number in
 * `schema_version`. Never edit a released migration: add one (and keep the v1 fixture
 * under test/fixtures/ opening with the newest code).
 */
/** One migration step. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

/** The migrations, oldest first. The last one's version is SCHEMA_VERSION (a test checks). */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'initial schema',
    sql: `
      CREATE TABLE profile (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        user_id TEXT NOT NULL,
        account_public_key BLOB NOT NULL,
        account_secret_key BLOB NOT NULL,
        device_id INTEGER NOT NULL,
        device_secret_key BLOB NOT NULL,
        device_public_key BLOB NOT NULL,
        certificate BLOB NOT NULL,
        device_list BLOB,
        device_list_counter INTEGER NOT NULL,
        server_url TEXT NOT NULL,
        display_name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        access_key BLOB NOT NULL,
        read_receipts INTEGER NOT NULL,
        typing_indicators INTEGER NOT NULL,
        discoverable INTEGER NOT NULL
      );
      CREATE TABLE prekeys (
        kind TEXT NOT NULL CHECK (kind IN ('signed', 'one-time', 'kem')),
        id INTEGER NOT NULL,
        record BLOB NOT NULL,
        created_at INTEGER NOT NULL,
        last_resort INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (kind, id)
      );
      CREATE TABLE sessions (
        account_id TEXT NOT NULL,
        device_id INTEGER NOT NULL,
        record BLOB NOT NULL,
        PRIMARY KEY (account_id, device_id)
      );
      CREATE TABLE sender_keys (
        distribution_id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        device_id INTEGER NOT NULL,
        record BLOB NOT NULL,
        PRIMARY KEY (distribution_id, account_id, device_id)
      );
      CREATE TABLE contacts (
        account_id TEXT PRIMARY KEY,
        identity_key BLOB NOT NULL,
        display_name TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('accepted', 'request', 'blocked')),
        verified INTEGER NOT NULL,
        key_change_new_key BLOB,
        key_change_seen_at INTEGER,
        access_key BLOB,
        device_list BLOB,
        added_at INTEGER NOT NULL
      );
      CREATE INDEX contacts_by_added ON contacts (added_at, account_id);
      CREATE TABLE key_history (
        account_id TEXT NOT NULL REFERENCES contacts (account_id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        identity_key BLOB NOT NULL,
        seen_at INTEGER NOT NULL,
        PRIMARY KEY (account_id, seq)
      );
      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('direct', 'group')),
        title TEXT,
        last_message_at INTEGER NOT NULL,
        last_message_preview TEXT,
        unread INTEGER NOT NULL,
        muted INTEGER
      );
      CREATE INDEX conversations_recent ON conversations (last_message_at DESC, id);
      CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL,
        sender_account_id TEXT NOT NULL,
        sender_device_id INTEGER NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        sent_at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        body BLOB NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'delivered', 'read', 'failed')),
        edited_at INTEGER,
        deleted_at INTEGER
      );
      CREATE INDEX messages_by_conversation ON messages (conversation_id, sent_at, id);
      CREATE TABLE outbox (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        payload BLOB NOT NULL
      );
      CREATE INDEX outbox_due ON outbox (next_attempt_at, created_at, id);
      CREATE TABLE seen (
        id TEXT PRIMARY KEY,
        seen_at INTEGER NOT NULL
      );
      CREATE INDEX seen_by_time ON seen (seen_at);
      CREATE TABLE state (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
      );
    `,
  },
  {
    version: 2,
    description: 'disappearing messages: message expiry and a per-conversation timer',
    sql: `
      ALTER TABLE messages ADD COLUMN expires_at INTEGER;
      CREATE INDEX messages_by_expiry ON messages (expires_at, id) WHERE expires_at IS NOT NULL;
      ALTER TABLE conversations ADD COLUMN disappearing_seconds INTEGER;
    `,
  },
  {
    version: 3,
    description: 'per-conversation retention policy',
    sql: `
      ALTER TABLE conversations ADD COLUMN retention_mode TEXT;
      ALTER TABLE conversations ADD COLUMN retention_ttl_seconds INTEGER;
    `,
  },
  {
    version: 4,
    description: 'avatars on the profile and on contacts',
    sql: `
      ALTER TABLE profile ADD COLUMN avatar BLOB;
      ALTER TABLE profile ADD COLUMN avatar_mime TEXT;
      ALTER TABLE contacts ADD COLUMN avatar BLOB;
      ALTER TABLE contacts ADD COLUMN avatar_mime TEXT;
    `,
  },
];

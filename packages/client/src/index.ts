/**
 * `@vaultex/client`: the runtime-neutral entry point (Node and browsers). Node-only
 * adapters live in `@vaultex/client/node`, browser-only ones in `@vaultex/client/browser`.
 */

// Backups, history archive, retention and readable export (helper U).
export {
  ARCHIVE_KEY_BYTES,
  BACKUP_CODE_COUNT,
  type CodeKdfParams,
  DEFAULT_CODE_KDF,
  generateBackupCodes,
  normalizeBackupCode,
} from './archive-crypto.js';
export {
  ATTACHMENT_KEY_BYTES,
  ATTACHMENT_SEGMENT_BYTES,
  attachmentCiphertextSize,
  decryptAttachment,
  encryptAttachment,
} from './attachment-crypto.js';
export {
  AVATAR_MIME_TYPES,
  type Avatar,
  type AvatarMime,
  checkAvatar,
  hasAvatarSignature,
  MAX_AVATAR_BYTES,
} from './avatar.js';
// Client core (helper H): the facade, its events, content and code formats, transport.
export {
  type BackupApi,
  type ClientIdentity,
  type ClientInput,
  type DevicesApi,
  VaultexClient,
} from './client.js';
export {
  CONTACT_CODE_PREFIX,
  type ContactCode,
  encodeContactCode,
  parseContactCode,
} from './contact-code.js';
export {
  ANNOTATED_KIND,
  CONTENT_KIND,
  CONTENT_VERSION,
  type Content,
  type ContentKind,
  decodeContent,
  encodeContent,
  MAX_REACTION_LENGTH,
  MAX_TEXT_BYTES,
  MAX_TIMER_SECONDS,
  type Reaction,
  type SenderProfile,
  type SyncedContact,
} from './content.js';
export type { ClientDeps, ClientOptions } from './context.js';
export * from './errors.js';
export type {
  ClientEventHandler,
  ClientEventName,
  ClientEvents,
  DeviceInfo,
  GroupView,
  MessageView,
} from './events.js';
export {
  checkTransition,
  decodeGroupRecord,
  decodeGroupState,
  encodeGroupRecord,
  encodeGroupState,
  type GroupMember,
  type GroupRecord,
  type GroupState,
  MAX_GROUP_MEMBERS,
  MAX_GROUP_TITLE,
  signGroupState,
  verifyGroupState,
} from './group-state.js';
export { withStore } from './open-with-store.js';
export {
  createLinkRequest,
  LINK_CODE_PREFIX,
  type LinkCode,
  type LinkRequest,
  openProvisioning,
  type ProvisioningPayload,
  parseLinkCode,
  sealProvisioning,
} from './provisioning.js';
export type {
  ArchiveOptions,
  ArchivePushResult,
  ArchiveRestoreResult,
  ArchiveService,
  ArchiveStatus,
} from './services/archive.js';
export {
  type AttachmentPointer,
  type AttachmentService,
  MAX_THUMBNAIL_BYTES,
  type UploadOptions,
} from './services/attachments.js';
export type { BackupExportOptions } from './services/backup.js';
export type { ContactView, DiscoveredUser, SafetyNumberView } from './services/contacts.js';
export { type ApproveLinkOptions, LINK_WAIT_MS } from './services/devices.js';
export { type GroupJobOutcome, type GroupService, groupConversation } from './services/groups.js';
export type { MessagePage } from './services/messages.js';
export type { MaintenanceReport } from './services/prekeys.js';
export {
  type ConversationExport,
  type ExportedMessage,
  type ExportFormat,
  RETENTION_TTL_PRESETS,
  relayTtlSeconds,
} from './services/retention.js';
export { isRichContent, type RichContent, type RichService } from './services/rich.js';
export * from './storage/client-store.js';
export type { ConformanceMatchers, ConformanceOptions, ConformanceTestApi } from './storage/conformance.js';
export { runStoreConformance } from './storage/conformance.js';
export { openMemoryStore } from './storage/memory-store.js';
export { canAdvanceStatus } from './storage/message-status.js';
export type * from './storage/records.js';
export type { BackendDataOps, MaybePromise, StoreBackend } from './storage/store-backend.js';
export { createStore } from './storage/store-core.js';
export { MAX_RETENTION_TTL_SECONDS } from './storage/validate.js';
export { type BackoffOptions, backoffDelay, OUTBOX_BACKOFF, RECONNECT_BACKOFF } from './transport/backoff.js';
export { type FetchLike, type FetchResponse, isRelayError, RelayError } from './transport/http.js';
export type { ConnectionState, WebSocketConstructor, WebSocketLike } from './transport/socket.js';

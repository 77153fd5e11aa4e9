/**
 * `@vaultex/api`: the schemas and types of every HTTP body and WebSocket frame of the
 * VAULTEX relay, shared by the server and the client. docs/API.md is the contract.
 * Untrusted input is parsed with `safeParse`; byte fields are base64url in JSON
 * (`base64url`) and `bin` in MessagePack frames (`binary`).
 */
export * from './accounts.js';
export * from './archive.js';
export * from './attachments.js';
export * from './auth.js';
export * from './common.js';
export * from './discovery.js';
export * from './errors.js';
export * from './frames.js';
export * from './messages.js';
export * from './meta.js';
export * from './prekeys.js';
export * from './provisioning.js';
export * from './transparency.js';

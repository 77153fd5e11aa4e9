/**
 * `@vaultex/protocol/node`: the Node-only entry point. Everything in the main entry,
 * plus {@link nodeProvider}, the `node:crypto`-backed provider.
 */
export * from '../index.js';
export { nodeProvider } from './node-provider.js';

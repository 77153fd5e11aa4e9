/**
 * `@vaultex/cli` as a library: the program (to embed or test the `vaultex` command), the
 * error table, and the transport-agnostic JSON-RPC 2.0 engine of the daemon.
 */

export {
  JsonRpcEngine,
  method,
  notificationText,
  RPC_ERROR,
  RpcError,
  type RpcErrorObject,
  type RpcId,
  type RpcMethod,
  type RpcResponse,
} from './daemon/json-rpc.js';
export { createMethods, rpcError } from './daemon/methods.js';
export {
  CLI_ERROR_CODES,
  CliError,
  type CliErrorCode,
  describeError,
  EXIT,
  type ExitCode,
  type Problem,
} from './errors.js';
export { createProgram, run } from './program.js';
export { pickContact } from './resolve.js';

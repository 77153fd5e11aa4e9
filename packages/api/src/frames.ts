/**
 * WebSocket frames on `/ws`: binary MessagePack maps `{ t: 'type', ... }`, validated
 * after decoding. Text frames are refused. The first client frame is `auth` (a device:
 * receives its mailbox, may send) or `anonymous` (sealed sends only).
 */
import { Packr } from 'msgpackr';
import * as z from 'zod';
import { AccountId, binary, DeviceId, describeIssues, MAX_BLOB_BYTES, MessageId, Token } from './common.js';
import { ApiErrorDetail } from './errors.js';
import { fastClientFrame } from './frame-fast-path.js';
import { MAX_ACK_IDS, MessageSource, sendFields } from './messages.js';

const send = sendFields(binary);

/** Client -> server frames. */
export const ClientFrame = z.discriminatedUnion('t', [
  /** Authenticate as a device with a session token. Must be the first frame. */
  z.object({ t: z.literal('auth'), token: Token }),
  /** Open a connection that only sends sealed messages. Must be the first frame. */
  z.object({ t: z.literal('anonymous') }),
  /** A send; `rid` is echoed in the `sent` or `error` reply. With `accessKeys` it is a sealed send. */
  z.object({ t: z.literal('send'), rid: z.number().int().min(0).max(0xffff_ffff), ...send }),
  /** Acknowledge delivered messages: each target device deletes its copy. */
  z.object({ t: z.literal('ack'), ids: z.array(MessageId).min(1).max(MAX_ACK_IDS) }),
  /** Application keepalive; answered by `pong`. */
  z.object({ t: z.literal('ping') }),
  /** Close the session cleanly. */
  z.object({ t: z.literal('goodbye') }),
]);
export type ClientFrame = z.infer<typeof ClientFrame>;

/** Server -> client frames. */
export const ServerFrame = z.discriminatedUnion('t', [
  /** Authentication succeeded; pending messages follow. */
  z.object({ t: z.literal('auth_ok'), accountId: AccountId.optional(), deviceId: DeviceId.optional() }),
  /** A stored message for this device; acknowledge it by id. Redelivered until acknowledged. */
  z.object({
    t: z.literal('message'),
    id: MessageId,
    blob: binary({ min: 1, max: MAX_BLOB_BYTES }),
    source: MessageSource.optional(),
  }),
  /** Every message pending at connect time has been sent; new ones follow as they arrive. */
  z.object({ t: z.literal('queue_empty') }),
  /** An ephemeral message (typing, presence): not stored, not acknowledged. */
  z.object({
    t: z.literal('ephemeral'),
    blob: binary({ min: 1, max: MAX_BLOB_BYTES }),
    source: MessageSource.optional(),
  }),
  /** A send was stored durably (ids in request order). */
  z.object({ t: z.literal('sent'), rid: z.number().int().min(0), ids: z.array(MessageId) }),
  z.object({ t: z.literal('pong') }),
  /** A refusal. `rid` names the send it answers, `ids` the acknowledgements refused. */
  ApiErrorDetail.extend({
    t: z.literal('error'),
    rid: z.number().int().min(0).optional(),
    ids: z.array(MessageId).optional(),
  }),
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

/** WebSocket close codes used by the server. */
export const CLOSE_CODES = {
  /** `goodbye` received, or a normal close. */
  NORMAL: 1000,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** Repeated rate-limit violations or a protocol violation. */
  POLICY_VIOLATION: 1008,
  /** A frame exceeded the size limit. */
  TOO_LARGE: 1009,
  /** Authentication failed, timed out, or the device was removed. */
  UNAUTHORIZED: 4401,
  /** The same device connected again; this older connection is replaced. */
  REPLACED: 4409,
} as const;

// The same MessagePack options as @vaultex/protocol's wire codec: plain, portable maps.
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: false,
  bundleStrings: false,
  int64AsType: 'number',
  variableMapSize: true,
});

/** Encode a frame as MessagePack. */
export function encodeFrame(frame: ClientFrame | ServerFrame): Uint8Array {
  const out = packr.pack(frame);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The outcome of decoding untrusted frame bytes. */
export type FrameResult<T> = { readonly ok: true; readonly frame: T } | { readonly ok: false; readonly error: string };

function check<T>(value: unknown, schema: z.ZodType<T>): FrameResult<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, frame: parsed.data };
  return { ok: false, error: describeIssues(parsed.error) };
}

function decode<T>(bytes: Uint8Array, schema: z.ZodType<T>): FrameResult<T> {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch {
    return { ok: false, error: 'not valid MessagePack' };
  }
  return check(value, schema);
}

/**
 * Decode and validate a client frame; never throws. The relay's hot frames (`send`, `ack`)
 * go through a hand-written check that accepts exactly what the schema accepts; everything
 * else, and every refusal, through the schema.
 */
export function decodeClientFrame(bytes: Uint8Array): FrameResult<ClientFrame> {
  let value: unknown;
  try {
    value = packr.unpack(bytes);
  } catch {
    return { ok: false, error: 'not valid MessagePack' };
  }
  const fast = fastClientFrame(value);
  if (fast !== undefined) return { ok: true, frame: fast };
  return check(value, ClientFrame);
}

/** Decode and validate a server frame; never throws. */
export function decodeServerFrame(bytes: Uint8Array): FrameResult<ServerFrame> {
  return decode(bytes, ServerFrame);
}

/**
 * The mailbox. A send stores each blob once with its list of target devices; each
 * device receives it (WebSocket or inbox) and acknowledges it by id; the blob is deleted
 * when no target is left or when it expires. The same shapes serve HTTP (blobs as
 * base64url) and WebSocket frames (blobs as MessagePack `bin`), built from one factory.
 */
import * as z from 'zod';
import {
  ACCESS_KEY_BYTES,
  AccountId,
  type ByteLength,
  base64url,
  DeviceId,
  MAX_BLOB_BYTES,
  MessageId,
} from './common.js';

/** Most blobs in one send. */
export const MAX_MESSAGES_PER_SEND = 256;
/** Most (account, device) targets summed over all blobs of one send. */
export const MAX_TARGETS_PER_SEND = 1024;
/** Most ids in one acknowledgement frame. */
export const MAX_ACK_IDS = 256;
/** Longest time-to-live a sender can ask for; servers cap it lower (30 days by default). */
export const MAX_TTL_SECONDS = 366 * 24 * 3600;

/** The devices of one account that a blob goes to. */
export const MessageTarget = z.object({
  accountId: AccountId,
  deviceIds: z.array(DeviceId).min(1).max(64),
});
export type MessageTarget = z.infer<typeof MessageTarget>;

/** Who sent an authenticated (not sealed) message. Sealed messages carry no source. */
export const MessageSource = z.object({ accountId: AccountId, deviceId: DeviceId });
export type MessageSource = z.infer<typeof MessageSource>;

type BytesSchema = (length: ByteLength) => z.ZodType<Uint8Array, unknown>;

/**
 * The fields of a send, with blobs and access keys in the given byte codec. Sealed sends
 * add `accessKeys`: one per distinct target account.
 */
export function sendFields<B extends BytesSchema>(bytes: B) {
  const blob = bytes({ min: 1, max: MAX_BLOB_BYTES }) as ReturnType<B>;
  return {
    messages: z
      .array(z.object({ blob, targets: z.array(MessageTarget).min(1).max(MAX_TARGETS_PER_SEND) }))
      .min(1)
      .max(MAX_MESSAGES_PER_SEND)
      .superRefine((messages, ctx) => {
        const total = messages.reduce((n, m) => n + m.targets.reduce((k, t) => k + t.deviceIds.length, 0), 0);
        if (total > MAX_TARGETS_PER_SEND) {
          ctx.addIssue({ code: 'custom', message: `at most ${MAX_TARGETS_PER_SEND} targets in one send` });
        }
      }),
    /** Seconds the server keeps the blobs for devices that have not acknowledged them (default and cap: server policy). */
    ttlSeconds: z.number().int().min(1).max(MAX_TTL_SECONDS).optional(),
    /** Typing, presence and the like: delivered only to connected devices, never stored. */
    ephemeral: z.boolean().optional(),
    accessKeys: z
      .array(z.object({ accountId: AccountId, accessKey: bytes(ACCESS_KEY_BYTES) as ReturnType<B> }))
      .min(1)
      .max(MAX_TARGETS_PER_SEND)
      .optional(),
  };
}

const httpSend = sendFields(base64url);

/** `POST /messages` body: an authenticated send (bearer token). */
export const SendRequest = z.object({
  messages: httpSend.messages,
  ttlSeconds: httpSend.ttlSeconds,
  ephemeral: httpSend.ephemeral,
});
export type SendRequest = z.output<typeof SendRequest>;

/** `POST /messages/sealed` body: no sender authentication; each target account's access key instead. */
export const SealedSendRequest = SendRequest.extend({ accessKeys: httpSend.accessKeys.unwrap() });
export type SealedSendRequest = z.output<typeof SealedSendRequest>;

/** Response to a send: one stable id per blob, in request order (empty for ephemeral sends). */
export const SendResponse = z.object({ ids: z.array(MessageId) });
export type SendResponse = z.output<typeof SendResponse>;

/** A pending message as `GET /messages/inbox` returns it. */
export const InboxMessage = z.object({
  id: MessageId,
  blob: base64url({ min: 1, max: MAX_BLOB_BYTES }),
  source: MessageSource.optional(),
});
export type InboxMessage = z.output<typeof InboxMessage>;

/** `GET /messages/inbox` query. */
export const InboxQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).optional() });
export type InboxQuery = z.output<typeof InboxQuery>;

/** `GET /messages/inbox` response: the oldest pending messages of this device, in order. */
export const InboxResponse = z.object({ messages: z.array(InboxMessage), more: z.boolean() });
export type InboxResponse = z.output<typeof InboxResponse>;

/** Path parameter naming a message. */
export const MessageParams = z.object({ id: MessageId });
export type MessageParams = z.output<typeof MessageParams>;

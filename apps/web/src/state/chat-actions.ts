/**
 * Chat actions beyond plain texts: groups, replies, reactions, edits, deletes, the
 * disappearing timer and attachments. Their UI-only state (groups, the reply being written,
 * the upload in progress) lives in a small store of its own so the shared store stays lean.
 */
import type { GroupView, MessageView, VaultexClient } from '@vaultex/client/browser';
import { create } from 'zustand';
import { humanError } from '../lib/errors.js';
import { refresh, select } from './session.js';
import { useApp } from './store.js';

/** An upload in progress (ciphertext bytes, from 'attachment-progress'). */
export interface UploadProgress {
  readonly name: string;
  readonly sent: number;
  readonly total: number;
}

/** State of the chat features. */
export interface ChatState {
  /** Our groups (including ones we left), by conversation id `g:<groupId>`. */
  groups: Record<string, GroupView>;
  /** Who wrote the newest message of each group conversation (for the list preview). */
  lastSender: Record<string, string>;
  /** The message the composer replies to. */
  replyTo: MessageView | undefined;
  upload: UploadProgress | undefined;
}

/** The chat store hook. */
export const useChat = create<ChatState>(() => ({
  groups: {},
  lastSender: {},
  replyTo: undefined,
  upload: undefined,
}));

/** Disappearing-message timer choices, in seconds (0: off). */
export const TIMER_CHOICES: readonly { readonly seconds: number; readonly label: string }[] = [
  { seconds: 0, label: 'Off' },
  { seconds: 30, label: '30 seconds' },
  { seconds: 300, label: '5 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '1 day' },
  { seconds: 604_800, label: '1 week' },
];

/** The reactions offered by the picker. */
export const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🙏'] as const;

/** The conversation id of a selection: `g:<groupId>` stays, an account id becomes `d:<id>`. */
export function conversationOf(selected: string): string {
  return selected.startsWith('g:') ? selected : `d:${selected}`;
}

/** Whether a selection is a group conversation. */
export function isGroupSelection(selected: string | undefined): selected is string {
  return selected?.startsWith('g:') ?? false;
}

const setChat = useChat.setState;
const getApp = useApp.getState;
/** Messages that expired or vanished: a refresh that raced their removal must not bring them back. */
const gone = new Set<string>();

function notice(e: unknown): void {
  useApp.setState({ notice: humanError(e) });
}

// Locked or wiped: forget group titles, the reply draft and the upload along with the client.
useApp.subscribe((state, previous) => {
  if (previous.client && !state.client) {
    useChat.setState({ groups: {}, lastSender: {}, replyTo: undefined, upload: undefined });
    gone.clear();
  }
});

/** Drop vanished messages from the open conversation. */
function prune(): void {
  const { messages } = getApp();
  if (messages.some((m) => gone.has(m.id))) useApp.setState({ messages: messages.filter((m) => !gone.has(m.id)) });
}

/** Reload the groups and who wrote their newest message. */
export async function refreshGroups(): Promise<void> {
  const client = getApp().client;
  if (!client) return;
  const list = await client.groups.list();
  const groups: Record<string, GroupView> = {};
  const lastSender: Record<string, string> = {};
  await Promise.all(
    list.map(async (g) => {
      groups[g.conversationId] = g;
      const [newest] = await client.messages.list(g.conversationId, { limit: 1 });
      if (newest) lastSender[g.conversationId] = newest.senderAccountId;
    }),
  );
  setChat({ groups, lastSender });
}

/** Wire the chat events of a freshly attached client (called once from session.ts). */
export function wireChat(client: VaultexClient): void {
  const again = () => {
    void refresh()
      .then(prune)
      .catch((e: unknown) => notice(e));
    void refreshGroups().catch(() => undefined);
  };
  client.on('message', ({ message }) => {
    if (message.conversationId.startsWith('g:')) void refreshGroups().catch(() => undefined);
  });
  client.on('message-updated', ({ id, conversationId, message }) => {
    const { selected, messages } = getApp();
    if (!message) gone.add(id);
    if (selected && conversationOf(selected) === conversationId) {
      useApp.setState({
        messages: message ? messages.map((m) => (m.id === id ? message : m)) : messages.filter((m) => m.id !== id),
      });
    }
    again();
  });
  client.on('timer-changed', again);
  client.on('group-updated', again);
  client.on('attachment-progress', ({ direction, sent, total }) => {
    const upload = useChat.getState().upload;
    if (direction === 'upload' && upload) setChat({ upload: { ...upload, sent, total } });
  });
  void refreshGroups().catch(() => undefined);
}

/** Send a text to the open conversation (a group or a contact), as a reply when one is set. */
export async function sendText(text: string): Promise<void> {
  const { client, selected } = getApp();
  if (!client || !selected || !text.trim()) return;
  const replyTo = useChat.getState().replyTo?.id;
  setChat({ replyTo: undefined });
  try {
    if (isGroupSelection(selected)) {
      await client.groups.send(selected.slice(2), text, replyTo ? { replyTo } : {});
    } else {
      await client.messages.send(selected, text, replyTo ? { replyTo } : {});
    }
    await refresh();
  } catch (e) {
    notice(e);
  }
}

async function onMessage(work: (client: VaultexClient, conversationId: string) => Promise<void>): Promise<void> {
  const { client, selected } = getApp();
  if (!client || !selected) return;
  try {
    await work(client, conversationOf(selected));
    await refresh();
  } catch (e) {
    notice(e);
  }
}

/** Replace the text of one of our messages. */
export function editMessage(id: string, text: string): Promise<void> {
  return onMessage((c, conv) => c.messages.edit(conv, id, text));
}

/** Delete one of our messages for everyone. */
export function deleteMessage(id: string): Promise<void> {
  return onMessage((c, conv) => c.messages.delete(conv, id));
}

/** React to a message; '' removes our reaction. */
export function react(id: string, emoji: string): Promise<void> {
  return onMessage((c, conv) => c.messages.react(conv, id, emoji));
}

/** Set the open conversation's disappearing timer (0: off). */
export function setTimer(seconds: number): Promise<void> {
  return onMessage((c, conv) => c.messages.setTimer(conv, seconds));
}

/** Run a group action; returns an error message or undefined. */
async function groupAction(work: (client: VaultexClient) => Promise<unknown>): Promise<string | undefined> {
  const client = getApp().client;
  if (!client) return 'Not signed in.';
  try {
    await work(client);
    await Promise.all([refresh(), refreshGroups()]);
    return undefined;
  } catch (e) {
    return humanError(e);
  }
}

/** Create a group with us as admin and open it; returns an error message or undefined. */
export async function createGroup(title: string, memberIds: readonly string[]): Promise<string | undefined> {
  let created: GroupView | undefined;
  const error = await groupAction(async (c) => {
    created = await c.groups.create(title.trim(), memberIds);
  });
  if (!error && created) {
    useApp.setState({ panel: 'none' });
    await select(created.conversationId);
  }
  return error;
}

/** Rename a group (admins). */
export function renameGroup(groupId: string, title: string): Promise<string | undefined> {
  return groupAction((c) => c.groups.rename(groupId, title.trim()));
}

/** Add contacts to a group (admins). */
export function addMembers(groupId: string, accountIds: readonly string[]): Promise<string | undefined> {
  return groupAction((c) => c.groups.add(groupId, accountIds));
}

/** Remove a member (admins). */
export function removeMember(groupId: string, accountId: string): Promise<string | undefined> {
  return groupAction((c) => c.groups.remove(groupId, accountId));
}

/** Leave a group. */
export function leaveGroup(groupId: string): Promise<string | undefined> {
  return groupAction((c) => c.groups.leave(groupId));
}

/** Longest side of a thumbnail, in CSS pixels, and its byte budget (the client's limit). */
const THUMB_SIDE = 320;
const THUMB_BYTES = 16 * 1024;

function canvasBlob(canvas: HTMLCanvasElement, type: string, quality: number): Promise<Blob | null> {
  return new Promise((resolve) => canvas.toBlob(resolve, type, quality));
}

/**
 * A small preview of an image (WebP, else JPEG) of at most 16 KiB, made in the browser;
 * undefined when the browser cannot decode the file.
 */
export async function makeThumbnail(file: Blob): Promise<Uint8Array | undefined> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return undefined;
  }
  try {
    let side = THUMB_SIDE;
    for (let round = 0; round < 4; round++, side = Math.round(side * 0.6)) {
      const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
      const canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      for (const quality of [0.7, 0.5, 0.3]) {
        let blob = await canvasBlob(canvas, 'image/webp', quality);
        // Browsers without a WebP encoder fall back to PNG: take JPEG instead.
        if (blob && blob.type !== 'image/webp') blob = await canvasBlob(canvas, 'image/jpeg', quality);
        if (blob && blob.size <= THUMB_BYTES) return new Uint8Array(await blob.arrayBuffer());
      }
    }
    return undefined;
  } finally {
    bitmap.close();
  }
}

/** The media type of a thumbnail, from its magic bytes. */
export function thumbnailType(bytes: Uint8Array): string {
  const riff = bytes[0] === 0x52 && bytes[1] === 0x49 && bytes[8] === 0x57 && bytes[9] === 0x45;
  return riff ? 'image/webp' : bytes[0] === 0x89 ? 'image/png' : 'image/jpeg';
}

/** Upload files (picked or dropped) and send each to the open conversation, one after the other. */
export async function sendFiles(files: readonly File[]): Promise<void> {
  const { client, selected } = getApp();
  if (!client || !selected) return;
  for (const file of files) {
    setChat({ upload: { name: file.name, sent: 0, total: file.size } });
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const thumbnail = file.type.startsWith('image/') ? await makeThumbnail(file) : undefined;
      const pointer = await client.attachments.upload(bytes, {
        name: file.name.slice(0, 255),
        mime: (file.type || 'application/octet-stream').slice(0, 127),
        ...(thumbnail ? { thumbnail } : {}),
      });
      if (isGroupSelection(selected)) {
        await client.groups.sendAttachment(selected.slice(2), pointer);
      } else {
        await client.messages.sendAttachment(selected, pointer);
      }
      await refresh();
    } catch (e) {
      notice(e);
      return;
    } finally {
      setChat({ upload: undefined });
    }
  }
}

/** Download and verify a message's file; the bytes as a Blob of its media type. */
export async function downloadAttachment(message: MessageView): Promise<Blob> {
  const client = getApp().client;
  if (!client) throw new Error('not signed in');
  const pointer = await client.attachments.pointerOf(message.id);
  const bytes = await client.attachments.download(pointer);
  return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: message.attachment?.mime ?? pointer.mime });
}

/** Save a Blob as a file through a temporary download link. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name || 'attachment';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has started from the URL by now; keep it a little in case it has not.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * Files: `send <contact> --file <path>` uploads through {@link uploadFile} (a progress bar on
 * a terminal's stderr), and `attachment get <messageId> <outPath>` downloads, verifies and
 * writes a received (or sent) file. An interrupted upload resumes when the same command is
 * run again with the same file.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { AttachmentPointer, VaultexClient } from '@vaultex/client';
import type { Command } from 'commander';
import { type CommandEnv, envOf, type RunState, withClient } from '../command-env.js';
import { CliError } from '../errors.js';

const MIME: Record<string, string> = {
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.pdf': 'application/pdf',
  '.txt': 'text/plain',
  '.mp4': 'video/mp4',
  '.mp3': 'audio/mpeg',
  '.zip': 'application/zip',
};

/** A media type from a file name (application/octet-stream when unknown). */
export function mimeOf(path: string): string {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

function megabytes(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

/** Draws `[#####-----]  50%  5.0/10.0 MB` on stderr when it is a terminal and the output is not JSON. */
function progressBar(env: CommandEnv, client: VaultexClient, label: string): () => void {
  if (env.out.json || !process.stderr.isTTY) return () => undefined;
  let last = -1;
  const off = client.on('attachment-progress', ({ sent, total }) => {
    const pct = total === 0 ? 100 : Math.floor((sent / total) * 100);
    if (pct === last) return;
    last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
    process.stderr.write(`\r${label} [${bar}] ${String(pct).padStart(3)}%  ${megabytes(sent)}/${megabytes(total)}`);
  });
  return () => {
    off();
    if (last >= 0) process.stderr.write('\n');
  };
}

/** An uploaded file and where the upload started (more than 0 when it resumed an earlier one). */
export interface UploadedFile {
  readonly pointer: AttachmentPointer;
  /** Ciphertext bytes the relay already held from an interrupted upload. */
  readonly resumedFrom: number;
}

/**
 * Read a file and upload it encrypted (resuming an earlier interrupted upload of it).
 * @throws CliError USAGE when the file cannot be read; ClientError ATTACHMENT_TOO_LARGE, NETWORK_ERROR.
 */
export async function uploadFile(env: CommandEnv, client: VaultexClient, path: string): Promise<UploadedFile> {
  let data: Uint8Array;
  try {
    if (!(await stat(path)).isFile()) throw new Error('not a file');
    data = new Uint8Array(await readFile(path));
  } catch {
    throw new CliError('USAGE', `Cannot read '${path}': give the path of a readable file.`);
  }
  let resumedFrom: number | undefined;
  const offFirst = client.on('attachment-progress', ({ sent }) => {
    if (resumedFrom !== undefined) return;
    resumedFrom = sent;
    if (sent > 0) env.out.note(`Resuming an interrupted upload at ${megabytes(sent)}.`);
  });
  const done = progressBar(env, client, 'upload');
  try {
    const pointer = await client.attachments.upload(data, { name: basename(path), mime: mimeOf(path) });
    return { pointer, resumedFrom: resumedFrom ?? 0 };
  } finally {
    offFirst();
    done();
  }
}

/**
 * Download, verify and write the file of a message.
 * @throws ClientError NOT_FOUND, ATTACHMENT_CORRUPT; CliError USAGE when the path exists (without force).
 */
export async function downloadTo(
  env: CommandEnv,
  client: VaultexClient,
  messageId: string,
  outPath: string,
  force: boolean,
): Promise<AttachmentPointer> {
  const pointer = await client.attachments.pointerOf(messageId);
  const done = progressBar(env, client, 'download');
  let data: Uint8Array;
  try {
    data = await client.attachments.download(pointer);
  } finally {
    done();
  }
  try {
    await writeFile(outPath, data, { flag: force ? 'w' : 'wx' });
  } catch (e) {
    const exists = (e as { code?: string }).code === 'EEXIST';
    throw new CliError(
      'USAGE',
      exists ? `'${outPath}' exists: choose another path or add --force.` : `Cannot write '${outPath}'.`,
    );
  }
  return pointer;
}

/** Register `attachment get`. */
export function registerAttachments(program: Command, state: RunState): void {
  const attachment = program.command('attachment').summary('files received or sent in messages');
  attachment
    .command('get')
    .summary('download, verify and save the file of a message')
    .description(
      'Download the file a message carries, check it (every encrypted segment and the whole ' +
        "file's hash) and write it to <outPath>. Nothing is written when a check fails.",
    )
    .argument('<messageId>', 'the 32 hex digits `messages --json` prints')
    .argument('<outPath>', 'where to write the file')
    .option('--force', 'overwrite <outPath> if it exists')
    .action(async (id: string, outPath: string, opts: { force?: boolean }, cmd: Command) => {
      const env = envOf(cmd, state);
      const messageId = id.toLowerCase();
      if (!/^[0-9a-f]{32}$/u.test(messageId)) {
        throw new CliError('USAGE', `Invalid message id '${id}': give the 32 hex digits \`messages --json\` prints.`);
      }
      await withClient(env, async (client) => {
        const p = await downloadTo(env, client, messageId, outPath, opts.force === true);
        env.out.result(`Saved ${p.name || 'the file'} (${p.size} bytes) to ${outPath}.`, {
          id: messageId,
          path: outPath,
          name: p.name,
          mime: p.mime,
          size: p.size,
        });
      });
    });
}

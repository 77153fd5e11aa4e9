/**
 * Encrypted backup files: export from the settings (downloads `vaultex-backup-<date>.vxbk`),
 * and the file chosen on the restore screen, kept here until the PIN step imports it.
 */
import { humanError } from '../lib/errors.js';
import { useApp } from './store.js';

/** The backup chosen on the restore screen, imported by the PIN step (session.ts). */
export let pendingBackup: { readonly bytes: Uint8Array; readonly password: string } | undefined;

/** Remember (or forget) the backup file and its password until the PIN is chosen. */
export function chooseBackup(backup: { bytes: Uint8Array; password: string } | undefined): void {
  pendingBackup = backup;
}

/** A human message for a failed backup import or export. */
export function backupError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'BACKUP_DECRYPTION_FAILED') return 'Wrong backup password, or the file is damaged.';
  if (code === 'BACKUP_INVALID') return 'That file is not a VAULTEX backup.';
  return humanError(error);
}

/** `vaultex-backup-2026-11-21.vxbk` (local date). */
export function backupFileName(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `vaultex-backup-${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}.vxbk`;
}

/**
 * Export the whole profile encrypted under `password` and download it. Returns an error
 * message or undefined.
 */
export async function exportBackup(password: string): Promise<string | undefined> {
  const client = useApp.getState().client;
  if (!client) return 'Not signed in.';
  try {
    // Let the busy state paint: the backup's Argon2id runs on this thread.
    await new Promise((r) => setTimeout(r, 30));
    const bytes = await client.backup.export(password);
    const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = backupFileName();
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    return undefined;
  } catch (e) {
    return backupError(e);
  }
}

/**
 * Counts the SQLCipher transaction commits of this process and the time they block the
 * thread. With WAL and synchronous=FULL a commit waits for an fsync, which better-sqlite3
 * does on the main thread, so this is where a durable client spends most of its wall time.
 * The meter wraps `Database.prototype.exec` (the store's BEGIN / COMMIT go through it) in
 * the benchmark process only; the library is not changed.
 */
import Database from 'better-sqlite3-multiple-ciphers';

/** Commits so far and the milliseconds spent in them. */
export interface CommitCount {
  readonly commits: number;
  readonly ms: number;
}

let commits = 0;
let commitMs = 0;
let installed = false;

/** Starts counting (idempotent). */
export function installCommitMeter(): void {
  if (installed) return;
  installed = true;
  const proto = Database.prototype as { exec(this: Database.Database, sql: string): Database.Database };
  const exec = proto.exec;
  proto.exec = function meteredExec(this: Database.Database, sql: string): Database.Database {
    if (sql !== 'COMMIT') return exec.call(this, sql);
    const start = performance.now();
    try {
      return exec.call(this, sql);
    } finally {
      commits++;
      commitMs += performance.now() - start;
    }
  };
}

/** The counts now; subtract two readings to get a phase's. */
export function readCommits(): CommitCount {
  return { commits, ms: commitMs };
}

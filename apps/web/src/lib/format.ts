/** Display helpers: times, day separators, initials. */

const pad = (n: number) => String(n).padStart(2, '0');

/** `14:05`. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Midnight of the day of `ms` (local time). */
export function dayKey(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** `Today`, `Yesterday` or a date. */
export function dayLabel(ms: number, now = Date.now()): string {
  const diff = Math.round((dayKey(now) - dayKey(ms)) / 86_400_000);
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return new Date(ms).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

/** The time shown in the conversation list: the clock today, else the date. */
export function listTime(ms: number, now = Date.now()): string {
  return dayKey(ms) === dayKey(now) ? clockTime(ms) : dayLabel(ms, now);
}

/** One or two letters for an avatar. */
export function initials(name: string): string {
  const parts = name.trim().split(/\s+/u).filter(Boolean);
  if (parts.length === 0) return '?';
  return parts
    .slice(0, 2)
    .map((p) => p[0]!.toUpperCase())
    .join('');
}

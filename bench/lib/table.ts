/** Markdown tables that also read well in a terminal (columns padded to equal width). */

/** Column alignment: text left, numbers right. */
export type Align = 'left' | 'right';

/**
 * Renders a Markdown pipe table with padded columns.
 * @throws Error if a row has a different number of cells than the header.
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  align?: readonly Align[],
): string {
  for (const row of rows) {
    if (row.length !== header.length) throw new Error('table row and header differ in length');
  }
  const widths = header.map((h, c) => Math.max(3, h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const cell = (text: string, c: number): string =>
    align?.[c] === 'right' ? text.padStart(widths[c] ?? 0) : text.padEnd(widths[c] ?? 0);
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(' | ')} |`;
  const rule = line(widths.map((w, c) => (align?.[c] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))));
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** A rate with a sensible number of significant digits: 12345, 1234, 123.4, 12.34, 1.234. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1000) return Math.round(perSecond).toString();
  if (perSecond >= 100) return perSecond.toFixed(1);
  if (perSecond >= 10) return perSecond.toFixed(2);
  return perSecond.toFixed(3);
}

/** A ratio such as `2.41x`. */
export function formatRatio(ratio: number): string {
  return ratio >= 100 ? `${Math.round(ratio)}x` : `${ratio.toFixed(2)}x`;
}

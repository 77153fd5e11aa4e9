/**
 * What commands print: text for people, or one JSON object per line (`--json`) for
 * programs. Results go to stdout; notes, warnings and prompts to stderr, so that a pipe
 * gets only the result.
 */
/** Where a command prints. */
export class Output {
  constructor(readonly json: boolean) {}

  /** Print a result: `human` as text, or `data` as one JSON line. */
  result(human: string | (() => string), data: unknown): void {
    if (this.json) this.jsonLine(data);
    else process.stdout.write(`${typeof human === 'string' ? human : human()}\n`);
  }

  /** Print one JSON line whatever the mode. */
  jsonLine(data: unknown): void {
    process.stdout.write(`${JSON.stringify(data)}\n`);
  }

  /** Print text whatever the mode (e.g. a seed phrase the user must see). */
  text(line: string): void {
    process.stdout.write(`${line}\n`);
  }

  /** A note for people (stderr; silent in JSON mode). */
  note(line: string): void {
    if (!this.json) process.stderr.write(`${line}\n`);
  }

  /** A warning (stderr, in every mode). */
  warn(line: string): void {
    process.stderr.write(`vaultex: ${line}\n`);
  }
}

/** A QR code of `text` drawn with block characters, two rows per line. */
export async function terminalQr(text: string): Promise<string> {
  const { default: QRCode } = await import('qrcode');
  return QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
}

/** `12:34:56` of a timestamp, local time. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/** `2025-01-31 12:34:56` of a timestamp, local time. */
export function dateTime(ms: number): string {
  const d = new Date(ms);
  const date = [d.getFullYear(), d.getMonth() + 1, d.getDate()].map((n) => String(n).padStart(2, '0')).join('-');
  return `${date} ${clock(ms)}`;
}

/** Rows of a table, padded to column widths. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
  }
  return rows
    .map((row) =>
      row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat(widths[i]! - [...cell].length))).join('  '),
    )
    .join('\n');
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as protocol from '@vaultex/protocol';
import * as protocolNode from '@vaultex/protocol/node';
import { describe, expect, it } from 'vitest';

const { PROTOCOL_ERROR_CODES, ProtocolError } = protocol;
const registry = Object.keys(PROTOCOL_ERROR_CODES);

// The errors section of the specification: from its heading to the next "## " heading.
const spec = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'PROTOCOL.md'), 'utf8');
const start = spec.search(/^## \d+\. Errors$/mu);
const rest = start < 0 ? '' : spec.slice(start);
const next = rest.slice(3).search(/^## /mu);
const section = next < 0 ? rest : rest.slice(0, next + 3);

/** Table rows of the section as cells, header and separator rows excluded. */
const rows = section
  .split('\n')
  .filter((line) => line.startsWith('|') && !/^\|[-| ]+\|$/u.test(line))
  .map((line) =>
    line
      .slice(1, -1)
      .split(/(?<!\\)\|/u)
      .map((cell) => cell.trim()),
  )
  .slice(1);
const documented = rows.map((cells) => /`([A-Z][A-Z0-9_]*)`/u.exec(cells[0] ?? '')?.[1]);

/** Every exported class that is ProtocolError or extends it, from both entry points. */
type ErrorClass = new (...args: never[]) => protocol.ProtocolError;
const exported: unknown[] = [...new Set([...Object.values(protocol), ...Object.values(protocolNode)])];
const errorClasses = exported.filter(
  (value): value is ErrorClass =>
    typeof value === 'function' && (value === ProtocolError || value.prototype instanceof ProtocolError),
);

/** An instance built with placeholder arguments (constructors take a message, a count or an id). */
function instance(cls: ErrorClass): protocol.ProtocolError {
  const make = cls as unknown as new (...args: unknown[]) => protocol.ProtocolError;
  return cls === ProtocolError ? new make('INVALID_ARGUMENT', 'placeholder') : new make('placeholder', 1);
}

describe('error codes are documented', () => {
  it('docs/PROTOCOL.md has an errors section with a code | meaning | typical cause table', () => {
    expect(start).toBeGreaterThanOrEqual(0);
    expect(section).toMatch(/^\|\s*code\s*\|\s*meaning\s*\|\s*typical cause\s*\|$/mu);
    expect(rows.length).toBeGreaterThan(0);
  });

  it.each(registry)('%s has a row with a meaning and a typical cause', (code) => {
    const row = rows[documented.indexOf(code)];
    expect(row, `add a row for ${code} to the errors section of docs/PROTOCOL.md`).toBeDefined();
    expect(row).toHaveLength(3);
    for (const cell of row!) expect(cell.length).toBeGreaterThan(10);
  });

  it('documents no code that is not in the registry, and none twice', () => {
    expect(documented.filter((code) => code === undefined || !registry.includes(code))).toEqual([]);
    expect(new Set(documented).size).toBe(documented.length);
  });

  it('every registry entry has its one-sentence documentation', () => {
    for (const [code, doc] of Object.entries(PROTOCOL_ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/u);
      expect(doc, code).toMatch(/^[A-Z].{10,}\.$/u);
    }
  });
});

describe('error classes', () => {
  it('finds the exported error classes', () => {
    expect(errorClasses).toContain(ProtocolError);
    expect(errorClasses).toContain(protocol.BackupDecryptionError);
    expect(errorClasses.length).toBeGreaterThan(registry.length);
  });

  it.each(errorClasses.filter((c) => c !== ProtocolError).map((c) => [c.name, c] as const))(
    '%s has a registered code and its own name',
    (name, cls) => {
      const error = instance(cls);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toBeInstanceOf(Error);
      expect(registry).toContain(error.code);
      expect(error.name).toBe(name);
      expect(protocol.isProtocolError(error, error.code)).toBe(true);
    },
  );

  it('every code has exactly one subclass', () => {
    const codes = errorClasses.filter((c) => c !== ProtocolError).map((c) => instance(c).code);
    expect([...codes].sort()).toEqual([...registry].sort());
  });
});

/**
 * docs/API.md is the contract: every error code of the registry (with its status and
 * sentence), every HTTP route the server registers, every frame type and every limit
 * must be documented there.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_ERROR_CODES, ClientFrame, ServerFrame } from '@vaultex/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/index.js';
import { startTestServer, type TestServer } from './support.js';

// Runs of spaces collapsed: the formatter aligns table columns.
const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'API.md'), 'utf8').replace(/ {2,}/gu, ' ');
let t: TestServer;

beforeAll(async () => {
  t = await startTestServer({ logLevel: 'silent' });
});
afterAll(async () => {
  await t?.close();
});

describe('docs/API.md', () => {
  it.each(Object.entries(API_ERROR_CODES))(
    'documents error code %s with its status and sentence',
    (code, { status, doc: text }) => {
      expect(doc).toContain(`| \`${code}\` | ${status} | ${text} |`);
    },
  );

  it('documents every HTTP route the server registers', () => {
    expect(t.server.routes.length).toBeGreaterThan(20);
    for (const route of t.server.routes) expect(doc, route).toContain(`\`${route}\``);
  });

  it('documents every frame type', () => {
    const types = (union: typeof ClientFrame | typeof ServerFrame) =>
      union.options.map((o) => (o.shape.t as unknown as { value: string }).value);
    for (const t of [...types(ClientFrame), ...types(ServerFrame)]) expect(doc).toContain(`| \`${t}\` |`);
  });

  it('documents every limit with its default', () => {
    for (const [name, value] of Object.entries(parseConfig().limits)) {
      expect(doc).toMatch(new RegExp(`\\| \`${name}\` \\| ${value} \\|`, 'u'));
    }
  });
});

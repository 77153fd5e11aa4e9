/**
 * Runs the client's storage conformance suite against the real IndexedDB of the browser
 * this page is loaded in, with a minimal describe/it/expect, and publishes the results
 * on `globalThis.__conformance` for the driving test.
 */
import { type ClientStore, openIndexedDbStore, runStoreConformance } from '@vaultex/client/browser';

/** One test's outcome. */
export interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

const cases: { name: string; body: () => Promise<void> }[] = [];
const path: string[] = [];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype;
}

/** Deep equality as Vitest's toEqual: properties holding undefined count as absent. */
function equal(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    if (a.constructor !== b.constructor) return false;
    const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => equal(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!equal(a[k], b[k])) return false;
    return true;
  }
  return false;
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (ArrayBuffer.isView(x) ? `bytes(${x.byteLength})` : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

function expect(actual: unknown) {
  const fail = (what: string, expected: unknown) => {
    throw new Error(`expected ${show(actual)} ${what} ${show(expected)}`);
  };
  return {
    toBe: (e: unknown) => (Object.is(actual, e) ? undefined : fail('to be', e)),
    toEqual: (e: unknown) => (equal(actual, e) ? undefined : fail('to equal', e)),
    toBeUndefined: () => (actual === undefined ? undefined : fail('to be', undefined)),
    toBeGreaterThan: (e: number) => ((actual as number) > e ? undefined : fail('to be greater than', e)),
    not: {
      toBe: (e: unknown) => (!Object.is(actual, e) ? undefined : fail('not to be', e)),
      toEqual: (e: unknown) => (!equal(actual, e) ? undefined : fail('not to equal', e)),
    },
  };
}

const TINY = { t: 1, m: 64, p: 1 };
const names = new WeakMap<ClientStore, string>();
let count = 0;
const run = `${Date.now()}`;

async function open(name: string): Promise<ClientStore> {
  const store = await openIndexedDbStore({ name, passphrase: 'correct horse', argon2: TINY });
  names.set(store, name);
  return store;
}

runStoreConformance(
  'indexeddb (browser)',
  () => open(`conformance-${run}-${++count}`),
  {
    describe(name, body) {
      path.push(name);
      try {
        body();
      } finally {
        path.pop();
      }
    },
    it(name, body) {
      cases.push({ name: [...path, name].join(' > '), body });
    },
    expect,
  },
  { reopen: (store) => open(names.get(store)!) },
);

async function main(): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of cases) {
    try {
      await c.body();
      results.push({ name: c.name, ok: true });
    } catch (e) {
      results.push({ name: c.name, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    }
  }
  return results;
}

const g = globalThis as { __conformance?: CaseResult[] };
void main().then((results) => {
  g.__conformance = results;
  const out = document.getElementById('out');
  if (out) out.textContent = `${results.filter((r) => r.ok).length}/${results.length} passed`;
});

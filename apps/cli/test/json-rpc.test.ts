import { JsonRpcEngine, method, notificationText, RPC_ERROR, RpcError, rpcError } from '@vaultex/cli';
import { ClientError, RelayError } from '@vaultex/client';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';

const calls: string[] = [];
const engine = new JsonRpcEngine(
  {
    subtract: method('a - b', z.object({ minuend: z.number(), subtrahend: z.number() }).strict(), (p) => {
      calls.push('subtract');
      return p.minuend - p.subtrahend;
    }),
    notify_hello: method('side effect only', z.object({}).passthrough(), () => {
      calls.push('hello');
    }),
    get_data: method('data', z.object({}).strict(), () => ['hello', 5]),
    slow: method('resolves later', z.object({ ms: z.number() }).strict(), async ({ ms }) => {
      await new Promise((r) => setTimeout(r, ms));
      calls.push(`slow ${ms}`);
      return ms;
    }),
    fails: method('throws a client error', z.object({ code: z.string() }).strict(), ({ code }) => {
      throw new ClientError(code as 'NOT_FOUND', 'no such thing');
    }),
    rpcFails: method('throws an RpcError', z.object({}).strict(), () => {
      throw new RpcError(-32042, 'custom', { why: 'because' });
    }),
  },
  { mapError: rpcError },
);

async function call(text: string): Promise<unknown> {
  const out = await engine.handleText(text);
  return out === undefined ? undefined : JSON.parse(out);
}

describe('JSON-RPC 2.0 engine (examples of the specification)', () => {
  it('answers a call with named params and echoes the id (number, string)', async () => {
    expect(await call('{"jsonrpc":"2.0","method":"subtract","params":{"subtrahend":23,"minuend":42},"id":3}')).toEqual({
      jsonrpc: '2.0',
      result: 19,
      id: 3,
    });
    expect(
      await call('{"jsonrpc":"2.0","method":"subtract","params":{"minuend":1,"subtrahend":2},"id":"a-1"}'),
    ).toEqual({ jsonrpc: '2.0', result: -1, id: 'a-1' });
  });

  it('a void result is null, and a null id is echoed', async () => {
    expect(await call('{"jsonrpc":"2.0","method":"notify_hello","id":null}')).toEqual({
      jsonrpc: '2.0',
      result: null,
      id: null,
    });
  });

  it('notifications get no response, but run', async () => {
    calls.length = 0;
    expect(await engine.handleText('{"jsonrpc":"2.0","method":"notify_hello","params":[]}')).toBeUndefined();
    expect(calls).toEqual(['hello']);
    // Not even an error: unknown method or bad params in a notification stay silent.
    expect(await engine.handleText('{"jsonrpc":"2.0","method":"foobar"}')).toBeUndefined();
    expect(await engine.handleText('{"jsonrpc":"2.0","method":"subtract","params":{"minuend":1}}')).toBeUndefined();
  });

  it('-32601 for an unknown method, and for the reserved rpc. prefix', async () => {
    expect(await call('{"jsonrpc":"2.0","method":"foobar","id":"1"}')).toEqual({
      jsonrpc: '2.0',
      error: { code: -32601, message: 'Method not found: foobar' },
      id: '1',
    });
    const reserved = (await call('{"jsonrpc":"2.0","method":"rpc.discover","id":2}')) as { error: { code: number } };
    expect(reserved.error.code).toBe(RPC_ERROR.METHOD_NOT_FOUND);
  });

  it('-32700 with a null id for invalid JSON', async () => {
    expect(await call('{"jsonrpc":"2.0","method":"foobar,"params":"bar","baz]')).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error' },
      id: null,
    });
    // A batch that is not valid JSON is one parse error.
    expect(
      await call('[{"jsonrpc":"2.0","method":"sum","params":[1,2,4],"id":"1"},{"jsonrpc":"2.0","method"]'),
    ).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error' },
      id: null,
    });
  });

  it('-32600 for invalid request objects', async () => {
    const invalid = { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null };
    expect(await call('{"jsonrpc":"2.0","method":1,"params":"bar"}')).toEqual(invalid);
    expect(await call('{"method":"subtract","params":{"minuend":1,"subtrahend":1},"id":9}')).toEqual({
      ...invalid,
      id: 9,
    });
    expect(await call('{"jsonrpc":"1.0","method":"subtract","id":9}')).toEqual({ ...invalid, id: 9 });
    expect(await call('{"jsonrpc":"2.0","method":"subtract","id":{"no":1}}')).toEqual(invalid);
    expect(await call('{"jsonrpc":"2.0","method":"subtract","params":"x","id":4}')).toEqual({ ...invalid, id: 4 });
    expect(await call('"just a string"')).toEqual(invalid);
    expect(await call('null')).toEqual(invalid);
  });

  it('batches: an empty one is one error, invalid members each get one', async () => {
    expect(await call('[]')).toEqual({
      jsonrpc: '2.0',
      error: { code: -32600, message: 'Invalid Request: empty batch' },
      id: null,
    });
    expect(await call('[1]')).toEqual([
      { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null },
    ]);
    expect(await call('[1,2,3]')).toEqual(
      [1, 2, 3].map(() => ({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null })),
    );
  });

  it('a mixed batch: results for calls, nothing for notifications, errors in place', async () => {
    const out = (await call(
      JSON.stringify([
        { jsonrpc: '2.0', method: 'subtract', params: { minuend: 7, subtrahend: 3 }, id: '1' },
        { jsonrpc: '2.0', method: 'notify_hello', params: { x: 7 } },
        { jsonrpc: '2.0', method: 'subtract', params: { minuend: 42, subtrahend: 23 }, id: '2' },
        { foo: 'boo' },
        { jsonrpc: '2.0', method: 'foo.get', params: { name: 'myself' }, id: '5' },
        { jsonrpc: '2.0', method: 'get_data', id: '9' },
      ]),
    )) as unknown[];
    expect(out).toEqual([
      { jsonrpc: '2.0', result: 4, id: '1' },
      { jsonrpc: '2.0', result: 19, id: '2' },
      { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null },
      { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found: foo.get' }, id: '5' },
      { jsonrpc: '2.0', result: ['hello', 5], id: '9' },
    ]);
  });

  it('a batch of notifications gets no response at all', async () => {
    expect(
      await engine.handleText(
        '[{"jsonrpc":"2.0","method":"notify_hello","params":{}},{"jsonrpc":"2.0","method":"notify_hello"}]',
      ),
    ).toBeUndefined();
  });

  it('batch members run in order, even when an earlier one is slower', async () => {
    calls.length = 0;
    const out = (await call(
      JSON.stringify([
        { jsonrpc: '2.0', method: 'slow', params: { ms: 30 }, id: 1 },
        { jsonrpc: '2.0', method: 'slow', params: { ms: 1 }, id: 2 },
      ]),
    )) as { id: number }[];
    expect(calls).toEqual(['slow 30', 'slow 1']);
    expect(out.map((r) => r.id)).toEqual([1, 2]);
  });

  it('-32602 with the issues for params that fail the schema, or positional params', async () => {
    const bad = (await call(
      '{"jsonrpc":"2.0","method":"subtract","params":{"minuend":"x","subtrahend":1},"id":5}',
    )) as {
      error: { code: number; data: { issues: { path: string }[] } };
    };
    expect(bad.error.code).toBe(-32602);
    expect(bad.error.data.issues.map((i) => i.path)).toEqual(['minuend']);
    const unknown = (await call(
      '{"jsonrpc":"2.0","method":"subtract","params":{"minuend":1,"subtrahend":1,"extra":true},"id":6}',
    )) as { error: { code: number } };
    expect(unknown.error.code).toBe(-32602);
    const positional = (await call('{"jsonrpc":"2.0","method":"subtract","params":[42,23],"id":7}')) as {
      error: { code: number; message: string };
    };
    expect(positional.error.code).toBe(-32602);
    expect(positional.error.message).toMatch(/by name/u);
  });

  it('method failures are server errors carrying the client error code', async () => {
    const notFound = (await call('{"jsonrpc":"2.0","method":"fails","params":{"code":"NOT_FOUND"},"id":1}')) as {
      error: { code: number; message: string; data: { code: string } };
    };
    expect(notFound.error.code).toBe(-32004);
    expect(notFound.error.data).toEqual({ code: 'NOT_FOUND' });
    expect(notFound.error.message).toMatch(/contact list/u);
    const trust = (await call('{"jsonrpc":"2.0","method":"fails","params":{"code":"UNTRUSTED_IDENTITY"},"id":2}')) as {
      error: { code: number; data: { code: string } };
    };
    expect(trust.error).toMatchObject({ code: -32003, data: { code: 'UNTRUSTED_IDENTITY' } });
    const arg = (await call('{"jsonrpc":"2.0","method":"fails","params":{"code":"INVALID_ARGUMENT"},"id":3}')) as {
      error: { code: number };
    };
    expect(arg.error.code).toBe(-32602);
    const custom = await call('{"jsonrpc":"2.0","method":"rpcFails","id":4}');
    expect(custom).toEqual({
      jsonrpc: '2.0',
      id: 4,
      error: { code: -32042, message: 'custom', data: { why: 'because' } },
    });
  });

  it('maps relay refusals and unexpected errors', () => {
    const limited = rpcError(new RelayError({ code: 'RATE_LIMITED', message: 'slow down', retryAfter: 7 }, 429));
    expect(limited).toMatchObject({ code: -32006, data: { code: 'RELAY:RATE_LIMITED' } });
    expect(limited.message).toMatch(/Wait 7 s/u);
    const bug = rpcError(new TypeError('oops'));
    expect(bug).toMatchObject({ code: RPC_ERROR.INTERNAL_ERROR, data: { code: 'INTERNAL' } });
  });

  it('notifications from the server are spec-shaped (no id)', () => {
    expect(JSON.parse(notificationText('event.message', { a: 1 }))).toEqual({
      jsonrpc: '2.0',
      method: 'event.message',
      params: { a: 1 },
    });
  });

  it('lists its methods', () => {
    expect(engine.methods.map((m) => m.name)).toContain('subtract');
  });
});

/**
 * A `fetch` for the client SDK that counts what crosses the wire over HTTP: per request,
 * the request line, the headers and the body the client hands to fetch, and the bytes of
 * the response body it reads. Response status lines and headers, TCP/TLS framing and
 * WebSocket traffic are not counted (the benchmarks that use it keep clients off the
 * WebSocket: they call `sync()` without `start()`). It also remembers the last bearer
 * token, so that a benchmark can make the same authenticated request with curl.
 */
import type { FetchLike, FetchResponse } from '@vaultex/client';

const utf8 = new TextEncoder();

/** Byte counts since the last reset. */
export interface WireCount {
  readonly requests: number;
  /** Request lines + headers + bodies. */
  readonly sent: number;
  /** Response bodies. */
  readonly received: number;
}

/** A counting fetch and its counters. */
export class WireMeter {
  #requests = 0;
  #sent = 0;
  #received = 0;
  /** The last `authorization: Bearer ...` token a request carried. */
  token: string | undefined;

  /** The fetch to pass in the client's deps. */
  readonly fetch: FetchLike = async (url, init) => {
    this.#requests++;
    let head = `${init.method} ${new URL(url).pathname}${new URL(url).search} HTTP/1.1\r\nhost: ${new URL(url).host}\r\n`;
    for (const [k, v] of Object.entries(init.headers)) head += `${k}: ${v}\r\n`;
    const body =
      init.body === undefined ? 0 : typeof init.body === 'string' ? utf8.encode(init.body).length : init.body.length;
    if (body > 0) head += `content-length: ${body}\r\n`;
    this.#sent += utf8.encode(`${head}\r\n`).length + body;
    const auth = init.headers.authorization;
    if (auth?.startsWith('Bearer ')) this.token = auth.slice(7);
    const res = await fetch(url, init);
    const counted: FetchResponse = {
      status: res.status,
      ok: res.ok,
      headers: res.headers,
      text: async () => {
        const t = await res.text();
        this.#received += utf8.encode(t).length;
        return t;
      },
      arrayBuffer: async () => {
        const b = await res.arrayBuffer();
        this.#received += b.byteLength;
        return b;
      },
    };
    return counted;
  };

  /** The counts so far. */
  count(): WireCount {
    return { requests: this.#requests, sent: this.#sent, received: this.#received };
  }

  /** The counts since `before`. */
  since(before: WireCount): WireCount {
    const now = this.count();
    return {
      requests: now.requests - before.requests,
      sent: now.sent - before.sent,
      received: now.received - before.received,
    };
  }
}

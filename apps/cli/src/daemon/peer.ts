/**
 * One JSON-RPC peer over a byte stream of newline-delimited JSON (stdio or one socket
 * connection). Messages of one peer are handled one after the other, in arrival order,
 * so a bot that pipelines `messages.send` calls gets its messages sent in that order.
 */
import { type JsonRpcEngine, RPC_ERROR } from './json-rpc.js';

/** Longest accepted line; a longer one is answered with a parse error and skipped. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** A connected peer. */
export class RpcPeer {
  #buffer = '';
  #skipping = false;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly engine: JsonRpcEngine,
    private readonly write: (line: string) => void,
  ) {}

  /** Feed received text. */
  push(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const nl = this.#buffer.indexOf('\n');
      if (nl < 0) break;
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      if (this.#skipping) {
        this.#skipping = false;
        continue;
      }
      this.#line(line);
    }
    if (this.#buffer.length > MAX_LINE_BYTES) {
      this.#buffer = '';
      this.#skipping = true;
      this.#send(
        JSON.stringify({
          jsonrpc: '2.0',
          id: null,
          error: { code: RPC_ERROR.PARSE_ERROR, message: 'Parse error: line too long' },
        }),
      );
    }
  }

  /** The stream ended: handle a last unterminated line; resolves when every answer is out. */
  async end(): Promise<void> {
    if (this.#buffer.trim().length > 0 && !this.#skipping) this.#line(this.#buffer);
    this.#buffer = '';
    await this.#queue;
    this.#closed = true;
  }

  /** Send a notification line. */
  notify(line: string): void {
    this.#send(line);
  }

  #line(raw: string): void {
    const line = raw.trim();
    if (line.length === 0) return;
    this.#queue = this.#queue
      .then(async () => {
        const response = await this.engine.handleText(line);
        if (response !== undefined) this.#send(response);
      })
      // The engine answers every failure itself; this only keeps the queue alive.
      .catch(() => undefined);
  }

  #send(line: string): void {
    if (this.#closed) return;
    try {
      this.write(`${line}\n`);
    } catch {
      this.#closed = true;
    }
  }
}

/**
 * Child process of the server benchmark: opens many idle, authenticated connections and holds
 * them until it is terminated. It is a process of its own because every client socket is a
 * file descriptor too, and the server's and the clients' descriptors together would not fit
 * under one process's open-file limit.
 *
 *   node --conditions=@vaultex/source --import tsx bench/server/idle-clients.ts vaultex <wsUrl> <tokens.json>
 *   node --conditions=@vaultex/source --import tsx bench/server/idle-clients.ts mqtt <port> <count>
 *
 * Prints one JSON line `{"ready":n,"failed":n}` once every connection is authenticated (or
 * has failed), then waits.
 */
import { readFileSync } from 'node:fs';
import { encodeFrame } from '@vaultex/api';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import { MqttClient } from './mqtt-client.js';

const CONCURRENCY = 200;
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });
const held: unknown[] = [];

function vaultexConnection(wsUrl: string, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    ws.once('error', reject);
    ws.once('open', () => ws.send(encodeFrame({ t: 'auth', token })));
    ws.on('message', (data: Buffer) => {
      const frame = packr.unpack(data) as { t: string };
      if (frame.t === 'queue_empty') {
        held.push(ws);
        resolve();
      } else if (frame.t === 'error') {
        reject(new Error('refused'));
      }
    });
  });
}

async function mqttConnection(port: number, index: number): Promise<void> {
  held.push(await MqttClient.connect({ port, clientId: `idle-${index}`, clean: true }));
}

async function main(argv: readonly string[]): Promise<void> {
  const [kind, target, arg] = argv;
  let jobs: (() => Promise<void>)[];
  if (kind === 'vaultex' && target && arg) {
    const tokens = JSON.parse(readFileSync(arg, 'utf8')) as string[];
    jobs = tokens.map((token) => () => vaultexConnection(target, token));
  } else if (kind === 'mqtt' && target && arg) {
    jobs = Array.from({ length: Number(arg) }, (_, i) => () => mqttConnection(Number(target), i));
  } else {
    console.error('usage: idle-clients.ts vaultex <wsUrl> <tokens.json> | mqtt <port> <count>');
    process.exit(2);
  }
  let ready = 0;
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        try {
          await job();
          ready++;
        } catch {
          failed++;
        }
      }
    }),
  );
  console.log(JSON.stringify({ ready, failed }));
  // Held until the benchmark terminates this process.
  setInterval(() => {}, 1 << 30);
}

await main(process.argv.slice(2));

/**
 * `npm run bench -- attachments`: a 100 MB file (`--quick`: 8 MB) through a real relay in a
 * child process (127.0.0.1), the client SDK against raw curl of the same bytes to the same
 * routes.
 *
 * - client: `attachments.upload(file)` (fresh key, AES-256-GCM per 64 KiB segment, SHA-256,
 *   `POST /attachments`, then `PUT /attachments/:id/chunks/:i` in order) and
 *   `attachments.download(pointer)` (`GET /attachments/:id`, hash, length and every segment
 *   checked, then decrypted). The SDK's fetch is Node's (undici).
 * - curl: the ciphertext the client uploaded (fetched once, not timed) is cut into the
 *   relay's `chunkSize` pieces in files under /tmp; then one `curl` process POSTs
 *   `/attachments {size}` with the same bearer token, and one `curl` process PUTs every chunk
 *   in order with the same token and content type, one request per chunk over a reused
 *   connection (`--next`); download is one `curl -o /dev/null` GET of the same route.
 *
 * MB/s counts the plaintext (client) or the ciphertext (curl) in 10^6 bytes per second of wall
 * time; the ciphertext is 16 bytes per 64 KiB longer than the plaintext (0.02 %).
 *
 * Run: npm run bench -- attachments, or directly:
 *      node --conditions=@vaultex/source --import tsx bench/client/attachment-bench.ts [--quick]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openMemoryStore, VaultexClient } from '@vaultex/client';
import { nodeDeps } from '@vaultex/client/node';
import type { BenchContext, Benchmark } from '../lib/benchmark.js';
import { formatRate, formatRatio, markdownTable } from '../lib/table.js';
import { processCpuMs, startRelayProcess } from './processes.js';
import { WireMeter } from './wire-meter.js';

const run = promisify(execFile);
const FULL_SIZE = 100_000_000;
const QUICK_SIZE = 8_000_000;

interface Leg {
  readonly wallMs: number;
  readonly relayCpuMs: number;
  readonly bytes: number;
}

async function leg(relayPid: number, bytes: number, fn: () => Promise<void>): Promise<Leg> {
  const relay0 = processCpuMs(relayPid);
  const t = performance.now();
  await fn();
  return { wallMs: performance.now() - t, relayCpuMs: processCpuMs(relayPid) - relay0, bytes };
}

const mbps = (l: Leg): number => l.bytes / 1e6 / (l.wallMs / 1000);

/** Runs the attachment measurement and prints its table. */
export async function measureAttachments(context: BenchContext): Promise<void> {
  const size = context.quick ? QUICK_SIZE : FULL_SIZE;
  const dir = mkdtempSync(join(tmpdir(), 'vaultex-attachment-bench-'));
  const chunkDir = mkdtempSync(join(tmpdir(), 'vaultex-attachment-chunks-'));
  const relay = await startRelayProcess(dir);
  const meter = new WireMeter();
  let client: VaultexClient | undefined;
  try {
    ({ client } = await VaultexClient.create({
      store: await openMemoryStore(),
      serverUrl: relay.url,
      displayName: 'bench',
      deps: nodeDeps({ fetch: meter.fetch }),
      options: { oneTimePreKeys: 5, kemPreKeys: 2 },
    }));
    const c = client;
    const file = new Uint8Array(randomBytes(size));
    context.progress(`attachments: ${size / 1e6} MB through the client`);

    let pointer: Awaited<ReturnType<typeof c.attachments.upload>> | undefined;
    const clientUp = await leg(relay.pid, size, async () => {
      pointer = await c.attachments.upload(file, { name: 'bench.bin', mime: 'application/octet-stream' });
    });
    let back: Uint8Array | undefined;
    const clientDown = await leg(relay.pid, size, async () => {
      back = await c.attachments.download(pointer!);
    });
    if (back?.length !== size || !Buffer.from(back).equals(Buffer.from(file))) {
      throw new Error('the downloaded file differs');
    }
    const token = meter.token;
    if (token === undefined) throw new Error('no bearer token seen');

    // The very bytes the client uploaded, cut like the relay wants them (not timed).
    const url = `${relay.url}/api/v1/attachments`;
    const cipher = new Uint8Array(await (await fetch(`${url}/${pointer!.id}`)).arrayBuffer());
    context.progress(`attachments: ${cipher.length} ciphertext bytes through curl`);
    const auth = ['-H', `authorization: Bearer ${token}`];
    let curlId = '';

    // The relay's chunk size, from an upload that is started and left (not timed).
    const probe = await run('curl', [
      '-sS',
      '-f',
      '-X',
      'POST',
      ...auth,
      '-H',
      'content-type: application/json',
      '--data-binary',
      JSON.stringify({ size: cipher.length }),
      url,
    ]);
    const { chunkSize } = JSON.parse(probe.stdout) as { chunkSize: number };
    const chunks = Math.ceil(cipher.length / chunkSize);
    for (let i = 0; i < chunks; i++) {
      writeFileSync(join(chunkDir, `c${i}`), cipher.subarray(i * chunkSize, (i + 1) * chunkSize));
    }

    const curlUp = await leg(relay.pid, cipher.length, async () => {
      const created = await run('curl', [
        '-sS',
        '-f',
        '-X',
        'POST',
        ...auth,
        '-H',
        'content-type: application/json',
        '--data-binary',
        JSON.stringify({ size: cipher.length }),
        url,
      ]);
      const { id } = JSON.parse(created.stdout) as { id: string };
      const args: string[] = [];
      for (let i = 0; i < chunks; i++) {
        if (i > 0) args.push('--next');
        args.push(
          '-sS',
          '-f',
          '-o',
          '/dev/null',
          '-X',
          'PUT',
          ...auth,
          '-H',
          'content-type: application/octet-stream',
          '--data-binary',
          `@${join(chunkDir, `c${i}`)}`,
          `${url}/${id}/chunks/${i}`,
        );
      }
      await run('curl', args);
      curlId = id;
    });
    let downloaded = 0;
    const curlDown = await leg(relay.pid, cipher.length, async () => {
      const got = await run('curl', ['-sS', '-f', '-o', '/dev/null', '-w', '%{size_download}', `${url}/${curlId}`]);
      downloaded = Number(got.stdout);
    });
    if (downloaded !== cipher.length) throw new Error(`curl downloaded ${downloaded} of ${cipher.length} bytes`);

    console.log(`\n## Attachments: a ${size / 1e6} MB file, client SDK vs curl, same relay (127.0.0.1)\n`);
    const row = (name: string, l: Leg) => [
      name,
      (l.wallMs / 1000).toFixed(2),
      formatRate(mbps(l)),
      String(l.relayCpuMs),
    ];
    console.log(
      markdownTable(
        ['leg', 'wall s', 'MB/s', 'relay CPU ms'],
        [
          row('client: encrypt + upload (POST + PUT chunks)', clientUp),
          row('curl: upload the same ciphertext (POST + PUT chunks)', curlUp),
          row('client: download + verify + decrypt', clientDown),
          row('curl: download (GET, to /dev/null)', curlDown),
        ],
        ['left', 'right', 'right', 'right'],
      ),
    );
    console.log(
      `\nClient / curl throughput: upload ${formatRatio(mbps(clientUp) / mbps(curlUp))}, ` +
        `download ${formatRatio(mbps(clientDown) / mbps(curlDown))}. ${chunks} chunks of ${chunkSize} bytes; ` +
        `the client made ${meter.count().requests} HTTP requests in all (registration included).`,
    );
  } finally {
    await client?.stop();
    await relay.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(chunkDir, { recursive: true, force: true });
  }
}

/** The attachment benchmark, for bench/run.ts. */
export const attachmentBenchmark: Benchmark = {
  name: 'attachments',
  description: 'a 100 MB attachment: client encrypt+upload and download+decrypt vs raw curl (MB/s)',
  run: measureAttachments,
};

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  await measureAttachments({ quick: process.argv.includes('--quick'), progress: (l) => console.error(l) });
}

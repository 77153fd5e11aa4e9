/**
 * Child-process entry of the client benchmark: the real relay (`startServer`) on 127.0.0.1,
 * port 0, a fresh SQLite file in the data folder given as the only argument, rate limits
 * lifted (the benchmark is one client address sending thousands of messages). It prints one
 * line `{"url":...}` once it listens and closes on SIGTERM. Running the relay apart keeps its
 * CPU time out of `process.cpuUsage()` of the benchmark, which then measures the clients.
 *
 * Run: node --conditions=@vaultex/source --import tsx bench/client/relay-child.ts <dataDir>
 */
import { startServer } from '@vaultex/server';

const dataDir = process.argv[2];
if (dataDir === undefined) {
  console.error('usage: relay-child.ts <dataDir>');
  process.exit(2);
}
const big = 1_000_000_000;
const server = await startServer({
  config: {
    host: '127.0.0.1',
    port: 0,
    metricsPort: -1,
    logLevel: 'warn',
    dataDir,
    limits: {
      registrationsPerHour: big,
      challengesPerMinute: big,
      prekeyFetchesPerHour: big,
      wsConnectionsPerMinute: big,
      sendsPerAccountPerMinute: big,
      sealedSendsPerRecipientPerMinute: big,
      wsFramesPerSecond: big,
      searchesPerMinute: big,
    },
  },
});
console.log(JSON.stringify({ url: server.url }));
process.once('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});

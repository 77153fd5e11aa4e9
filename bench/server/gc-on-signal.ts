/**
 * Preloaded into the relay by the server benchmark only (`--expose-gc --import`): SIGUSR2
 * runs a full garbage collection, so that memory read from /proc afterwards counts live
 * objects rather than garbage that happens not to be collected yet. With
 * `VAULTEX_BENCH_LOOP_DELAY=1` the relay also prints its event-loop delay and heap every 2 s
 * to stderr (a diagnostic for latency spikes).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
});

if (process.env.VAULTEX_BENCH_LOOP_DELAY) {
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const ms = (ns: number) => (ns / 1e6).toFixed(1);
  setInterval(() => {
    const heap = (process.memoryUsage().heapUsed / 1048576).toFixed(0);
    process.stderr.write(
      `relay loop delay: p50 ${ms(delay.percentile(50))} p99 ${ms(delay.percentile(99))} max ${ms(delay.max)} ms, heap ${heap} MiB\n`,
    );
    delay.reset();
  }, 2000).unref();
}

/**
 * Prometheus metrics on a separate listener bound to 127.0.0.1 only, so the public port
 * never exposes them. Labels never carry ids: routes are patterns, counts are totals.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { RedisBus, RedisBusStats } from './redis-bus.js';

/** The relay's metrics. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'vaultex_http_requests_total',
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly wsConnections = new Gauge({
    name: 'vaultex_ws_connections',
    help: 'Open WebSocket connections.',
    registers: [this.registry],
  });
  readonly messagesStored = new Counter({
    name: 'vaultex_messages_stored_total',
    help: 'Message blobs stored (each once, whatever its number of targets).',
    registers: [this.registry],
  });
  readonly messagesDelivered = new Counter({
    name: 'vaultex_messages_delivered_total',
    help: 'Message frames sent to devices (redeliveries included).',
    registers: [this.registry],
  });
  readonly messagesAcked = new Counter({
    name: 'vaultex_messages_acked_total',
    help: 'Per-device acknowledgements that deleted a pending target.',
    registers: [this.registry],
  });
  readonly ephemeralSent = new Counter({
    name: 'vaultex_ephemeral_delivered_total',
    help: 'Ephemeral messages handed to connected devices.',
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'vaultex_rate_limited_total',
    help: 'Requests and frames refused by a rate limit.',
    registers: [this.registry],
  });
  readonly pruned = new Counter({
    name: 'vaultex_pruned_total',
    help: 'Rows deleted by the pruner, by kind.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly commitSize = new Histogram({
    name: 'vaultex_group_commit_operations',
    help: 'Mailbox operations per group commit.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Export the Redis bus's counters (read at each scrape) and time its sweeps. Names are
   * listed in docs/OPERATIONS.md ("Monitor").
   */
  trackRedisBus(bus: RedisBus): void {
    const counter = (name: string, help: string, field: keyof RedisBusStats) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          // prom-client counters only go up: restate the bus's own running total.
          this.reset();
          this.inc(bus.stats[field]);
        },
      });
    counter('vaultex_redis_bus_published_total', 'Events published to Redis for other instances.', 'published');
    counter(
      'vaultex_redis_bus_publish_failures_total',
      'Publishes Redis refused or that failed while it was away (subscribers catch up by resync).',
      'publishFailures',
    );
    counter('vaultex_redis_bus_received_total', 'Events received from Redis (own echoes included).', 'received');
    counter('vaultex_redis_bus_malformed_total', 'Payloads on a bus channel that were not ours.', 'malformed');
    counter(
      'vaultex_redis_bus_reconnects_total',
      'Subscriber reconnections: Redis dropped the connection (or this slow subscriber); notifications sent meanwhile were lost.',
      'reconnects',
    );
    counter(
      'vaultex_redis_bus_resyncs_total',
      'Resync events given to local connections (reconnects, late notifications, sweeps): each re-reads its mailbox.',
      'resyncs',
    );
    counter('vaultex_redis_bus_sweeps_total', 'Periodic sweep passes that resynced at least one device.', 'sweeps');
    counter('vaultex_redis_bus_swept_devices_total', 'Devices resynced by the periodic sweep.', 'sweptDevices');
    new Gauge({
      name: 'vaultex_redis_bus_subscribed_devices',
      help: 'Devices this instance subscribes to on Redis.',
      registers: [this.registry],
      collect() {
        this.set(bus.size);
      },
    });
    const duration = new Histogram({
      name: 'vaultex_redis_bus_sweep_seconds',
      help: 'Duration of one sweep pass (handing resync events to the connections; their reads follow asynchronously).',
      buckets: [0.0001, 0.001, 0.01, 0.1, 1],
      registers: [this.registry],
    });
    bus.onSweep = (_devices, ms) => duration.observe(ms / 1000);
  }

  /**
   * Serve `/metrics` on 127.0.0.1:`port` (0 = any free port).
   * @returns the listener and its URL.
   */
  async listen(port: number): Promise<{ server: Server; url: string }> {
    const server = createServer((req, res) => {
      if (req.url !== '/metrics' || req.method !== 'GET') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const { port: bound } = server.address() as AddressInfo;
    return { server, url: `http://127.0.0.1:${bound}/metrics` };
  }
}

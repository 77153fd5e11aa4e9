import { cpuSeconds } from './processes.js';

/**
 * The load the two peers carry, independent of the protocol: N sender/recipient pairs, each
 * payload stamped with the time it was handed to the sender's socket, so that a recipient
 * knows the send-to-receive latency of each message (both ends live in this process and share
 * its clock). Two shapes: closed loop (each sender keeps a window of sends in flight and sends
 * again when the server acknowledges one: the peak rate) and open loop (sends paced at a fixed
 * total rate whatever the server does, so that queueing shows up as latency).
 */

/** The sender/recipient pairs of one peer, connected and ready. */
export interface PairLink {
  readonly pairs: number;
  /** Sends `payload` from sender `i` to recipient `i`. The payload may be reused once this returns. */
  send(i: number, payload: Uint8Array): void;
  /** The server acknowledged a send of sender `i` (durably for VAULTEX, PUBACK for MQTT); `ok` false for a refusal. */
  onAccepted: (i: number, ok: boolean) => void;
  /** Recipient `i` received a payload (the peer acknowledges it by its own protocol). */
  onDelivered: (i: number, payload: Uint8Array) => void;
  close(): Promise<void>;
}

/** What one timed phase measured. */
export interface LoadResult {
  /** Messages received by recipients per second during the measured interval. */
  readonly deliveredPerSecond: number;
  /** Sends acknowledged by the server per second during the measured interval. */
  readonly acceptedPerSecond: number;
  /** Send-to-receive latency percentiles over the measured interval, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Refused sends (error frames). */
  readonly errors: number;
  /** Open loop only: sends skipped because a sender already had too many in flight. */
  readonly shed: number;
  /** The total rate asked for (open loop), else undefined. */
  readonly targetPerSecond?: number;
  /** Cores busy during the measured interval: the server process (and its kernel-mode share) and this load generator. */
  readonly serverCores: number;
  readonly serverSystemCores: number;
  readonly generatorCores: number;
}

/** Timing of a phase, and the server process whose CPU time is read. */
export interface Phase {
  readonly warmupMs: number;
  readonly measureMs: number;
  /** Also end the measured interval once this many messages were delivered (count bound). */
  readonly maxMessages?: number;
}

/** Told when the measured interval of a phase starts and ends (extra meters: the scale benchmark). */
export interface MeasureHook {
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

/** CPU use of the server and of this process over an interval. */
class CpuMeter {
  private readonly server: { user: number; system: number };
  private readonly self = process.cpuUsage();
  private readonly start = performance.now();

  constructor(private readonly pid: number) {
    this.server = cpuSeconds(pid);
  }

  cores(): { serverCores: number; serverSystemCores: number; generatorCores: number } {
    const seconds = (performance.now() - this.start) / 1000;
    const self = process.cpuUsage(this.self);
    const server = cpuSeconds(this.pid);
    return {
      serverCores: (server.user + server.system - this.server.user - this.server.system) / seconds,
      serverSystemCores: (server.system - this.server.system) / seconds,
      generatorCores: (self.user + self.system) / 1e6 / seconds,
    };
  }
}

/** Writes the send time into the first 8 bytes. */
export function stamp(payload: Uint8Array, ms: number): void {
  new DataView(payload.buffer, payload.byteOffset, 8).setFloat64(0, ms, true);
}

/** Reads the send time from the first 8 bytes. */
export function readStamp(payload: Uint8Array): number {
  return new DataView(payload.buffer, payload.byteOffset, 8).getFloat64(0, true);
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits `phase.measureMs`, or less once `phase.maxMessages` were delivered. */
async function measureInterval(phase: Phase, recorder: Recorder): Promise<void> {
  const max = phase.maxMessages;
  if (max === undefined) {
    await sleep(phase.measureMs);
    return;
  }
  const end = performance.now() + phase.measureMs;
  while (recorder.delivered < max && performance.now() < end) await sleep(Math.min(50, end - performance.now()));
}

/** Collects deliveries and acknowledgements while `measuring` is on. */
class Recorder {
  measuring = false;
  delivered = 0;
  accepted = 0;
  errors = 0;
  private latencies = new Float64Array(1 << 16);
  private count = 0;

  latency(ms: number): void {
    if (this.count === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.count++] = ms;
  }

  result(seconds: number, cpu: CpuMeter, shed: number, targetPerSecond?: number): LoadResult {
    const sorted = this.latencies.subarray(0, this.count).sort();
    return {
      deliveredPerSecond: this.delivered / seconds,
      acceptedPerSecond: this.accepted / seconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: this.count > 0 ? sorted[this.count - 1]! : 0,
      errors: this.errors,
      shed,
      ...(targetPerSecond !== undefined ? { targetPerSecond } : {}),
      ...cpu.cores(),
    };
  }
}

function wire(link: PairLink, recorder: Recorder, inFlight: Int32Array, next: (i: number) => void): void {
  link.onDelivered = (_i, payload) => {
    if (!recorder.measuring) return;
    recorder.delivered++;
    recorder.latency(performance.now() - readStamp(payload));
  };
  link.onAccepted = (i, ok) => {
    inFlight[i]!--;
    if (recorder.measuring) {
      if (ok) recorder.accepted++;
      else recorder.errors++;
    }
    next(i);
  };
}

/** Waits until nothing is in flight (or 10 s), so the next phase starts from a quiet server. */
async function settle(inFlight: Int32Array): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (inFlight.some((n) => n > 0) && performance.now() < deadline) await sleep(20);
  await sleep(200);
}

/** Closed loop: every sender keeps `window` sends in flight. */
export async function closedLoop(
  link: PairLink,
  window: number,
  phase: Phase,
  blobBytes: number,
  serverPid: number,
  hook?: MeasureHook,
): Promise<LoadResult> {
  const recorder = new Recorder();
  const inFlight = new Int32Array(link.pairs);
  const payload = new Uint8Array(blobBytes).fill(0x5a);
  let running = true;
  const fire = (i: number) => {
    if (!running) return;
    inFlight[i]!++;
    stamp(payload, performance.now());
    link.send(i, payload);
  };
  wire(link, recorder, inFlight, fire);
  for (let i = 0; i < link.pairs; i++) for (let k = 0; k < window; k++) fire(i);
  await sleep(phase.warmupMs);
  recorder.measuring = true;
  const start = performance.now();
  const cpu = new CpuMeter(serverPid);
  await hook?.start();
  await measureInterval(phase, recorder);
  await hook?.stop();
  recorder.measuring = false;
  const seconds = (performance.now() - start) / 1000;
  const result = recorder.result(seconds, cpu, 0);
  running = false;
  await settle(inFlight);
  return result;
}

/** Most sends one sender may have in flight in the open loop before further ones are shed. */
const OPEN_LOOP_CAP = 1000;

/** Open loop: `perSecond` sends in total, spread round-robin over the senders, whatever the server does. */
export async function openLoop(
  link: PairLink,
  perSecond: number,
  phase: Phase,
  blobBytes: number,
  serverPid: number,
  hook?: MeasureHook,
): Promise<LoadResult> {
  const recorder = new Recorder();
  const inFlight = new Int32Array(link.pairs);
  const payload = new Uint8Array(blobBytes).fill(0x5a);
  wire(link, recorder, inFlight, () => {});
  let issued = 0;
  let shed = 0;
  let next = 0;
  const t0 = performance.now();
  const ticker = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * perSecond) / 1000) - issued;
    for (let k = 0; k < due; k++) {
      const i = next;
      next = (next + 1) % link.pairs;
      issued++;
      if (inFlight[i]! >= OPEN_LOOP_CAP) {
        if (recorder.measuring) shed++;
        continue;
      }
      inFlight[i]!++;
      stamp(payload, performance.now());
      link.send(i, payload);
    }
  }, 1);
  await sleep(phase.warmupMs);
  recorder.measuring = true;
  const start = performance.now();
  const cpu = new CpuMeter(serverPid);
  await hook?.start();
  await measureInterval(phase, recorder);
  await hook?.stop();
  recorder.measuring = false;
  const seconds = (performance.now() - start) / 1000;
  const result = recorder.result(seconds, cpu, shed, perSecond);
  clearInterval(ticker);
  await settle(inFlight);
  return result;
}

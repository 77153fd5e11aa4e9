/**
 * mosquitto under the same load as the relay: pair i is publisher `pub-i` and subscriber
 * `sub-i` on topic `bench/i`, both with persistent sessions (clean=false, fixed client ids),
 * QoS 1 in both directions (the broker's PUBACK is the sender's acknowledgement; subscribers
 * PUBACK every message they receive).
 */
import type { PairLink } from './load.js';
import { MqttClient } from './mqtt-client.js';
import { memory, resetPeak, sampleRss } from './processes.js';

/** Connects `pairs` subscribers (subscribed) and publishers. */
export async function openMqttPairs(port: number, pairs: number, run: number): Promise<PairLink> {
  const clients: MqttClient[] = [];
  const link: PairLink = {
    pairs,
    send: () => {},
    onAccepted: () => {},
    onDelivered: () => {},
    async close() {
      await Promise.all(clients.map((c) => c.disconnect()));
    },
  };
  for (let i = 0; i < pairs; i++) {
    const sub = await MqttClient.connect({ port, clientId: `sub-${run}-${i}`, clean: false });
    clients.push(sub);
    await sub.subscribe(`bench/${run}/${i}`);
    sub.onMessage = (_topic, payload) => link.onDelivered(i, payload);
  }
  const publishers: MqttClient[] = [];
  const topics: string[] = [];
  for (let i = 0; i < pairs; i++) {
    const pub = await MqttClient.connect({ port, clientId: `pub-${run}-${i}`, clean: false });
    clients.push(pub);
    publishers.push(pub);
    topics.push(`bench/${run}/${i}`);
    pub.onPuback = () => link.onAccepted(i, true);
  }
  link.send = (i, payload) => {
    publishers[i]!.publish(topics[i]!, payload);
  };
  return link;
}

/** What the offline-queue drain measured (same fields as the relay's). */
export interface MqttDrainResult {
  readonly messages: number;
  readonly fillSeconds: number;
  /** From CONNECT of the subscriber's persistent session to the last message received (each PUBACKed on arrival). */
  readonly drainSeconds: number;
  readonly leftOver: number;
  readonly duplicates: number;
  readonly baselineKiB: number;
  readonly peakKiB: number;
  readonly sampledPeakKiB: number;
}

/** Queues `messages` QoS 1 messages for an offline persistent subscriber, then drains them. */
export async function mqttDrain(
  port: number,
  pid: number,
  messages: number,
  senders: number,
  blobBytes: number,
  progress: (line: string) => void,
): Promise<MqttDrainResult> {
  const topic = 'drain/0';
  const subscriber = await MqttClient.connect({ port, clientId: 'drain-sub', clean: false });
  await subscriber.subscribe(topic);
  await subscriber.disconnect();

  progress(`    queueing ${messages} messages for an offline persistent session`);
  const fillStart = performance.now();
  const publishers = await Promise.all(
    Array.from({ length: senders }, (_, i) => MqttClient.connect({ port, clientId: `drain-pub-${i}`, clean: false })),
  );
  const payload = new Uint8Array(blobBytes).fill(0x33);
  let issued = 0;
  await Promise.all(
    publishers.map(
      (pub) =>
        new Promise<void>((resolve) => {
          let inFlight = 0;
          const fire = () => {
            while (inFlight < 8 && issued < messages) {
              inFlight++;
              issued++;
              pub.publish(topic, payload);
            }
            if (inFlight === 0) resolve();
          };
          pub.onPuback = () => {
            inFlight--;
            fire();
          };
          fire();
        }),
    ),
  );
  const fillSeconds = (performance.now() - fillStart) / 1000;
  await Promise.all(publishers.map((p) => p.disconnect()));

  await new Promise((r) => setTimeout(r, 500));
  const baselineKiB = memory(pid).rssKiB;
  const resetOk = resetPeak(pid);
  const sampler = sampleRss(pid);
  progress('    draining it');
  let received = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const start = performance.now();
  const client = await MqttClient.connect({
    port,
    clientId: 'drain-sub',
    clean: false,
    onMessage: () => {
      if (++received === messages) finish();
    },
  });
  if (received < messages) await finished;
  const drainSeconds = (performance.now() - start) / 1000;
  await new Promise((r) => setTimeout(r, 200));
  const sampledPeakKiB = sampler.stop();
  const peakKiB = resetOk ? memory(pid).peakKiB : sampledPeakKiB;
  await client.disconnect();

  // Anything still queued arrives right after a reconnect.
  let leftOver = 0;
  const check = await MqttClient.connect({
    port,
    clientId: 'drain-sub',
    clean: false,
    onMessage: () => {
      leftOver++;
    },
  });
  await new Promise((r) => setTimeout(r, 500));
  await check.disconnect();
  return { messages, fillSeconds, drainSeconds, leftOver, duplicates: 0, baselineKiB, peakKiB, sampledPeakKiB };
}

/**
 * The few MQTT 3.1.1 packets the mosquitto peer needs (OASIS MQTT 3.1.1, section 3): CONNECT
 * with a fixed client id and the clean-session flag, SUBSCRIBE, QoS 1 PUBLISH with PUBACK in
 * both directions, DISCONNECT. Written here rather than taken from an MQTT library so that the
 * load generator spends about as little per message on the mosquitto side as on the VAULTEX
 * side (msgpackr plus ws), which keeps the comparison about the brokers.
 */
import { connect, type Socket } from 'node:net';

const CONNECT = 0x10;
const CONNACK = 0x20;
const PUBLISH = 0x30;
const PUBACK = 0x40;
const SUBSCRIBE = 0x82;
const SUBACK = 0x90;
const DISCONNECT = 0xe0;

function remainingLength(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function packet(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, ...remainingLength(body.length)]), body]);
}

function mqttString(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** Options of {@link MqttClient.connect}. */
export interface MqttConnectOptions {
  readonly port: number;
  readonly clientId: string;
  /** false: a persistent session (subscriptions and queued QoS 1 messages survive a disconnect). */
  readonly clean: boolean;
  /** Installed before CONNECT: a resumed session's queued messages may follow CONNACK in the same read. */
  readonly onMessage?: (topic: string, payload: Buffer) => void;
}

/** One MQTT connection. */
export class MqttClient {
  /** A QoS 1 message arrived (already acknowledged with PUBACK). */
  onMessage: (topic: string, payload: Buffer) => void = () => {};
  /** The broker acknowledged one of our QoS 1 publishes. */
  onPuback: (packetId: number) => void = () => {};
  private pending: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private waiters: { type: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  /**
   * Opens a TCP connection on 127.0.0.1 and completes CONNECT/CONNACK.
   * @throws Error when the broker refuses (CONNACK return code) or the socket fails.
   */
  static async connect(options: MqttConnectOptions): Promise<MqttClient> {
    const socket = connect({ host: '127.0.0.1', port: options.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new MqttClient(socket);
    if (options.onMessage) client.onMessage = options.onMessage;
    const acked = client.expect(CONNACK);
    const header = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, options.clean ? 0x02 : 0x00, 0, 0]);
    socket.write(packet(CONNECT, Buffer.concat([header, mqttString(options.clientId)])));
    await acked;
    return client;
  }

  /** Subscribes to one topic filter at QoS 1 and waits for SUBACK. */
  async subscribe(topic: string): Promise<void> {
    const acked = this.expect(SUBACK);
    const id = Buffer.allocUnsafe(2);
    id.writeUInt16BE(this.packetId(), 0);
    this.socket.write(packet(SUBSCRIBE, Buffer.concat([id, mqttString(topic), Buffer.from([1])])));
    await acked;
  }

  /** Publishes at QoS 1; `onPuback` reports the returned packet id when the broker has it. */
  publish(topic: string, payload: Uint8Array): number {
    const id = this.packetId();
    const name = mqttString(topic);
    const bodyLength = name.length + 2 + payload.length;
    const head = remainingLength(bodyLength);
    const out = Buffer.allocUnsafe(1 + head.length + bodyLength);
    out[0] = PUBLISH | 0x02;
    let o = 1;
    for (const b of head) out[o++] = b;
    o += name.copy(out, o);
    out.writeUInt16BE(id, o);
    out.set(payload, o + 2);
    this.socket.write(out);
    return id;
  }

  /** Sends DISCONNECT and closes the socket. */
  async disconnect(): Promise<void> {
    if (this.socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.end(Buffer.from([DISCONNECT, 0]));
    });
  }

  /** Drops the connection without DISCONNECT. */
  destroy(): void {
    this.socket.destroy();
  }

  private packetId(): number {
    const id = this.nextId;
    this.nextId = id === 0xffff ? 1 : id + 1;
    return id;
  }

  private expect(type: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ type, resolve, reject });
      this.socket.once('error', reject);
    });
  }

  private onData(chunk: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      if (buf.length < 2) break;
      let length = 0;
      let multiplier = 1;
      let i = 1;
      let complete = false;
      for (; i < buf.length && i <= 4; i++) {
        length += (buf[i]! & 0x7f) * multiplier;
        multiplier *= 128;
        if ((buf[i]! & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
      const start = i + 1;
      if (buf.length < start + length) break;
      this.onPacket(buf[0]!, buf.subarray(start, start + length));
      buf = buf.subarray(start + length);
    }
    this.pending = buf.length > 0 ? Buffer.from(buf) : Buffer.alloc(0);
  }

  private onPacket(first: number, body: Buffer): void {
    const type = first & 0xf0;
    if (type === PUBLISH) {
      const qos = (first >> 1) & 3;
      const topicLength = body.readUInt16BE(0);
      const topic = body.toString('utf8', 2, 2 + topicLength);
      let o = 2 + topicLength;
      if (qos > 0) {
        const id = body.readUInt16BE(o);
        o += 2;
        this.socket.write(Buffer.from([PUBACK, 2, id >> 8, id & 0xff]));
      }
      this.onMessage(topic, body.subarray(o));
      return;
    }
    if (type === PUBACK) {
      this.onPuback(body.readUInt16BE(0));
      return;
    }
    const index = this.waiters.findIndex((w) => w.type === first);
    if (index < 0) return;
    const [waiter] = this.waiters.splice(index, 1);
    if (type === CONNACK && body[1] !== 0)
      waiter!.reject(new Error(`the broker refused the connection (code ${body[1]})`));
    else waiter!.resolve();
  }
}

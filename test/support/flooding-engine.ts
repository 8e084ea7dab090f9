import { randomInRange, type RandomSource } from '../../src/base/random.js';
import { EngineError } from '../../src/rmcast/engine-error.js';
import type {
  EngineEvent,
  EngineOutput,
  EngineState,
  MulticastEngine,
} from '../../src/rmcast/engine-types.js';

/**
 * A deliberately trivial engine for testing drivers, not the protocol: it is
 * connected at once, every send is one datagram, every datagram from another
 * node is delivered (no reliability, no ordering), members are the senders
 * seen. A heartbeat every `heartbeatMs` (randomised ±25 %) makes nodes learn
 * of each other without traffic and exercises the driver's timer.
 *
 * Datagram: "FLOOD" | kind u8 (0 data, 1 heartbeat, 2 bye) | name len u8 | name | stream u16 | payload.
 */
const MAGIC = [0x46, 0x4c, 0x4f, 0x4f, 0x44]; // FLOOD
const KIND_DATA = 0;
const KIND_HEARTBEAT = 1;
const KIND_BYE = 2;

export interface FloodingEngineOptions {
  name: string;
  random: RandomSource;
  heartbeatMs?: number;
  /** Remote members silent for this long are reported lost (0 = never). */
  silenceMs?: number;
  maxDatagramSize?: number;
}

export class FloodingEngine implements MulticastEngine {
  readonly unacknowledgedPackets = 0;
  readonly name: string;
  state: EngineState = 'idle';
  senderId: number | undefined;
  /** Every datagram this engine was fed, for driver tests. */
  readonly received: Uint8Array[] = [];
  /** Datagrams that did not parse. */
  malformed = 0;

  private readonly random: RandomSource;
  private readonly heartbeatMs: number;
  private readonly silenceMs: number;
  private readonly maxDatagramSize: number;
  private readonly lastHeard = new Map<string, number>();
  private datagrams: Uint8Array[] = [];
  private events: EngineEvent[] = [];
  private nextHeartbeat: number | undefined;

  constructor(options: FloodingEngineOptions) {
    this.name = options.name;
    this.random = options.random;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.silenceMs = options.silenceMs ?? 0;
    this.maxDatagramSize = options.maxDatagramSize ?? 1440;
  }

  get members(): readonly string[] {
    return [...this.lastHeard.keys()].sort();
  }

  start(now: number): void {
    if (this.state !== 'idle') return;
    this.state = 'connected';
    this.senderId = this.random.nextUint32() || 1;
    this.events.push({ type: 'connected', senderId: this.senderId });
    this.emit(KIND_HEARTBEAT, 0, new Uint8Array(0));
    this.scheduleHeartbeat(now);
  }

  receive(datagram: Uint8Array, now: number): void {
    if (this.state !== 'connected') return;
    this.received.push(datagram);
    const parsed = parse(datagram);
    if (parsed === undefined) {
      this.malformed++;
      return;
    }
    if (parsed.name === this.name) return;
    if (parsed.kind === KIND_BYE) {
      if (this.lastHeard.delete(parsed.name)) this.events.push({ type: 'members-lost', names: [parsed.name], reason: 'left' });
      return;
    }
    if (!this.lastHeard.has(parsed.name)) this.events.push({ type: 'members-joined', names: [parsed.name] });
    this.lastHeard.set(parsed.name, now);
    if (parsed.kind === KIND_DATA) {
      this.events.push({
        type: 'message',
        sender: parsed.name,
        senderId: 0,
        streamId: parsed.streamId,
        data: parsed.payload,
      });
    }
  }

  send(streamId: number, payload: Uint8Array, _now: number): void {
    if (this.state !== 'connected') throw new EngineError('not-connected', 'not connected');
    if (payload.length + 10 + this.name.length > this.maxDatagramSize) {
      throw new EngineError('message-too-large', 'the flooding engine does not fragment');
    }
    this.emit(KIND_DATA, streamId, payload);
  }

  tick(now: number): void {
    if (this.state !== 'connected') return;
    if (this.nextHeartbeat !== undefined && now >= this.nextHeartbeat) {
      this.emit(KIND_HEARTBEAT, 0, new Uint8Array(0));
      this.scheduleHeartbeat(now);
    }
    if (this.silenceMs > 0) {
      for (const [name, heard] of this.lastHeard) {
        if (now - heard >= this.silenceMs) {
          this.lastHeard.delete(name);
          this.events.push({ type: 'members-lost', names: [name], reason: 'failed' });
        }
      }
    }
  }

  leave(_now: number): void {
    if (this.state !== 'connected') return;
    this.emit(KIND_BYE, 0, new Uint8Array(0));
    this.state = 'closed';
    this.nextHeartbeat = undefined;
    this.events.push({ type: 'disconnected' });
  }

  failMember(name: string, _now: number): void {
    if (this.lastHeard.delete(name)) this.events.push({ type: 'members-lost', names: [name], reason: 'failed' });
  }

  drain(): EngineOutput {
    const out = { datagrams: this.datagrams, events: this.events };
    this.datagrams = [];
    this.events = [];
    return out;
  }

  nextDeadline(): number | undefined {
    if (this.state !== 'connected' || this.nextHeartbeat === undefined) return undefined;
    if (this.silenceMs === 0) return this.nextHeartbeat;
    let deadline = this.nextHeartbeat;
    for (const heard of this.lastHeard.values()) deadline = Math.min(deadline, heard + this.silenceMs);
    return deadline;
  }

  private scheduleHeartbeat(now: number): void {
    const jitter = Math.floor(this.heartbeatMs / 4);
    this.nextHeartbeat = now + this.heartbeatMs + (jitter > 0 ? randomInRange(this.random, -jitter, jitter + 1) : 0);
  }

  private emit(kind: number, streamId: number, payload: Uint8Array): void {
    const name = new TextEncoder().encode(this.name);
    const bytes = new Uint8Array(MAGIC.length + 2 + name.length + 2 + payload.length);
    bytes.set(MAGIC, 0);
    let offset = MAGIC.length;
    bytes[offset++] = kind;
    bytes[offset++] = name.length;
    bytes.set(name, offset);
    offset += name.length;
    bytes[offset++] = streamId >> 8;
    bytes[offset++] = streamId & 0xff;
    bytes.set(payload, offset);
    this.datagrams.push(bytes);
  }
}

function parse(
  bytes: Uint8Array,
): { kind: number; name: string; streamId: number; payload: Uint8Array } | undefined {
  if (bytes.length < MAGIC.length + 4) return undefined;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return undefined;
  let offset = MAGIC.length;
  const kind = bytes[offset++]!;
  if (kind > KIND_BYE) return undefined;
  const nameLength = bytes[offset++]!;
  if (offset + nameLength + 2 > bytes.length) return undefined;
  const name = new TextDecoder().decode(bytes.subarray(offset, offset + nameLength));
  offset += nameLength;
  const streamId = (bytes[offset]! << 8) | bytes[offset + 1]!;
  offset += 2;
  return { kind, name, streamId, payload: bytes.slice(offset) };
}

export function floodingFactory(
  options: Omit<FloodingEngineOptions, 'name' | 'random'> = {},
): (random: RandomSource, name: string) => FloodingEngine {
  return (random, name) => new FloodingEngine({ ...options, name, random });
}

import { SeededRandom, randomFraction } from '../../src/base/random.js';
import { Logger } from '../../src/base/logger.js';
import { RMulticastEngine } from '../../src/rmcast/rmulticast-engine.js';
import type { EngineEvent, EngineTiming } from '../../src/rmcast/engine-types.js';

/**
 * A tiny deterministic mesh for the engine's own unit tests: virtual time,
 * uniform random delay and loss, loopback of own datagrams. The full simulator
 * with partitions and crashes lives in src/net.
 */
export interface MiniNode {
  name: string;
  engine: RMulticastEngine;
  events: Array<{ at: number; event: EngineEvent }>;
  alive: boolean;
  /** Drop outgoing datagrams of these type bytes (test hooks like the original's). */
  dropTypes: Set<number>;
}

export class MiniMesh {
  readonly random: SeededRandom;
  now = 0;
  readonly nodes: MiniNode[] = [];
  private queue: Array<{ at: number; seq: number; to: MiniNode; bytes: Uint8Array }> = [];
  private seq = 0;
  loss = 0;
  delay: [number, number] = [1, 5];
  /** Per receiver extra loss (e.g. causal ordering test's lossy node). */
  lossTo = new Map<string, number>();
  /** Return false to drop a datagram on one link (test hooks). */
  filter: (from: MiniNode, to: MiniNode, bytes: Uint8Array) => boolean = () => true;
  /** Probability that a datagram is delivered twice. */
  duplicate = 0;

  constructor(readonly seed: number, private readonly timing: Partial<EngineTiming> = {}, private readonly debug = false) {
    this.random = new SeededRandom(seed);
  }

  add(name: string, startAt = this.now, maxDatagramSize?: number): MiniNode {
    const engine = new RMulticastEngine({
      name,
      random: this.random.fork(),
      timing: this.timing,
      ...(maxDatagramSize !== undefined ? { maxDatagramSize } : {}),
      logger: this.debug ? new Logger({ level: 'debug', sink: (r) => console.log(this.now, r.scope, r.message, JSON.stringify(r.fields ?? {})) }) : undefined,
    });
    const node: MiniNode = { name, engine, events: [], alive: true, dropTypes: new Set() };
    this.nodes.push(node);
    this.startAt.push({ at: startAt, node });
    return node;
  }
  private startAt: Array<{ at: number; node: MiniNode }> = [];

  private flush(node: MiniNode): void {
    const out = node.engine.drain();
    for (const event of out.events) node.events.push({ at: this.now, event });
    if (!node.alive) return;
    for (const bytes of out.datagrams) {
      if (node.dropTypes.has(bytes[7]!)) continue;
      for (const to of this.nodes) {
        if (!to.alive) continue;
        const loss = to === node ? 0 : Math.max(this.loss, this.lossTo.get(to.name) ?? 0, this.lossTo.get(node.name) ?? 0);
        if (loss > 0 && randomFraction(this.random) < loss) continue;
        if (!this.filter(node, to, bytes)) continue;
        const copies = to !== node && this.duplicate > 0 && randomFraction(this.random) < this.duplicate ? 2 : 1;
        for (let c = 0; c < copies; c++) {
          const [lo, hi] = this.delay;
          const at = this.now + lo + randomFraction(this.random) * (hi - lo);
          this.queue.push({ at, seq: this.seq++, to, bytes });
        }
      }
    }
  }

  send(node: MiniNode, text: string | Uint8Array, stream = 0): void {
    node.engine.send(stream, typeof text === 'string' ? new TextEncoder().encode(text) : text, this.now);
    this.flush(node);
  }

  leave(node: MiniNode): void {
    node.engine.leave(this.now);
    this.flush(node);
  }

  crash(node: MiniNode): void {
    node.alive = false;
  }

  run(ms: number): void {
    this.runUntil(() => false, ms);
  }

  /** Advance virtual time until `done()` holds (checked after every step) or `ms` pass. Returns whether done. */
  runUntil(done: () => boolean, ms: number): boolean {
    const end = this.now + ms;
    let steps = 0;
    for (;;) {
      if (done()) return true;
      if (++steps > 5_000_000) throw new Error(`runaway simulation (seed ${this.seed})`);
      for (const s of this.startAt.splice(0)) {
        if (s.at <= this.now) {
          s.node.engine.start(this.now);
          this.flush(s.node);
        } else this.startAt.push(s);
      }
      let next = end;
      for (const s of this.startAt) next = Math.min(next, s.at);
      for (const n of this.nodes) {
        if (!n.alive) continue;
        const d = n.engine.nextDeadline();
        if (d !== undefined) next = Math.min(next, d);
      }
      let qi = -1;
      for (let i = 0; i < this.queue.length; i++) {
        const q = this.queue[i]!;
        if (q.at < next || (q.at === next && qi < 0)) {
          if (qi < 0 || q.at < this.queue[qi]!.at || (q.at === this.queue[qi]!.at && q.seq < this.queue[qi]!.seq)) qi = i;
        }
      }
      if (qi >= 0 && this.queue[qi]!.at <= next) {
        const q = this.queue.splice(qi, 1)[0]!;
        this.now = Math.max(this.now, q.at);
        if (q.to.alive) {
          q.to.engine.receive(q.bytes, this.now);
          this.flush(q.to);
        }
        continue;
      }
      if (next >= end) {
        this.now = end;
        return done();
      }
      this.now = Math.max(this.now, next);
      for (const n of this.nodes) {
        if (!n.alive) continue;
        const d = n.engine.nextDeadline();
        if (d !== undefined && d <= this.now) {
          n.engine.tick(this.now);
          this.flush(n);
        }
      }
    }
  }

  messages(node: MiniNode): Array<{ sender: string; text: string; stream: number }> {
    const out = [];
    for (const { event } of node.events) {
      if (event.type === 'message') out.push({ sender: event.sender, text: new TextDecoder().decode(event.data), stream: event.streamId });
    }
    return out;
  }
}

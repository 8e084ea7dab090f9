import { CliqueError } from '../base/clique-error.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { randomFraction, SeededRandom, type RandomSource } from '../base/random.js';
import type { EngineEvent, MulticastEngine } from '../rmcast/engine-types.js';
import { peekHeader } from '../wire/codec.js';
import type { PacketTypeName } from '../wire/packet.js';
import type { History, HistoryDelivery, HistorySend, HistoryViewChange } from './delivery-history.js';
import { EventQueue } from './event-queue.js';

/**
 * In-process network of rMulticast engines on a virtual clock. Everything is
 * driven by one seeded PRNG and an event queue (time, then insertion order),
 * so a run is a pure function of its seed and a minute of protocol time takes
 * milliseconds. The simulator calls the engines exactly like a real driver
 * would: `receive` for each datagram, `tick` at `nextDeadline()`, draining the
 * output after every call.
 */

/** One direction of a link. Probabilities are in [0, 1]; times in ms. */
export interface LinkParams {
  /** Probability that a datagram is lost. */
  loss: number;
  /** Probability that a datagram arrives twice (each copy with its own delay). */
  duplicate: number;
  /** Uniform delay range [min, max]; random delays already reorder datagrams. */
  delay: readonly [number, number];
  /** Probability that a copy is held back an extra uniform [0, reorderDelay] ms. */
  reorder: number;
  reorderDelay: number;
}

export const PERFECT_LINK: LinkParams = { loss: 0, duplicate: 0, delay: [1, 1], reorder: 0, reorderDelay: 0 };

export type EngineFactory = (random: RandomSource, name: string) => MulticastEngine;

/** Decides whether to drop a datagram (true = drop). `type`/`sender` come from the header when it parses. */
export type DatagramFilter = (datagram: Uint8Array, header: { type: PacketTypeName; sender: number } | undefined) => boolean;

export interface SimulatedNetworkOptions {
  seed: number;
  /** Default parameters of every directed link. */
  link?: Partial<LinkParams>;
  /** Deliver each node's datagrams back to itself (multicast loopback; never lost). Default true. */
  loopback?: boolean;
  /** Bound on queue events processed by one run call; guards against an engine that never settles. */
  maxEventsPerRun?: number;
  logger?: Logger;
}

export type SimulationErrorCode = 'timeout' | 'runaway' | 'engine-threw' | 'bad-argument';

export class SimulationError extends CliqueError {
  declare readonly code: SimulationErrorCode;

  constructor(code: SimulationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export interface TimedEvent {
  time: number;
  incarnation: number;
  event: EngineEvent;
}

export type SimNodeStatus = 'running' | 'crashed' | 'left';

type QueueItem =
  | { kind: 'datagram'; from: SimNode; to: SimNode; bytes: Uint8Array; loopback: boolean }
  | { kind: 'timer'; node: SimNode; incarnation: number }
  | { kind: 'action'; run: () => void };

/** Counters for reports; `sentByType` counts datagrams that left a node (after its outgoing filter). */
export interface SimulationStats {
  events: number;
  datagramsSent: number;
  sentByType: Map<string, number>;
  lost: number;
  blockedByPartition: number;
  filtered: number;
  duplicated: number;
  received: number;
}

export class SimNode {
  readonly name: string;
  /** 0 for the first process, +1 for every restart. */
  incarnation = 0;
  status: SimNodeStatus = 'running';
  /** Every engine event with its virtual time and incarnation. */
  readonly events: TimedEvent[] = [];
  /** Messages this node delivered (all incarnations). */
  readonly delivered: HistoryDelivery[] = [];
  /** Messages this node sent (all incarnations). */
  readonly sent: HistorySend[] = [];
  /** Test hook: drop some of this node's outgoing datagrams (before any link). */
  dropOutgoing: DatagramFilter | undefined;
  /** Test hook: drop some datagrams arriving at this node. */
  dropIncoming: DatagramFilter | undefined;

  /** @internal */ engineRef: MulticastEngine;
  /** @internal */ timerAt: number | undefined;
  /** @internal */ deliveredThisIncarnation = 0;
  /** @internal */ readonly factory: EngineFactory;

  constructor(
    private readonly net: SimulatedNetwork,
    name: string,
    factory: EngineFactory,
    engine: MulticastEngine,
  ) {
    this.name = name;
    this.factory = factory;
    this.engineRef = engine;
  }

  get engine(): MulticastEngine {
    return this.engineRef;
  }

  /** Running and not left. */
  get alive(): boolean {
    return this.status === 'running';
  }

  get connected(): boolean {
    return this.status === 'running' && this.engineRef.state === 'connected';
  }

  get members(): readonly string[] {
    return this.engineRef.members;
  }

  /** Messages delivered by the current incarnation. */
  get deliveredNow(): HistoryDelivery[] {
    return this.delivered.filter((d) => d.incarnation === this.incarnation);
  }

  /** Events of the current incarnation of a given type. */
  eventsOf<T extends EngineEvent['type']>(type: T): Array<Extract<EngineEvent, { type: T }> & { time: number }> {
    return this.events
      .filter((e) => e.incarnation === this.incarnation && e.event.type === type)
      .map((e) => ({ ...(e.event as Extract<EngineEvent, { type: T }>), time: e.time }));
  }

  /** Originate a message now. Throws the engine's error (e.g. not connected). */
  send(streamId: number, data: Uint8Array): void {
    this.net.nodeSend(this, streamId, data);
  }

  /** Graceful leave (BYEs); the node stops when the engine reports 'disconnected'. */
  leave(): void {
    this.net.nodeCall(this, 'leave', (engine, now) => engine.leave(now));
  }

  /** Harness `FAIL:<name>`. */
  failMember(name: string): void {
    this.net.nodeCall(this, 'failMember', (engine, now) => engine.failMember(name, now));
  }
}

export class SimulatedNetwork {
  readonly seed: number;
  readonly nodes: SimNode[] = [];
  /** Human-readable record of everything that happened (node events, faults); identical for identical seeds. */
  readonly log: string[] = [];
  readonly stats: SimulationStats = {
    events: 0,
    datagramsSent: 0,
    sentByType: new Map(),
    lost: 0,
    blockedByPartition: 0,
    filtered: 0,
    duplicated: 0,
    received: 0,
  };

  private clock = 0;
  private readonly queue = new EventQueue<QueueItem>();
  private readonly master: SeededRandom;
  private readonly linkRandom: SeededRandom;
  private readonly defaultLink: LinkParams;
  private readonly links = new Map<string, LinkParams | 'down'>();
  private readonly loopback: boolean;
  private readonly maxEventsPerRun: number;
  private readonly logger: Logger;
  private sides: Map<SimNode, number> | undefined;
  private readonly viewChanges: HistoryViewChange[] = [];
  private recordSeq = 0;

  constructor(options: SimulatedNetworkOptions) {
    this.seed = options.seed >>> 0;
    this.master = new SeededRandom(this.seed);
    this.linkRandom = this.master.fork();
    this.defaultLink = validateLink({ ...PERFECT_LINK, ...options.link });
    this.loopback = options.loopback ?? true;
    this.maxEventsPerRun = options.maxEventsPerRun ?? 5_000_000;
    this.logger = (options.logger ?? silentLogger).child('sim');
  }

  /** Virtual time in ms since the network was created. */
  get now(): number {
    return this.clock;
  }

  /** Start a node now with a fresh engine. */
  addNode(name: string, factory: EngineFactory): SimNode {
    if (this.nodes.some((n) => n.name === name)) throw new SimulationError('bad-argument', `duplicate node name ${name}`);
    const engine = factory(this.master.fork(), name);
    const node = new SimNode(this, name, factory, engine);
    this.nodes.push(node);
    this.note(node, 'started');
    this.nodeCall(node, 'start', (e, now) => e.start(now));
    return node;
  }

  node(name: string): SimNode {
    const node = this.nodes.find((n) => n.name === name);
    if (node === undefined) throw new SimulationError('bad-argument', `no node named ${name}`);
    return node;
  }

  /** Nodes running (not crashed, not left). */
  liveNodes(): SimNode[] {
    return this.nodes.filter((n) => n.alive);
  }

  /** Set one direction of a link; 'down' = no connectivity. Partial params extend the network default. */
  setLink(from: SimNode, to: SimNode, params: Partial<LinkParams> | 'down'): void {
    this.links.set(linkKey(from, to), params === 'down' ? 'down' : validateLink({ ...this.defaultLink, ...params }));
  }

  /** Set both directions between two nodes. */
  setLinkBoth(a: SimNode, b: SimNode, params: Partial<LinkParams> | 'down'): void {
    this.setLink(a, b, params);
    this.setLink(b, a, params);
  }

  /**
   * Split the network: nodes in different groups cannot hear each other
   * (datagrams in flight across the cut are dropped on arrival too). Nodes in
   * no group form one more group together.
   */
  partition(groups: SimNode[][]): void {
    const sides = new Map<SimNode, number>();
    groups.forEach((group, index) => {
      for (const node of group) {
        if (sides.has(node)) throw new SimulationError('bad-argument', `${node.name} is in two partition groups`);
        sides.set(node, index);
      }
    });
    this.sides = sides;
    this.logAt(`partition ${groups.map((g) => '[' + g.map((n) => n.name).join(',') + ']').join(' ')}`);
  }

  heal(): void {
    this.sides = undefined;
    this.logAt('heal');
  }

  /** The node silently stops: no more input, output or timers. */
  crash(node: SimNode): void {
    if (node.status !== 'running') return;
    node.status = 'crashed';
    node.timerAt = undefined;
    this.note(node, 'crashed');
  }

  /** A crashed or departed node comes back as a new process: fresh engine, new incarnation. */
  restart(node: SimNode): void {
    if (node.status === 'running') throw new SimulationError('bad-argument', `${node.name} is still running`);
    node.incarnation++;
    node.status = 'running';
    node.timerAt = undefined;
    node.deliveredThisIncarnation = 0;
    node.engineRef = node.factory(this.master.fork(), node.name);
    this.note(node, 'restarted');
    this.nodeCall(node, 'start', (e, now) => e.start(now));
  }

  /** Run `action` at virtual time `time` (clamped to now). */
  at(time: number, action: () => void): void {
    this.queue.push(Math.max(time, this.clock), { kind: 'action', run: action });
  }

  after(ms: number, action: () => void): void {
    this.at(this.clock + ms, action);
  }

  /** Advance virtual time by `ms`, processing everything due. */
  runFor(ms: number): void {
    this.advanceTo(this.clock + ms, () => false);
  }

  /**
   * Run until `predicate()` holds (checked before starting and after every
   * event). Throws SimulationError 'timeout' (with the seed and a state dump)
   * when virtual time passes `timeoutMs`.
   */
  runUntil(predicate: () => boolean, options: { timeoutMs: number; what?: string }): void {
    if (predicate()) return;
    if (this.advanceTo(this.clock + options.timeoutMs, predicate)) return;
    throw new SimulationError(
      'timeout',
      `seed ${this.seed}: timed out after ${options.timeoutMs} ms of virtual time waiting for ${options.what ?? 'a condition'}\n${this.describeState()}`,
    );
  }

  /**
   * Process every event due up to `end`, stopping early (returning true) as
   * soon as `stop()` holds after an event; otherwise the clock ends at `end`.
   */
  private advanceTo(end: number, stop: () => boolean): boolean {
    let budget = this.maxEventsPerRun;
    for (;;) {
      const next = this.queue.peekTime();
      if (next === undefined || next > end) break;
      if (budget-- <= 0) this.runaway();
      this.step();
      if (stop()) return true;
    }
    this.clock = end;
    return false;
  }

  /** One line per node: status, members, counts. For failure messages. */
  describeState(): string {
    return this.nodes
      .map((n) => {
        const engine = n.engineRef;
        return (
          `  ${n.name}${n.incarnation > 0 ? '#' + n.incarnation : ''}: ${n.status}, engine ${engine.state}` +
          `, members [${engine.members.join(', ')}], sent ${n.sent.length}, delivered ${n.delivered.length}`
        );
      })
      .join('\n');
  }

  /** Everything the delivery checker needs, as of now. */
  history(): History {
    const sends: HistorySend[] = [];
    const deliveries: HistoryDelivery[] = [];
    for (const node of this.nodes) {
      sends.push(...node.sent);
      deliveries.push(...node.delivered);
    }
    return {
      seed: this.seed,
      endTime: this.clock,
      sends,
      deliveries,
      viewChanges: [...this.viewChanges],
      finalNodes: this.nodes.map((n) => ({
        name: n.name,
        incarnation: n.incarnation,
        // A node still sending its BYEs has left the group already.
        live: n.alive && n.engineRef.state !== 'leaving' && n.engineRef.state !== 'closed',
        members: [...n.engineRef.members],
      })),
    };
  }

  /** @internal Called by SimNode.send. */
  nodeSend(node: SimNode, streamId: number, data: Uint8Array): void {
    if (node.status !== 'running') throw new SimulationError('bad-argument', `${node.name} is ${node.status}`);
    const copy = data.slice();
    // The engine may refuse (not connected, too large): only accepted messages are recorded.
    node.engineRef.send(streamId, copy, this.clock);
    node.sent.push({
      node: node.name,
      incarnation: node.incarnation,
      time: this.clock,
      seq: this.recordSeq++,
      streamId,
      data: copy,
      deliveredBefore: node.deliveredThisIncarnation,
    });
    this.settle(node);
  }

  /** @internal Run one engine call now and route its output. */
  nodeCall(node: SimNode, what: string, call: (engine: MulticastEngine, now: number) => void): void {
    if (node.status !== 'running') return;
    try {
      call(node.engineRef, this.clock);
    } catch (error) {
      throw this.engineThrew(node, what, error);
    }
    this.settle(node);
  }

  private step(): void {
    const entry = this.queue.pop()!;
    this.clock = Math.max(this.clock, entry.time);
    this.stats.events++;
    const item = entry.item;
    switch (item.kind) {
      case 'action':
        item.run();
        return;
      case 'timer':
        this.fireTimer(item.node, item.incarnation, entry.time);
        return;
      case 'datagram':
        this.arrive(item.from, item.to, item.bytes, item.loopback);
        return;
    }
  }

  private fireTimer(node: SimNode, incarnation: number, time: number): void {
    if (node.status !== 'running' || node.incarnation !== incarnation || node.timerAt !== time) return;
    node.timerAt = undefined;
    const deadline = node.engineRef.nextDeadline();
    if (deadline === undefined) return;
    if (deadline > this.clock) {
      this.armTimer(node, deadline);
      return;
    }
    this.nodeCall(node, 'tick', (e, now) => e.tick(now));
  }

  private arrive(from: SimNode, to: SimNode, bytes: Uint8Array, loopback: boolean): void {
    if (to.status !== 'running') return;
    if (!loopback && this.separated(from, to)) {
      this.stats.blockedByPartition++;
      return;
    }
    if (to.dropIncoming?.(bytes, peekHeader(bytes))) {
      this.stats.filtered++;
      return;
    }
    this.stats.received++;
    this.nodeCall(to, 'receive', (e, now) => e.receive(bytes, now));
  }

  /** Drain the node's output after an engine call: record events, route datagrams, re-arm its timer. */
  private settle(node: SimNode): void {
    const { datagrams, events } = node.engineRef.drain();
    for (const event of events) this.record(node, event);
    for (const datagram of datagrams) this.route(node, datagram);
    if (node.status !== 'running') return;
    const deadline = node.engineRef.nextDeadline();
    if (deadline !== undefined) this.armTimer(node, Math.max(deadline, this.clock));
  }

  private armTimer(node: SimNode, time: number): void {
    // Keep only the earliest pending timer per node; later ones re-check the deadline when they fire.
    if (node.timerAt !== undefined && node.timerAt <= time) return;
    node.timerAt = time;
    this.queue.push(time, { kind: 'timer', node, incarnation: node.incarnation });
  }

  private record(node: SimNode, event: EngineEvent): void {
    node.events.push({ time: this.clock, incarnation: node.incarnation, event });
    switch (event.type) {
      case 'message':
        node.delivered.push({
          node: node.name,
          incarnation: node.incarnation,
          time: this.clock,
          seq: this.recordSeq++,
          sender: event.sender,
          streamId: event.streamId,
          data: event.data,
        });
        node.deliveredThisIncarnation++;
        this.note(node, `message from ${event.sender} stream ${event.streamId} ${event.data.length} bytes #${fnv1a(event.data)}`);
        return;
      case 'members-joined':
      case 'members-lost':
        this.viewChanges.push({
          node: node.name,
          incarnation: node.incarnation,
          time: this.clock,
          seq: this.recordSeq++,
          change: event.type === 'members-joined' ? 'joined' : 'lost',
          names: [...event.names],
        });
        this.note(node, `${event.type} ${event.names.join(' ')}`);
        return;
      case 'connected':
        this.note(node, `connected id ${event.senderId}`);
        return;
      case 'disconnected':
        this.note(node, 'disconnected');
        node.status = 'left';
        node.timerAt = undefined;
        return;
    }
  }

  private route(from: SimNode, datagram: Uint8Array): void {
    const header = peekHeader(datagram);
    if (from.dropOutgoing?.(datagram, header)) {
      this.stats.filtered++;
      return;
    }
    this.stats.datagramsSent++;
    const type = header?.type ?? 'unparsable';
    this.stats.sentByType.set(type, (this.stats.sentByType.get(type) ?? 0) + 1);
    if (this.loopback) {
      this.queue.push(this.clock, { kind: 'datagram', from, to: from, bytes: datagram.slice(), loopback: true });
    }
    for (const to of this.nodes) {
      if (to === from || to.status !== 'running') continue;
      if (this.separated(from, to)) {
        this.stats.blockedByPartition++;
        continue;
      }
      const link = this.links.get(linkKey(from, to)) ?? this.defaultLink;
      if (link === 'down') continue;
      const random = this.linkRandom;
      if (link.loss > 0 && randomFraction(random) < link.loss) {
        this.stats.lost++;
        continue;
      }
      let copies = 1;
      if (link.duplicate > 0 && randomFraction(random) < link.duplicate) {
        copies = 2;
        this.stats.duplicated++;
      }
      for (let i = 0; i < copies; i++) {
        let delay = link.delay[0] + randomFraction(random) * (link.delay[1] - link.delay[0]);
        if (link.reorder > 0 && randomFraction(random) < link.reorder) delay += randomFraction(random) * link.reorderDelay;
        this.queue.push(this.clock + delay, { kind: 'datagram', from, to, bytes: datagram.slice(), loopback: false });
      }
    }
  }

  private separated(a: SimNode, b: SimNode): boolean {
    if (this.sides === undefined) return false;
    return (this.sides.get(a) ?? -1) !== (this.sides.get(b) ?? -1);
  }

  private note(node: SimNode, what: string): void {
    const line = `${formatTime(this.clock)} ${node.name}${node.incarnation > 0 ? '#' + node.incarnation : ''} ${what}`;
    this.log.push(line);
    if (this.logger.isEnabled('debug')) this.logger.debug(line);
  }

  private logAt(what: string): void {
    const line = `${formatTime(this.clock)} ${what}`;
    this.log.push(line);
    if (this.logger.isEnabled('debug')) this.logger.debug(line);
  }

  private runaway(): never {
    throw new SimulationError(
      'runaway',
      `seed ${this.seed}: more than ${this.maxEventsPerRun} events in one run call at ${formatTime(this.clock)}; ` +
        `an engine keeps scheduling work without time passing?\n${this.describeState()}`,
    );
  }

  private engineThrew(node: SimNode, what: string, error: unknown): SimulationError {
    const text = error instanceof Error ? error.message : String(error);
    return new SimulationError(
      'engine-threw',
      `seed ${this.seed}: engine of ${node.name} threw in ${what} at ${formatTime(this.clock)}: ${text}`,
      { cause: error },
    );
  }
}

function linkKey(from: SimNode, to: SimNode): string {
  return `${from.name}\u0000${to.name}`;
}

function validateLink(link: LinkParams): LinkParams {
  const probability = (x: number): boolean => x >= 0 && x <= 1;
  if (!probability(link.loss) || !probability(link.duplicate) || !probability(link.reorder)) {
    throw new SimulationError('bad-argument', 'link probabilities must be in [0, 1]');
  }
  if (!(link.delay[0] >= 0 && link.delay[1] >= link.delay[0]) || !(link.reorderDelay >= 0)) {
    throw new SimulationError('bad-argument', 'link delays must be 0 <= min <= max');
  }
  return { ...link, delay: [link.delay[0], link.delay[1]] };
}

export function formatTime(ms: number): string {
  return `t=${(ms / 1000).toFixed(3)}s`;
}

/** Short content hash for logs. */
function fnv1a(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i]!;
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** A filter dropping every datagram of the given packet types (e.g. a node that never sends ATTEMPT_JOIN). */
export function dropPacketTypes(...types: PacketTypeName[]): DatagramFilter {
  const set = new Set<string>(types);
  return (_datagram, header) => header !== undefined && set.has(header.type);
}

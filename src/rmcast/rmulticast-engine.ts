import { errorText } from '../base/error-text.js';
import { Logger, silentLogger } from '../base/logger.js';
import { decodePacket, encodePacket, packetTypeName } from '../wire/codec.js';
import {
  DATA_HEADER_SIZE,
  DEFAULT_MAX_DATAGRAM,
  DataFlags,
  HEADER_SIZE,
  MAX_NAME_BYTES,
  SENDER_POSITION_SIZE,
  type DataPacket,
  type IdListPacket,
  type Packet,
  type ReliablePacket,
  type WhoisReplyPacket,
} from '../wire/packet.js';
import { PacketError } from '../wire/packet-error.js';
import type { EngineContext } from './engine-context.js';
import { DATA_FRAGMENT_PAYLOAD, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_TIMING } from './engine-defaults.js';
import { EngineError } from './engine-error.js';
import type {
  EngineEvent,
  EngineOptions,
  EngineOutput,
  EngineState,
  EngineTiming,
  MembershipResetReason,
  MulticastEngine,
} from './engine-types.js';
import { fitControlLists } from './list-limits.js';
import { Membership, MembershipState } from './membership.js';
import { readSender } from './datagram-bytes.js';
import { measureFootprint, type EngineFootprint, type EngineStats } from './engine-stats.js';
import { IdProbe } from './id-probe.js';
import { PeriodicPackets } from './periodic-packets.js';
import { SenderState } from './sender-record.js';
import { OwnFlowProgress } from './flow-progress.js';
import { hex, SenderTable } from './sender-table.js';
import { SpoofDetector } from './spoof-detector.js';

export type { EngineFootprint, EngineStats } from './engine-stats.js';
import { TimerQueue } from './timer-queue.js';

/** 'draining': leave() was called; we still run normally (answer repairs) until our packets are acknowledged. */
type Phase = 'idle' | 'probing' | 'connected' | 'draining' | 'leaving' | 'resetting' | 'closed';
const STATE_OF_PHASE: Readonly<Record<Phase, EngineState>> = {
  idle: 'idle',
  probing: 'connecting',
  resetting: 'connecting',
  connected: 'connected',
  draining: 'leaving',
  leaving: 'leaving',
  closed: 'closed',
};

/** How long leave() waits for our last packets to be acknowledged before the BYEs. */
const LEAVE_LINGER_MS = 3000;
const LEAVE_POLL_MS = 20;
/** What drain() returns when a call produced nothing (most timer ticks): no allocation. */
const NO_DATAGRAMS = Object.freeze([]) as unknown as Uint8Array[];
const NO_EVENTS = Object.freeze([]) as unknown as EngineEvent[];
const NOTHING: EngineOutput = Object.freeze({ datagrams: NO_DATAGRAMS, events: NO_EVENTS });

/**
 * The sans-IO rMulticast engine: one state machine per local node, wire
 * compatible with telepathy-salut's gibber implementation (spec rmulticast.md).
 * Time and randomness are injected; see engine-types.ts for the driving contract.
 */
export class RMulticastEngine implements MulticastEngine {
  readonly name: string;
  readonly stats: EngineStats;
  private phase: Phase = 'idle';
  private id: number | undefined;
  private clock = 0;
  private readonly timers = new TimerQueue();
  private readonly ctx: EngineContext;
  private readonly table: SenderTable;
  private readonly membership: Membership;
  private readonly loopback: boolean;
  private readonly log: Logger;
  // Output since the last drain(). Created on first use, as one-element
  // literals: most calls produce one datagram or one event, and a pushed-to
  // empty array would reserve room for 16 more on every message.
  private outDatagrams: Uint8Array[] | undefined;
  private outEvents: EngineEvent[] | undefined;
  private initialPacketId: number;
  private readonly probe: IdProbe;
  // Periodic work.
  private readonly periodic: PeriodicPackets;
  private readonly foreignSessionSeen = new Set<number>();
  private readonly spoof: SpoofDetector;
  private recovering = false;
  private readonly flow: OwnFlowProgress;

  constructor(options: EngineOptions) {
    const nameBytes = new TextEncoder().encode(options.name);
    if (options.name.length === 0 || nameBytes.length > MAX_NAME_BYTES || nameBytes.includes(0)) {
      throw new EngineError('bad-name', `node name must be 1..254 UTF-8 bytes without NUL: ${JSON.stringify(options.name)}`);
    }
    this.name = options.name;
    this.loopback = options.loopback ?? true;
    this.log = (options.logger ?? silentLogger).child(`rmcast:${options.name}`);
    const timing: EngineTiming = { ...DEFAULT_TIMING, ...options.timing };
    const maxDatagramSize = options.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM;
    if (maxDatagramSize <= 128) throw new RangeError('maxDatagramSize must be larger than 128');
    const random = options.random;
    this.ctx = {
      timing,
      random,
      timers: this.timers,
      log: this.log,
      maxDatagramSize,
      maxMessageSize: options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      now: () => this.clock,
      transmit: (datagram) => {
        this.stats.datagramsOut++;
        if (this.outDatagrams === undefined) this.outDatagrams = [datagram];
        else this.outDatagrams.push(datagram);
      },
    };
    this.table = new SenderTable(this.ctx, {
      onControlPacket: (record, packet) => this.membership.onControlPacket(record, packet),
      onSendersFailed: (ids) => this.membership.onSendersFailed(ids),
      onMessage: (record, streamId, data) => this.deliver(record.name ?? hex(record.id), record.id, streamId, data),
      onSenderForgotten: (id) => this.membership.forget(id),
      onConflictingPacket: (record, packetId) => this.spoof.conflict(record, packetId, this.clock),
    });
    this.stats = {
      datagramsIn: 0,
      datagramsOut: 0,
      malformed: 0,
      messagesSent: 0,
      messagesDelivered: 0,
      spoofSuspected: 0,
      internalErrors: 0,
      suppressed: this.table.suppressed,
    };
    this.flow = new OwnFlowProgress(this.table.records, (record) => this.table.stability.acksCount(record, this.clock));
    this.spoof = new SpoofDetector(this.log, this.stats, (event) => this.emit(event));
    const engine = this;
    this.membership = new Membership(this.ctx, this.table, {
      get ownId() {
        return engine.id ?? 0;
      },
      originateControl: (type, ids, repeating) => this.originateControl(type, ids, repeating),
      reset: (why) => this.reset(why),
      emit: (event) => this.emit(event),
    });
    this.initialPacketId = random.nextUint32();
    const host = { running: () => this.running, senderId: () => this.id, keepalive: () => void this.originate({ type: 'no-data' }) };
    this.periodic = new PeriodicPackets(this.ctx, this.table, host, options.imitateOriginal ?? false);
    this.probe = new IdProbe(this.ctx, this.loopback, (id) => this.becomeConnected(id));
  }

  get state(): EngineState {
    return STATE_OF_PHASE[this.phase];
  }

  get senderId(): number | undefined {
    return this.running || this.phase === 'leaving' ? this.id : undefined;
  }

  get members(): readonly string[] {
    return [...this.membership.view.values()];
  }

  /** Flow control (MulticastEngine): own packets some member has not told us, by depends or SESSION, that it has. */
  get unacknowledgedPackets(): number {
    return this.flow.unacknowledged(this.table.own, this.table.stability.ownProgressVersion, this.clock);
  }

  /** Own packets cached for repairs: not processed by every member according to their depends (spec §5.7). */
  get ownCachedPackets(): number {
    return this.table.own?.cache.size ?? 0;
  }

  get footprint(): EngineFootprint {
    return measureFootprint(this.table, this.membership.size, this.timers.size);
  }

  /** Next packet id we will originate, or undefined before we have an id (tests tell our past packets from future ones). */
  get nextPacketId(): number | undefined {
    return this.running ? this.table.own?.nextInput : undefined;
  }

  /** True while the group is agreeing on a new view (diagnostics and tests). */
  get stable(): boolean {
    return this.membership.state === MembershipState.Normal;
  }

  // ---- driving interface ------------------------------------------------------------

  start(now: number): void {
    this.guarded('start', () => {
      this.advance(now);
      if (this.phase !== 'idle') return;
      this.startProbing();
    });
  }

  receive(datagram: Uint8Array, now: number): void {
    this.stats.datagramsIn++;
    // guarded() inlined: this runs per datagram, so no closure for it.
    try {
      this.receiveDatagram(datagram, now);
    } catch (error) {
      this.failedIn('receive', error);
    }
  }

  private receiveDatagram(datagram: Uint8Array, now: number): void {
    this.advance(now);
    // Our own datagrams come back through multicast loopback: one per packet we
    // send. Once connected they are dropped anyway (spec §3.2), so skip the decode.
    if (this.phase === 'connected' && datagram.length >= HEADER_SIZE && this.id !== undefined && readSender(datagram) === this.id) {
      this.spoof.checkOwnEcho(this.table.own, datagram, this.clock);
      return;
    }
    let packet: Packet;
    try {
      packet = decodePacket(datagram);
    } catch (error) {
      if (!(error instanceof PacketError)) throw error;
      this.stats.malformed++;
      this.log.debug('dropped malformed datagram', { code: error.code, bytes: datagram.length, why: error.message });
      return;
    }
    if (this.log.isEnabled('debug')) {
      this.log.debug('recv', { type: packet.type, sender: hex(packet.sender), ...('packetId' in packet ? { packetId: packet.packetId } : {}) });
    }
    switch (this.phase) {
      case 'probing':
        this.probe.check(packet);
        return;
      case 'connected':
      case 'draining':
        this.dispatch(packet, datagram);
        return;
      case 'leaving':
      case 'resetting':
        this.dispatchWhileLeaving(packet, datagram);
        return;
      default:
        return;
    }
  }

  send(streamId: number, payload: Uint8Array, now: number): void {
    // guarded() inlined (twice): this runs per message, so no closures for it.
    try {
      this.advance(now);
    } catch (error) {
      this.failedIn('tick', error);
    }
    if (this.phase !== 'connected' || this.id === undefined) {
      throw new EngineError('not-connected', `cannot send while ${this.state}`);
    }
    if (!Number.isInteger(streamId) || streamId < 0 || streamId > 0xffff) {
      throw new EngineError('bad-stream-id', `stream id must be 0..65535, got ${streamId}`);
    }
    if (payload.length > this.ctx.maxMessageSize) {
      throw new EngineError(
        'message-too-large',
        `message of ${payload.length} bytes exceeds the maximum of ${this.ctx.maxMessageSize} bytes`,
      );
    }
    try {
      this.sendMessage(streamId, payload);
    } catch (error) {
      this.failedIn('send', error);
    }
  }

  private sendMessage(streamId: number, payload: Uint8Array): void {
    // At most dependsLimit entries (list-limits.ts): the first fragment always has room.
    const depends = this.table.depends();
    const max = this.ctx.maxDatagramSize;
    const firstCapacity = max - DATA_HEADER_SIZE - SENDER_POSITION_SIZE * depends.length;
    const total = payload.length;
    if (total <= firstCapacity) {
      this.originateData(DataFlags.START | DataFlags.END, streamId, total, payload, depends);
    } else {
      this.originateData(DataFlags.START, streamId, total, payload.subarray(0, firstCapacity), depends);
      const capacity = max - DATA_HEADER_SIZE;
      for (let offset = firstCapacity; offset < total; offset += capacity) {
        const last = offset + capacity >= total;
        this.originateData(last ? DataFlags.END : 0, streamId, total, payload.subarray(offset, offset + capacity), []);
      }
    }
    this.stats.messagesSent++;
  }

  tick(now: number): void {
    this.guarded('tick', () => this.advance(now));
  }

  leave(now: number): void {
    this.guarded('leave', () => this.startLeaving(now));
  }

  private startLeaving(now: number): void {
    this.advance(now);
    if (this.phase === 'idle' || this.phase === 'probing') {
      this.close();
      return;
    }
    if (this.phase !== 'connected') return;
    // Ours: the original sends its BYEs at once, so a last message that nobody
    // received yet can never be repaired. We first keep running (answering
    // repairs, taking acks) until every member has our packets, for a while.
    // "Has" by depends (an empty cache), not by SESSION positions (they skip holes a member may still
    // ask us to repair); beside a silent original member that costs the whole linger, once per leave.
    this.phase = 'draining';
    const giveUpAt = this.clock + LEAVE_LINGER_MS;
    const check = (): void => {
      if (this.phase !== 'draining') return;
      if (this.ownCachedPackets === 0 || this.clock >= giveUpAt) {
        this.membership.clear(MembershipState.Disconnected);
        this.sendByes(() => this.close());
      } else {
        this.timers.schedule(this.clock + LEAVE_POLL_MS, check);
      }
    };
    check();
  }

  private get running(): boolean {
    return this.phase === 'connected' || this.phase === 'draining';
  }

  failMember(name: string, now: number): void {
    this.guarded('failMember', () => {
      this.advance(now);
      const record = this.table.findByName(name);
      if (record === undefined || record.isOwn) {
        this.log.warn('FAIL: no such sender', { name });
        return;
      }
      this.table.reportFailed(record, 'forced by FAIL');
    });
  }

  drain(): EngineOutput {
    if (this.outDatagrams === undefined && this.outEvents === undefined) return NOTHING;
    const out = { datagrams: this.outDatagrams ?? NO_DATAGRAMS, events: this.outEvents ?? NO_EVENTS };
    this.outDatagrams = this.outEvents = undefined;
    return out;
  }

  nextDeadline(): number | undefined {
    return this.timers.nextDeadline();
  }

  // ---- internals ------------------------------------------------------------------------

  /**
   * Runs one input. Issue 15: an exception from inside the engine (a bug, or
   * input nobody foresaw) must not leave it half-updated and silent, so it
   * resets to a clean state, tells the user ('reset' event) and rejoins under a
   * new id, like a reset by the group (spec §8.9).
   */
  private guarded(what: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.failedIn(what, error);
    }
  }

  private failedIn(what: string, error: unknown): void {
    if (this.recovering) throw error;
    this.recover(what, error);
  }

  private recover(what: string, error: unknown): void {
    this.recovering = true;
    try {
      this.stats.internalErrors++;
      const detail = `internal error in ${what}: ${errorText(error)}`;
      this.log.error('internal error; resetting and rejoining', { where: what, error: errorText(error) });
      const phase = this.phase;
      const oldId = this.id;
      const byeId = this.table.own?.nextInput;
      const lost = this.membership.takeView();
      this.stopPeriodic();
      this.timers.clear();
      this.table.clear();
      this.membership.clear(MembershipState.Disconnected);
      this.foreignSessionSeen.clear();
      if (lost.length > 0) this.emit({ type: 'members-lost', names: lost, reason: 'reset' });
      this.emit({ type: 'reset', reason: 'internal-error', detail });
      if (phase === 'idle' || phase === 'closed') {
        this.phase = phase;
        return;
      }
      if (phase === 'draining' || phase === 'leaving') {
        this.close();
        return;
      }
      // One BYE under the old id lets the others drop us at once instead of timing out.
      if (oldId !== undefined && byeId !== undefined && (phase === 'connected' || phase === 'resetting')) {
        this.ctx.transmit(encodePacket({ type: 'bye', sender: oldId, packetId: byeId, depends: [] }));
      }
      this.initialPacketId = this.ctx.random.nextUint32();
      this.startProbing();
    } finally {
      this.recovering = false;
    }
  }

  private advance(now: number): void {
    this.timers.runDue(now, this.moveClock);
    if (now > this.clock) this.clock = now;
  }

  /** Created once: advance() runs on every datagram and must not allocate a closure each time. */
  private readonly moveClock = (time: number): void => {
    if (time > this.clock) this.clock = time;
  };

  private emit(event: EngineEvent): void {
    if (this.outEvents === undefined) this.outEvents = [event];
    else this.outEvents.push(event);
  }

  private deliver(sender: string, senderId: number, streamId: number, data: Uint8Array): void {
    this.stats.messagesDelivered++;
    this.emit({ type: 'message', sender, senderId, streamId, data });
    this.periodic.noteDelivery(data.length <= DATA_FRAGMENT_PAYLOAD ? 1 : Math.ceil(data.length / DATA_FRAGMENT_PAYLOAD));
  }

  // Identity (spec §4.1, §4.2).

  private startProbing(): void {
    this.phase = 'probing';
    this.probe.start();
  }

  private becomeConnected(id: number): void {
    this.id = id;
    this.phase = 'connected';
    this.foreignSessionSeen.clear();
    this.table.createOwn(this.id, this.name, this.initialPacketId);
    this.ctx.transmit(encodePacket({ type: 'whois-reply', sender: this.id, name: this.name }));
    this.periodic.start();
    this.membership.onConnected();
    this.log.info('connected', { sender: hex(this.id) });
    this.emit({ type: 'connected', senderId: this.id });
  }

  // Receive path (spec §3.2).

  private push(packet: Packet, datagram: Uint8Array): boolean {
    switch (packet.type) {
      case 'whois-request':
        return this.table.pushWhoisRequest(packet);
      case 'whois-reply':
        return this.table.pushWhoisReply(packet, this.name);
      case 'repair-request':
        return this.table.pushRepairRequest(packet);
      case 'session':
        return this.table.pushSession(packet);
      default:
        return this.table.pushReliable(packet, datagram);
    }
  }

  private dispatch(packet: Packet, datagram: Uint8Array): void {
    if (packet.sender === 0) {
      if (packet.type === 'whois-request') this.table.pushWhoisRequest(packet);
      return;
    }
    if (packet.sender === this.id) {
      this.spoof.checkOwnEcho(this.table.own, datagram, this.clock);
      return;
    }
    this.table.heard(packet.sender, packet.type !== 'whois-reply');
    if (packet.type === 'whois-reply') {
      this.pushWhoisReply(packet);
      return;
    }
    if (packet.type === 'attempt-join') this.membership.gathering.attemptJoinHeard();
    else if (packet.type === 'repair-request') this.membership.gathering.lossHeard();
    let accepted = this.push(packet, datagram);
    if (!accepted) {
      this.membership.onForeignPacket(packet);
      accepted = this.push(packet, datagram);
      if (!accepted) return;
    } else if (packet.type === 'session' && this.table.get(packet.sender)?.state === SenderState.New) {
      // Ours (spec Q8): nodes that met only through WHOIS would not gather until a
      // keepalive minutes later; a SESSION from a sender we cannot place starts
      // gathering once per sender, exactly as if the record had not existed.
      // Only once it is named (issue 15): a stranger is asked its name first.
      if (!this.foreignSessionSeen.has(packet.sender) && this.table.isEstablished(packet.sender)) {
        this.foreignSessionSeen.add(packet.sender);
        this.membership.onForeignPacket(packet);
      }
    }
    if (packet.type === 'session') {
      this.table.handleSession(packet);
      this.table.sessionHeard(packet.sender);
      this.periodic.heardSession(packet);
    } else if ('depends' in packet) {
      this.table.afterReliableAccepted(packet);
    }
  }

  /**
   * Ours (issue 10): a newcomer's first SESSION often arrives before its name
   * (datagrams reorder), and a stranger is only gathered with once named
   * (issue 15). When the name comes, gather at once as if its SESSION came now,
   * instead of waiting up to a SESSION interval for its next one.
   */
  private pushWhoisReply(packet: WhoisReplyPacket): void {
    const record = this.table.get(packet.sender);
    const unnamed = record !== undefined && record.name === undefined;
    if (!this.table.pushWhoisReply(packet, this.name)) {
      // Unknown sender: the record it makes names it at once (spec §8.2 step 3, Q8).
      this.membership.onForeignPacket(packet);
      this.table.pushWhoisReply(packet, this.name);
      return;
    }
    if (!unnamed || record.name === undefined) return;
    this.membership.memberNamed(packet.sender);
    if (record.state !== SenderState.New || !this.table.isEstablished(packet.sender)) return;
    if (this.foreignSessionSeen.has(packet.sender)) return;
    this.foreignSessionSeen.add(packet.sender);
    this.membership.onForeignPacket({ type: 'session', sender: packet.sender, positions: [] });
  }

  private dispatchWhileLeaving(packet: Packet, datagram: Uint8Array): void {
    if (packet.sender === 0 || packet.sender === this.id || this.table.get(packet.sender) === undefined) return;
    if (packet.type === 'repair-request') this.table.pushRepairRequest(packet, true);
    else if ('depends' in packet) this.table.pushReliable(packet, datagram);
  }

  // Sending (spec §3.4, §7).

  private originate(fields: { type: 'no-data' } | { type: IdListPacket['type']; ids: number[] }, repeating = false): {
    packetId: number;
    bytes: Uint8Array;
    ids: number[];
  } {
    const own = this.table.own;
    if (own === undefined || this.id === undefined) throw new EngineError('not-connected', 'no own sender record');
    let depends = this.table.depends();
    let ids: number[] = [];
    if (fields.type !== 'no-data') {
      // Both lists must fit one datagram (list-limits.ts); callers order ids best first.
      const fit = fitControlLists(depends.length, fields.ids.length, this.ctx.maxDatagramSize);
      if (fit.depends < depends.length) depends = this.table.rankPositions(depends).slice(0, fit.depends);
      ids = fit.ids < fields.ids.length ? fields.ids.slice(0, fit.ids) : fields.ids;
      fields = { type: fields.type, ids };
    }
    const packet = { ...fields, sender: this.id, packetId: own.nextInput, depends } as ReliablePacket;
    const bytes = this.encodeOwn(packet);
    this.afterOriginate(packet, bytes, repeating);
    return { packetId: packet.packetId, bytes, ids };
  }

  private originateControl(type: IdListPacket['type'], ids: number[], repeating: boolean): { packetId: number; bytes: Uint8Array; ids: number[] } {
    return this.originate({ type, ids }, repeating);
  }

  private originateData(flags: number, streamId: number, totalSize: number, payload: Uint8Array, depends: DataPacket['depends']): void {
    const own = this.table.own!;
    const packet: DataPacket = {
      type: 'data',
      sender: this.id!,
      packetId: own.nextInput,
      depends,
      flags,
      streamId,
      totalSize,
      payload,
    };
    const bytes = this.encodeOwn(packet);
    // Keep the cached copy independent of the caller's buffer.
    packet.payload = bytes.subarray(bytes.length - payload.length);
    this.afterOriginate(packet, bytes, false);
  }

  private encodeOwn(packet: ReliablePacket): Uint8Array {
    try {
      return encodePacket(packet, this.ctx.maxDatagramSize);
    } catch (error) {
      if (error instanceof PacketError) throw new EngineError('too-many-senders', error.message);
      throw error;
    }
  }

  private afterOriginate(packet: ReliablePacket, bytes: Uint8Array, repeating: boolean): void {
    if (this.log.isEnabled('debug')) {
      this.log.debug('send', { type: packetTypeName(bytes[7]!), packetId: packet.packetId, depends: packet.depends.length });
    }
    this.periodic.noteOriginated();
    this.ctx.transmit(bytes);
    if (packet.depends.length > 0) this.restartKeepalive();
    this.table.storeOwn(packet, bytes, repeating);
  }

  private restartKeepalive(): void {
    this.periodic.restartKeepalive();
  }

  private stopPeriodic(): void {
    this.periodic.stop();
    this.probe.stop();
  }

  // Leaving and resetting (spec §8.8, §8.9).

  private sendByes(then: () => void): void {
    this.stopPeriodic();
    this.table.stopAll();
    this.phase = this.phase === 'resetting' ? 'resetting' : 'leaving';
    const own = this.table.own;
    const bye = encodePacket({ type: 'bye', sender: this.id!, packetId: own?.nextInput ?? 0, depends: [] });
    const count = Math.max(1, this.ctx.timing.byeCount);
    let sent = 0;
    const sendOne = (): void => {
      this.ctx.transmit(bye);
      if (++sent < count) this.timers.schedule(this.clock + this.ctx.timing.byeInterval, sendOne);
      else then();
    };
    sendOne();
  }

  private close(): void {
    this.stopPeriodic();
    this.table.clear();
    this.membership.clear(MembershipState.Disconnected);
    this.membership.view.clear();
    this.timers.clear();
    this.phase = 'closed';
    this.log.info('disconnected');
    this.emit({ type: 'disconnected' });
  }

  /** We were declared failed (or are stuck): BYE under the old id, forget everything, come back with a new id. */
  private reset(why: MembershipResetReason = 'declared-failed'): void {
    if (this.phase === 'draining') {
      // Declared failed while leaving anyway: just go.
      this.membership.clear(MembershipState.Disconnected);
      this.sendByes(() => this.close());
      return;
    }
    if (!this.running) return;
    const detail = why === 'declared-failed' ? 'the group declared us failed' : 'our join phase timed out behind packets of members we still hear';
    this.log.warn(`${detail}; rejoining with a new sender id`, { sender: hex(this.id ?? 0) });
    const lost = this.membership.takeView();
    this.membership.clear(MembershipState.Resetting);
    if (lost.length > 0) this.emit({ type: 'members-lost', names: lost, reason: 'reset' });
    this.emit({ type: 'reset', reason: why, detail });
    this.phase = 'resetting';
    this.sendByes(() => {
      this.table.clear();
      this.initialPacketId = this.ctx.random.nextUint32();
      this.startProbing();
    });
  }
}

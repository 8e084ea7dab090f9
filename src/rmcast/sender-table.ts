import { noteSession, silenceLimit } from './silence-rule.js';
import {
  isEnd,
  type ReliablePacket,
  type RepairRequestPacket,
  type SenderPosition,
  type SessionPacket,
  type WhoisReplyPacket,
  type WhoisRequestPacket,
} from '../wire/packet.js';
import { seqAdd, seqDiff } from '../wire/sequence.js';
import type { EngineContext } from './engine-context.js';
import { MAX_SENDER_RECORDS, PACKET_CACHE_SIZE } from './engine-defaults.js';
import { newCacheEntry, SenderRecord, SenderState, type CacheEntry } from './sender-record.js';
import { hex, sameBytes } from './datagram-bytes.js';
import type { SenderTableCore, SenderTableHooks, SuppressedCounts } from './sender-table-core.js';
import { SenderLists } from './sender-lists.js';
import { SenderNaming } from './sender-naming.js';
import { SenderReassembly } from './sender-reassembly.js';
import { SenderRepairs } from './sender-repairs.js';
import { SenderStability } from './sender-stability.js';
import { PreStartStash } from './pre-start-stash.js';


/**
 * The causal layer's per-sender machinery (spec §5-§7): receive windows, NAKs
 * and repairs, in-order and causal processing, reassembly, implicit acks and
 * garbage collection, WHOIS names and sender-level failure detection.
 */
export { hex } from './datagram-bytes.js';

export type { SenderTableHooks, SuppressedCounts } from './sender-table-core.js';

export class SenderTable implements SenderTableCore {
  readonly records = new Map<number, SenderRecord>();
  readonly pendingRemoval = new Map<number, SenderRecord>();
  private processing = false;
  private processAgain = false;
  /**
   * Set during a pass when some record stopped for a reason another record's
   * progress could lift (causal wait, held delivery, control packet, failure);
   * when no record did, each stopped at a missing packet and another pass
   * could not progress (one pass per datagram instead of two under load).
   */
  private waitsOnOthers = false;
  private readonly failedQueue: Array<{ id: number; reason: string }> = [];
  private drainingFailures = false;
  /** Ids of the own record; set by the engine at connect. */
  ownId = 0;
  /** Set while leaving: nothing is processed any more. */
  leaving = false;
  readonly suppressed: SuppressedCounts = { whoisRequests: 0, whoisReplies: 0, repairRequests: 0, repairAnswers: 0 };
  /** @internal The table's parts, split out for size (they use its records and hooks). */
  readonly reassembly: SenderReassembly;
  /** @internal */ readonly stability: SenderStability;
  /** @internal */ readonly repairs: SenderRepairs;
  /** @internal */ readonly naming: SenderNaming;
  /** @internal */ readonly lists: SenderLists;
  /** @internal Packets of senders without a start yet (pre-start-stash.ts). */
  readonly preStart = new PreStartStash();

  constructor(
    private readonly ctx: EngineContext,
    /** @internal */ readonly hooks: SenderTableHooks,
  ) {
    this.reassembly = new SenderReassembly(ctx, this);
    this.stability = new SenderStability(ctx, this);
    this.repairs = new SenderRepairs(ctx, this);
    this.naming = new SenderNaming(ctx, this);
    this.lists = new SenderLists(ctx, this);
  }

  /** Run the garbage collection now (also used by tests and at leave). */
  collectGarbage(): void {
    this.stability.collectGarbage();
  }

  /**
   * An id others may make a member of (issue 15): we heard it speak under its
   * own id and somebody told us its name. Ids only mentioned in other
   * packets' depends, SESSION positions or id lists are not, so forged lists
   * cannot fill our gathering, our ATTEMPT_JOIN/JOIN lists or our depends.
   */
  isEstablished(id: number): boolean {
    const record = this.records.get(id);
    return record !== undefined && (record.isOwn || (record.spoke && record.name !== undefined));
  }

  get(id: number): SenderRecord | undefined {
    return this.records.get(id);
  }

  get own(): SenderRecord | undefined {
    return this.ownRecord;
  }

  /** The own record, kept beside the Map: read several times per datagram. Only createOwn and clear change it (the own record is never removed alone). */
  private ownRecord: SenderRecord | undefined;

  findByName(name: string): SenderRecord | undefined {
    for (const record of this.records.values()) if (record.name === name) return record;
    return undefined;
  }

  /** Create the own record at connect (spec §4.2). */
  createOwn(id: number, name: string, initialPacketId: number): SenderRecord {
    const record = new SenderRecord(id, this.ctx.now(), true);
    record.name = name;
    this.records.set(id, record);
    this.ownId = id;
    this.ownRecord = record;
    this.setStart(record, initialPacketId);
    record.dataStart = initialPacketId;
    return record;
  }

  /**
   * Make sure a record exists for `id`; a new one starts name discovery.
   * Returns undefined when the table is full (forged-id floods) or for id 0.
   */
  ensure(id: number): SenderRecord | undefined {
    const existing = this.records.get(id);
    if (existing !== undefined) return existing;
    if (id === 0) return undefined;
    if (this.records.size >= MAX_SENDER_RECORDS && !this.evictStranger()) {
      this.ctx.log.warn('sender table full; ignoring new sender', { sender: hex(id) });
      return undefined;
    }
    const record = new SenderRecord(id, this.ctx.now(), false);
    this.records.set(id, record);
    this.naming.scheduleWhoisRequest(record, this.ctx.timing.whoisFirstRequest);
    this.ctx.log.debug('new sender record', { sender: hex(id) });
    return record;
  }

  /**
   * The table is full: forget the sender without a start position that we
   * heard from least recently (forged ids are such senders), so a flood of
   * forged ids cannot keep a real newcomer out. False if every record has a start.
   */
  private evictStranger(): boolean {
    let stalest: SenderRecord | undefined;
    for (const record of this.records.values()) {
      if (record.isOwn || record.hasStart) continue;
      if (stalest === undefined || record.lastHeard < stalest.lastHeard) stalest = record;
    }
    if (stalest === undefined) return false;
    this.naming.cancelWhois(stalest);
    this.deleteForever(stalest);
    this.hooks.onSenderForgotten(stalest.id);
    return true;
  }

  /** Set (or move forward) a record's start position (spec §5.1). */
  setStart(record: SenderRecord, start: number): void {
    if (record.state === SenderState.New) {
      record.state = SenderState.Preparing;
      record.firstPacket = record.nextInput = record.nextOutput = record.nextOutputData = start;
      record.stableUpTo = start;
      record.lastProgress = record.startedAt = this.ctx.now();
      // Packets heard before the start, in id order, as if just received:
      // pushReliable's window keeps those from the start on and drops the rest.
      const stashed = this.preStart.take(record.id);
      stashed.sort((a, b) => seqDiff(b.packet.packetId, a.packet.packetId));
      for (const { packet, bytes } of stashed) this.pushReliable(packet, bytes, false);
      this.processAll();
      return;
    }
    if (!record.hasStart || record.state >= SenderState.Failed) return;
    if (seqDiff(record.nextInput, start) > 0) {
      for (const [id, entry] of record.cache) {
        if (seqDiff(start, id) < 0) {
          this.dropEntry(entry);
          record.cache.delete(id);
        }
      }
      record.firstPacket = record.nextInput = record.nextOutput = record.nextOutputData = start;
      record.stableUpTo = start;
      this.processAll();
    }
  }

  setHold(record: SenderRecord, point: number): void {
    record.holdPoint = point;
  }

  releaseHold(record: SenderRecord): void {
    if (record.holdPoint === undefined) return;
    record.holdPoint = undefined;
    this.processAll();
  }

  setDataStart(record: SenderRecord, start: number): void {
    record.dataStart = start;
    this.processAll();
  }

  /** Mark a sender failed at the causal layer: processed only up to its end point (spec §6.5). */
  markFailed(record: SenderRecord): void {
    if (record.state >= SenderState.Failed) return;
    if (record.state === SenderState.New) {
      record.state = SenderState.UnknownFailed;
      this.preStart.forget(record.id);
      return;
    }
    record.state = SenderState.Failed;
    record.endPoint = record.nextOutput;
  }

  /** Remove a sender (spec §5.8): keep it for repairs while its cache still spans packets. */
  removeSender(id: number): void {
    const record = this.records.get(id);
    if (record === undefined || record.isOwn) return;
    this.records.delete(id);
    this.naming.cancelWhois(record);
    this.preStart.forget(id);
    const end = record.state === SenderState.Failed ? record.endPoint : record.nextInput;
    const spans = record.hasStart && record.firstPacket !== end && hasStoredPackets(record);
    for (const entry of record.cache.values()) {
      this.ctx.timers.cancel(entry.nakTimer);
      entry.nakTimer = undefined;
    }
    if (spans) {
      record.state = SenderState.PendingRemoval;
      record.pendingSince = this.ctx.now();
      if (record.nextOutput !== end && seqDiff(record.nextOutput, end) < 0) record.nextOutput = end;
      this.pendingRemoval.set(id, record);
      this.ctx.log.debug('sender pending removal', { sender: hex(id), name: record.name });
    } else {
      this.deleteForever(record);
    }
    this.stability.needed = true;
    this.processAll();
  }

  /** Leaving: stop every record (cancel NAK and whois timers); cached packets stay repairable. */
  stopAll(): void {
    this.leaving = true;
    for (const record of this.records.values()) {
      this.naming.cancelWhois(record);
      for (const entry of record.cache.values()) {
        this.ctx.timers.cancel(entry.nakTimer);
        entry.nakTimer = undefined;
      }
      if (record.state < SenderState.Stopped) record.state = SenderState.Stopped;
    }
  }

  /** Drop every record and timer (reset or close). */
  clear(): void {
    for (const record of [...this.records.values(), ...this.pendingRemoval.values()]) {
      this.naming.cancelWhois(record);
      for (const entry of record.cache.values()) this.dropEntry(entry);
    }
    this.records.clear();
    this.ownRecord = undefined;
    this.pendingRemoval.clear();
    this.failedQueue.length = 0;
    this.preStart.clear();
    this.leaving = false;
    this.processing = this.processAgain = this.drainingFailures = false;
    this.lists.clear();
  }

  /** Depends list for a packet we originate (SenderLists.depends). */
  depends(): SenderPosition[] {
    return this.lists.depends();
  }

  /** Ids best first, for lists that do not fit the wire (SenderLists.rankIds). */
  rankIds(ids: readonly number[]): number[] {
    return this.lists.rankIds(ids);
  }

  rankPositions(list: SenderPosition[]): SenderPosition[] {
    return this.lists.rankPositions(list);
  }

  /** SESSION body (SenderLists.sessionPositions). */
  sessionPositions(limit: number, omitOne = true): SenderPosition[] {
    return this.lists.sessionPositions(limit, omitOne);
  }

  /** Insert a packet we originated into our own record (cached for repairs, acked like any other). */
  storeOwn(packet: ReliablePacket, bytes: Uint8Array, repeating: boolean): void {
    const own = this.own;
    if (own === undefined) return;
    own.cache.set(packet.packetId, newCacheEntry(packet, bytes, repeating));
    own.nextInput = seqAdd(packet.packetId, 1);
    this.repairs.noteOwnSent(packet.packetId);
    this.processAll();
  }

  /** Stop treating a cached packet of ours as repeating (a stopped ATTEMPT_JOIN), so it can be freed. */
  stopRepeating(packetId: number): void {
    const entry = this.own?.cache.get(packetId);
    if (entry !== undefined) {
      entry.repeating = false;
      this.stability.needed = true;
    }
  }

  // ---- receive path (spec §3.2) -------------------------------------------------

  /** WHOIS_REQUEST: answered by whoever knows the queried id's name. */
  pushWhoisRequest(packet: WhoisRequestPacket): boolean {
    const record = this.records.get(packet.queriedId) ?? this.pendingRemoval.get(packet.queriedId);
    if (record === undefined) return false;
    if (record.name !== undefined) {
      if (!(record.whoisTimerIsReply && record.whoisTimer?.active)) this.naming.scheduleWhoisReply(record);
    } else if (record.whoisTimer?.active && !this.leaving) {
      // Somebody else asked already: suppress our own request for a while.
      this.naming.scheduleWhoisRequest(record, this.ctx.timing.whoisRepeatRequest);
    }
    return true;
  }

  /** WHOIS_REPLY: names a sender; a second reply only cancels our pending timer (spec §4.3, Q14/Q15). */
  pushWhoisReply(packet: WhoisReplyPacket, ownName: string): boolean {
    const record = this.records.get(packet.sender) ?? this.pendingRemoval.get(packet.sender);
    if (record === undefined) return false;
    if (record.name === undefined) {
      // Safety (ours): never let another id take our own name.
      if (packet.name === ownName && !record.isOwn) {
        this.ctx.log.warn('ignoring WHOIS_REPLY binding our own name to another id', { sender: hex(packet.sender) });
        return true;
      }
      record.name = packet.name;
      this.naming.cancelWhois(record);
      record.lastProgress = this.ctx.now();
      this.ctx.log.debug('learned sender name', { sender: hex(record.id), name: record.name });
      this.processAll();
    } else {
      this.naming.cancelWhois(record);
    }
    return true;
  }

  /** REPAIR_REQUEST(S, x) (SenderRepairs.pushRepairRequest). */
  pushRepairRequest(packet: RepairRequestPacket, mainTableOnly = false): boolean {
    return this.repairs.pushRepairRequest(packet, mainTableOnly);
  }

  /** SESSION: accepted iff the sender has a record, whatever its state (Q8). */
  pushSession(packet: SessionPacket): boolean {
    return this.records.has(packet.sender);
  }

  /**
   * A SESSION's positions reveal packets we miss (spec §5.5). The original
   * would also postpone its own SESSION when this one told nothing new; we
   * never do (see sessionPositions).
   */
  handleSession(packet: SessionPacket): void {
    if (!this.tellsPositions(packet.sender)) return;
    this.repairs.positionsFrom(packet);
    for (const position of packet.positions) {
      if (position.senderId === this.ownId) this.noteSessionPositionOfOwn(packet.sender, position.packetId);
      const record = this.records.get(position.senderId);
      if (record !== undefined) this.repairs.seen(record, position.packetId);
    }
  }

  /** A member told what it received of ours (flow-progress.ts); only ever moves forward. */
  private noteSessionPositionOfOwn(memberId: number, position: number): void {
    const member = this.records.get(memberId);
    const own = this.own;
    if (member === undefined || member.isOwn || own === undefined) return;
    // Nobody can have received what we have not sent: a claim beyond it is forged or stale, and kept it would count later.
    if (seqDiff(own.nextInput, position) > 0) return;
    const known = member.sessionPositionOfOwn;
    if (known === undefined || seqDiff(known, position) > 0) {
      member.sessionPositionOfOwn = position;
      this.stability.ownProgressVersion++;
    }
  }

  /**
   * Reliable packet: stored if its sender has a start (spec §5.2). `fresh`:
   * just received (not replayed from the pre-start stash), so its depends are
   * current positions.
   */
  pushReliable(packet: ReliablePacket, bytes: Uint8Array, fresh = true): boolean {
    const record = this.records.get(packet.sender);
    if (record === undefined) return this.pendingRemoval.has(packet.sender);
    if (record.state === SenderState.New) {
      this.preStart.put(packet, bytes);
      return false;
    }
    record.lastHeard = this.ctx.now();
    if (record.state === SenderState.UnknownFailed) return true;
    const i = packet.packetId;
    const entry = record.cache.get(i);
    if (entry?.packet !== undefined) {
      if (entry.bytes !== undefined && entry.bytes !== bytes && !sameBytes(entry.bytes, bytes)) {
        // Repairs are byte-for-byte copies (spec §2.1): different bytes under
        // one id mean somebody forges this sender. Keep the first, tell the user.
        this.hooks.onConflictingPacket(record, i);
        return true;
      }
      // A duplicate is usually somebody's repair: it reached everybody who
      // asked, so ours is no longer needed (ours; the original answers every
      // repair request from every holder, Q9).
      this.repairs.copySeen(entry);
      if (entry.resendTimer?.active) {
        this.ctx.timers.cancel(entry.resendTimer);
        entry.resendTimer = undefined;
      }
      return true;
    }
    const d = seqDiff(record.nextOutput, i);
    if (d >= 0 && d < PACKET_CACHE_SIZE) {
      if (entry !== undefined) {
        this.ctx.timers.cancel(entry.nakTimer);
        entry.nakTimer = undefined;
        entry.packet = packet;
        entry.bytes = bytes;
      } else {
        record.cache.set(i, newCacheEntry(packet, bytes, false));
      }
      if (seqDiff(record.nextInput, i) >= 0) {
        // News (not a copy, nor a repair we awaited): its positions are current (SenderRepairs.positionsFrom).
        if (fresh && entry === undefined && this.tellsPositions(packet.sender)) this.repairs.positionsFrom(packet);
        if (record.state < SenderState.Stopped) {
          for (let id = record.nextInput; id !== i; id = seqAdd(id, 1)) this.repairs.scheduleRepair(record, id);
        }
        record.nextInput = seqAdd(i, 1);
      }
      if (record.state < SenderState.Stopped) this.processAll();
    }
    return true;
  }

  /** Post-processing of an accepted reliable packet: its depends reveal packets we miss. */
  afterReliableAccepted(packet: ReliablePacket): void {
    if (!this.tellsPositions(packet.sender)) return;
    const depends = packet.depends;
    for (let i = 0; i < depends.length; i++) {
      const position = depends[i]!;
      const record = this.records.get(position.senderId);
      if (record !== undefined) this.repairs.seen(record, position.packetId);
    }
  }

  /**
   * Ours (issue 15): whose SESSION and depends positions we act on. The
   * original NAKs whatever any packet claims; a stranger's forged SESSION then
   * had every member ask for up to 256 packets of every other member, again
   * and again. Only senders we exchanged positions with (a start), or that
   * are established (spoke under their own id and are named: a newcomer's
   * peers during a join), tell us what we miss; nameless strangers' hints
   * are ignored.
   */
  private tellsPositions(id: number): boolean {
    const record = this.records.get(id);
    if (record === undefined || record.state >= SenderState.Stopped) return false;
    return record.hasStart || (record.spoke && record.name !== undefined);
  }

  /** Note traffic from a sender (for the silence detector); `speaks`: under its own id (not a WHOIS_REPLY). */
  heard(senderId: number, speaks: boolean): void {
    const record = this.records.get(senderId);
    if (record !== undefined) {
      record.lastHeard = this.ctx.now();
      if (speaks) record.spoke = true;
    }
  }

  /** A SESSION from this sender was taken (its record may be new): its cadence, for the silence rule. */
  sessionHeard(senderId: number): void {
    const record = this.records.get(senderId);
    if (record !== undefined) noteSession(record, this.ctx.now(), this.ctx.timing);
  }


  /** Periodic liveness checks (name discovery deadline, progress watchdog, silence, pending-removal cap). */
  sweep(): void {
    const now = this.ctx.now();
    const t = this.ctx.timing;
    for (const record of this.records.values()) {
      if (record.isOwn || record.failureReported || record.state >= SenderState.Failed) continue;
      if (record.name === undefined) {
        if (now - record.createdAt >= t.nameDiscoveryDeadline) this.reportFailed(record, 'name unknown');
      } else if (record.hasStart && now - record.lastProgress >= t.progressWatchdog) {
        this.reportFailed(record, 'no progress');
      } else if (record.hasStart && now - record.lastHeard >= silenceLimit(record, t)) {
        this.reportFailed(record, 'silent');
      }
    }
    // Ours: a departed sender's packets are kept for repairs, but not forever.
    for (const record of this.pendingRemoval.values()) {
      if (now - record.pendingSince >= t.failureTimeout) this.deleteForever(record);
    }
    this.drainFailures();
  }

  /** Test hook / membership: a sender must be failed. */
  reportFailed(record: SenderRecord, reason: string): void {
    if (record.failureReported || record.state >= SenderState.Failed || record.isOwn) return;
    record.failureReported = true;
    this.ctx.log.debug('sender failed', { sender: hex(record.id), name: record.name, reason });
    this.failedQueue.push({ id: record.id, reason });
    if (!this.processing) this.drainFailures();
  }

  // ---- processing (spec §6) -------------------------------------------------------

  /** Process every record until a full pass makes no progress (fixed point). Re-entrant calls are folded in. */
  processAll(): void {
    if (this.processing) {
      this.processAgain = true;
      return;
    }
    this.processing = true;
    try {
      do {
        this.processAgain = false;
        let progress = true;
        while (progress) {
          progress = false;
          this.waitsOnOthers = false;
          if (this.leaving) break;
          // Map iteration tolerates records added or removed on the way.
          for (const record of this.records.values()) {
            if (this.processRecord(record)) progress = true;
          }
          if (!this.waitsOnOthers) break;
        }
        if (this.stability.needed) this.stability.maybeCollectGarbage();
      } while (this.processAgain);
    } finally {
      this.processing = false;
    }
    this.drainFailures();
  }

  private drainFailures(): void {
    if (this.drainingFailures) return;
    this.drainingFailures = true;
    try {
      while (this.failedQueue.length > 0) {
        const batch = this.failedQueue.splice(0);
        this.hooks.onSendersFailed(batch.map((f) => f.id));
      }
    } finally {
      this.drainingFailures = false;
    }
  }

  private processRecord(x: SenderRecord): boolean {
    if (x.state < SenderState.Preparing || x.state > SenderState.Failed) return false;
    // Only a control packet's membership work removes records: checked here
    // and after each control packet below, not per data packet (a Map lookup each).
    if (this.records.get(x.id) !== x) return false;
    let progressed = false;
    for (;;) {
      if (x.state > SenderState.Failed) return progressed;
      if (x.nextOutputData !== x.nextOutput) {
        const result = this.reassembly.deliverAtDataPointer(x);
        if (result !== 'blocked') {
          progressed = true;
          continue;
        }
        this.waitsOnOthers = true;
      }
      if (x.state === SenderState.Failed) this.waitsOnOthers = true;
      if (x.state === SenderState.Failed && seqDiff(x.nextOutput, x.endPoint) <= 0) return progressed;
      const entry = x.cache.get(x.nextOutput);
      const packet = entry?.packet;
      if (entry === undefined || packet === undefined) return progressed;
      this.stability.recordAcks(x, packet);
      if (!this.causallyReady(packet.depends, false)) {
        this.waitsOnOthers = true;
        return progressed;
      }
      // Control packets change membership and sender states: always look again.
      if (packet.type !== 'data') this.waitsOnOthers = true;
      this.processPacket(x, entry, packet);
      progressed = true;
      if (packet.type !== 'data' && this.records.get(x.id) !== x) return progressed;
    }
  }

  private processPacket(x: SenderRecord, entry: CacheEntry, packet: ReliablePacket): void {
    x.lastProgress = this.ctx.now();
    if (packet.type === 'data') {
      if (!this.reassembly.trackMessageBytes(x, packet)) return;
      if (x.nextOutputData === x.nextOutput) {
        x.nextOutput = seqAdd(x.nextOutput, 1);
        if (isEnd(packet)) {
          this.reassembly.deliverAtDataPointer(x);
        } else {
          x.nextOutputData = x.nextOutput;
        }
      } else {
        x.nextOutput = seqAdd(x.nextOutput, 1);
      }
      return;
    }
    if (x.nextOutputData === x.nextOutput) x.nextOutputData = seqAdd(x.nextOutputData, 1);
    x.nextOutput = seqAdd(x.nextOutput, 1);
    entry.processed = true;
    this.stability.needed = true;
    if (x.state < SenderState.Running) x.state = SenderState.Running;
    if (!x.isOwn && packet.type !== 'no-data') this.hooks.onControlPacket(x, packet);
  }

  /** Causal check (spec §6.2 step 5 / §6.3 step 4). Raises end points of failed senders we must still process. */
  /** @internal */
  causallyReady(depends: SenderPosition[], againstData: boolean): boolean {
    let ready = true;
    // Indexed: runs twice per data packet.
    for (let i = 0; i < depends.length; i++) {
      const { senderId, packetId } = depends[i]!;
      const s = this.records.get(senderId);
      if (s === undefined || !s.hasStart || s.state >= SenderState.Stopped) continue;
      const position = againstData ? s.nextOutputData : s.nextOutput;
      if (seqDiff(packetId, position) < 0) {
        ready = false;
        if (s.state === SenderState.Failed && seqDiff(s.endPoint, packetId) > 0) {
          s.endPoint = packetId;
          this.processAgain = true;
        }
      }
    }
    return ready;
  }


  /** @internal */
  deleteForever(record: SenderRecord): void {
    for (const entry of record.cache.values()) this.dropEntry(entry);
    record.cache.clear();
    this.preStart.forget(record.id);
    this.pendingRemoval.delete(record.id);
    if (this.records.get(record.id) === record) this.records.delete(record.id);
    if (record === this.ownRecord) this.ownRecord = undefined;
    for (const other of this.records.values()) other.acks.delete(record.id);
  }

  /** @internal */
  dropEntry(entry: CacheEntry): void {
    this.ctx.timers.cancel(entry.nakTimer);
    this.ctx.timers.cancel(entry.resendTimer);
    entry.nakTimer = entry.resendTimer = undefined;
  }
}

function hasStoredPackets(record: SenderRecord): boolean {
  for (const entry of record.cache.values()) if (entry.packet !== undefined) return true;
  return false;
}


import type { ReliablePacket } from '../wire/packet.js';
import { seqAdd, seqDiff } from '../wire/sequence.js';
import type { EngineContext } from './engine-context.js';
import { SenderState, type SenderRecord } from './sender-record.js';
import type { SenderTableCore } from './sender-table-core.js';
import type { TimerHandle } from './timer-queue.js';

const GC_BATCH = 16;
const GC_DELAY_MS = 5;

/**
 * Implicit acknowledgements and garbage collection (spec §5.7, §5.8): what
 * each sender's depends say it processed, and freeing cached packets once
 * every sender that counts has them. Part of the sender table; split out of
 * it for size.
 */
export class SenderStability {
  /** Some acknowledgement changed or a packet was processed: collect soon. */
  needed = false;
  /** Bumped whenever a member's acknowledgement or SESSION position of our own packets moves (flow-progress.ts). */
  ownProgressVersion = 0;

  constructor(
    private readonly ctx: EngineContext,
    private readonly table: SenderTableCore,
  ) {}

  recordAcks(x: SenderRecord, packet: ReliablePacket): void {
    // Indexed: this runs per reliable packet, and for-of over the list allocated an iterator result per entry here.
    const depends = packet.depends;
    for (let i = 0; i < depends.length; i++) {
      const { senderId, packetId } = depends[i]!;
      const ack = x.acks.get(senderId);
      // Only senders we hold are worth an ack record: a depends list naming 255
      // made-up ids must not grow this map (GC reads acks of held senders only).
      if (ack === undefined && !this.table.records.has(senderId) && !this.table.pendingRemoval.has(senderId)) continue;
      // A new ack of our own packets opens our flow-control window: free at once.
      const ours = senderId === this.table.ownId && !x.isOwn;
      if (ack === undefined) {
        x.acks.set(senderId, { value: packetId, packetId: packet.packetId });
        this.needed = true;
        if (ours) {
          this.gcUrgent = true;
          this.ownProgressVersion++;
        }
      } else {
        const d = seqDiff(ack.value, packetId);
        if (d > 0) {
          ack.value = packetId;
          ack.packetId = packet.packetId;
          this.needed = true;
          if (ours) {
          this.gcUrgent = true;
          this.ownProgressVersion++;
        }
        } else if (d < 0 && ack.packetId !== packet.packetId) {
          this.table.reportFailed(x, 'acknowledgements went backwards');
        }
      }
    }
  }

  /**
   * GC is O(senders^2); under load run it every GC_BATCH acknowledgement
   * changes, and otherwise soon after the last one, so freeing lags by at most
   * a few milliseconds.
   */
  maybeCollectGarbage(): void {
    if (++this.gcPending >= GC_BATCH || this.gcUrgent) {
      this.collectGarbage();
    } else if (!this.gcTimer?.active) {
      this.gcTimer = this.ctx.timers.schedule(this.ctx.now() + GC_DELAY_MS, () => {
        this.gcTimer = undefined;
        if (this.needed) this.collectGarbage();
      });
    }
  }
  private gcPending = 0;
  private gcUrgent = false;
  private gcTimer: TimerHandle | undefined;

  /** Run the garbage collection now (also used by tests and at leave). */
  collectGarbage(): void {
    this.needed = false;
    this.gcPending = 0;
    this.gcUrgent = false;
    // Runs every few packets under load: iterate the table itself, no per-run arrays.
    const now = this.ctx.now();
    for (const x of this.table.records.values()) {
      if (x.state >= SenderState.Stopped || !x.hasStart) continue;
      let stable = x.nextInput;
      let complete = true;
      for (const s of this.table.records.values()) {
        if (s === x || s.state >= SenderState.Stopped || !this.acksCount(s, now)) continue;
        const ack = s.acks.get(x.id);
        if (ack === undefined) {
          complete = false;
          break;
        }
        if (seqDiff(stable, ack.value) < 0) stable = ack.value;
      }
      if (!complete) continue;
      if (seqDiff(x.stableUpTo, stable) > 0) x.stableUpTo = stable;
      this.freeFront(x);
    }
    for (const record of this.table.records.values()) {
      if (record.state === SenderState.Stopped) this.freeFront(record);
    }
    if (this.table.pendingRemoval.size === 0) return;
    const live = [...this.table.records.values()].filter((r) => r.state < SenderState.Stopped && this.acksCount(r, now));
    for (const r of [...this.table.pendingRemoval.values()]) {
      if (this.everybodyHas(r, live)) this.table.deleteForever(r);
    }
  }

  /**
   * Whose acknowledgements garbage collection waits for. The original waits
   * for every record (spec Q22), so one sender that never acknowledges (a
   * NEW record of a stranger, an id a forged ATTEMPT_JOIN handed a start)
   * stops GC and caches grow without end (issue 15, and Found item 8's memory
   * growth). Ours: only senders that speak under their own id: those with a
   * start while heard within the silence timeout (PREPARING ones, nothing
   * processed yet, only for a failure timeout after their start), and named
   * ones without a start (NEW: newcomers in the gathering) only for a failure
   * timeout after we first heard of them. A member cut off for less than that
   * keeps everything it may ask for; one cut off for longer is failed anyway.
   */
  /** @internal Also the members flow control waits for (flow-progress.ts). */
  acksCount(s: SenderRecord, now: number): boolean {
    if (s.isOwn) return true;
    if (s.state > SenderState.DataRunning || !s.spoke) return false;
    const t = this.ctx.timing;
    // A newcomer we have no start for yet (NEW) still gets its start from
    // somebody's ATTEMPT_JOIN depends, which may point at packets sent before
    // it could store any: free nothing it may be told to start at. Only one
    // that spoke and is named (an id merely mentioned, or a WHOIS_REPLY
    // alone, is nobody), and only for a failure timeout after we first heard
    // of it; by then it has a start or was dropped from the gathering.
    if (s.state === SenderState.New) return s.name !== undefined && now - s.createdAt < t.failureTimeout;
    // A newcomer with a start but nothing processed yet may still need our
    // join packets repaired: wait for it for the length of a join phase.
    if (s.state === SenderState.Preparing && now - s.startedAt >= t.failureTimeout) return false;
    const patience = t.silenceTimeout > 0 ? t.silenceTimeout : t.progressWatchdog;
    return now - s.lastHeard < patience;
  }

  /** Free cache entries from the window start that are acked by all, processed and not repeating. */
  private freeFront(x: SenderRecord): void {
    while (x.firstPacket !== x.nextOutputData && seqDiff(x.firstPacket, x.stableUpTo) > 0) {
      const entry = x.cache.get(x.firstPacket);
      if (entry !== undefined) {
        if (!entry.processed || entry.repeating || entry.resendTimer?.active) return;
        this.table.dropEntry(entry);
        x.cache.delete(x.firstPacket);
      }
      x.firstPacket = seqAdd(x.firstPacket, 1);
    }
  }

  private everybodyHas(r: SenderRecord, live: SenderRecord[]): boolean {
    const end = r.nextOutput;
    for (const s of live) {
      const direct = s.acks.get(r.id);
      if (direct !== undefined && seqDiff(end, direct.value) >= 0) continue;
      let indirect = false;
      for (const t of live) {
        const tAck = t.acks.get(r.id);
        if (tAck === undefined || seqDiff(end, tAck.value) < 0) continue;
        const sOfT = s.acks.get(t.id);
        if (sOfT !== undefined && seqDiff(tAck.packetId, sOfT.value) > 0) {
          indirect = true;
          break;
        }
      }
      if (!indirect) return false;
    }
    return true;
  }
}

import { encodePacket } from '../wire/codec.js';
import type { ReliablePacket, RepairRequestPacket, SessionPacket } from '../wire/packet.js';
import { seqAdd, seqDiff } from '../wire/sequence.js';
import { deadlineIn, type EngineContext } from './engine-context.js';
import { NAK_BACKOFF_AFTER, NAK_BACKOFF_MAX, NAK_GIVE_UP, PACKET_CACHE_SIZE, RATE_LIMIT_KEYS, RATE_LIMITS } from './engine-defaults.js';
import { KeyedRateLimiter } from './rate-limit.js';
import { RepairHints } from './repair-hints.js';
import { RepairAnswerPolicy } from './repair-suppression.js';
import { newCacheEntry, SenderState, type CacheEntry, type SenderRecord } from './sender-record.js';
import { hex } from './datagram-bytes.js';
import type { SenderTableCore } from './sender-table-core.js';

/** Missing packets one SESSION or depends position may make us ask for (see seen). */
const SEEN_AHEAD = PACKET_CACHE_SIZE;
/** A sender silent this long gets its long-unanswered gaps forgotten (members speak every 0.7-1.3 s, originals every 1.5-3 s). */
const NAK_GIVE_UP_SILENCE_MS = 10_000;

/**
 * Gap detection and repair requests (spec §5.3, §5.4): the "seen" rule, NAK
 * timers with their back-off and rate limit. Part of the sender table; split
 * out of it for size.
 */
export class SenderRepairs {
  private readonly repairRequestLimit: KeyedRateLimiter;
  private readonly repairAnswerLimit: KeyedRateLimiter;
  private readonly answers: RepairAnswerPolicy;
  private readonly hints: RepairHints;

  constructor(
    private readonly ctx: EngineContext,
    private readonly table: SenderTableCore,
  ) {
    const l = RATE_LIMITS.repairRequest;
    this.repairRequestLimit = new KeyedRateLimiter(l.perKey, l.shared, RATE_LIMIT_KEYS, ctx.now());
    const a = RATE_LIMITS.repairAnswer;
    this.repairAnswerLimit = new KeyedRateLimiter(a.perKey, a.shared, RATE_LIMIT_KEYS, ctx.now());
    this.answers = new RepairAnswerPolicy(ctx);
    this.hints = new RepairHints(ctx, { resendOwn: (entry, id) => this.resendOwn(entry, id) });
  }

  /** REPAIR_REQUEST(S, x): answered from the cache of S, or turned into our own NAKs (spec §5.4). */
  pushRepairRequest(packet: RepairRequestPacket, mainTableOnly = false): boolean {
    const record =
      this.table.records.get(packet.originalSender) ??
      (mainTableOnly ? undefined : this.table.pendingRemoval.get(packet.originalSender));
    if (record === undefined || record.state === SenderState.New || record.state === SenderState.UnknownFailed) {
      return false;
    }
    const x = packet.packetId;
    const entry = record.cache.get(x);
    if (entry?.packet !== undefined) {
      if (!entry.resendTimer?.active) {
        const delay = this.answers.answerWindow(record, entry, this.table.records.size - 1);
        if (delay === undefined) return true;
        entry.resendTimer = this.ctx.timers.schedule(deadlineIn(this.ctx, delay), () => {
          entry.resendTimer = undefined;
          if (entry.bytes === undefined || entry.packet === undefined) return;
          if (!this.repairAnswerLimit.allow(record.id, this.ctx.now())) {
            // The requester asks again; answering every forged request would make us an amplifier.
            this.table.suppressed.repairAnswers++;
            return;
          }
          this.ctx.log.debug('repair send', { type: entry.packet.type, sender: hex(record.id), packetId: x });
          this.answers.noteResent(entry, false);
          this.ctx.transmit(entry.bytes);
        });
      }
      return true;
    }
    const d = seqDiff(record.nextOutput, x);
    if (d >= 0 && d < PACKET_CACHE_SIZE) {
      if (record.state >= SenderState.Stopped || record.isOwn) return false;
      if (entry === undefined) {
        // Ours (issue 15): somebody's NAK is no evidence that packets beyond
        // what we received exist (members' NAKs for an id a forger made up
        // would keep re-seeding each other's forever): only our own gaps count.
        const beyond = seqDiff(record.nextInput, x) >= 0;
        const last = beyond ? seqDiff(record.nextOutput, record.nextInput) - 1 : d;
        for (let i = 0; i <= last; i++) this.scheduleRepair(record, seqAdd(record.nextOutput, i));
        // Ours: x itself was just asked for; its answer reaches us too.
        const asked = record.cache.get(x);
        if (asked !== undefined && asked.packet === undefined) this.armNak(record, x, asked, this.ctx.timing.repairRepeatRequest);
      } else {
        this.armNak(record, x, entry, this.ctx.timing.repairRepeatRequest);
      }
      return true;
    }
    return false;
  }

  /** A copy of a packet we hold arrived (somebody's repair): see RepairAnswerPolicy.copySeen. */
  copySeen(entry: CacheEntry): void {
    this.answers.copySeen(entry);
  }

  /** We originated our packet `packetId` now (RepairHints). */
  noteOwnSent(packetId: number): void {
    const entry = this.table.own?.cache.get(packetId);
    if (entry !== undefined) this.hints.noteSent(entry);
  }

  /** A member's SESSION, or a reliable packet of its that arrived as news (not a copy or an awaited repair): re-send what its positions show it lacks of ours (RepairHints). */
  positionsFrom(packet: ReliablePacket | SessionPacket): void {
    const own = this.table.own;
    if (own === undefined || this.table.leaving || own.state >= SenderState.Stopped) return;
    if (packet.type === 'session') this.hints.fromSession(own, packet);
    else this.hints.fromPacket(own, packet);
  }

  private resendOwn(entry: CacheEntry, packetId: number): boolean {
    const own = this.table.own;
    if (own === undefined || entry.bytes === undefined || entry.packet === undefined) return false;
    if (entry.resendTimer?.active || this.answers.hintRepeats(entry)) return false;
    if (!this.repairAnswerLimit.allow(own.id, this.ctx.now())) {
      this.table.suppressed.repairAnswers++;
      return false;
    }
    this.answers.noteResent(entry, true);
    this.ctx.log.debug('repair send (hint)', { type: entry.packet.type, packetId });
    this.ctx.transmit(entry.bytes);
    return true;
  }

  /** The "seen" rule (spec §5.3): a position beyond what we received means packets we miss. */
  seen(record: SenderRecord, position: number): void {
    if (record.isOwn || !record.hasStart || record.state > SenderState.Failed) return;
    const ahead = seqDiff(record.nextInput, position);
    if (ahead <= 0) return;
    const windowEnd = seqAdd(record.nextOutput, PACKET_CACHE_SIZE);
    // Ours: at most SEEN_AHEAD per hint. Lost tails are short (the send window
    // is 192 packets), later hints and the sender's own packets reveal the
    // rest, and a forged position far ahead costs a few NAKs, not a window's.
    const count = Math.min(ahead, SEEN_AHEAD, Math.max(0, seqDiff(record.nextInput, windowEnd)));
    for (let i = 0; i < count; i++) this.scheduleRepair(record, seqAdd(record.nextInput, i));
  }

  scheduleRepair(record: SenderRecord, id: number): void {
    if (record.state >= SenderState.Stopped || record.isOwn) return;
    let entry = record.cache.get(id);
    if (entry?.packet !== undefined || entry?.nakTimer?.active) return;
    if (entry === undefined) {
      entry = newCacheEntry(undefined, undefined, false);
      record.cache.set(id, entry);
    }
    this.armNak(record, id, entry, this.ctx.timing.repairFirstRequest);
  }

  /**
   * Ours (spec Q32): a NAK that goes unanswered NAK_BACKOFF_AFTER times (about
   * 10 s, enough for a 50% lossy link) repeats ever more slowly (the repeat
   * interval doubles up to NAK_BACKOFF_MAX times), and NAKs per sender are
   * rate-limited, so forged positions cannot keep us asking at full rate.
   */
  armNak(record: SenderRecord, id: number, entry: CacheEntry, range: readonly [number, number]): void {
    this.ctx.timers.cancel(entry.nakTimer);
    const naks = entry.naks ?? 0;
    const factor = naks < NAK_BACKOFF_AFTER ? 1 : Math.min(NAK_BACKOFF_MAX, 2 ** (naks - NAK_BACKOFF_AFTER + 1));
    const [low, high] = range;
    entry.nakTimer = this.ctx.timers.schedule(deadlineIn(this.ctx, [low * factor, high * factor]), () => {
      entry.nakTimer = undefined;
      if (entry.packet !== undefined || this.table.records.get(record.id) !== record) return;
      if (record.state >= SenderState.Stopped) return;
      const silent = this.ctx.now() - record.lastHeard >= NAK_GIVE_UP_SILENCE_MS;
      if ((entry.naks ?? 0) >= NAK_GIVE_UP && (silent || seqDiff(record.nextInput, id) >= 0)) {
        // Only others' word says this packet exists, or its sender went
        // quiet, and nobody sends it: forget the gap (a later hint opens it
        // again; a member's gap is re-opened by its next SESSION).
        if (record.cache.get(id) === entry) record.cache.delete(id);
        return;
      }
      // A sender that never spoke under its own id may not exist at all (an id
      // a stranger's ATTEMPT_JOIN handed us a start for): wait until it does.
      if (record.spoke && this.repairRequestLimit.allow(record.id, this.ctx.now())) {
        this.ctx.log.debug('repair request', { sender: hex(record.id), packetId: id });
        this.ctx.transmit(
          encodePacket({ type: 'repair-request', sender: this.table.ownId, originalSender: record.id, packetId: id }),
        );
        entry.naks = (entry.naks ?? 0) + 1;
      } else {
        this.table.suppressed.repairRequests++;
      }
      this.armNak(record, id, entry, this.ctx.timing.repairRepeatRequest);
    });
  }
}

import { randomFraction } from '../base/random.js';
import type { EngineContext } from './engine-context.js';
import { HINT_AGE_MS } from './repair-hints.js';
import { SenderState, type CacheEntry, type SenderRecord } from './sender-record.js';

/**
 * Members other than the originator that answer the first request round for
 * a packet, on average. With independent loss, each holder that misses the
 * first answer would answer too (about one holder in ten at 10 % loss, so
 * nearly two duplicates per repair in a group of 20); a couple of backups
 * cover the originator missing the request without that cost.
 */
export const BACKUP_ANSWERERS = 1.5;

interface Rounds {
  /** Request rounds seen for the packet (requests closer together than roundGap count as one). */
  count: number;
  startedAt: number;
}

/**
 * Ours: who answers a REPAIR_REQUEST, and when (spec §5.4; the original has
 * every holder answer every request, Q9). What we send is unchanged: a
 * byte-for-byte copy of the cached datagram.
 *
 * - The originator answers every request, in the usual [50, 100) ms, but
 *   one that crossed its own copy of a moment ago (HINT_AGE_MS).
 * - While the originator is a live member, each other holder answers a
 *   request round only with probability k * BACKUP_ANSWERERS / holders in
 *   round k (so everybody answers by round holders / BACKUP_ANSWERERS if the
 *   originator stays deaf), one window (and a tenth) later than the originator.
 * - Once the originator failed or left, every holder answers, as late.
 * - Any answer cancels ours when it arrives first (the same bytes are seen,
 *   SenderTable.pushReliable), and other holders do not answer a request
 *   that arrives within HINT_AGE_MS of such a copy (it crossed the copy; if
 *   the requester lost the copy it asks again).
 */
export class RepairAnswerPolicy {
  private readonly rounds = new WeakMap<CacheEntry, Rounds>();
  private readonly hintedAt = new WeakMap<CacheEntry, number>();
  private readonly answeredAt = new WeakMap<CacheEntry, number>();
  private readonly copySeenAt = new WeakMap<CacheEntry, number>();

  constructor(private readonly ctx: EngineContext) {}

  /** Requests closer together than this belong to one round (several requesters, or one whose NAK crossed our answer). */
  private get roundGap(): number {
    return 2 * this.ctx.timing.repairAnswerDelay[1];
  }

  /**
   * A request for the cached packet `entry` of `record` arrived: the window to
   * answer in, or undefined to stay quiet. `holders` is how many members
   * probably hold the packet besides its originator.
   */
  answerWindow(record: SenderRecord, entry: CacheEntry, holders: number): [number, number] | undefined {
    const [low, high] = this.ctx.timing.repairAnswerDelay;
    if (record.isOwn) {
      // A request that crossed our last copy (an answer or RepairHints') on the way.
      return this.resentWithin(entry, HINT_AGE_MS) ? undefined : [low, high];
    }
    // One window after the originator's, and a tenth of a window more: the
    // request reaches us a little before it reaches the originator, and its
    // copy takes a moment to reach us (at [high, 2 high] a backup fired as
    // the originator's answer of 95 ms was on its way, seed 3445804757).
    const slack = high / 10;
    const backup: [number, number] = [high + slack, 2 * high + slack];
    const now = this.ctx.now();
    // Somebody's copy just arrived: a request now crossed it on the way (if
    // the requester lost it, it asks again).
    const copy = this.copySeenAt.get(entry);
    if (copy !== undefined && now - copy < HINT_AGE_MS) return undefined;
    if (originatorGone(record)) return backup;
    let rounds = this.rounds.get(entry);
    if (rounds !== undefined && now - rounds.startedAt < this.roundGap) return undefined;
    if (rounds === undefined) this.rounds.set(entry, (rounds = { count: 0, startedAt: now }));
    rounds.count++;
    rounds.startedAt = now;
    const p = (rounds.count * BACKUP_ANSWERERS) / Math.max(1, holders);
    return p >= 1 || randomFraction(this.ctx.random) < p ? backup : undefined;
  }

  /** A copy of `entry` (somebody's repair) arrived now. */
  copySeen(entry: CacheEntry): void {
    this.copySeenAt.set(entry, this.ctx.now());
  }

  /** We re-sent `entry` now: `unasked` by RepairHints, or as an answer. */
  noteResent(entry: CacheEntry, unasked: boolean): void {
    (unasked ? this.hintedAt : this.answeredAt).set(entry, this.ctx.now());
  }

  /** Any copy of ours went out less than `ms` ago. */
  resentWithin(entry: CacheEntry, ms: number): boolean {
    const now = this.ctx.now();
    return [this.hintedAt.get(entry), this.answeredAt.get(entry)].some((at) => at !== undefined && now - at < ms);
  }

  /**
   * An unasked re-send now would repeat our own recent copy: one sent unasked
   * within a request round, or an answer within HINT_AGE_MS (the member's
   * positions that prompt it crossed that answer).
   */
  hintRepeats(entry: CacheEntry): boolean {
    const now = this.ctx.now();
    const hinted = this.hintedAt.get(entry);
    const answered = this.answeredAt.get(entry);
    return (hinted !== undefined && now - hinted < this.roundGap) || (answered !== undefined && now - answered < HINT_AGE_MS);
  }
}

/** The originator can no longer answer (failed, or removed from the group). */
export function originatorGone(record: SenderRecord): boolean {
  return (
    record.state === SenderState.Failed ||
    record.state === SenderState.UnknownFailed ||
    record.state === SenderState.PendingRemoval
  );
}

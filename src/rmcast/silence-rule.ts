import type { EngineTiming } from './engine-types.js';
import type { SenderRecord } from './sender-record.js';

/**
 * Ours (issue 10): when a member that has gone quiet is declared failed.
 *
 * Every member multicasts SESSIONs; ours every 0.7-1.3 s (one datagram a
 * second on average when idle). A crashed member is one whose SESSIONs stop;
 * a live one on a lossy link only misses some. So the limit follows what we
 * measured of that member: from the gaps between its SESSIONs we estimate how
 * many went missing (a gap longer than the longest interval means at least
 * one was lost), hence its loss rate p, with a prior of one loss (Laplace's
 * rule) so that a member we have barely heard is not judged on a few samples:
 * four SESSIONs in a row also arrive on a link that loses 30 % (a prior of a
 * tenth of a loss gave 7.5 s there, and a live member was failed after a run
 * of losses, about once in 40 of the 30 % loss scenarios). We tolerate the
 * run of L consecutive losses that has probability p^L ≤ RISK, so the limit is
 * (L + 1) × the longest interval + a margin, between `quickSilenceTimeout` and
 * `silenceTimeout`. On a quiet LAN that is about 6-8 s, at 10 % loss about
 * 10 s, at 30 % about 18 s; an original member, which sends SESSIONs more
 * rarely and skips them when others said the same (spec §5.5), looks lossy
 * and gets up to `silenceTimeout` (30 s), as before.
 */
const RISK = 1e-6;
const PRIOR_MISSED = 1;
const MARGIN_MS = 1000;
/**
 * Arrival gaps jitter around the send intervals (link delay varies; a busy
 * process fires its timer late), so a gap a little over the longest interval
 * is no lost SESSION: without this, a lossless link with 1-5 ms of delay
 * counted one or two "misses" a minute, enough to lengthen the limit by a
 * whole interval. Two intervals (a real loss) are at least 1.4 s apart, and
 * below 1.5 s only in about 1.4 % of losses.
 */
const JITTER_MS = 200;

/** A SESSION from this member arrived at `now`. */
export function noteSession(record: SenderRecord, now: number, timing: Readonly<EngineTiming>): void {
  if (record.lastSessionAt !== undefined) {
    const gap = now - record.lastSessionAt;
    record.sessionGaps++;
    record.missedSessions += Math.max(0, Math.ceil((gap - JITTER_MS) / timing.sessionInterval[1]) - 1);
  }
  record.lastSessionAt = now;
}

/** How long this member may stay silent before it is reported failed; Infinity when the rule is off. */
export function silenceLimit(record: SenderRecord, timing: Readonly<EngineTiming>): number {
  if (timing.silenceTimeout <= 0) return Infinity;
  if (timing.quickSilenceTimeout <= 0 || record.sessionGaps === 0) return timing.silenceTimeout;
  const missed = record.missedSessions + PRIOR_MISSED;
  const loss = missed / (record.sessionGaps + missed + 1);
  const run = Math.max(1, Math.ceil(Math.log(RISK) / Math.log(loss)));
  const limit = (run + 1) * timing.sessionInterval[1] + MARGIN_MS;
  return Math.min(timing.silenceTimeout, Math.max(timing.quickSilenceTimeout, limit));
}

import { DATA_HEADER_SIZE, DEFAULT_MAX_DATAGRAM } from '../wire/packet.js';
import type { EngineTiming } from './engine-types.js';

/**
 * The original's timer values (spec rmulticast.md §0.1), except where marked
 * "ours": those are local policy (issue 10: joins in about a second), none
 * changes what a packet means, and original peers keep their own timers.
 */
export const DEFAULT_TIMING: Readonly<EngineTiming> = Object.freeze<EngineTiming>({
  // Ours (original: 500 and 250): the original answers a probe within 50-200 ms,
  // so probes at 250, 375 and 500 ms still hear the owner of a taken id before
  // we connect at 625 ms; ids are random 32-bit values, collisions are rare anyway.
  probeListen: 250,
  probeInterval: 125,
  probeCount: 3,
  whoisFirstRequest: [50, 200],
  whoisRepeatRequest: [400, 600],
  whoisReplyDelay: [50, 200],
  nameDiscoveryDeadline: 10_000,
  // Ours (the original: [150, 250) and [500, 800)): a gap is rarely a
  // reordering on a LAN, and a repair comes back within the answer windows
  // (originator [50, 100), other holders [100, 200), repair-suppression.ts),
  // so asking sooner shortens recovery without asking twice.
  repairFirstRequest: [30, 100],
  repairRepeatRequest: [250, 400],
  repairAnswerDelay: [50, 100],
  // Ours (original: [1500, 3000)): members see each other's SESSIONs about
  // once a second, the heartbeat of the silence rule (silence-rule.ts); an
  // idle member sends about one datagram a second.
  sessionInterval: [700, 1300],
  keepalive: 180_000,
  progressWatchdog: 300_000,
  silenceTimeout: 30_000,
  quickSilenceTimeout: 5_000,
  byeCount: 3,
  byeInterval: 500,
  // Ours (original: [100, 400)): answer a newcomer sooner; still long enough
  // to gather several newcomers of one moment into one ATTEMPT_JOIN.
  attemptJoinDelay: [50, 150],
  gatheringQuiet: [4800, 5200],
  gatheringSettledQuiet: [400, 600],
  joinTimeout: 30_000,
  failureTimeout: 60_000,
});

/** Receive window: packets more than this far ahead of the processing pointer are dropped. */
export const PACKET_CACHE_SIZE = 256;
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
/** Bound on sender records so a flood of forged sender ids cannot exhaust memory. */
export const MAX_SENDER_RECORDS = 1024;

/**
 * Flow control: a sender should keep at most this many of its own packets
 * unacknowledged. It must stay below PACKET_CACHE_SIZE, or receivers that fall
 * behind drop packets beyond their window and recover only through repair
 * rounds paced by SESSION packets (seconds).
 */
export const SEND_WINDOW = 192;

/**
 * Ours (the original has no limits, spec Q32): bounds on what other people's
 * packets can make us send. Each has a bucket per sender id and one shared by
 * all ids; honest groups stay far below them (the original's own timers send
 * at most about 2.5 WHOIS requests per second per unnamed id).
 *
 * - whoisRequest: our WHOIS_REQUESTs, per unnamed id.
 * - whoisReply: our WHOIS_REPLYs (answers), per named id.
 * - repairRequest: our NAKs, per sender whose packets we miss.
 * - repairAnswer: our repairs (re-sent cached packets), per original sender.
 */
export const RATE_LIMITS = Object.freeze({
  whoisRequest: { perKey: { perSecond: 3, burst: 3 }, shared: { perSecond: 20, burst: 40 } },
  whoisReply: { perKey: { perSecond: 2, burst: 3 }, shared: { perSecond: 40, burst: 60 } },
  repairRequest: { perKey: { perSecond: 100, burst: 256 }, shared: { perSecond: 200, burst: 256 } },
  repairAnswer: { perKey: { perSecond: 200, burst: 256 }, shared: { perSecond: 1000, burst: 1024 } },
});
/** Keys a rate limiter remembers at most (sender ids); see KeyedRateLimiter. */
export const RATE_LIMIT_KEYS = MAX_SENDER_RECORDS;
/**
 * A NAK that goes unanswered this many times (about 10 s at the original's
 * pace) repeats ever more slowly: its repeat interval doubles, up to
 * NAK_BACKOFF_MAX times (4-6.4 s).
 */
export const NAK_BACKOFF_AFTER = 16;
export const NAK_BACKOFF_MAX = 8;
/**
 * A gap beyond everything we received from its sender (we know of it only
 * from SESSION or depends positions) is forgotten after this many unanswered
 * NAKs (about 30 s); a later position opens it again.
 */
export const NAK_GIVE_UP = 20;

/** At most one 'spoof-suspected' event per forged sender id in this many ms. */
export const SPOOF_REPORT_INTERVAL_MS = 10_000;

/**
 * Payload bytes of a data fragment in a default-size datagram (the first
 * fragment of a message gives up SENDER_POSITION_SIZE more per depends entry).
 */
export const DATA_FRAGMENT_PAYLOAD = DEFAULT_MAX_DATAGRAM - DATA_HEADER_SIZE;

import { DATA_HEADER_SIZE, DEFAULT_MAX_DATAGRAM } from '../wire/packet.js';
import type { EngineTiming } from './engine-types.js';

/** The original's timer values (spec rmulticast.md §0.1), plus our silence timeout. */
export const DEFAULT_TIMING: Readonly<EngineTiming> = Object.freeze<EngineTiming>({
  probeListen: 500,
  probeInterval: 250,
  probeCount: 3,
  whoisFirstRequest: [50, 200],
  whoisRepeatRequest: [400, 600],
  whoisReplyDelay: [50, 200],
  nameDiscoveryDeadline: 10_000,
  repairFirstRequest: [150, 250],
  repairRepeatRequest: [500, 800],
  repairAnswerDelay: [50, 100],
  sessionInterval: [1500, 3000],
  keepalive: 180_000,
  progressWatchdog: 300_000,
  silenceTimeout: 30_000,
  byeCount: 3,
  byeInterval: 500,
  attemptJoinDelay: [100, 400],
  gatheringQuiet: [4800, 5200],
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
 * Payload bytes of a data fragment in a default-size datagram (the first
 * fragment of a message gives up SENDER_POSITION_SIZE more per depends entry).
 */
export const DATA_FRAGMENT_PAYLOAD = DEFAULT_MAX_DATAGRAM - DATA_HEADER_SIZE;

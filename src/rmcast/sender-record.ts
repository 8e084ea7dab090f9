import type { ReliablePacket } from '../wire/packet.js';
import { PacketCache } from './packet-cache.js';
import type { TimerHandle } from './timer-queue.js';

/** Sender record states (spec §5.1); numeric order matters and only ever increases. */
export const SenderState = {
  New: 0, // no start position known: packets are not stored
  Preparing: 1, // start known
  Running: 2, // a control packet was processed
  DataRunning: 3, // a data message was delivered
  Failed: 4, // declared failed with a known start: processed up to its end point
  UnknownFailed: 5, // declared failed while New
  Stopped: 6, // we are leaving: only answers repairs
  PendingRemoval: 7, // removed, kept to answer repairs until everybody has its packets
} as const;
export type SenderState = (typeof SenderState)[keyof typeof SenderState];

export interface CacheEntry {
  /** Undefined while the packet is known to exist but missing (a NAK is pending). */
  packet?: ReliablePacket;
  /** The datagram as received or sent, for byte-for-byte repairs. */
  bytes?: Uint8Array;
  nakTimer?: TimerHandle;
  resendTimer?: TimerHandle;
  processed: boolean;
  /** A repeating ATTEMPT_JOIN: never freed while repeating. */
  repeating: boolean;
  /** Repair requests sent for it so far (their repeat interval backs off). */
  naks?: number;
  /** Our own packets: when we originated it (RepairHints). */
  sentAt?: number;
}

/**
 * A new cache entry. Every entry gets every field at once, in one order, so
 * they share one object shape: the hot paths that read them stay monomorphic,
 * and a later `entry.naks = ...` does not move the entry to a new shape.
 */
export function newCacheEntry(packet: ReliablePacket | undefined, bytes: Uint8Array | undefined, repeating: boolean): CacheEntry {
  return { packet, bytes, nakTimer: undefined, resendTimer: undefined, processed: false, repeating, naks: undefined, sentAt: undefined };
}

export interface AckRecord {
  /** Highest depends value this sender announced for the other sender. */
  value: number;
  /** Id of this sender's packet that first carried that value. */
  packetId: number;
}

/** Everything we know about one sender id (spec §5.1). */
export class SenderRecord {
  name: string | undefined;
  state: SenderState = SenderState.New;
  /** Lowest packet id still cached (window start). */
  firstPacket = 0;
  /** One past the highest packet id received. */
  nextInput = 0;
  /** Next packet id to process (control pointer). */
  nextOutput = 0;
  /** Data pointer: sits on an undelivered END fragment, or equals nextOutput. */
  nextOutputData = 0;
  /** Ids below this are acknowledged by every live sender (GC). */
  stableUpTo = 0;
  readonly cache = new PacketCache<CacheEntry>();
  /** Acks this sender gave, keyed by the other sender's id. */
  readonly acks = new Map<number, AckRecord>();
  /**
   * The highest position its SESSIONs listed for our own id: it received our
   * packets up to here (not necessarily all of them, spec Q6). Flow control
   * counts it (flow-progress.ts); garbage collection does not.
   */
  sessionPositionOfOwn: number | undefined;
  holdPoint: number | undefined;
  dataStart: number | undefined;
  endPoint = 0;
  /** WHOIS request timer (unnamed) or reply timer (named). */
  whoisTimer: TimerHandle | undefined;
  whoisTimerIsReply = false;
  failureReported = false;
  /**
   * It sent us something under its own id (anything but a WHOIS_REPLY, which
   * anybody may send for anybody, spec Q4). With a name, this is what lets an id
   * that others' packets merely mention become a member (issue 15).
   */
  spoke = false;
  readonly createdAt: number;
  lastHeard: number;
  /** SESSION cadence, for the silence rule (silence-rule.ts). */
  lastSessionAt: number | undefined;
  sessionGaps = 0;
  missedSessions = 0;
  lastProgress: number;
  pendingSince = 0;
  /** When it got its start position (left NEW). */
  startedAt = 0;
  /** Bytes of the message being reassembled per stream, to bound what a sender can make us hold. */
  readonly openMessageBytes = new Map<number, number>();

  constructor(
    readonly id: number,
    now: number,
    readonly isOwn: boolean,
  ) {
    this.createdAt = now;
    this.lastHeard = now;
    this.lastProgress = now;
  }

  get hasStart(): boolean {
    return this.state !== SenderState.New && this.state !== SenderState.UnknownFailed;
  }

  /** States whose position is announced in depends and SESSION lists. */
  get isActive(): boolean {
    return this.state >= SenderState.Preparing && this.state <= SenderState.DataRunning;
  }
}

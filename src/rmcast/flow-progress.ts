import { seqDiff } from '../wire/sequence.js';
import { SEND_WINDOW } from './engine-defaults.js';
import { SenderState, type SenderRecord } from './sender-record.js';

/**
 * Ours: the most own packets we keep cached for repairs because some member
 * has *received* them (its SESSION says so) but not yet *acknowledged* them
 * (no depends of its packets shows them processed).
 *
 * The trade-off. An original member acknowledges only inside its own reliable
 * packets, so if it only listens its acks come with its 180 s keepalive. Its
 * SESSION (every 1.5-3 s) tells what it received, and flow control counts that
 * (unacknowledgedOwnPackets), so a burst is not held to SEND_WINDOW packets
 * per keepalive. But a SESSION position is "highest received + 1", not
 * contiguous: a member may still miss something below it and ask for a
 * repair, so the cache still frees only on depends (spec §5.7), and meanwhile
 * it grows. This bounds that growth: once the cache holds this many packets
 * (about 5.9 MiB of full 1440-byte datagrams), flow control waits for depends
 * acknowledgements again, which with a silent original means for its
 * keepalive. A sender that streams more than this without any member sending
 * a reliable packet stalls as before; one that sends less never notices.
 *
 * Also: a member with a hole below its SESSION position has processed less
 * than it received, so a window counted from that position may reach past its
 * 256-packet receive window; what it drops there it asks for again once our
 * SESSIONs tell it (repairs, slower but complete). Counting only contiguous
 * progress would need an acknowledgement the original never sends.
 */
export const OWN_CACHE_LIMIT = 4096;

/**
 * Our own packets flow control counts as outstanding: (our next id) minus the
 * lowest progress any member that counts (`counts`: the set garbage collection
 * waits for) told us, where a member's progress is the better of what its
 * depends acknowledged (processed) and what its SESSION listed for us
 * (received). Never less than what the cache size demands to stay within
 * OWN_CACHE_LIMIT (see there): the result reaches SEND_WINDOW when the cache
 * reaches the limit.
 */
export function unacknowledgedOwnPackets(
  records: ReadonlyMap<number, SenderRecord>,
  own: SenderRecord | undefined,
  counts: (record: SenderRecord) => boolean,
): number {
  if (own === undefined) return 0;
  return outstandingFrom(own, lowestMemberProgress(records, own, counts));
}

/**
 * The lowest progress (see unacknowledgedOwnPackets) of the members that
 * count, or undefined when none does. Never behind our cache front, and not
 * clamped to our next id: it does not change as we send (OwnFlowProgress
 * keeps it across sends).
 */
function lowestMemberProgress(
  records: ReadonlyMap<number, SenderRecord>,
  own: SenderRecord,
  counts: (record: SenderRecord) => boolean,
): number | undefined {
  // Everything before the cache front was acknowledged by all.
  const front = own.firstPacket;
  let lowest: number | undefined;
  for (const s of records.values()) {
    if (s === own || s.state >= SenderState.Stopped || !counts(s)) continue;
    let progress = front;
    const ack = s.acks.get(own.id);
    if (ack !== undefined && seqDiff(progress, ack.value) > 0) progress = ack.value;
    const received = s.sessionPositionOfOwn;
    if (received !== undefined && seqDiff(progress, received) > 0) progress = received;
    if (lowest === undefined || seqDiff(lowest, progress) < 0) lowest = progress;
  }
  return lowest;
}

/** Outstanding own packets given the members' lowest progress, and never less than the cache size demands. */
function outstandingFrom(own: SenderRecord, lowest: number | undefined): number {
  const cached = own.cache.size;
  if (cached === 0) return 0;
  const end = own.nextInput;
  // Nothing can be ahead of our next id: a position beyond it is a lie or a
  // stale incarnation, and opens nothing. (Every progress lies within 2^31
  // after the front, so clamping the lowest equals the lowest of the clamped.)
  const low = lowest === undefined || seqDiff(end, lowest) > 0 ? end : lowest;
  const outstanding = seqDiff(low, end);
  const byCache = cached - (OWN_CACHE_LIMIT - SEND_WINDOW);
  return outstanding > byCache ? outstanding : byCache;
}

/**
 * Ours: how long a computed figure may be reused while nothing it reads
 * changed but time. Drivers read the figure after every datagram, and the
 * loop over members costs about 100 ns per member; only whether a member
 * still counts (silence, join deadlines) depends on time alone, and a change
 * there shows this much later at most.
 */
const REUSE_MS = 50;

/**
 * unacknowledgedOwnPackets, with the loop over members run again only when
 * something it reads moved (or REUSE_MS passed). Our own sends move only our
 * next id and cache size, which the figure takes from the kept lowest
 * progress in constant time: a busy sender reads the figure twice per
 * message.
 */
export class OwnFlowProgress {
  private lowest: number | undefined;
  private key: readonly number[] = [];
  private own: SenderRecord | undefined;

  constructor(
    private readonly records: ReadonlyMap<number, SenderRecord>,
    private readonly counts: (record: SenderRecord) => boolean,
  ) {}

  unacknowledged(own: SenderRecord | undefined, version: number, now: number): number {
    if (own === undefined) return 0;
    const key = this.key;
    const bucket = Math.floor(now / REUSE_MS);
    if (
      own !== this.own ||
      key[0] !== version ||
      key[1] !== own.firstPacket ||
      key[2] !== this.records.size ||
      key[3] !== bucket
    ) {
      this.own = own;
      this.key = [version, own.firstPacket, this.records.size, bucket];
      this.lowest = lowestMemberProgress(this.records, own, this.counts);
    }
    return outstandingFrom(own, this.lowest);
  }
}

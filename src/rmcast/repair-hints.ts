import type { ReliablePacket, SessionPacket } from '../wire/packet.js';
import { seqAdd, seqDiff } from '../wire/sequence.js';
import type { EngineContext } from './engine-context.js';
import type { CacheEntry, SenderRecord } from './sender-record.js';

/**
 * A position in a member's packet older than this (since we sent the packet
 * it points at) cannot be explained by that packet still being on its way:
 * one-way delay on a LAN is well below it.
 */
export const HINT_AGE_MS = 15;
/** Packets of ours one SESSION may make us re-send (its sender's lost tail; a longer gap it asks for itself). */
export const SESSION_HINT_MAX = 4;

/** What RepairHints needs to re-send one of our cached packets. */
export interface HintSink {
  /** Re-send our cached packet now, unless it went out again recently; false if it did not go out. */
  resendOwn(entry: CacheEntry, packetId: number): boolean;
}

/**
 * Ours: the originator re-sends what another member's positions prove it
 * lacks, before that member's repair request would (spec §5.4 has only
 * requests). Saves the request and the request's delay. What goes out is the
 * usual byte-for-byte copy, so any implementation takes it as a repair.
 *
 * - A member's reliable packet lists how far it processed each sender. If it
 *   processed our packets only up to `p`, we sent `p` longer than HINT_AGE_MS
 *   before, and its other positions show it already processed everything `p`
 *   depends on, nothing but the lack of `p` holds it back. Only a packet that
 *   arrives as news counts (SenderTable.pushReliable): a copy, or a repair we
 *   knew was missing, shows where its sender was, not where it is. And only
 *   while `p` is younger than the repeat request delay: a late repair we did
 *   not know was one is news too, and by then the member has asked itself.
 * - A member's SESSION lists one past the highest packet it received of each
 *   sender: our packets from there on, sent longer than HINT_AGE_MS before,
 *   never reached it (a lost tail, otherwise found only by our next SESSION).
 */
export class RepairHints {
  constructor(
    private readonly ctx: EngineContext,
    private readonly sink: HintSink,
  ) {}

  /** We originated our packet `entry` now. */
  noteSent(entry: CacheEntry): void {
    // A field, not a WeakMap: one WeakMap entry per packet sent cost the
    // garbage collector an ephemeron each (about 2 % of a busy sender's CPU).
    entry.sentAt = this.ctx.now();
  }

  /** A member's reliable packet: its position for us, checked against what our packet there depends on. */
  fromPacket(own: SenderRecord, packet: ReliablePacket): void {
    if (packet.sender === own.id) return;
    // Runs for every packet that arrives as news: a plain loop, no closure.
    const depends = packet.depends;
    let i = 0;
    while (i < depends.length && depends[i]!.senderId !== own.id) i++;
    if (i === depends.length) return;
    const p = depends[i]!.packetId;
    const entry = this.aged(own, p);
    // A member stuck this long has asked for itself; and a packet of its that
    // arrives as news may be a late repair (unknown to us as one), telling
    // where it was, before our packet reached it.
    if (entry === undefined || this.ctx.now() - (entry.sentAt ?? 0) > this.ctx.timing.repairRepeatRequest[0]) return;
    if (entry.packet === undefined) return;
    for (const need of entry.packet.depends) {
      if (need.senderId === packet.sender) continue; // its own packets: it sent them
      const had = packet.depends.find((d) => d.senderId === need.senderId);
      // It may wait for somebody else's packet first: then ours is no hint.
      if (had === undefined || seqDiff(had.packetId, need.packetId) > 0) return;
    }
    this.sink.resendOwn(entry, p);
  }

  /** A member's SESSION: our packets beyond the highest it received. */
  fromSession(own: SenderRecord, packet: SessionPacket): void {
    if (packet.sender === own.id) return;
    const position = packet.positions.find((d) => d.senderId === own.id);
    if (position === undefined) return;
    let id = position.packetId;
    // A lost tail is short; a member further behind asks for itself (and a
    // forged SESSION cannot make us re-send a window's worth).
    if (seqDiff(id, own.nextInput) > SESSION_HINT_MAX) return;
    for (let i = 0; i < SESSION_HINT_MAX && seqDiff(id, own.nextInput) > 0; i++, id = seqAdd(id, 1)) {
      const entry = this.aged(own, id);
      if (entry === undefined) return;
      this.sink.resendOwn(entry, id);
    }
  }

  /** Our cached packet `id`, if we sent it long enough ago that a position behind it means it was lost. */
  private aged(own: SenderRecord, id: number): CacheEntry | undefined {
    if (seqDiff(id, own.nextInput) <= 0) return undefined;
    const entry = own.cache.get(id);
    if (entry?.bytes === undefined) return undefined;
    const sent = entry.sentAt;
    return sent !== undefined && this.ctx.now() - sent >= HINT_AGE_MS ? entry : undefined;
  }
}

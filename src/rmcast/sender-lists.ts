import type { SenderPosition, SessionPacket } from '../wire/packet.js';
import { seqDiff } from '../wire/sequence.js';
import type { EngineContext } from './engine-context.js';
import { dependsLimit } from './list-limits.js';
import type { SenderTableCore } from './sender-table-core.js';

/**
 * The position lists we put on the wire (spec §2.3): depends of the packets
 * we originate and SESSION bodies, cut to fit the wire (issue 15) with a
 * stated rule for who is left out. Part of the sender table; split out of it
 * for size.
 */
export class SenderLists {
  private lastDepends: readonly SenderPosition[] = Object.freeze([]);
  private lastDependsCut = false;
  private sessionRotation = 0;

  constructor(
    private readonly ctx: EngineContext,
    private readonly table: SenderTableCore,
  ) {}

  clear(): void {
    this.lastDepends = Object.freeze([]);
    this.lastDependsCut = false;
  }

  /** Depends list for a packet we originate: our processing position for every active sender (spec §2.3). */
  depends(): SenderPosition[] {
    // A busy sender sends many packets between two changes of anybody's
    // position: hand out the previous list (never mutated) while it still holds.
    const previous = this.lastDepends;
    let matched = 0;
    let same = !this.lastDependsCut;
    if (same) for (const record of this.table.records.values()) {
      if (record.isOwn || !record.isActive) continue;
      const p = previous[matched];
      if (p === undefined || p.senderId !== record.id || p.packetId !== record.nextOutput) {
        same = false;
        break;
      }
      matched++;
    }
    // Frozen, so a packet that shares it cannot change another's (typed mutable like every packet's list).
    if (same && matched === previous.length) return previous as SenderPosition[];
    let list: SenderPosition[] = [];
    for (const record of this.table.records.values()) {
      if (!record.isOwn && record.isActive) list.push(Object.freeze({ senderId: record.id, packetId: record.nextOutput }));
    }
    const limit = dependsLimit(this.ctx.maxDatagramSize);
    this.lastDependsCut = list.length > limit;
    if (this.lastDependsCut) list = this.rankPositions(list).slice(0, limit);
    this.lastDepends = Object.freeze(list);
    return list;
  }

  /**
   * Who stays in a list that does not fit the wire (issue 15), best first:
   * named senders, then those further along (data delivered, then control
   * processed, then only a start), then the most recently heard; ties by id.
   * Leaving a sender out
   * of our depends only weakens causal order and acks for it; it never makes an
   * announced position go backwards (spec Q28).
   */
  rankIds(ids: readonly number[]): number[] {
    const score = (id: number): [number, number, number] => {
      const r = this.table.records.get(id);
      if (r === undefined) return [0, 0, 0];
      return [r.name !== undefined ? 1 : 0, r.isActive ? r.state : 0, r.lastHeard];
    };
    const scored = ids.map((id) => ({ id, s: score(id) }));
    scored.sort((a, b) => b.s[0] - a.s[0] || b.s[1] - a.s[1] || b.s[2] - a.s[2] || a.id - b.id);
    return scored.map((x) => x.id);
  }

  rankPositions(list: SenderPosition[]): SenderPosition[] {
    const byId = new Map(list.map((p) => [p.senderId, p]));
    return this.rankIds(list.map((p) => p.senderId)).map((id) => byId.get(id)!);
  }

  /**
   * SESSION body: our receive position for every active sender, ourselves
   * included (spec §5.5) -- but one entry for another sender, rotating, is left
   * out. A receiver suppresses its own SESSION only when ours lists as many
   * senders as its table holds; leaving one out keeps every member (original
   * peers too) sending SESSIONs, which is what lets us notice a silent crash in
   * seconds (EngineTiming.silenceTimeout). The omitted position is announced in
   * the next SESSION, so gap detection loses at most one interval.
   */
  sessionPositions(limit: number, omitOne = true): SenderPosition[] {
    const list: SenderPosition[] = [];
    const own = this.table.own;
    if (own !== undefined) list.push({ senderId: own.id, packetId: own.nextInput });
    const others: SenderPosition[] = [];
    for (const record of this.table.records.values()) {
      if (!record.isOwn && record.isActive) others.push({ senderId: record.id, packetId: record.nextInput });
    }
    if (omitOne && others.length > 0) others.splice(this.sessionRotation++ % others.length, 1);
    for (const position of others) {
      if (list.length >= limit) break;
      list.push(position);
    }
    return list;
  }

  /**
   * The original's SESSION suppression (spec §5.5), for engines that imitate
   * it: another member's SESSION said all we would say when it lists as many
   * senders as our table holds and none of its positions is behind ours.
   */
  sessionTellsNothingNew(packet: SessionPacket): boolean {
    if (packet.positions.length !== this.table.records.size) return false;
    for (const { senderId, packetId } of packet.positions) {
      const record = this.table.records.get(senderId);
      if (record !== undefined && record.hasStart && seqDiff(packetId, record.nextInput) > 0) return false;
    }
    return true;
  }
}

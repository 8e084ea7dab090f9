import { isEnd, isStart, type DataPacket } from '../wire/packet.js';
import { seqAdd, seqDiff } from '../wire/sequence.js';
import type { EngineContext } from './engine-context.js';
import { SenderState, type SenderRecord } from './sender-record.js';
import { hex } from './datagram-bytes.js';
import type { SenderTableCore } from './sender-table-core.js';

export type DeliveryResult = 'delivered' | 'skipped' | 'blocked';

/**
 * Data messages of one sender (spec §6.3, §7): the data pointer, skipping
 * what precedes a sender's data start, and putting fragments back together.
 * Part of the sender table; split out of it for size.
 */
export class SenderReassembly {
  constructor(
    private readonly ctx: EngineContext,
    private readonly table: SenderTableCore,
  ) {}

  /**
   * Ours: bound what one sender can make us hold for a message in progress. The
   * original trusts total_size; we fail a sender whose message exceeds our limit.
   */
  trackMessageBytes(x: SenderRecord, packet: DataPacket): boolean {
    const limit = this.ctx.maxMessageSize;
    let bytes = isStart(packet) ? 0 : (x.openMessageBytes.get(packet.streamId) ?? 0);
    bytes += packet.payload.length;
    if (isEnd(packet)) x.openMessageBytes.delete(packet.streamId);
    else x.openMessageBytes.set(packet.streamId, bytes);
    if (x.isOwn || (packet.totalSize <= limit && bytes <= limit)) return true;
    this.ctx.log.warn('sender exceeds the maximum message size', {
      sender: hex(x.id),
      name: x.name,
      totalSize: packet.totalSize,
      limit,
    });
    this.table.reportFailed(x, 'message too large');
    // Stop here; a failed sender is processed no further than its end point.
    this.table.markFailed(x);
    return false;
  }

  /** Deliver (or skip) the data message whose END fragment is at the data pointer (spec §6.3). */
  deliverAtDataPointer(x: SenderRecord): DeliveryResult {
    const end = x.cache.get(x.nextOutputData)?.packet;
    if (end === undefined || end.type !== 'data' || !isEnd(end)) {
      this.advancePastMessage(x);
      return 'skipped';
    }
    if (x.holdPoint !== undefined && seqDiff(x.holdPoint, end.packetId) >= 0) return 'blocked';
    const first = this.findMessageStart(x, end);
    if (first === undefined) {
      this.finishMessage(x, end, end);
      return 'skipped';
    }
    if (
      (x.state < SenderState.DataRunning && x.dataStart === undefined) ||
      (x.dataStart !== undefined && seqDiff(x.dataStart, first.packetId) < 0)
    ) {
      this.finishMessage(x, first, end);
      return 'skipped';
    }
    if (!this.table.causallyReady(first.depends, true)) return 'blocked';
    // Our own messages are never delivered to us: no copy to make.
    const data = x.isOwn ? undefined : this.reassemble(x, first, end);
    if (!x.isOwn && data === undefined) {
      this.table.reportFailed(x, 'reassembled size differs from total_size');
      return 'blocked';
    }
    if (x.state < SenderState.DataRunning) x.state = SenderState.DataRunning;
    this.finishMessage(x, first, end);
    if (data !== undefined) this.table.hooks.onMessage(x, first.streamId, data);
    return 'delivered';
  }

  private findMessageStart(x: SenderRecord, end: DataPacket): DataPacket | undefined {
    if (isStart(end)) return end;
    for (let id = seqAdd(end.packetId, -1 >>> 0); ; id = seqAdd(id, 0xffffffff)) {
      const p = x.cache.get(id)?.packet;
      if (p !== undefined && p.type === 'data' && p.streamId === end.streamId) {
        if (isStart(p)) return p;
        // Ours: an END of the same stream first means this message's START is gone.
        if (isEnd(p)) return undefined;
      }
      if (id === x.firstPacket || seqDiff(x.firstPacket, id) <= 0) return undefined;
    }
  }

  private reassemble(x: SenderRecord, first: DataPacket, end: DataPacket): Uint8Array | undefined {
    // A one-fragment message is delivered without a copy: a view of the received
    // datagram, which the transport never reuses (the packet cache holds it too;
    // see DatagramTransport.onDatagram). Readers must not write into it.
    if (first === end) {
      return end.payload.length === first.totalSize ? end.payload : undefined;
    }
    // Sum first: never trust total_size for an allocation.
    let total = 0;
    const parts: Uint8Array[] = [];
    for (let id = first.packetId; ; id = seqAdd(id, 1)) {
      const p = x.cache.get(id)?.packet;
      if (p !== undefined && p.type === 'data' && p.streamId === first.streamId) {
        total += p.payload.length;
        parts.push(p.payload);
      }
      if (id === end.packetId) break;
    }
    if (total !== first.totalSize || total > this.ctx.maxMessageSize) return undefined;
    const out = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  /** Mark a message's fragments processed (delivered or skipped) and move the data pointer past it. */
  private finishMessage(x: SenderRecord, first: DataPacket, end: DataPacket): void {
    for (let id = first.packetId; ; id = seqAdd(id, 1)) {
      const entry = x.cache.get(id);
      const p = entry?.packet;
      if (entry !== undefined && p !== undefined && p.type === 'data' && p.streamId === first.streamId) {
        entry.processed = true;
      }
      if (id === end.packetId) break;
    }
    this.table.stability.needed = true;
    this.advancePastMessage(x);
  }

  private advancePastMessage(x: SenderRecord): void {
    x.nextOutputData = seqAdd(x.nextOutputData, 1);
    while (x.nextOutputData !== x.nextOutput) {
      const p = x.cache.get(x.nextOutputData)?.packet;
      if (p !== undefined && p.type === 'data' && isEnd(p)) return;
      x.nextOutputData = seqAdd(x.nextOutputData, 1);
    }
  }
}

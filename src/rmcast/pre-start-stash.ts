import type { ReliablePacket } from '../wire/packet.js';

/** Packets kept per sender that has no start position yet. */
export const PRE_START_PACKETS_PER_SENDER = 32;
/** Bytes kept over all such senders: forged ids must not make us hold more. */
export const PRE_START_BYTES = 1 << 20;

export interface StashedPacket {
  packet: ReliablePacket;
  bytes: Uint8Array;
}

/**
 * Ours: reliable packets from a sender we have no start position for (NEW,
 * spec §5.2), which the original drops. A newcomer often takes a sender's
 * start from a third member's depends, which may point a few packets back:
 * at packets the newcomer heard while it could not store them, and that every
 * member already freed because none knew of the newcomer yet. Nobody could
 * repair them, and the newcomer waited for them until its join timed out
 * (found by the mesh scenarios at 30 % loss). Keeping the last few lets the
 * start position find them here. Bounded per sender and in total; the oldest
 * stashed packet goes first.
 */
export class PreStartStash {
  private readonly bySender = new Map<number, Map<number, StashedPacket>>();
  /** Stash order over all senders, for eviction; entries of taken senders are skipped lazily. */
  private order: Array<{ sender: number; packetId: number; stashed: StashedPacket }> = [];
  private orderHead = 0;
  private bytes = 0;
  private live = 0;

  constructor(
    private readonly maxPerSender = PRE_START_PACKETS_PER_SENDER,
    private readonly maxBytes = PRE_START_BYTES,
  ) {}

  /** Keep a packet (the first copy of an id wins, as in the cache). */
  put(packet: ReliablePacket, bytes: Uint8Array): void {
    if (bytes.length > this.maxBytes) return;
    let packets = this.bySender.get(packet.sender);
    if (packets?.has(packet.packetId) === true) return;
    if (packets === undefined) {
      packets = new Map();
      this.bySender.set(packet.sender, packets);
    }
    if (packets.size >= this.maxPerSender) {
      const [oldestId, oldest] = packets.entries().next().value as [number, StashedPacket];
      packets.delete(oldestId);
      this.bytes -= oldest.bytes.length;
      this.live--;
    }
    const stashed = { packet, bytes };
    packets.set(packet.packetId, stashed);
    this.order.push({ sender: packet.sender, packetId: packet.packetId, stashed });
    this.bytes += bytes.length;
    this.live++;
    while (this.bytes > this.maxBytes) this.evictOldest();
    // Entries of taken or capped senders stay in `order` until here: drop them once they outnumber the live ones.
    if (this.order.length - this.orderHead > 2 * this.live + 1024) {
      this.order = this.order.slice(this.orderHead).filter((e) => this.bySender.get(e.sender)?.get(e.packetId) === e.stashed);
      this.orderHead = 0;
    }
  }

  /** Everything kept for a sender, oldest first; the sender's stash is emptied. */
  take(sender: number): StashedPacket[] {
    const packets = this.bySender.get(sender);
    if (packets === undefined) return [];
    this.bySender.delete(sender);
    const taken = [...packets.values()];
    for (const stashed of taken) this.bytes -= stashed.bytes.length;
    this.live -= taken.length;
    return taken;
  }

  forget(sender: number): void {
    this.take(sender);
  }

  clear(): void {
    this.bySender.clear();
    this.order.length = 0;
    this.orderHead = 0;
    this.bytes = 0;
    this.live = 0;
  }

  /** @internal For tests: bytes and packets held, and the eviction queue's length. */
  get held(): { bytes: number; packets: number; queued: number } {
    return { bytes: this.bytes, packets: this.live, queued: this.order.length - this.orderHead };
  }

  private evictOldest(): void {
    while (this.orderHead < this.order.length) {
      const { sender, packetId, stashed } = this.order[this.orderHead++]!;
      const packets = this.bySender.get(sender);
      if (packets?.get(packetId) !== stashed) continue;
      packets.delete(packetId);
      if (packets.size === 0) this.bySender.delete(sender);
      this.bytes -= stashed.bytes.length;
      this.live--;
      return;
    }
  }
}

import { RoomError } from './room-error.js';
import type { SendResult } from './room-output.js';
import type { UnheardLine } from './unheard-lines.js';

/**
 * One stanza on its way out. The room hands it to the group it is a member
 * of; the shell reports back the moment rMulticast took it (or refused it).
 */
export interface OutgoingStanza {
  ticket: number;
  /** 0 for stanzas; 1..65535 for tube data (one rMulticast message each). */
  streamId: number;
  bytes: Uint8Array;
  /** What it is, for logs ('message', 'topic', 'status', ...). */
  what: string;
  /** The group it was handed to; undefined while it waits for one. */
  handedTo: number | undefined;
  /** Said while alone in the group: a move sends it again in the next one. */
  unheard: UnheardLine | undefined;
  /** A line said alone, sent again after a move (not a send of its own). */
  resend: boolean;
  /** Someone waits for its outcome (not so for re-sends and the room's own announcements). */
  awaited: boolean;
  /** Runs once rMulticast took it: what the waiting caller gets. */
  onSent: ((sent: OutgoingStanza) => SendResult) | undefined;
}

/**
 * The room's outgoing stanzas in order: waiting for membership, handed to a
 * group, or done. Keeping them here rather than in a socket-side queue is what
 * lets a move carry them, unsent, into the next group, in their order.
 */
export class RoomOutbox {
  private readonly waiting: OutgoingStanza[] = [];
  private readonly handed = new Map<number, OutgoingStanza>();
  private nextTicket = 1;
  /** Bytes of everything not yet taken. */
  private bytesQueued = 0;

  constructor(
    private readonly maxQueued: number,
    private readonly maxQueuedBytes: number = Number.POSITIVE_INFINITY,
  ) {}

  /** Stanzas not yet taken by rMulticast. */
  get size(): number {
    return this.waiting.length + this.handed.size;
  }

  /** Bytes not yet taken by rMulticast. */
  get queuedBytes(): number {
    return this.bytesQueued;
  }

  /** Queues a stanza (stream 0 unless `streamId`); throws RoomError 'queue-full' when too many, or too many bytes, wait. */
  add(
    bytes: Uint8Array,
    what: string,
    options: { unheard: UnheardLine | undefined; awaited: boolean; onSent: ((sent: OutgoingStanza) => SendResult) | undefined; streamId?: number },
  ): OutgoingStanza {
    if (this.size >= this.maxQueued) {
      throw new RoomError('queue-full', `${this.size} messages are already waiting for the flow-control window`);
    }
    // One message larger than the whole budget still goes when nothing else waits.
    if (this.size > 0 && this.bytesQueued + bytes.length > this.maxQueuedBytes) {
      throw new RoomError('queue-full', `${this.bytesQueued} bytes are already waiting for the flow-control window`);
    }
    const { streamId = 0, ...rest } = options;
    const stanza: OutgoingStanza = { ticket: this.nextTicket++, streamId, bytes, what, handedTo: undefined, resend: false, ...rest };
    this.waiting.push(stanza);
    this.bytesQueued += bytes.length;
    return stanza;
  }

  /** Everything waiting, now handed to `group` (in order). */
  handAll(group: number): OutgoingStanza[] {
    const out = this.waiting.splice(0);
    for (const stanza of out) {
      stanza.handedTo = group;
      this.handed.set(stanza.ticket, stanza);
    }
    return out;
  }

  /** rMulticast took or refused `ticket`; undefined if it is no longer ours (moved or failed already). */
  settle(ticket: number, group: number): OutgoingStanza | undefined {
    const stanza = this.handed.get(ticket);
    if (stanza === undefined || stanza.handedTo !== group) return undefined;
    this.handed.delete(ticket);
    this.bytesQueued -= stanza.bytes.length;
    return stanza;
  }

  /**
   * The room moved: what the old group did not take waits for the new one,
   * after `resends` (the lines said alone that it did take), all in the order
   * they were said. Returns the re-sends queued.
   */
  requeueAfter(resends: UnheardLine[]): OutgoingStanza[] {
    const pending = new Set<UnheardLine>();
    const carried = [...this.handed.values(), ...this.waiting.splice(0)].sort((a, b) => a.ticket - b.ticket);
    this.handed.clear();
    for (const stanza of carried) {
      stanza.handedTo = undefined;
      if (stanza.unheard !== undefined) pending.add(stanza.unheard);
    }
    const queued: OutgoingStanza[] = [];
    for (const line of resends) {
      // A line still on its way goes out once, in its place among the others.
      if (pending.has(line)) continue;
      const stanza: OutgoingStanza = {
        ticket: this.nextTicket++,
        streamId: 0,
        bytes: line.bytes,
        what: 'message (said alone, re-sent)',
        handedTo: undefined,
        unheard: undefined,
        resend: true,
        awaited: false,
        onSent: undefined,
      };
      queued.push(stanza);
      this.bytesQueued += stanza.bytes.length;
    }
    this.waiting.push(...queued, ...carried);
    return queued;
  }

  /** Everything not yet taken, removed (the room is being left). */
  drop(): OutgoingStanza[] {
    const out = [...this.handed.values(), ...this.waiting.splice(0)];
    this.handed.clear();
    this.bytesQueued = 0;
    return out;
  }
}

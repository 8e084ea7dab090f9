import type { ReliablePacket, SenderPosition } from '../wire/packet.js';
import type { CacheEntry, SenderRecord } from './sender-record.js';

/** What the sender table reports upward (to membership and the application). */
export interface SenderTableHooks {
  /** A control packet (FAILURE, ATTEMPT_JOIN, JOIN, BYE) of a remote sender, in causal order. */
  onControlPacket(record: SenderRecord, packet: ReliablePacket): void;
  /** Senders must be considered failed (deferred until the current processing pass ends; batched). */
  onSendersFailed(ids: number[]): void;
  /** A complete data message from a remote sender, in causal order. */
  onMessage(record: SenderRecord, streamId: number, data: Uint8Array): void;
  /** A sender without a start was dropped to make room (it never got far enough to be failed). */
  onSenderForgotten(id: number): void;
  /** A second, different packet arrived under a sender id and packet id we hold: somebody forges packets. */
  onConflictingPacket(record: SenderRecord, packetId: number): void;
}

/** What the rate limiters held back (EngineStats). */
export interface SuppressedCounts {
  whoisRequests: number;
  whoisReplies: number;
  repairRequests: number;
  repairAnswers: number;
}

/**
 * What the sender table's parts (lists, naming, reassembly, repairs,
 * stability; each in its own file for size) use of it. They import this, not
 * the table, so no import cycle.
 */
export interface SenderTableCore {
  readonly records: Map<number, SenderRecord>;
  readonly pendingRemoval: Map<number, SenderRecord>;
  readonly own: SenderRecord | undefined;
  readonly ownId: number;
  readonly leaving: boolean;
  readonly suppressed: SuppressedCounts;
  readonly hooks: SenderTableHooks;
  readonly stability: { needed: boolean };
  causallyReady(depends: SenderPosition[], againstData: boolean): boolean;
  deleteForever(record: SenderRecord): void;
  dropEntry(entry: CacheEntry): void;
  markFailed(record: SenderRecord): void;
  reportFailed(record: SenderRecord, reason: string): void;
}

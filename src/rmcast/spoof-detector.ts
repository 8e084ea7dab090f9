import type { Logger } from '../base/logger.js';
import { seqDiff } from '../wire/sequence.js';
import { hex, readReliablePacketId, sameBytes } from './datagram-bytes.js';
import { RATE_LIMIT_KEYS, SPOOF_REPORT_INTERVAL_MS } from './engine-defaults.js';
import type { EngineStats } from './engine-stats.js';
import type { EngineEvent } from './engine-types.js';
import { KeyedRateLimiter } from './rate-limit.js';
import type { SenderRecord } from './sender-record.js';

/**
 * Issue 15: two different packets under one sender id and packet id mean
 * somebody forges that sender (repairs are byte-for-byte copies, spec §2.1).
 * Counted in EngineStats.spoofSuspected and reported to the user, at most
 * once per sender per SPOOF_REPORT_INTERVAL_MS.
 */
export class SpoofDetector {
  private readonly reports = new KeyedRateLimiter(
    { perSecond: 1000 / SPOOF_REPORT_INTERVAL_MS, burst: 1 },
    { perSecond: 1, burst: 10 },
    RATE_LIMIT_KEYS,
    0,
  );

  constructor(
    private readonly log: Logger,
    private readonly stats: EngineStats,
    private readonly emit: (event: EngineEvent) => void,
  ) {}

  /**
   * A datagram under our own id: normally our multicast loopback. A reliable
   * one that differs from the copy we hold, or that carries an id we have not
   * used yet, is somebody impersonating us (spec Q16: the original never looks).
   */
  checkOwnEcho(own: SenderRecord | undefined, datagram: Uint8Array, now: number): void {
    const packetId = readReliablePacketId(datagram);
    if (own === undefined || packetId === undefined || datagram[7] === 0x14) return;
    const cached = own.cache.get(packetId)?.bytes;
    const unused = seqDiff(own.nextInput, packetId) >= 0;
    if (unused || (cached !== undefined && cached !== datagram && !sameBytes(cached, datagram))) this.conflict(own, packetId, now);
  }

  /** Two different packets under one sender id and packet id: count, drop (done by the caller) and tell the user. */
  conflict(record: SenderRecord, packetId: number, now: number): void {
    this.stats.spoofSuspected++;
    this.log.warn('conflicting packets under one sender and packet id: somebody forges this sender', {
      sender: hex(record.id),
      name: record.name,
      packetId,
    });
    if (this.reports.allow(record.id, now)) {
      this.emit({ type: 'spoof-suspected', senderId: record.id, sender: record.name, packetId });
    }
  }
}

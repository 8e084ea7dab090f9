import type { SenderTable, SuppressedCounts } from './sender-table.js';

/** Counters for diagnostics and benchmarks. */
export interface EngineStats {
  datagramsIn: number;
  datagramsOut: number;
  malformed: number;
  messagesSent: number;
  messagesDelivered: number;
  /** Packets that conflicted with one we hold under the same sender and packet id (forgeries). */
  spoofSuspected: number;
  /** Internal errors the engine recovered from by resetting (each one a 'reset' event). */
  internalErrors: number;
  /** What the rate limiters held back (RATE_LIMITS in engine-defaults.ts). */
  suppressed: Readonly<SuppressedCounts>;
}

/** What the engine holds right now (tests bound it under hostile input; diagnostics). */
export interface EngineFootprint {
  /** Sender records, ours included (at most MAX_SENDER_RECORDS). */
  senderRecords: number;
  /** Departed senders kept to answer repairs. */
  pendingRemoval: number;
  /** Cache entries over all records: packets held, and gaps awaiting repair. */
  cacheEntries: number;
  /** Bytes of the datagrams held in those caches. */
  cachedBytes: number;
  /** Bytes of datagrams kept from senders we have no start for yet (pre-start-stash.ts; at most PRE_START_BYTES). */
  stashedBytes: number;
  /** Members known to the membership layer (view, gathering, failing). */
  memberRecords: number;
  /** Armed timers (cancelled ones not yet purged included). */
  timers: number;
}

export function measureFootprint(table: SenderTable, memberRecords: number, timers: number): EngineFootprint {
  let cacheEntries = 0;
  let cachedBytes = 0;
  for (const record of [...table.records.values(), ...table.pendingRemoval.values()]) {
    cacheEntries += record.cache.size;
    for (const entry of record.cache.values()) cachedBytes += entry.bytes?.length ?? 0;
  }
  return {
    senderRecords: table.records.size,
    pendingRemoval: table.pendingRemoval.size,
    cacheEntries,
    cachedBytes,
    stashedBytes: table.preStart.held.bytes,
    memberRecords,
    timers,
  };
}

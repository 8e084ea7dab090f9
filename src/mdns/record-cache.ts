import { recordKey, rrsetKey, nameKey, type MdnsRecord, type MdnsRecordType } from './records.js';
import { systemClock } from './mdns-clock.js';

/**
 * The mDNS record cache (RFC 6762 §5.2, §10). Bounded: past `maxRecords`
 * the entry closest to expiry is evicted, so a flood of hostile records costs
 * at most that many entries.
 */
export interface CachedRecord {
  record: MdnsRecord;
  /** When this exact record was last received (ms). */
  receivedAt: number;
  expiresAt: number;
  /** TTL of the last copy received, in ms (0 after a goodbye). */
  ttlMs: number;
  /** How many of the 80/85/90/95 % refresh queries have been sent for the current copy. */
  refreshStep: number;
  /** Random 0–2 % of the TTL added to each refresh point, so hosts do not query in lock-step. */
  jitter: number;
}

export type CacheChange = 'added' | 'removed';

export interface MdnsCacheOptions {
  maxRecords?: number;
  random?: () => number;
  onChange?: (record: MdnsRecord, change: CacheChange) => void;
}

/** Records announced with a longer TTL are kept at most this long (hostile TTLs must not pin entries). */
const MAX_TTL_MS = 3 * 3600 * 1000;
/** RFC 6762 §10.1/§10.2: goodbyes and cache-flushed records linger one second. */
const GRACE_MS = 1000;
const REFRESH_POINTS = [0.8, 0.85, 0.9, 0.95];

export class MdnsCache {
  private readonly rrsets = new Map<string, Map<string, CachedRecord>>();
  private count = 0;
  private readonly maxRecords: number;
  private readonly random: () => number;
  private readonly onChange: (record: MdnsRecord, change: CacheChange) => void;
  private pending: Array<[MdnsRecord, CacheChange]> | undefined;

  constructor(options: MdnsCacheOptions = {}) {
    this.maxRecords = options.maxRecords ?? 4096;
    this.random = options.random ?? systemClock.random;
    this.onChange = options.onChange ?? (() => undefined);
  }

  /**
   * Applies several records (one packet) and only then reports the changes,
   * so observers never see half a packet (e.g. an SRV without the TXT that
   * came with it).
   */
  batch(apply: () => void): void {
    if (this.pending !== undefined) return apply();
    this.pending = [];
    try {
      apply();
    } finally {
      const changes = this.pending;
      this.pending = undefined;
      for (const [record, change] of changes) this.onChange(record, change);
    }
  }

  private changed(record: MdnsRecord, change: CacheChange): void {
    if (this.pending !== undefined) this.pending.push([record, change]);
    else this.onChange(record, change);
  }

  get size(): number {
    return this.count;
  }

  /** Applies one received (or self-sent) record. */
  add(record: MdnsRecord, now: number): void {
    const setKey = rrsetKey(record);
    const key = recordKey(record);
    let rrset = this.rrsets.get(setKey);
    const existing = rrset?.get(key);
    if (record.ttl === 0) {
      if (existing !== undefined) {
        existing.expiresAt = Math.min(existing.expiresAt, now + GRACE_MS);
        existing.ttlMs = 0;
      }
      return;
    }
    if (record.cacheFlush && rrset !== undefined) {
      for (const [otherKey, other] of rrset) {
        if (otherKey !== key && other.receivedAt < now - GRACE_MS) other.expiresAt = Math.min(other.expiresAt, now + GRACE_MS);
      }
    }
    const ttlMs = Math.min(record.ttl * 1000, MAX_TTL_MS);
    if (existing !== undefined) {
      existing.record = record;
      existing.receivedAt = now;
      existing.ttlMs = ttlMs;
      existing.expiresAt = now + ttlMs;
      existing.refreshStep = 0;
      existing.jitter = this.random() * 0.02;
      return;
    }
    if (this.count >= this.maxRecords) this.evictOne();
    if (rrset === undefined) {
      rrset = new Map();
      this.rrsets.set(setKey, rrset);
    }
    rrset.set(key, { record, receivedAt: now, expiresAt: now + ttlMs, ttlMs, refreshStep: 0, jitter: this.random() * 0.02 });
    this.count++;
    this.changed(record, 'added');
  }

  /** Live records of one RRset, most recently received first. */
  lookup(name: string, type: MdnsRecordType): CachedRecord[] {
    const rrset = this.rrsets.get(`${nameKey(name)}\u0000${type}`);
    if (rrset === undefined) return [];
    return [...rrset.values()].sort((a, b) => b.receivedAt - a.receivedAt);
  }

  /** Drops expired records; returns them. */
  expire(now: number): MdnsRecord[] {
    const removed: MdnsRecord[] = [];
    for (const [setKey, rrset] of this.rrsets) {
      for (const [key, entry] of rrset) {
        if (entry.expiresAt <= now) {
          rrset.delete(key);
          this.count--;
          removed.push(entry.record);
        }
      }
      if (rrset.size === 0) this.rrsets.delete(setKey);
    }
    for (const record of removed) this.changed(record, 'removed');
    return removed;
  }

  /**
   * Records of interest whose next refresh point (80, 85, 90, 95 % of the
   * TTL) has passed: the caller queries for them (RFC 6762 §5.2).
   */
  dueForRefresh(now: number, interesting: (record: MdnsRecord) => boolean): MdnsRecord[] {
    const due: MdnsRecord[] = [];
    for (const rrset of this.rrsets.values()) {
      for (const entry of rrset.values()) {
        if (entry.ttlMs === 0 || entry.refreshStep >= REFRESH_POINTS.length) continue;
        const point = REFRESH_POINTS[entry.refreshStep] ?? 1;
        if (now < entry.receivedAt + entry.ttlMs * (point + entry.jitter)) continue;
        // Skip refresh points already passed (e.g. after a long pause) so at most one query goes out per tick.
        while (entry.refreshStep < REFRESH_POINTS.length && now >= entry.receivedAt + entry.ttlMs * ((REFRESH_POINTS[entry.refreshStep] ?? 1) + entry.jitter)) {
          entry.refreshStep++;
        }
        if (interesting(entry.record)) due.push(entry.record);
      }
    }
    return due;
  }

  /** Remaining TTL of a cached copy of `record`, in seconds, or undefined. */
  remainingTtl(record: MdnsRecord, now: number): { remaining: number; original: number } | undefined {
    const entry = this.rrsets.get(rrsetKey(record))?.get(recordKey(record));
    if (entry === undefined || entry.ttlMs === 0) return undefined;
    return { remaining: Math.max(0, (entry.expiresAt - now) / 1000), original: entry.ttlMs / 1000 };
  }

  clear(): void {
    this.rrsets.clear();
    this.count = 0;
  }

  private evictOne(): void {
    let victim: { setKey: string; key: string; entry: CachedRecord } | undefined;
    for (const [setKey, rrset] of this.rrsets) {
      for (const [key, entry] of rrset) {
        if (victim === undefined || entry.expiresAt < victim.entry.expiresAt) victim = { setKey, key, entry };
      }
    }
    if (victim === undefined) return;
    const rrset = this.rrsets.get(victim.setKey);
    rrset?.delete(victim.key);
    if (rrset?.size === 0) this.rrsets.delete(victim.setKey);
    this.count--;
    this.changed(victim.entry.record, 'removed');
  }
}

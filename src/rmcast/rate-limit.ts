/**
 * Token buckets on injected time (ms), so the sans-IO engine can bound what
 * hostile input makes it send without a clock of its own.
 */
export interface RateLimit {
  /** Tokens added per second. */
  readonly perSecond: number;
  /** Bucket size: how many may go out at once after a quiet spell. */
  readonly burst: number;
}

export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.at = now;
  }

  /** Take one token if there is one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when the bucket is full again (nothing to remember about its key). */
  full(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.limit.burst;
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.at) * this.limit.perSecond) / 1000);
      this.at = now;
    }
  }
}

/**
 * One bucket per key (a sender id) plus one shared by all keys. The map is
 * bounded: when it is full, buckets that refilled are forgotten first (a full
 * bucket is the same as none); if none did, the key is refused, which errs on
 * the side of sending less.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<number, TokenBucket>();
  private readonly shared: TokenBucket;

  constructor(
    private readonly perKey: RateLimit,
    shared: RateLimit,
    private readonly maxKeys: number,
    now: number,
  ) {
    this.shared = new TokenBucket(shared, now);
  }

  /** May one more datagram go out for `key` now? Takes a token from both buckets when it may. */
  allow(key: number, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxKeys) {
        for (const [k, b] of this.buckets) if (b.full(now)) this.buckets.delete(k);
        if (this.buckets.size >= this.maxKeys) return false;
      }
      bucket = new TokenBucket(this.perKey, now);
      this.buckets.set(key, bucket);
    }
    // Check the shared bucket last so a refused key does not spend the shared budget.
    return bucket.take(now) && this.shared.take(now);
  }

  get size(): number {
    return this.buckets.size;
  }

  clear(): void {
    this.buckets.clear();
  }
}

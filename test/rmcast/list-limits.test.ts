import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dependsLimit, fitControlLists, sessionLimit } from '../../src/rmcast/list-limits.js';
import { KeyedRateLimiter, TokenBucket } from '../../src/rmcast/rate-limit.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();

describe('list limits (issue 15: every list fits the wire)', () => {
  it('depends and SESSION lists fit 1440 and 1500 bytes', () => {
    expect(dependsLimit(1440)).toBe(176); // 24 + 8 * 176 + 1 = 1433
    expect(sessionLimit(1440)).toBe(178); // 13 + 8 * 178 = 1437
    expect(dependsLimit(1500)).toBe(184);
    expect(dependsLimit(4000)).toBe(255);
  });

  it(`a control packet never exceeds the datagram or 255 entries per list, and keeps room for ids (seed ${seed})`, () => {
    assertProperty(
      fc.property(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 1100 }), fc.integer({ min: 129, max: 9000 }), (n, k, max) => {
        const fit = fitControlLists(n, k, max);
        expect(18 + 8 * fit.depends + 4 * fit.ids).toBeLessThanOrEqual(max);
        expect(fit.depends).toBeLessThanOrEqual(Math.min(n, 255));
        expect(fit.ids).toBeLessThanOrEqual(Math.min(k, 255));
        // Nothing is cut when both fit as they are.
        if (n <= 255 && k <= 255 && 18 + 8 * n + 4 * k <= max) expect(fit).toEqual({ depends: n, ids: k });
        // Ids keep up to 64 places (or all they can have) whatever the depends.
        expect(fit.ids).toBeGreaterThanOrEqual(Math.min(k, 64, Math.floor((max - 18) / 4)));
      }),
      seed,
      { numRuns: 2000 },
    );
  });

  it('the attack sizes: 170 depends and 342 ids', () => {
    const fit = fitControlLists(170, 342, 1440);
    expect(18 + 8 * fit.depends + 4 * fit.ids).toBeLessThanOrEqual(1440);
    expect(fit.ids).toBeGreaterThanOrEqual(64);
  });
});

describe('token buckets on injected time', () => {
  it('allow a burst, then the refill rate', () => {
    const bucket = new TokenBucket({ perSecond: 2, burst: 3 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(400)).toBe(false);
    expect(bucket.take(500)).toBe(true);
    expect(bucket.full(10_000)).toBe(true);
  });

  it('limit per key and in total, with a bounded number of keys', () => {
    const limiter = new KeyedRateLimiter({ perSecond: 1, burst: 1 }, { perSecond: 10, burst: 3 }, 2, 0);
    expect(limiter.allow(1, 0)).toBe(true);
    expect(limiter.allow(1, 0)).toBe(false); // per key
    expect(limiter.allow(2, 0)).toBe(true);
    expect(limiter.allow(3, 0)).toBe(false); // no room for a third key while both buckets are drained
    expect(limiter.allow(3, 1000)).toBe(true); // refilled buckets are forgotten
    expect(limiter.size).toBeLessThanOrEqual(2);
    const shared = new KeyedRateLimiter({ perSecond: 1, burst: 5 }, { perSecond: 1, burst: 2 }, 100, 0);
    expect([shared.allow(1, 0), shared.allow(2, 0), shared.allow(3, 0)]).toEqual([true, true, false]); // in total
  });
});

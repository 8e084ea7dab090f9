import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/base/random.js';
import { ConnectionBudget, isAdvertisedAddress, pickSiId } from '../../src/tubes/stream-tube-guard.js';

describe('stream tube guards (spec §7.5)', () => {
  it('SI ids are decimal 1..254', () => {
    const seed = 1234;
    console.log(`CLIQUE_SEED=${seed}`);
    const random = new SeededRandom(seed);
    for (let i = 0; i < 2000; i++) {
      const n = Number(pickSiId(random));
      expect(n >= 1 && n <= 254).toBe(true);
    }
  });

  it('accepts only advertised addresses, also through IPv4-mapped IPv6', () => {
    const advertised = ['192.168.1.5', 'fe80::1%eth0'];
    expect(isAdvertisedAddress('192.168.1.5', advertised)).toBe(true);
    expect(isAdvertisedAddress('::ffff:192.168.1.5', advertised)).toBe(true);
    expect(isAdvertisedAddress('fe80::1', advertised)).toBe(true);
    expect(isAdvertisedAddress('192.168.1.6', advertised)).toBe(false);
    expect(isAdvertisedAddress('127.0.0.1', advertised)).toBe(false);
  });

  it('bounds connections and frees slots on release', () => {
    const budget = new ConnectionBudget(3);
    expect([budget.tryTake(), budget.tryTake(), budget.tryTake(), budget.tryTake()]).toEqual([true, true, true, false]);
    budget.release();
    expect(budget.tryTake()).toBe(true);
    expect(budget.open).toBe(3);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareAddresses, mergeDecision, type AdvertState, type GroupAddress } from '../../src/rooms/room-merge.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

/** The merge rule on its own: what one lone room decides from what it sees (real-socket runs are in rooms-merge.test.ts). */
const seed = propertySeed();
const A: GroupAddress = { address: '239.255.71.20', port: 40000 };
const B: GroupAddress = { address: '239.255.71.100', port: 30000 };

describe('mergeDecision', () => {
  it('never moves a room with other members, nor when nothing else (or our own group) is listed', () => {
    const states: AdvertState[] = ['off', 'probing', 'advertised', 'lost-probing', 'lost-established', 'withdrawn'];
    for (const advert of states) {
      expect(mergeDecision({ ours: B, listed: A, alone: false, advert })).toBe('stay');
      expect(mergeDecision({ ours: B, listed: undefined, alone: true, advert })).toBe('stay');
      expect(mergeDecision({ ours: B, listed: { ...B }, alone: true, advert })).toBe('stay');
    }
  });

  it('moves to the group that holds the name (our probe lost, or we do not advertise), whatever the address order', () => {
    for (const [ours, listed] of [
      [A, B],
      [B, A],
    ] as const) {
      expect(mergeDecision({ ours, listed, alone: true, advert: 'lost-probing' })).toBe('move');
      expect(mergeDecision({ ours, listed, alone: true, advert: 'off' })).toBe('move');
    }
  });

  it('waits for its own probe, and stays while leaving', () => {
    expect(mergeDecision({ ours: B, listed: A, alone: true, advert: 'probing' })).toBe('wait');
    expect(mergeDecision({ ours: B, listed: A, alone: true, advert: 'withdrawn' })).toBe('stay');
  });

  it('when both advertised, only the group whose address sorts later moves; equal addresses stay', () => {
    expect(mergeDecision({ ours: B, listed: A, alone: true, advert: 'advertised' })).toBe('move');
    expect(mergeDecision({ ours: A, listed: B, alone: true, advert: 'advertised' })).toBe('stay');
    expect(mergeDecision({ ours: B, listed: A, alone: true, advert: 'lost-established' })).toBe('move');
    expect(mergeDecision({ ours: A, listed: B, alone: true, advert: 'lost-established' })).toBe('stay');
    expect(mergeDecision({ ours: { address: A.address, port: 1 }, listed: A, alone: true, advert: 'lost-established' })).toBe('stay');
    // Numerically, not as text.
    expect(compareAddresses('239.255.71.9', '239.255.71.10')).toBeLessThan(0);
    expect(mergeDecision({ ours: { address: '239.255.71.10', port: 5 }, listed: { address: '239.255.71.9', port: 5 }, alone: true, advert: 'advertised' })).toBe('move');
  });

  it('two lone rooms never swap past each other, in every way mDNS can show them to each other', () => {
    const group = fc.record({ address: fc.integer({ min: 1, max: 254 }).map((n) => `239.255.71.${n}`), port: fc.integer({ min: 1024, max: 65534 }) });
    const groups = fc.tuple(group, group).filter(([x, y]) => x.address !== y.address || x.port !== y.port);
    assertProperty(
      fc.property(groups, fc.boolean(), fc.boolean(), ([x, y], xFirst, srvFromX) => {
        // What each sees, per outcome of probing (mDNS tie-breaks simultaneous probes, so one side holds the name) ...
        const [holder, other] = xFirst ? [x, y] : [y, x];
        const scenarios: Array<[{ listed: GroupAddress; advert: AdvertState }, { listed: GroupAddress; advert: AdvertState }]> = [
          // ... one held the name and defended it against the other's probe;
          [
            { listed: holder, advert: 'advertised' },
            { listed: holder, advert: 'lost-probing' },
          ],
        ];
        const lower = compareAddresses(x.address, y.address) <= 0 ? x : y;
        if (x.port === y.port) {
          // ... same port: identical SRV records, no conflict; the list shows the lower A record with that port;
          scenarios.push([
            { listed: { address: lower.address, port: x.port }, advert: 'advertised' },
            { listed: { address: lower.address, port: x.port }, advert: 'advertised' },
          ]);
        }
        // ... both had announced (a healed partition): both lose the name, each list mixes the lower A with either SRV.
        const mixed = { address: lower.address, port: srvFromX ? x.port : y.port };
        scenarios.push([
          { listed: mixed, advert: 'lost-established' },
          { listed: mixed, advert: 'lost-established' },
        ]);
        for (const [seenByHolder, seenByOther] of scenarios) {
          const holderMoves = mergeDecision({ ours: holder, alone: true, ...seenByHolder }) === 'move';
          const otherMoves = mergeDecision({ ours: other, alone: true, ...seenByOther }) === 'move';
          if (holderMoves && otherMoves) return false;
        }
        // With a listing that shows the held group, exactly the other one moves, to it.
        return mergeDecision({ ours: other, alone: true, listed: holder, advert: 'lost-probing' }) === 'move' && mergeDecision({ ours: holder, alone: true, listed: holder, advert: 'advertised' }) === 'stay';
      }),
      seed,
      { numRuns: 500 },
    );
  });
});

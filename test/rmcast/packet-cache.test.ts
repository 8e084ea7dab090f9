import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketCache } from '../../src/rmcast/packet-cache.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();

type Op =
  | { kind: 'set'; near: number; far: number | undefined }
  | { kind: 'delete'; near: number }
  | { kind: 'move'; by: number }
  | { kind: 'clear' };

/** Ids near a moving point (wrapping past 0xffffffff), sometimes anywhere at all. */
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('set' as const), near: fc.integer({ min: -300, max: 300 }), far: fc.option(fc.nat({ max: 0xffffffff }), { freq: 20, nil: undefined }) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('delete' as const), near: fc.integer({ min: -300, max: 300 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('move' as const), by: fc.integer({ min: -50, max: 400 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
);

describe('PacketCache', () => {
  it('behaves like a Map keyed by packet id (windows, wrap-around, far ids, clear)', () => {
    assertProperty(
      fc.property(fc.nat({ max: 0xffffffff }), fc.array(op, { maxLength: 400 }), (start, ops) => {
        const cache = new PacketCache<string>();
        const model = new Map<number, string>();
        let point = start;
        const probe = (): void => {
          expect(cache.size).toBe(model.size);
          for (let d = -310; d <= 310; d += 7) {
            const id = (point + d) >>> 0;
            expect(cache.get(id)).toBe(model.get(id));
          }
        };
        ops.forEach((o, i) => {
          if (o.kind === 'set') {
            const id = o.far ?? (point + o.near) >>> 0;
            cache.set(id, `v${i}`);
            model.set(id, `v${i}`);
          } else if (o.kind === 'delete') {
            const id = (point + o.near) >>> 0;
            expect(cache.delete(id)).toBe(model.delete(id));
          } else if (o.kind === 'move') {
            point = (point + o.by) >>> 0;
          } else {
            cache.clear();
            model.clear();
          }
          probe();
        });
        for (const [id, value] of model) expect(cache.get(id)).toBe(value);
        expect(new Map(cache.entries())).toEqual(model);
        expect(cache.values().sort()).toEqual([...model.values()].sort());
      }),
      seed,
      { numRuns: 300 },
    );
  });

  it('lists a window in id order across the wrap-around', () => {
    const cache = new PacketCache<number>();
    for (let i = 0; i < 300; i++) cache.set((0xffffff80 + i) >>> 0, i);
    expect(cache.entries().map(([id]) => id)).toEqual(Array.from({ length: 300 }, (_, i) => (0xffffff80 + i) >>> 0));
  });

  it('takes entries added before the window start (repairs of older packets)', () => {
    const cache = new PacketCache<number>();
    for (let id = 1000; id >= 900; id--) cache.set(id, id);
    expect(cache.size).toBe(101);
    for (let id = 900; id <= 1000; id++) expect(cache.get(id)).toBe(id);
  });

  it('tolerates deletion while iterating (iteration is a snapshot)', () => {
    const cache = new PacketCache<number>();
    for (let id = 0; id < 100; id++) cache.set(id, id);
    for (const [id] of cache) if (id % 2 === 0) cache.delete(id);
    expect(cache.size).toBe(50);
    expect(cache.get(3)).toBe(3);
    expect(cache.get(4)).toBeUndefined();
  });
});

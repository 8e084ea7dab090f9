import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PreStartStash } from '../../src/rmcast/pre-start-stash.js';
import type { ReliablePacket } from '../../src/wire/packet.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

function packet(sender: number, packetId: number): ReliablePacket {
  return { type: 'no-data', sender, packetId, depends: [] };
}

function bytes(size: number, fill = 0): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

describe('PreStartStash: what a newcomer keeps of senders it has no start for', () => {
  it('gives back a sender’s packets once, in arrival order, and the first copy of an id wins', () => {
    const stash = new PreStartStash();
    stash.put(packet(7, 11), bytes(10, 1));
    stash.put(packet(7, 10), bytes(10, 2));
    stash.put(packet(7, 11), bytes(10, 3));
    stash.put(packet(8, 1), bytes(10, 4));
    const taken = stash.take(7);
    expect(taken.map((s) => [s.packet.packetId, s.bytes[0]])).toEqual([
      [11, 1],
      [10, 2],
    ]);
    expect(stash.take(7)).toEqual([]);
    expect(stash.held).toMatchObject({ bytes: 10, packets: 1 });
  });

  it('keeps at most the newest packets per sender', () => {
    const stash = new PreStartStash(3, 1 << 20);
    for (let id = 0; id < 10; id++) stash.put(packet(1, id), bytes(5));
    expect(stash.take(1).map((s) => s.packet.packetId)).toEqual([7, 8, 9]);
    expect(stash.held).toMatchObject({ bytes: 0, packets: 0 });
  });

  it('holds no more bytes than its budget: the oldest packet of any sender goes first', () => {
    const stash = new PreStartStash(32, 100);
    stash.put(packet(1, 1), bytes(40));
    stash.put(packet(2, 1), bytes(40));
    stash.put(packet(3, 1), bytes(40));
    expect(stash.held.bytes).toBe(80);
    expect(stash.take(1)).toEqual([]);
    expect(stash.take(2)).toHaveLength(1);
    expect(stash.take(3)).toHaveLength(1);
    stash.put(packet(4, 1), bytes(101));
    expect(stash.take(4), 'larger than the whole budget').toEqual([]);
  });

  it('forget and clear drop everything of a sender, or of all', () => {
    const stash = new PreStartStash();
    stash.put(packet(1, 1), bytes(5));
    stash.put(packet(2, 1), bytes(5));
    stash.forget(1);
    expect(stash.take(1)).toEqual([]);
    stash.clear();
    expect(stash.held).toEqual({ bytes: 0, packets: 0, queued: 0 });
  });

  it('under any mix of puts, takes and forgets the bounds hold and the eviction queue stays proportional (forged-id floods)', () => {
    const seed = propertySeed();
    const op = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), sender: fc.integer({ min: 1, max: 40 }), id: fc.integer({ min: 0, max: 60 }), size: fc.integer({ min: 1, max: 300 }) }),
      fc.record({ kind: fc.constant('take' as const), sender: fc.integer({ min: 1, max: 40 }) }),
    );
    assertProperty(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const stash = new PreStartStash(8, 4000);
        const model = new Map<number, number[]>();
        for (const o of ops) {
          if (o.kind === 'put') {
            stash.put(packet(o.sender, o.id), bytes(o.size));
          } else {
            const taken = stash.take(o.sender);
            expect(taken.length).toBeLessThanOrEqual(8);
            expect(new Set(taken.map((s) => s.packet.packetId)).size, 'no id twice').toBe(taken.length);
            expect(taken.every((s) => s.packet.sender === o.sender)).toBe(true);
            model.set(o.sender, taken.map((s) => s.packet.packetId));
          }
          const held = stash.held;
          expect(held.bytes).toBeLessThanOrEqual(4000);
          expect(held.packets).toBeLessThanOrEqual(40 * 8);
          expect(held.queued).toBeLessThanOrEqual(2 * held.packets + 1025);
        }
      }),
      seed,
      { numRuns: 200 },
    );
  });
});

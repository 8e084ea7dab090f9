import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateDatagram } from '../../src/wire/datagram-slab.js';
import { decodePacket, encodePacket } from '../../src/wire/codec.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';
import { anyPacket } from '../support/packet-arbitraries.js';

const seed = propertySeed();

describe('datagram slabs', () => {
  it('hands out zero-filled views that never overlap', () => {
    const views = Array.from({ length: 2000 }, (_, i) => allocateDatagram(1 + (i % 700)));
    for (const view of views) expect(view.every((b) => b === 0)).toBe(true);
    views.forEach((view, i) => view.fill(i % 251));
    views.forEach((view, i) => expect(view.every((b) => b === i % 251)).toBe(true));
  });

  it('gives large datagrams a buffer of their own', () => {
    const big = allocateDatagram(9000);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(9000);
  });

  it('keeps every encoded packet intact while many more are encoded after it', () => {
    assertProperty(
      fc.property(fc.array(anyPacket, { minLength: 1, maxLength: 200 }), (packets) => {
        const encoded = packets.map((p) => encodePacket(p));
        encoded.forEach((bytes, i) => expect(decodePacket(bytes)).toEqual(decodePacket(encodePacket(packets[i]!))));
      }),
      seed,
      { numRuns: 50 },
    );
  });
});

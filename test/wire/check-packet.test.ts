import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPacket, decodePacket, encodePacket } from '../../src/wire/codec.js';
import { PacketError } from '../../src/wire/packet-error.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';
import { anyPacket } from '../support/packet-arbitraries.js';

const seed = propertySeed();

/** What decodePacket says about some bytes: 'ok' or its error code. */
function decodeVerdict(bytes: Uint8Array): string {
  try {
    decodePacket(bytes);
    return 'ok';
  } catch (error) {
    if (error instanceof PacketError) return error.code;
    throw error;
  }
}

function checkVerdict(bytes: Uint8Array): string {
  return checkPacket(bytes)?.code ?? 'ok';
}

/** Encoded packets, then cut, extended or with one byte changed: the inputs that sit on the edges of well-formedness. */
const mutatedDatagram = fc
  .tuple(anyPacket, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('cut', 'extend', 'flip', 'as-is'))
  .map(([packet, at, value, how]) => {
    const bytes = encodePacket(packet);
    const i = at % (bytes.length + 1);
    switch (how) {
      case 'cut':
        return bytes.slice(0, i);
      case 'extend': {
        const out = new Uint8Array(bytes.length + 1 + (at % 16));
        out.set(bytes);
        return out;
      }
      case 'flip': {
        const out = bytes.slice();
        if (i < out.length) out[i] = value;
        return out;
      }
      default:
        return bytes;
    }
  });

describe('checkPacket (the driver check without building a packet)', () => {
  it(`agrees with decodePacket on valid, cut, extended and altered datagrams (seed ${seed})`, () => {
    assertProperty(
      fc.property(mutatedDatagram, (bytes) => {
        expect(checkVerdict(bytes)).toBe(decodeVerdict(bytes));
      }),
      seed,
      { numRuns: 5000 },
    );
  });

  it(`agrees with decodePacket on arbitrary bytes behind a DATA header (seed ${seed})`, () => {
    const header = [0x43, 0x6c, 0x69, 0x71, 0x75, 0x65, 1, 0];
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.constantFrom(0, 1, 2, 0xff), (tail, version) => {
        const code = encodePacket({ type: 'data', sender: 1, packetId: 1, depends: [], flags: 3, streamId: 0, totalSize: 0, payload: new Uint8Array(0) })[7]!;
        const bytes = new Uint8Array([...header.slice(0, 6), version, code, ...tail]);
        expect(checkVerdict(bytes)).toBe(decodeVerdict(bytes));
      }),
      seed,
      { numRuns: 5000 },
    );
  });

  it('does not modify the datagram', () => {
    const bytes = encodePacket({ type: 'data', sender: 7, packetId: 9, depends: [{ senderId: 1, packetId: 2 }], flags: 3, streamId: 1, totalSize: 3, payload: new Uint8Array([1, 2, 3]) });
    const before = bytes.slice();
    expect(checkPacket(bytes)).toBeUndefined();
    expect(checkPacket(bytes.subarray(0, bytes.length - 4))?.code).toBe('truncated');
    expect(bytes).toEqual(before);
  });
});

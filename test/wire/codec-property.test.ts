import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePacket, encodePacket, encodedSize } from '../../src/wire/codec.js';
import { PacketError, type PacketErrorCode } from '../../src/wire/packet-error.js';
import { HEADER_SIZE, PACKET_PREFIX, PacketTypeCode, type Packet } from '../../src/wire/packet.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';
import { anyPacket, packetArbitraries } from '../support/packet-arbitraries.js';

const seed = propertySeed();

/** The codes decodePacket may throw; 'too-large' and 'bad-field' belong to the encoder. */
const DECODER_CODES = new Set<PacketErrorCode>([
  'too-short',
  'bad-prefix',
  'bad-version',
  'bad-type',
  'truncated',
  'trailing-bytes',
  'bad-name',
]);

/**
 * Decode hostile bytes: the result must be a Packet or a decoder PacketError.
 * Anything else (TypeError, RangeError, an encoder code) fails the property.
 */
function decodeHostile(input: Uint8Array): Packet | PacketError {
  let packet: Packet;
  try {
    packet = decodePacket(input);
  } catch (error) {
    if (error instanceof PacketError && DECODER_CODES.has(error.code)) return error;
    throw error;
  }
  checkFitsInput(packet, input);
  return packet;
}

/**
 * A decoded packet can hold no more than the datagram did: its encoded size is
 * at most the input's, lists and payload are bounded by it, the payload is a view
 * (not a copy), and re-encoding gives back the input (the codec is canonical);
 * the one exception is a WHOIS name cut at an embedded NUL.
 */
function checkFitsInput(packet: Packet, input: Uint8Array): void {
  const size = encodedSize(packet);
  expect(size).toBeLessThanOrEqual(input.length);
  const again = encodePacket(packet);
  if (packet.type === 'whois-reply') {
    const nameLength = again.length - 13;
    expect(nameLength).toBeLessThanOrEqual(input[12]!);
    expect(Buffer.from(again.subarray(13)).equals(input.subarray(13, 13 + nameLength))).toBe(true);
    if (nameLength < input[12]!) expect(input[13 + nameLength]).toBe(0);
    else expect(Buffer.from(again).equals(input)).toBe(true);
    return;
  }
  expect(size).toBe(input.length);
  expect(Buffer.from(again).equals(input)).toBe(true);
  if ('depends' in packet) expect(packet.depends.length * 8).toBeLessThanOrEqual(input.length - 17);
  if (packet.type === 'session') expect(packet.positions.length * 8).toBeLessThanOrEqual(input.length - 13);
  if ('ids' in packet) expect(packet.ids.length * 4).toBeLessThanOrEqual(input.length - 18);
  if (packet.type === 'data') {
    expect(packet.payload.buffer).toBe(input.buffer);
    expect(packet.payload.byteOffset + packet.payload.byteLength).toBe(input.byteOffset + input.byteLength);
  }
}

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; length: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'overwrite'; at: number; value: number }
  | { kind: 'overwrite-count'; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), length: fc.nat() }),
  fc.record({ kind: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  // Bytes 12..24 hold the counts, lengths and fixed fields: hit them more often.
  fc.record({
    kind: fc.constant('overwrite-count' as const),
    at: fc.integer({ min: 12, max: 24 }),
    value: fc.oneof(fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xfe, 0xff), fc.integer({ min: 0, max: 255 })),
  }),
);

function mutate(original: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(original);
  for (const m of mutations) {
    switch (m.kind) {
      case 'flip':
        if (bytes.length > 0) bytes[m.at % bytes.length]! ^= 1 << m.bit;
        break;
      case 'truncate':
        bytes = bytes.slice(0, m.length % (bytes.length + 1));
        break;
      case 'extend': {
        const longer = new Uint8Array(bytes.length + m.bytes.length);
        longer.set(bytes);
        longer.set(m.bytes, bytes.length);
        bytes = longer;
        break;
      }
      case 'overwrite':
        if (bytes.length > 0) bytes[m.at % bytes.length] = m.value;
        break;
      case 'overwrite-count':
        if (m.at < bytes.length) bytes[m.at] = m.value;
        break;
    }
  }
  return bytes;
}

const VALID_TYPE_CODES = Object.values(PacketTypeCode);

describe(`codec properties (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('decode(encode(p)) deep-equals p for every packet type', () => {
    assertProperty(
      fc.property(anyPacket, (packet) => {
        expect(decodePacket(encodePacket(packet))).toEqual(packet);
      }),
      seed,
      { numRuns: 4000 },
    );
  });

  it('encodedSize(p) is the length of encode(p), and maxSize is honoured at the boundary', () => {
    assertProperty(
      fc.property(anyPacket, (packet) => {
        const encoded = encodePacket(packet);
        expect(encodedSize(packet)).toBe(encoded.length);
        expect(encodePacket(packet, encoded.length).length).toBe(encoded.length);
        expect(() => encodePacket(packet, encoded.length - 1)).toThrow(PacketError);
      }),
      seed,
      { numRuns: 3000 },
    );
  });

  it.each(Object.keys(packetArbitraries) as Array<keyof typeof packetArbitraries>)(
    'round trip keeps the type byte and header of %s',
    (type) => {
      const arbitrary = packetArbitraries[type] as fc.Arbitrary<Packet>;
      assertProperty(
        fc.property(arbitrary, (packet) => {
          const encoded = encodePacket(packet);
          expect(Buffer.from(encoded.subarray(0, 6)).equals(PACKET_PREFIX)).toBe(true);
          expect(encoded[6]).toBe(1);
          expect(encoded[7]).toBe(PacketTypeCode[type]);
          expect(new DataView(encoded.buffer, encoded.byteOffset).getUint32(8)).toBe(packet.sender);
          checkFitsInput(decodePacket(encoded), encoded);
        }),
        seed,
        { numRuns: 300 },
      );
    },
  );

  it('random bytes (0..2000) yield a Packet or a PacketError, nothing else', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        decodeHostile(bytes);
      }),
      seed,
      { numRuns: 3000 },
    );
  });

  it('"Clique" + version 1 + any type + random bytes yield a Packet or a PacketError', () => {
    const typeByte = fc.oneof(fc.constantFrom(...VALID_TYPE_CODES), fc.integer({ min: 0, max: 255 }));
    assertProperty(
      fc.property(typeByte, fc.uint8Array({ maxLength: 600 }), (type, rest) => {
        const bytes = new Uint8Array(8 + rest.length);
        bytes.set(PACKET_PREFIX);
        bytes[6] = 1;
        bytes[7] = type;
        bytes.set(rest, 8);
        const outcome = decodeHostile(bytes);
        if (bytes.length < HEADER_SIZE) expect((outcome as PacketError).code).toBe('too-short');
        else if (!VALID_TYPE_CODES.includes(type as never)) expect((outcome as PacketError).code).toBe('bad-type');
      }),
      seed,
      { numRuns: 5000 },
    );
  });

  it('mutated valid encodings (bit flips, truncation, extension, overwrites) yield a Packet or a PacketError', () => {
    assertProperty(
      fc.property(anyPacket, fc.array(mutation, { minLength: 1, maxLength: 4 }), (packet, mutations) => {
        decodeHostile(mutate(encodePacket(packet), mutations));
      }),
      seed,
      { numRuns: 5000 },
    );
  });

  it('inputs that are views into a larger buffer decode the same as copies', () => {
    assertProperty(
      fc.property(anyPacket, fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 16 }), (packet, before, after) => {
        const encoded = encodePacket(packet);
        const big = new Uint8Array(before.length + encoded.length + after.length);
        big.set(before);
        big.set(encoded, before.length);
        big.set(after, before.length + encoded.length);
        const view = big.subarray(before.length, before.length + encoded.length);
        expect(decodePacket(view)).toEqual(packet);
        checkFitsInput(decodePacket(view), view);
      }),
      seed,
      { numRuns: 2000 },
    );
  });
});

import fc from 'fast-check';
import { PacketTypeCode, type Packet, type SenderPosition } from '../../src/wire/packet.js';

/**
 * fast-check arbitraries for valid packets of every type (spec rmulticast.md §2).
 * Values are biased towards the edges (0, 0xffffffff, 255 entries, 254-byte names)
 * because that is where codecs break.
 */

export const u32 = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff) },
);

export const senderPosition: fc.Arbitrary<SenderPosition> = fc.record({ senderId: u32, packetId: u32 });

/** Lists of 0..255 entries: usually short, sometimes at the 255 limit. */
function list<T>(item: fc.Arbitrary<T>): fc.Arbitrary<T[]> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(item, { maxLength: 8 }) },
    { weight: 1, arbitrary: fc.array(item, { minLength: 240, maxLength: 255 }) },
  );
}

export const positions = list(senderPosition);
export const idList = list(u32);

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8');

/** Names the encoder accepts: well-formed UTF-16, no NUL, at most 254 UTF-8 bytes. */
export const whoisName: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 240, maxLength: 254 }) },
    { weight: 1, arbitrary: fc.constantFrom('', '\ufeffbom', 'user@host', 'é'.repeat(127), '\u{1F600}'.repeat(63)) },
  )
  .map((s) => s.replaceAll('\u0000', ''))
  .filter((s) => utf8Length(s) <= 254);

export const payload = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1500 }) },
);

const reliable = { sender: u32, packetId: u32, depends: positions };

export const packetArbitraries = {
  'whois-request': fc.record({ type: fc.constant('whois-request' as const), sender: u32, queriedId: u32 }),
  'whois-reply': fc.record({ type: fc.constant('whois-reply' as const), sender: u32, name: whoisName }),
  'repair-request': fc.record({ type: fc.constant('repair-request' as const), sender: u32, originalSender: u32, packetId: u32 }),
  session: fc.record({ type: fc.constant('session' as const), sender: u32, positions }),
  data: fc.record({
    type: fc.constant('data' as const),
    ...reliable,
    flags: fc.oneof(fc.constantFrom(0, 1, 2, 3), fc.integer({ min: 0, max: 255 })),
    streamId: fc.oneof(fc.constantFrom(0, 1, 0xffff), fc.integer({ min: 0, max: 0xffff })),
    totalSize: u32,
    payload,
  }),
  'no-data': fc.record({ type: fc.constant('no-data' as const), ...reliable }),
  bye: fc.record({ type: fc.constant('bye' as const), ...reliable }),
  failure: fc.record({ type: fc.constant('failure' as const), ...reliable, ids: idList }),
  'attempt-join': fc.record({ type: fc.constant('attempt-join' as const), ...reliable, ids: idList }),
  join: fc.record({ type: fc.constant('join' as const), ...reliable, ids: idList }),
} satisfies { [K in keyof typeof PacketTypeCode]: fc.Arbitrary<Packet & { type: K }> };

/** Any valid packet, each type equally likely. */
export const anyPacket: fc.Arbitrary<Packet> = fc.oneof(...Object.values(packetArbitraries));

import { describe, expect, it } from 'vitest';
import { decodePacket, encodePacket, encodedSize, packetTypeName, peekHeader } from '../../src/wire/codec.js';
import { PacketError, type PacketErrorCode } from '../../src/wire/packet-error.js';
import { DEFAULT_MAX_DATAGRAM, isEnd, isStart, type DataPacket, type Packet } from '../../src/wire/packet.js';

/** Hex dump (spaces and newlines ignored) to a plain Uint8Array. */
function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

function ascii(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function expectPacketError(fn: () => unknown, code: PacketErrorCode, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a PacketError').toBeInstanceOf(PacketError);
  expect((caught as PacketError).code).toBe(code);
  if (message) expect((caught as PacketError).message).toMatch(message);
}

const A = 0x11111111;
const CRONE = 0x22222222;
const C = 0x33333333;
const NEWCOMER = 0x44444444;

// Worked examples E1–E13 of spec rmulticast.md §2.7 (checked there against the original C codec).
const GOLDEN: Array<{ name: string; hex: string; packet: Packet; base64?: string }> = [
  {
    name: 'E1 WHOIS_REQUEST id probe',
    hex: '43 6c 69 71 75 65 01 00 00 00 00 00 1a 2b 3c 4d',
    packet: { type: 'whois-request', sender: 0, queriedId: 0x1a2b3c4d },
    base64: 'Q2xpcXVlAQAAAAAAGis8TQ==',
  },
  {
    name: 'E2 WHOIS_REQUEST from a member',
    hex: '43 6c 69 71 75 65 01 00 11 11 11 11 22 22 22 22',
    packet: { type: 'whois-request', sender: A, queriedId: CRONE },
  },
  {
    name: 'E3 WHOIS_REPLY "crone"',
    hex: '43 6c 69 71 75 65 01 01 22 22 22 22 05 63 72 6f 6e 65',
    packet: { type: 'whois-reply', sender: CRONE, name: 'crone' },
  },
  {
    name: 'E4 DATA single fragment with two depends',
    hex: `43 6c 69 71 75 65 01 0f 11 11 11 11 00 00 01 00
          02 22 22 22 22 00 00 00 50 33 33 33 33 00 ab cd
          ef 03 00 00 00 00 00 05 68 65 6c 6c 6f`,
    packet: {
      type: 'data',
      sender: A,
      packetId: 0x100,
      depends: [
        { senderId: CRONE, packetId: 0x50 },
        { senderId: C, packetId: 0xabcdef },
      ],
      flags: 0x03,
      streamId: 0,
      totalSize: 5,
      payload: ascii('hello'),
    },
    base64: 'Q2xpcXVlAQ8RERERAAABAAIiIiIiAAAAUDMzMzMAq83vAwAAAAAABWhlbGxv',
  },
  {
    name: 'E6 REPAIR_REQUEST',
    hex: '43 6c 69 71 75 65 01 02 33 33 33 33 11 11 11 11 00 00 01 01',
    packet: { type: 'repair-request', sender: C, originalSender: A, packetId: 0x101 },
  },
  {
    name: 'E7 SESSION',
    hex: `43 6c 69 71 75 65 01 03 11 11 11 11 02 11 11 11
          11 00 00 01 02 22 22 22 22 00 00 00 51`,
    packet: {
      type: 'session',
      sender: A,
      positions: [
        { senderId: A, packetId: 0x102 },
        { senderId: CRONE, packetId: 0x51 },
      ],
    },
  },
  {
    name: 'E8 NO_DATA keepalive',
    hex: `43 6c 69 71 75 65 01 10 11 11 11 11 00 00 01 02
          01 22 22 22 22 00 00 00 51`,
    packet: { type: 'no-data', sender: A, packetId: 0x102, depends: [{ senderId: CRONE, packetId: 0x51 }] },
  },
  {
    name: 'E9 ATTEMPT_JOIN from a newcomer',
    hex: `43 6c 69 71 75 65 01 12 44 44 44 44 ff ff ff fe
          00 02 11 11 11 11 22 22 22 22`,
    packet: { type: 'attempt-join', sender: NEWCOMER, packetId: 0xfffffffe, depends: [], ids: [A, CRONE] },
  },
  {
    name: 'E10 ATTEMPT_JOIN answer',
    hex: `43 6c 69 71 75 65 01 12 11 11 11 11 00 00 01 03
          02 22 22 22 22 00 00 00 51 44 44 44 44 ff ff ff
          ff 00`,
    packet: {
      type: 'attempt-join',
      sender: A,
      packetId: 0x103,
      depends: [
        { senderId: CRONE, packetId: 0x51 },
        { senderId: NEWCOMER, packetId: 0xffffffff },
      ],
      ids: [],
    },
  },
  {
    name: 'E11 JOIN',
    hex: `43 6c 69 71 75 65 01 13 11 11 11 11 00 00 01 04
          02 22 22 22 22 00 00 00 51 44 44 44 44 00 00 00
          01 01 33 33 33 33`,
    packet: {
      type: 'join',
      sender: A,
      packetId: 0x104,
      depends: [
        { senderId: CRONE, packetId: 0x51 },
        { senderId: NEWCOMER, packetId: 0x1 },
      ],
      ids: [C],
    },
  },
  {
    name: 'E12 FAILURE',
    hex: `43 6c 69 71 75 65 01 11 22 22 22 22 00 00 00 52
          02 11 11 11 11 00 00 01 05 33 33 33 33 00 ab cd
          f0 01 33 33 33 33`,
    packet: {
      type: 'failure',
      sender: CRONE,
      packetId: 0x52,
      depends: [
        { senderId: A, packetId: 0x105 },
        { senderId: C, packetId: 0xabcdf0 },
      ],
      ids: [C],
    },
  },
  {
    name: 'E13 BYE',
    hex: '43 6c 69 71 75 65 01 14 11 11 11 11 00 00 01 06 00',
    packet: { type: 'bye', sender: A, packetId: 0x106, depends: [] },
  },
];

function golden(id: string): (typeof GOLDEN)[number] {
  const found = GOLDEN.find((g) => g.name.startsWith(`${id} `));
  if (!found) throw new Error(`no golden vector ${id}`);
  return found;
}

const SPEC_SIZES: Record<string, number> = {
  E1: 16, E2: 16, E3: 18, E4: 45, E6: 20, E7: 29, E8: 25, E9: 26, E10: 34, E11: 38, E12: 38, E13: 17,
};

describe('golden vectors E1–E13 (spec §2.7)', () => {
  it.each(GOLDEN)('$name decodes to the expected packet', ({ name, hex: h, packet }) => {
    const bytes = hex(h);
    expect(bytes.length).toBe(SPEC_SIZES[name.split(' ')[0]!]);
    expect(decodePacket(bytes)).toEqual(packet);
  });

  it.each(GOLDEN)('$name encodes to exactly the spec bytes', ({ hex: h, packet, base64 }) => {
    const encoded = encodePacket(packet, DEFAULT_MAX_DATAGRAM);
    expect(toHex(encoded)).toBe(toHex(hex(h)));
    expect(encodedSize(packet)).toBe(encoded.length);
    if (base64 !== undefined) expect(Buffer.from(encoded).toString('base64')).toBe(base64);
  });

  it.each(GOLDEN)('$name: peekHeader agrees with the full decode', ({ hex: h, packet }) => {
    const bytes = hex(h);
    expect(peekHeader(bytes)).toEqual({ type: packet.type, sender: packet.sender });
    expect(packetTypeName(bytes[7]!)).toBe(packet.type);
  });

  it('E4 flags mean START|END', () => {
    const data = decodePacket(hex(golden('E4').hex)) as DataPacket;
    expect(isStart(data)).toBe(true);
    expect(isEnd(data)).toBe(true);
  });

  describe('E5: 3000 bytes on stream 7 in three 1440-byte-limited fragments', () => {
    const message = new Uint8Array(3000).map((_, i) => i % 256);
    const fragments: DataPacket[] = [
      {
        type: 'data',
        sender: A,
        packetId: 0x200,
        depends: [{ senderId: CRONE, packetId: 0x60 }],
        flags: 0x01,
        streamId: 7,
        totalSize: 3000,
        payload: message.subarray(0, 1408),
      },
      {
        type: 'data',
        sender: A,
        packetId: 0x201,
        depends: [],
        flags: 0x00,
        streamId: 7,
        totalSize: 3000,
        payload: message.subarray(1408, 1408 + 1416),
      },
      {
        type: 'data',
        sender: A,
        packetId: 0x202,
        depends: [],
        flags: 0x02,
        streamId: 7,
        totalSize: 3000,
        payload: message.subarray(2824),
      },
    ];
    const headers = [
      '43 6c 69 71 75 65 01 0f 11 11 11 11 00 00 02 00 01 22 22 22 22 00 00 00 60 01 00 07 00 00 0b b8 00 01 02 03',
      '43 6c 69 71 75 65 01 0f 11 11 11 11 00 00 02 01 00 00 00 07 00 00 0b b8 80 81 82 83',
      '43 6c 69 71 75 65 01 0f 11 11 11 11 00 00 02 02 00 02 00 07 00 00 0b b8 08 09 0a 0b',
    ];
    const sizes = [1440, 1440, 200];
    const payloadSizes = [1408, 1416, 176];

    it.each([0, 1, 2])('fragment %i has the spec header, size and payload', (i) => {
      const fragment = fragments[i]!;
      expect(fragment.payload.length).toBe(payloadSizes[i]);
      const encoded = encodePacket(fragment, DEFAULT_MAX_DATAGRAM);
      expect(encoded.length).toBe(sizes[i]);
      const expectedStart = hex(headers[i]!);
      expect(toHex(encoded.subarray(0, expectedStart.length))).toBe(toHex(expectedStart));
      const headerSize = encoded.length - payloadSizes[i]!;
      expect(toHex(encoded.subarray(headerSize))).toBe(toHex(fragment.payload));
      expect(decodePacket(encoded)).toEqual(fragment);
    });

    it('the fragments reassemble to the message', () => {
      const decoded = fragments.map((f) => decodePacket(encodePacket(f)) as DataPacket);
      expect(decoded.map(isStart)).toEqual([true, false, false]);
      expect(decoded.map(isEnd)).toEqual([false, false, true]);
      const joined = new Uint8Array(3000);
      let o = 0;
      for (const d of decoded) {
        joined.set(d.payload, o);
        o += d.payload.length;
      }
      expect(o).toBe(3000);
      expect(joined).toEqual(message);
    });

    it('one more payload byte in a fragment exceeds the 1440-byte limit', () => {
      const tooBig = { ...fragments[0]!, payload: new Uint8Array(1409) };
      expectPacketError(() => encodePacket(tooBig, DEFAULT_MAX_DATAGRAM), 'too-large');
    });
  });
});

describe('negative examples from the spec (§2.7)', () => {
  it('rejects a 12-byte packet of type 0x05', () => {
    expectPacketError(() => decodePacket(hex('43 6c 69 71 75 65 01 05 11 11 11 11')), 'bad-type', /0x05/);
  });
  it('rejects a BYE with one trailing byte', () => {
    expectPacketError(() => decodePacket(hex('43 6c 69 71 75 65 01 14 11 11 11 11 00 00 01 06 00 00')), 'trailing-bytes');
  });
  it('rejects version 0x02 (for every golden vector)', () => {
    for (const { hex: h } of GOLDEN) {
      const bytes = hex(h);
      bytes[6] = 0x02;
      expectPacketError(() => decodePacket(bytes), 'bad-version');
      expect(peekHeader(bytes)).toBeUndefined();
    }
  });
  it('rejects type 0x15', () => {
    expectPacketError(() => decodePacket(hex('43 6c 69 71 75 65 01 15 11 11 11 11 00 00 01 06 00')), 'bad-type', /0x15/);
  });
  it('rejects every invalid type byte 0x04..0x0e and 0x15..0xff', () => {
    for (let type = 0; type < 256; type++) {
      if (type <= 0x03 || (type >= 0x0f && type <= 0x14)) continue;
      const bytes = hex('43 6c 69 71 75 65 01 00 11 11 11 11 00 00 00 00 00');
      bytes[7] = type;
      expectPacketError(() => decodePacket(bytes), 'bad-type');
      expect(packetTypeName(type)).toBeUndefined();
    }
  });
});

describe('every decoder error', () => {
  const header = (type: number, sender = '11 11 11 11'): string =>
    `43 6c 69 71 75 65 01 ${type.toString(16).padStart(2, '0')} ${sender}`;

  it('too-short: fewer than 12 bytes, including empty', () => {
    const full = hex(header(0x14));
    for (let n = 0; n < 12; n++) expectPacketError(() => decodePacket(full.subarray(0, n)), 'too-short');
  });

  it('bad-prefix: any byte of "Clique" changed ', () => {
    for (let i = 0; i < 6; i++) {
      const bytes = hex(golden('E13').hex);
      bytes[i] = bytes[i]! ^ 0x20;
      expectPacketError(() => decodePacket(bytes), 'bad-prefix');
      expect(peekHeader(bytes)).toBeUndefined();
    }
  });

  it('bad-version: 0x00 and 0xff too', () => {
    for (const v of [0x00, 0x02, 0xff]) {
      const bytes = hex(golden('E1').hex);
      bytes[6] = v;
      expectPacketError(() => decodePacket(bytes), 'bad-version', new RegExp(`version ${v}`));
    }
  });

  // One case per field that can run past the end; the message names the field.
  const TRUNCATED: Array<[string, string, RegExp]> = [
    ['WHOIS_REQUEST queried id', `${header(0x00)} 22 22 22`, /queried id/],
    ['WHOIS_REPLY name length', header(0x01), /name length/],
    ['WHOIS_REPLY name', `${header(0x01)} 05 63 72 6f 6e`, /name at/],
    ['REPAIR_REQUEST original sender', `${header(0x02)} 11 11`, /original sender/],
    ['REPAIR_REQUEST packet id', `${header(0x02)} 11 11 11 11 00 00 01`, /packet id/],
    ['SESSION count', header(0x03), /session count/],
    ['SESSION entries', `${header(0x03)} 02 11 11 11 11 00 00 01 02 22 22 22 22 00 00 00`, /session entries/],
    ['SESSION entries (count 255, nothing follows)', `${header(0x03)} ff`, /session entries/],
    ['reliable packet id', `${header(0x10)} 00 00 01`, /packet id/],
    ['depends count', `${header(0x10)} 00 00 01 02`, /depends count/],
    ['depends entries', `${header(0x10)} 00 00 01 02 01 22 22 22 22 00 00 00`, /depends entries/],
    ['depends entries (count 255)', `${header(0x0f)} 00 00 01 02 ff 00 00 00 00 00 00 00 00`, /depends entries/],
    ['DATA flags', `${header(0x0f)} 00 00 01 00 00`, /flags/],
    ['DATA stream id', `${header(0x0f)} 00 00 01 00 00 03 00`, /stream id/],
    ['DATA total size', `${header(0x0f)} 00 00 01 00 00 03 00 00 00 00 00`, /total size/],
    ['FAILURE id list count', `${header(0x11)} 00 00 00 52 00`, /failure id list count/],
    ['FAILURE id list entries', `${header(0x11)} 00 00 00 52 00 02 33 33 33 33 44 44 44`, /failure id list entries/],
    ['ATTEMPT_JOIN id list count', `${header(0x12)} 00 00 00 52 00`, /attempt-join id list count/],
    ['ATTEMPT_JOIN id list entries', `${header(0x12)} 00 00 00 52 00 ff`, /attempt-join id list entries/],
    ['JOIN id list count', `${header(0x13)} 00 00 00 52 00`, /join id list count/],
    ['JOIN id list entries', `${header(0x13)} 00 00 00 52 00 01 33 33`, /join id list entries/],
    ['BYE packet id', `${header(0x14)} 00 00`, /packet id/],
    ['BYE depends count', `${header(0x14)} 00 00 01 06`, /depends count/],
  ];

  it.each(TRUNCATED)('truncated: %s', (_what, h, message) => {
    expectPacketError(() => decodePacket(hex(h)), 'truncated', message);
  });

  it('truncated: every strict prefix (≥ 12 bytes) of every non-DATA golden vector', () => {
    for (const { name, hex: h, packet } of GOLDEN) {
      if (packet.type === 'data') continue;
      const bytes = hex(h);
      for (let n = 12; n < bytes.length; n++) {
        expect(() => decodePacket(bytes.subarray(0, n)), `${name} cut to ${n}`).toThrow(PacketError);
        expectPacketError(() => decodePacket(bytes.subarray(0, n)), 'truncated');
      }
    }
  });

  it('a DATA packet cut inside its payload is still valid (payload runs to the end), cut before it is truncated', () => {
    const bytes = hex(golden('E4').hex);
    for (let n = 12; n < bytes.length; n++) {
      const cut = bytes.subarray(0, n);
      if (n >= 40) {
        const d = decodePacket(cut) as DataPacket;
        expect(toHex(d.payload)).toBe(toHex(ascii('hello').subarray(0, n - 40)));
        expect(d.totalSize).toBe(5);
      } else {
        expectPacketError(() => decodePacket(cut), 'truncated');
      }
    }
  });

  it('trailing-bytes: one extra byte after every non-DATA golden vector', () => {
    for (const { name, hex: h, packet } of GOLDEN) {
      if (packet.type === 'data') continue;
      const bytes = hex(`${h} 00`);
      expect(() => decodePacket(bytes), name).toThrow(PacketError);
      expectPacketError(() => decodePacket(bytes), 'trailing-bytes', /1 unexpected bytes/);
    }
  });

  it('bad-name: a WHOIS_REPLY name that is not UTF-8', () => {
    expectPacketError(() => decodePacket(hex(`${header(0x01)} 02 c3 28`)), 'bad-name');
    expectPacketError(() => decodePacket(hex(`${header(0x01)} 01 ff`)), 'bad-name');
  });
});

describe('decoder details', () => {
  it('cuts a WHOIS_REPLY name at an embedded NUL, like the original C string', () => {
    const bytes = hex('43 6c 69 71 75 65 01 01 22 22 22 22 07 63 72 00 6f 6e 65 ff');
    expect(decodePacket(bytes)).toEqual({ type: 'whois-reply', sender: CRONE, name: 'cr' });
    // Invalid bytes after the NUL are not looked at.
    expect(decodePacket(hex('43 6c 69 71 75 65 01 01 22 22 22 22 02 00 ff'))).toEqual({
      type: 'whois-reply',
      sender: CRONE,
      name: '',
    });
  });

  it('keeps a leading U+FEFF in a name (it is part of the name, not a byte-order mark)', () => {
    const bytes = hex('43 6c 69 71 75 65 01 01 22 22 22 22 04 ef bb bf 61');
    expect(decodePacket(bytes)).toEqual({ type: 'whois-reply', sender: CRONE, name: '\ufeffa' });
    expect(toHex(encodePacket({ type: 'whois-reply', sender: CRONE, name: '\ufeffa' }))).toBe(toHex(bytes));
  });

  it('decodes UTF-8 names, including a 254-byte one and an empty one', () => {
    const name = 'é'.repeat(127);
    const encoded = encodePacket({ type: 'whois-reply', sender: 1, name });
    expect(encoded.length).toBe(13 + 254);
    expect(decodePacket(encoded)).toEqual({ type: 'whois-reply', sender: 1, name });
    expect(decodePacket(hex('43 6c 69 71 75 65 01 01 00 00 00 01 00'))).toEqual({ type: 'whois-reply', sender: 1, name: '' });
  });

  it('accepts what §2.5 does not validate: sender 0, zero counts, duplicate ids, odd flags', () => {
    expect(decodePacket(hex('43 6c 69 71 75 65 01 11 00 00 00 00 00 00 00 00 00 02 33 33 33 33 33 33 33 33'))).toEqual({
      type: 'failure',
      sender: 0,
      packetId: 0,
      depends: [],
      ids: [C, C],
    });
    const data = decodePacket(hex('43 6c 69 71 75 65 01 0f 11 11 11 11 00 00 00 01 00 fc ff ff 00 00 00 07')) as DataPacket;
    expect(data).toMatchObject({ flags: 0xfc, streamId: 0xffff, totalSize: 7 });
    expect(data.payload.length).toBe(0);
    expect(isStart(data)).toBe(false);
    expect(isEnd(data)).toBe(false);
    expect(decodePacket(hex('43 6c 69 71 75 65 01 03 11 11 11 11 00'))).toEqual({ type: 'session', sender: A, positions: [] });
  });

  it('a DATA packet claiming total_size 4 GB decodes; the payload is a view of the rest of the datagram', () => {
    const datagram = hex('43 6c 69 71 75 65 01 0f 11 11 11 11 00 00 00 01 00 03 00 00 ff ff ff ff 61 62 63');
    const data = decodePacket(datagram) as DataPacket;
    expect(data.totalSize).toBe(0xffffffff);
    expect(toHex(data.payload)).toBe('616263');
    // No copy and nothing sized by total_size: the payload shares the datagram's memory.
    expect(data.payload.buffer).toBe(datagram.buffer);
    expect(data.payload.byteOffset).toBe(24);
    expect(data.payload.byteLength).toBe(3);
    expect(datagram.buffer.byteLength).toBe(27);
  });

  it('decodes from a view with a non-zero byteOffset into a larger buffer', () => {
    const e4 = hex(golden('E4').hex);
    const big = new Uint8Array(e4.length + 20).fill(0xee);
    big.set(e4, 7);
    const view = big.subarray(7, 7 + e4.length);
    expect(decodePacket(view)).toEqual(golden('E4').packet);
    expect(peekHeader(view)).toEqual({ type: 'data', sender: A });
  });
});

describe('encoder errors', () => {
  const bye = (sender: number): Packet => ({ type: 'bye', sender, packetId: 1, depends: [] });
  const BAD_U32 = [-1, 0x1_0000_0000, 1.5, Number.NaN, Number.POSITIVE_INFINITY];

  it('bad-field: ids outside u32 in every id position', () => {
    for (const bad of BAD_U32) {
      const cases: Packet[] = [
        bye(bad),
        { type: 'bye', sender: 1, packetId: bad, depends: [] },
        { type: 'no-data', sender: 1, packetId: 1, depends: [{ senderId: bad, packetId: 1 }] },
        { type: 'no-data', sender: 1, packetId: 1, depends: [{ senderId: 1, packetId: bad }] },
        { type: 'session', sender: 1, positions: [{ senderId: 2, packetId: bad }] },
        { type: 'whois-request', sender: 1, queriedId: bad },
        { type: 'repair-request', sender: 1, originalSender: bad, packetId: 1 },
        { type: 'repair-request', sender: 1, originalSender: 2, packetId: bad },
        { type: 'join', sender: 1, packetId: 1, depends: [], ids: [2, bad] },
        { type: 'data', sender: 1, packetId: 1, depends: [], flags: 3, streamId: 0, totalSize: bad, payload: new Uint8Array(0) },
      ];
      for (const packet of cases) expectPacketError(() => encodePacket(packet), 'bad-field');
    }
  });

  it('bad-field: DATA flags beyond a byte, stream id beyond u16', () => {
    const base: DataPacket = { type: 'data', sender: 1, packetId: 1, depends: [], flags: 3, streamId: 0, totalSize: 0, payload: new Uint8Array(0) };
    for (const flags of [-1, 256, 0.5]) expectPacketError(() => encodePacket({ ...base, flags }), 'bad-field', /flags/);
    for (const streamId of [-1, 0x10000, 2.5]) expectPacketError(() => encodePacket({ ...base, streamId }), 'bad-field', /stream id/);
    expect(encodePacket({ ...base, flags: 255, streamId: 0xffff, totalSize: 0xffffffff }).length).toBe(24);
  });

  it('bad-field: more than 255 entries in depends, session or an id list; 255 is fine', () => {
    const positions = (n: number) => Array.from({ length: n }, (_, i) => ({ senderId: i + 1, packetId: i }));
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    expectPacketError(() => encodePacket({ type: 'no-data', sender: 1, packetId: 1, depends: positions(256) }), 'bad-field', /256 entries/);
    expectPacketError(() => encodePacket({ type: 'session', sender: 1, positions: positions(256) }), 'bad-field');
    expectPacketError(() => encodePacket({ type: 'attempt-join', sender: 1, packetId: 1, depends: [], ids: ids(256) }), 'bad-field');
    const ok = encodePacket({ type: 'failure', sender: 1, packetId: 1, depends: positions(255), ids: ids(255) });
    expect(ok.length).toBe(17 + 8 * 255 + 1 + 4 * 255);
    expect(decodePacket(ok)).toMatchObject({ type: 'failure', ids: ids(255), depends: positions(255) });
  });

  it('bad-field: names of 255+ bytes, with a NUL, or with a lone surrogate; 254 bytes and emoji are fine', () => {
    expectPacketError(() => encodePacket({ type: 'whois-reply', sender: 1, name: 'x'.repeat(255) }), 'bad-field', /255 bytes/);
    expectPacketError(() => encodePacket({ type: 'whois-reply', sender: 1, name: 'é'.repeat(128) }), 'bad-field');
    expectPacketError(() => encodePacket({ type: 'whois-reply', sender: 1, name: 'cr\u0000one' }), 'bad-field', /NUL/);
    expectPacketError(() => encodePacket({ type: 'whois-reply', sender: 1, name: 'a\ud800b' }), 'bad-field', /surrogate/);
    expectPacketError(() => encodePacket({ type: 'whois-reply', sender: 1, name: '\ude00' }), 'bad-field', /surrogate/);
    expect(encodePacket({ type: 'whois-reply', sender: 1, name: 'x'.repeat(254) }).length).toBe(267);
    const emoji = { type: 'whois-reply' as const, sender: 1, name: 'user@host \u{1F600}' };
    expect(decodePacket(encodePacket(emoji))).toEqual(emoji);
  });

  it('too-large: only when maxSize is given and exceeded', () => {
    const data = (n: number): DataPacket => ({
      type: 'data',
      sender: 1,
      packetId: 1,
      depends: [],
      flags: 3,
      streamId: 0,
      totalSize: n,
      payload: new Uint8Array(n),
    });
    expect(encodePacket(data(1440 - 24), 1440).length).toBe(1440);
    expectPacketError(() => encodePacket(data(1440 - 23), 1440), 'too-large', /1441 bytes exceeds the 1440-byte/);
    expect(encodePacket(data(5000)).length).toBe(5024);
    expectPacketError(() => encodePacket({ type: 'whois-reply', sender: 1, name: 'crone' }, 17), 'too-large');
    // Depends alone can make a packet too big (spec Q19): 178 entries + DATA header > 1440.
    const depends = Array.from({ length: 178 }, (_, i) => ({ senderId: i + 1, packetId: 0 }));
    expectPacketError(() => encodePacket({ ...data(0), depends }, 1440), 'too-large');
    expect(encodePacket({ ...data(0), depends: depends.slice(0, 177) }, 1440).length).toBe(1440);
  });
});

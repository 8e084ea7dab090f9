import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePacket, encodePacket } from '../../src/wire/codec.js';
import { PacketJsonError, type PacketJsonErrorCode } from '../../src/wire/packet-json-error.js';
import { formatPacketJson, packetFromJson, packetToJson, parsePacketJson } from '../../src/wire/packet-json.js';
import type { Packet } from '../../src/wire/packet.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';
import { anyPacket } from '../support/packet-arbitraries.js';

const seed = propertySeed();

function expectJsonError(fn: () => unknown, code: PacketJsonErrorCode, message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a PacketJsonError').toBeInstanceOf(PacketJsonError);
  expect((caught as PacketJsonError).code).toBe(code);
  if (message) expect((caught as PacketJsonError).message).toMatch(message);
}

// Spec E4 (rmulticast.md §2.7).
const E4 = Buffer.from('436c6971756501' + '0f11111111000001000222222222000000503333333300abcdef03000000000005' + '68656c6c6f', 'hex');
const E4_JSON =
  '{"type":"data","typeCode":15,"version":1,"sender":286331153,"packetId":256,' +
  '"depends":[{"senderId":572662306,"packetId":80},{"senderId":858993459,"packetId":11259375}],' +
  '"flags":3,"start":true,"end":true,"streamId":0,"totalSize":5,"payload":"aGVsbG8="}';

describe('packet → JSON', () => {
  it('E4 prints as the documented one-line JSON', () => {
    expect(formatPacketJson(decodePacket(new Uint8Array(E4)))).toBe(E4_JSON);
  });

  it('prints each type with its own fields, ids as plain numbers', () => {
    expect(packetToJson({ type: 'whois-request', sender: 0, queriedId: 0x1a2b3c4d })).toEqual({
      type: 'whois-request',
      typeCode: 0,
      version: 1,
      sender: 0,
      queriedId: 0x1a2b3c4d,
    });
    expect(formatPacketJson({ type: 'whois-reply', sender: 0x22222222, name: 'crone' })).toBe(
      '{"type":"whois-reply","typeCode":1,"version":1,"sender":572662306,"name":"crone"}',
    );
    expect(formatPacketJson({ type: 'repair-request', sender: 3, originalSender: 1, packetId: 0x101 })).toBe(
      '{"type":"repair-request","typeCode":2,"version":1,"sender":3,"originalSender":1,"packetId":257}',
    );
    expect(formatPacketJson({ type: 'session', sender: 1, positions: [{ senderId: 1, packetId: 2 }] })).toBe(
      '{"type":"session","typeCode":3,"version":1,"sender":1,"positions":[{"senderId":1,"packetId":2}]}',
    );
    expect(formatPacketJson({ type: 'bye', sender: 0xffffffff, packetId: 0x106, depends: [] })).toBe(
      '{"type":"bye","typeCode":20,"version":1,"sender":4294967295,"packetId":262,"depends":[]}',
    );
    expect(formatPacketJson({ type: 'join', sender: 1, packetId: 2, depends: [], ids: [3, 4] })).toBe(
      '{"type":"join","typeCode":19,"version":1,"sender":1,"packetId":2,"depends":[],"ids":[3,4]}',
    );
  });

  it('spells out START/END and keeps the raw flags byte', () => {
    const base = { type: 'data' as const, sender: 1, packetId: 1, depends: [], streamId: 7, totalSize: 0, payload: new Uint8Array(0) };
    expect(packetToJson({ ...base, flags: 0x01 })).toMatchObject({ flags: 1, start: true, end: false, payload: '' });
    expect(packetToJson({ ...base, flags: 0x02 })).toMatchObject({ flags: 2, start: false, end: true });
    expect(packetToJson({ ...base, flags: 0xfc })).toMatchObject({ flags: 0xfc, start: false, end: false });
  });

  it('base64 covers only the payload view, not the rest of its buffer', () => {
    const datagram = new Uint8Array(E4);
    const packet = decodePacket(datagram);
    expect(packetToJson(packet).payload).toBe(Buffer.from('hello').toString('base64'));
  });
});

describe('JSON → packet', () => {
  it('E4 JSON parses back and encodes to the spec bytes', () => {
    expect(Buffer.from(encodePacket(parsePacketJson(E4_JSON))).equals(E4)).toBe(true);
  });

  it('accepts ids as "0x…" strings (either case), and omitted version/typeCode', () => {
    const packet = parsePacketJson(
      '{"type":"attempt-join","sender":"0x44444444","packetId":"0XFFFFFFFE","depends":[{"senderId":"0x1","packetId":0}],"ids":["0x11111111",572662306]}',
    );
    expect(packet).toEqual({
      type: 'attempt-join',
      sender: 0x44444444,
      packetId: 0xfffffffe,
      depends: [{ senderId: 1, packetId: 0 }],
      ids: [0x11111111, 0x22222222],
    });
  });

  it('derives DATA flags from start/end when flags is absent', () => {
    const json = { type: 'data', sender: 1, packetId: 1, depends: [], streamId: 0, totalSize: 2, payload: 'AAE=' };
    expect(packetFromJson({ ...json, start: true, end: true })).toMatchObject({ flags: 3, payload: new Uint8Array([0, 1]) });
    expect(packetFromJson({ ...json, start: true, end: false })).toMatchObject({ flags: 1 });
    expect(packetFromJson({ ...json, start: false, end: false })).toMatchObject({ flags: 0 });
    expect(packetFromJson({ ...json, flags: '0x02' })).toMatchObject({ flags: 2 });
    expect(packetFromJson({ ...json, flags: 0xff, start: true, end: true })).toMatchObject({ flags: 0xff });
  });

  it('accepts unpadded base64 and an empty payload', () => {
    const json = { type: 'data', sender: 1, packetId: 1, depends: [], flags: 3, streamId: 0, totalSize: 5 };
    expect(packetFromJson({ ...json, payload: 'aGVsbG8' })).toMatchObject({ payload: new Uint8Array(Buffer.from('hello')) });
    expect(packetFromJson({ ...json, payload: '' })).toMatchObject({ payload: new Uint8Array(0) });
  });

  it('leaves packet-level limits to the encoder (name rules, 255 entries)', () => {
    const packet = packetFromJson({ type: 'whois-reply', sender: 1, name: 'x'.repeat(300) });
    expect(() => encodePacket(packet)).toThrow(/under 255 bytes/);
  });
});

describe('malformed JSON input', () => {
  const data = { type: 'data', sender: 1, packetId: 1, depends: [], flags: 3, streamId: 0, totalSize: 5, payload: 'aGVsbG8=' };

  const CASES: Array<[string, string, PacketJsonErrorCode, RegExp]> = [
    ['empty text', '', 'bad-json', /not valid JSON/],
    ['truncated JSON', '{"type":"bye"', 'bad-json', /not valid JSON/],
    ['single quotes', "{'type':'bye'}", 'bad-json', /not valid JSON/],
    ['an array', '[1,2]', 'bad-json', /JSON object, got an array/],
    ['null', 'null', 'bad-json', /got null/],
    ['a number', '42', 'bad-json', /got number 42/],
    ['a string', '"bye"', 'bad-json', /got string/],
    ['no type', '{"sender":1}', 'missing-field', /type is missing/],
    ['type not a string', '{"type":16}', 'bad-value', /type must be a string/],
    ['unknown type', '{"type":"hello","sender":1}', 'bad-value', /unknown packet type "hello"/],
    ['wire-style type name', '{"type":"NO_DATA","sender":1}', 'bad-value', /unknown packet type/],
    ['unknown key', '{"type":"bye","sender":1,"packetId":1,"depends":[],"payload":""}', 'unknown-field', /unknown field payload/],
    ['typo in key', '{"type":"bye","sender":1,"packetID":1,"depends":[]}', 'unknown-field', /packetID/],
    ['unknown key in depends entry', '{"type":"bye","sender":1,"packetId":1,"depends":[{"senderId":1,"packetId":1,"x":0}]}', 'unknown-field', /depends\[0\]\.x/],
    ['missing sender', '{"type":"bye","packetId":1,"depends":[]}', 'missing-field', /sender is missing/],
    ['missing packetId', '{"type":"bye","sender":1,"depends":[]}', 'missing-field', /packetId is missing/],
    ['missing depends', '{"type":"no-data","sender":1,"packetId":1}', 'missing-field', /depends is missing/],
    ['missing ids', '{"type":"failure","sender":1,"packetId":1,"depends":[]}', 'missing-field', /ids is missing/],
    ['missing name', '{"type":"whois-reply","sender":1}', 'missing-field', /name is missing/],
    ['missing queriedId', '{"type":"whois-request","sender":1}', 'missing-field', /queriedId is missing/],
    ['missing originalSender', '{"type":"repair-request","sender":1,"packetId":1}', 'missing-field', /originalSender/],
    ['missing positions', '{"type":"session","sender":1}', 'missing-field', /positions is missing/],
    ['missing depends entry field', '{"type":"bye","sender":1,"packetId":1,"depends":[{"senderId":1}]}', 'missing-field', /depends\[0\]\.packetId/],
    ['negative id', '{"type":"bye","sender":-1,"packetId":1,"depends":[]}', 'bad-value', /sender must be an integer in 0\.\.4294967295/],
    ['id above u32', '{"type":"bye","sender":4294967296,"packetId":1,"depends":[]}', 'bad-value', /sender/],
    ['fractional id', '{"type":"bye","sender":1.5,"packetId":1,"depends":[]}', 'bad-value', /sender/],
    ['decimal string id', '{"type":"bye","sender":"17","packetId":1,"depends":[]}', 'bad-value', /"0x…" hex string/],
    ['hex id with 9 digits', '{"type":"bye","sender":"0x100000000","packetId":1,"depends":[]}', 'bad-value', /sender/],
    ['empty hex id', '{"type":"bye","sender":"0x","packetId":1,"depends":[]}', 'bad-value', /sender/],
    ['id as an object with its own toString', '{"type":"bye","sender":{"toString":0},"packetId":1,"depends":[]}', 'bad-value', /got an object/],
    ['type as an object', '{"type":{"valueOf":1}}', 'bad-value', /type must be a string, got an object/],
    ['id as boolean', '{"type":"bye","sender":true,"packetId":1,"depends":[]}', 'bad-value', /boolean true/],
    ['null id', '{"type":"bye","sender":null,"packetId":1,"depends":[]}', 'bad-value', /got null/],
    ['depends not an array', '{"type":"bye","sender":1,"packetId":1,"depends":{}}', 'bad-value', /depends must be an array/],
    ['depends entry not an object', '{"type":"bye","sender":1,"packetId":1,"depends":[5]}', 'bad-value', /depends\[0\] must be an object/],
    ['bad id in list', '{"type":"join","sender":1,"packetId":1,"depends":[],"ids":[1,"x"]}', 'bad-value', /ids\[1\]/],
    ['name not a string', '{"type":"whois-reply","sender":1,"name":5}', 'bad-value', /name must be a string/],
    ['version 2', '{"type":"bye","version":2,"sender":1,"packetId":1,"depends":[]}', 'bad-value', /version must be 1/],
    ['version 0', '{"type":"bye","version":0,"sender":1,"packetId":1,"depends":[]}', 'bad-value', /version must be 1/],
    ['typeCode mismatch', '{"type":"bye","typeCode":16,"sender":1,"packetId":1,"depends":[]}', 'bad-value', /typeCode 16 does not match type bye \(20\)/],
  ];

  it.each(CASES)('%s', (_what, text, code, message) => {
    expectJsonError(() => parsePacketJson(text), code, message);
  });

  it('DATA: bad payloads, stream ids, flags and flag contradictions', () => {
    expectJsonError(() => packetFromJson({ ...data, payload: 'not base64!' }), 'bad-value', /payload is not valid base64/);
    expectJsonError(() => packetFromJson({ ...data, payload: 'aGVsbG8==' }), 'bad-value', /base64/);
    expectJsonError(() => packetFromJson({ ...data, payload: 'a' }), 'bad-value', /base64/);
    expectJsonError(() => packetFromJson({ ...data, payload: 'aGVs bG8=' }), 'bad-value', /base64/);
    expectJsonError(() => packetFromJson({ ...data, payload: 'aGVsbG8-' }), 'bad-value', /base64/);
    expectJsonError(() => packetFromJson({ ...data, payload: [1, 2] }), 'bad-value', /payload must be a string/);
    expectJsonError(() => packetFromJson({ ...data, payload: undefined }), 'missing-field', /payload/);
    expectJsonError(() => packetFromJson({ ...data, streamId: 65536 }), 'bad-value', /streamId must be an integer in 0\.\.65535/);
    expectJsonError(() => packetFromJson({ ...data, flags: 256 }), 'bad-value', /flags/);
    expectJsonError(() => packetFromJson({ ...data, flags: 3, start: false }), 'bad-value', /start=false contradicts flags=0x3/);
    expectJsonError(() => packetFromJson({ ...data, flags: 1, end: true }), 'bad-value', /end=true contradicts/);
    expectJsonError(() => packetFromJson({ ...data, flags: 3, start: 'yes' }), 'bad-value', /start must be true or false/);
    const { flags: _flags, ...noFlags } = data;
    expectJsonError(() => packetFromJson(noFlags), 'missing-field', /flags, or both start and end/);
    expectJsonError(() => packetFromJson({ ...noFlags, start: true }), 'missing-field', /flags, or both/);
    const { totalSize: _size, ...noSize } = data;
    expectJsonError(() => packetFromJson(noSize), 'missing-field', /totalSize/);
  });

  it('does not treat inherited properties as fields', () => {
    const inherited = Object.create({ sender: 1, packetId: 1, depends: [] }) as Record<string, unknown>;
    inherited.type = 'bye';
    expectJsonError(() => packetFromJson(inherited), 'missing-field', /sender/);
  });
});

describe(`packet JSON properties (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('packet → JSON text → packet is the identity, and so is its encoding', () => {
    assertProperty(
      fc.property(anyPacket, (packet) => {
        const back = parsePacketJson(formatPacketJson(packet));
        expect(back).toEqual(packet);
        expect(Buffer.from(encodePacket(back)).equals(encodePacket(packet))).toBe(true);
      }),
      seed,
      { numRuns: 2000 },
    );
  });

  it('ids written as hex strings read back the same', () => {
    assertProperty(
      fc.property(anyPacket, (packet) => {
        const json = packetToJson(packet) as unknown as Record<string, unknown>;
        const hex = (n: number): string => `0x${n.toString(16)}`;
        json.sender = hex(packet.sender);
        if (typeof json.packetId === 'number') json.packetId = hex(json.packetId);
        if (Array.isArray(json.ids)) json.ids = (json.ids as number[]).map(hex);
        expect(packetFromJson(json)).toEqual(packet);
      }),
      seed,
      { numRuns: 1000 },
    );
  });

  it('arbitrary JSON values yield a Packet or a PacketJsonError, nothing else', () => {
    assertProperty(
      fc.property(fc.jsonValue(), (value) => {
        try {
          packetFromJson(value);
        } catch (error) {
          if (!(error instanceof PacketJsonError)) throw error;
        }
      }),
      seed,
      { numRuns: 2000 },
    );
  });

  it('valid packet JSON with a key dropped, added or replaced yields a Packet or a PacketJsonError', () => {
    const edit = fc.oneof(
      fc.record({ kind: fc.constant('drop' as const), index: fc.nat() }),
      fc.record({ kind: fc.constant('add' as const), key: fc.string({ maxLength: 12 }), value: fc.jsonValue({ maxDepth: 2 }) }),
      fc.record({ kind: fc.constant('replace' as const), index: fc.nat(), value: fc.jsonValue({ maxDepth: 2 }) }),
    );
    assertProperty(
      fc.property(anyPacket, fc.array(edit, { minLength: 1, maxLength: 3 }), (packet, edits) => {
        const json = JSON.parse(formatPacketJson(packet)) as Record<string, unknown>;
        for (const e of edits) {
          const keys = Object.keys(json);
          if (e.kind === 'add') json[e.key] = e.value;
          else if (keys.length > 0) {
            const key = keys[e.index % keys.length]!;
            if (e.kind === 'drop') delete json[key];
            else json[key] = e.value;
          }
        }
        let result: Packet | undefined;
        try {
          result = packetFromJson(json);
        } catch (error) {
          if (!(error instanceof PacketJsonError)) throw error;
        }
        // Whatever parses must be a packet of a real type, its ids in range.
        if (result) expect(result.sender).toBeLessThanOrEqual(0xffffffff);
      }),
      seed,
      { numRuns: 2000 },
    );
  });
});

import * as dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMdnsMessage, encodeMdnsMessage } from '../../src/mdns/dns-codec.js';
import { escapeLabel, labelsToName, nameToLabels, nameWireBytes } from '../../src/mdns/dns-name.js';
import { MdnsError } from '../../src/mdns/mdns-error.js';
import { checkInstanceLabel, instanceOf, ipv6Bytes, serviceInstanceName, type MdnsMessage, type MdnsRecord } from '../../src/mdns/records.js';
import { roomRecords, ROOM_SERVICE_TYPE } from '../../src/linklocal/room-advertiser.js';
import { PRESENCE_SERVICE_TYPE } from '../../src/linklocal/presence-publisher.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();

/** Any text a user may give as a room or presence name: 1–63 bytes of UTF-8, no control characters; dots, spaces and backslashes are likely. */
const instanceName = fc
  .oneof(
    fc.string({ unit: fc.constantFrom('.', '\\', ' ', 'a', 'Z', 'é', '€', '😀', '@', '(', ')'), minLength: 1, maxLength: 40 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 63 }),
  )
  // eslint-disable-next-line no-control-regex
  .map((s) => s.replace(/[\u0000-\u001f\u007f]/g, '.'))
  .filter((s) => s.length > 0 && Buffer.byteLength(s) <= 63);

function response(records: MdnsRecord[]): MdnsMessage {
  return { id: 0, response: true, truncated: false, questions: [], answers: records, authorities: [], additionals: [] };
}

/** The bytes `[length, ...label]` of one wire label. */
function wireLabel(text: string): Buffer {
  const bytes = Buffer.from(text);
  return Buffer.concat([Buffer.of(bytes.length), bytes]);
}

describe('instance names on the wire (RFC 6763 §4.3)', () => {
  it(`any name of up to 63 bytes is one label and round-trips through the codec (seed ${seed})`, () => {
    assertProperty(
      fc.property(instanceName, (name) => {
        checkInstanceLabel(name, 'room name');
        const records = roomRecords({ name, address: '239.255.71.9', port: 40123 }).map((p) => p.record);
        const bytes = Buffer.from(encodeMdnsMessage(response(records)));
        // On the wire the instance is exactly one label holding the name's UTF-8 bytes, dots included.
        expect(bytes.includes(Buffer.concat([wireLabel(name), wireLabel('_clique'), wireLabel('_udp'), wireLabel('local'), Buffer.of(0)]))).toBe(true);
        const decoded = decodeMdnsMessage(bytes);
        expect(decoded?.answers.map((r) => r.name)).toEqual(records.map((r) => r.name));
        const ptr = decoded?.answers.find((r) => r.type === 'PTR' && r.name === '_clique._udp.local');
        expect(ptr?.type === 'PTR' ? instanceOf(ptr.data, ROOM_SERVICE_TYPE) : undefined).toBe(name);
        // Presence names (`user@host` with a dotted host) take the same path.
        const user = Array.from(name).slice(0, 10).join('');
        expect(instanceOf(serviceInstanceName(`${user}@laptop.lan`, PRESENCE_SERVICE_TYPE), PRESENCE_SERVICE_TYPE)).toBe(`${user}@laptop.lan`);
      }),
      seed,
      { numRuns: 500 },
    );
  });

  it(`any label bytes read from the wire are sent back byte for byte (seed ${seed})`, () => {
    assertProperty(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 63 }), { minLength: 1, maxLength: 3 }), (labels) => {
        const name = labelsToName(labels);
        expect(nameToLabels(name).map((l) => Buffer.from(l).toString('hex'))).toEqual(labels.map((l) => Buffer.from(l).toString('hex')));
      }),
      seed,
      { numRuns: 500 },
    );
  });

  it('presentation form: escapes, \\DDD, a trailing root dot; refuses what DNS cannot carry', () => {
    expect(escapeLabel('team.alpha')).toBe('team\\.alpha');
    expect(escapeLabel('a\\b')).toBe('a\\\\b');
    expect(nameToLabels('team\\.alpha.local').map((l) => Buffer.from(l).toString())).toEqual(['team.alpha', 'local']);
    expect(nameToLabels('a\\046b\\092.local.').map((l) => Buffer.from(l).toString())).toEqual(['a.b\\', 'local']);
    expect(labelsToName([Buffer.of(0x61, 0x00, 0xff), Buffer.from('local')])).toBe('a\\000\\255.local');
    for (const bad of ['a..b', '.a', 'a\\', 'a\\999', `${'x'.repeat(64)}.local`, Array.from({ length: 60 }, () => 'abcd').join('.')]) {
      expect(() => nameToLabels(bad), bad).toThrow(MdnsError);
    }
    expect(Buffer.from(nameWireBytes('team\\.alpha._clique._udp.local')).toString('hex')).toBe(
      Buffer.concat([wireLabel('team.alpha'), wireLabel('_clique'), wireLabel('_udp'), wireLabel('local'), Buffer.of(0)]).toString('hex'),
    );
  });
});

/** Any name: up to four labels of arbitrary bytes (dots, backslashes, zero bytes, not UTF-8), in presentation form. */
const anyName = fc.array(fc.uint8Array({ minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 4 }).map(labelsToName);
const anyRecord: fc.Arbitrary<MdnsRecord> = fc
  .record({ name: anyName, ttl: fc.nat({ max: 0xffffffff }), cacheFlush: fc.boolean() })
  .chain((base) =>
    fc.oneof(
      fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b): MdnsRecord => ({ ...base, type: 'A', data: b.join('.') })),
      fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g): MdnsRecord => ({ ...base, type: 'AAAA', data: g.map((x) => x.toString(16)).join(':') })),
      anyName.map((data): MdnsRecord => ({ ...base, type: 'PTR', data })),
      fc
        .record({ priority: fc.nat(0xffff), weight: fc.nat(0xffff), port: fc.nat(0xffff), target: anyName })
        .map((data): MdnsRecord => ({ ...base, type: 'SRV', data })),
      fc.array(fc.uint8Array({ maxLength: 255 }), { maxLength: 4 }).map((data): MdnsRecord => ({ ...base, type: 'TXT', data })),
    ),
  );

/** AAAA text has more than one form: compare its bytes. */
function comparable(record: MdnsRecord): unknown {
  if (record.type === 'AAAA') return { ...record, data: Buffer.from(ipv6Bytes(record.data)).toString('hex') };
  // An empty TXT goes out as one empty string (RFC 6763 §6.1) and comes back as that.
  if (record.type === 'TXT') return { ...record, data: (record.data.length === 0 ? [new Uint8Array(0)] : record.data).map((s) => Buffer.from(s).toString('hex')) };
  return record;
}

describe('the codec round-trips what it encodes', () => {
  it(`any message of modelled records, names of arbitrary label bytes (seed ${seed})`, () => {
    assertProperty(
      fc.property(
        fc.record({
          id: fc.nat(0xffff),
          response: fc.boolean(),
          truncated: fc.boolean(),
          questions: fc.array(fc.record({ name: anyName, type: fc.constantFrom('A', 'AAAA', 'PTR', 'SRV', 'TXT', 'ANY') as fc.Arbitrary<MdnsMessage['questions'][number]['type']> }), { maxLength: 3 }),
          answers: fc.array(anyRecord, { maxLength: 3 }),
          authorities: fc.array(anyRecord, { maxLength: 2 }),
          additionals: fc.array(anyRecord, { maxLength: 2 }),
        }),
        (message) => {
          fc.pre(message.questions.length + message.answers.length + message.authorities.length + message.additionals.length > 0);
          const decoded = decodeMdnsMessage(encodeMdnsMessage(message));
          expect(decoded).toBeDefined();
          const { answers, authorities, additionals, ...head } = decoded!;
          expect(head).toEqual({ id: message.id, response: message.response, truncated: message.truncated, questions: message.questions });
          expect(answers.map(comparable)).toEqual(message.answers.map(comparable));
          expect(authorities.map(comparable)).toEqual(message.authorities.map(comparable));
          expect(additionals.map(comparable)).toEqual(message.additionals.map(comparable));
        },
      ),
      seed,
      { numRuns: 300 },
    );
  });
});

describe('the codec against an independent encoder (dns-packet)', () => {
  it('decodes what dns-packet encodes, and dns-packet decodes what we encode (names without dots)', () => {
    const theirs = dnsPacket.encode({
      type: 'response',
      id: 7,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      answers: [
        { type: 'PTR', name: '_clique._udp.local', ttl: 4500, data: 'lunch._clique._udp.local' },
        { type: 'SRV', name: 'lunch._clique._udp.local', ttl: 120, flush: true, data: { priority: 0, weight: 0, port: 40123, target: 'lunch._clique._udp.local' } },
        { type: 'TXT', name: 'lunch._clique._udp.local', ttl: 4500, flush: true, data: [Buffer.from('txtvers=0')] },
        { type: 'A', name: 'lunch._clique._udp.local', ttl: 120, data: '239.255.71.9' },
        { type: 'AAAA', name: 'h.local', ttl: 120, data: 'ff15::71:23' },
      ],
    });
    const ours = decodeMdnsMessage(theirs);
    expect(ours).toMatchObject({ id: 7, response: true, truncated: false });
    expect(ours?.answers).toEqual([
      { type: 'PTR', name: '_clique._udp.local', ttl: 4500, cacheFlush: false, data: 'lunch._clique._udp.local' },
      { type: 'SRV', name: 'lunch._clique._udp.local', ttl: 120, cacheFlush: true, data: { priority: 0, weight: 0, port: 40123, target: 'lunch._clique._udp.local' } },
      { type: 'TXT', name: 'lunch._clique._udp.local', ttl: 4500, cacheFlush: true, data: [new Uint8Array(Buffer.from('txtvers=0'))] },
      { type: 'A', name: 'lunch._clique._udp.local', ttl: 120, cacheFlush: false, data: '239.255.71.9' },
      { type: 'AAAA', name: 'h.local', ttl: 120, cacheFlush: false, data: 'ff15::71:23' },
    ]);
    const back = dnsPacket.decode(Buffer.from(encodeMdnsMessage(ours!)));
    expect(back.answers?.map((a) => [a.type, a.name, 'flush' in a ? a.flush : undefined])).toEqual([
      ['PTR', '_clique._udp.local', false],
      ['SRV', 'lunch._clique._udp.local', true],
      ['TXT', 'lunch._clique._udp.local', true],
      ['A', 'lunch._clique._udp.local', false],
      ['AAAA', 'h.local', false],
    ]);
  });

  it('follows compression pointers, keeps QU questions, skips other types and classes', () => {
    // Question 1 at offset 12: `lunch._clique._udp.local`; question 2 is `_clique._udp.local` by pointer into it (offset 18).
    const header = Buffer.from('000000000003000000000000', 'hex');
    const full = Buffer.concat([wireLabel('lunch'), wireLabel('_clique'), wireLabel('_udp'), wireLabel('local'), Buffer.of(0)]);
    const packet = Buffer.concat([
      header,
      full,
      Buffer.of(0, 33, 0x80, 1), // SRV, class IN with the QU bit
      Buffer.of(0xc0, 18),
      Buffer.of(0, 12, 0, 1), // PTR IN
      Buffer.of(0xc0, 18),
      Buffer.of(0, 13, 0, 1), // HINFO: not modelled
    ]);
    expect(decodeMdnsMessage(packet)?.questions).toEqual([
      { name: 'lunch._clique._udp.local', type: 'SRV' },
      { name: '_clique._udp.local', type: 'PTR' },
    ]);
  });

  it('refuses pointer loops, forward pointers and record data that does not fill its length', () => {
    const header = (qd: number, an: number): Buffer => Buffer.from(`00000000${qd.toString(16).padStart(4, '0')}${an.toString(16).padStart(4, '0')}00000000`, 'hex');
    const bad = [
      Buffer.concat([header(1, 0), Buffer.of(0xc0, 12, 0, 1, 0, 1)]),
      Buffer.concat([header(1, 0), Buffer.of(0xc0, 20, 0, 1, 0, 1), Buffer.alloc(10)]),
      // A record with 5 bytes of data.
      Buffer.concat([header(0, 1), wireLabel('h'), Buffer.of(0, 0, 1, 0, 1, 0, 0, 0, 9, 0, 5, 1, 2, 3, 4, 5)]),
      // PTR whose name is shorter than its RDLENGTH.
      Buffer.concat([header(0, 1), Buffer.of(0, 0, 12, 0, 1, 0, 0, 0, 9, 0, 4), wireLabel('a'), Buffer.of(0, 0)]),
    ];
    for (const packet of bad) expect(() => decodeMdnsMessage(packet)).toThrow(expect.objectContaining({ code: 'mdns-packet' }));
  });

  it(`any bytes, and any valid message cut or with bytes flipped, decode or fail with MdnsError mdns-packet, nothing else (seed ${seed})`, () => {
    const valid = encodeMdnsMessage({
      id: 0,
      response: true,
      truncated: false,
      questions: [{ name: '_clique._udp.local', type: 'PTR' }],
      answers: roomRecords({ name: 'team.alpha', address: '239.255.71.9', port: 4000 }).map((p) => p.record),
      authorities: [],
      additionals: [],
    });
    const mutated = fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.nat({ max: valid.length })).map(([at, xor, cut]) => {
      const copy = Uint8Array.from(valid);
      copy[at] = copy[at]! ^ xor;
      return copy.subarray(0, cut);
    });
    assertProperty(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated), (bytes) => {
        try {
          decodeMdnsMessage(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(MdnsError);
          expect((error as MdnsError).code).toBe('mdns-packet');
        }
      }),
      seed,
      { numRuns: 5000 },
    );
  });
});

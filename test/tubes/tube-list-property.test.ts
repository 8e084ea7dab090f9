import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { applyTubeListReading } from '../../src/tubes/tube-list-diff.js';
import { buildTubeListMessage, readTubeList, tubesToAnnounce } from '../../src/tubes/tube-list.js';
import { DEFAULT_TUBE_LIST_LIMITS, type AnnouncedTube, type LocalTube, type TubeChannelState, type TubeParameter } from '../../src/tubes/tube-types.js';
import { parseStanzaDocument, serializeStanzaDocument } from '../../src/xml/stanza-document.js';
import { XmlError } from '../../src/xml/xml-error.js';
import { el, type XmlElement } from '../../src/xml/xml-element.js';
import { NS_CLIENT, NS_TUBES } from '../../src/xml/namespaces.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();

/** Text XML can carry (the builder refuses the rest). */
const xmlText = (options: { minLength?: number; maxLength: number }): fc.Arbitrary<string> =>
  fc.string({ unit: 'grapheme', ...options }).filter((s) => !/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(s));

const memberName = xmlText({ minLength: 1, maxLength: 40 });

const parameter: fc.Arbitrary<TubeParameter> = fc.oneof(
  xmlText({ maxLength: 30 }).map((value) => ({ type: 'str' as const, value })),
  fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }).map((value) => ({ type: 'int' as const, value })),
  fc.integer({ min: 0, max: 0xffff_ffff }).map((value) => ({ type: 'uint' as const, value })),
  fc.uint8Array({ maxLength: 40 }).map((value) => ({ type: 'bytes' as const, value })),
  fc.boolean().map((value) => ({ type: 'bool' as const, value })),
);

const parameters = fc.uniqueArray(fc.tuple(xmlText({ minLength: 1, maxLength: 12 }), parameter), { maxLength: 6, selector: ([name]) => name }).map((entries) => new Map(entries));

const state = fc.constantFrom<TubeChannelState>('open', 'open', 'open', 'local-pending', 'remote-pending', 'not-offered');

/** A tube table of `self`: unique ids and, among D-Bus tubes, unique stream ids; some rows not announced. */
function table(self: string): fc.Arbitrary<LocalTube[]> {
  const row = fc.record({
    id: fc.integer({ min: 1, max: 0xffff_ffff }),
    kind: fc.constantFrom('dbus', 'stream'),
    service: xmlText({ minLength: 1, maxLength: 30 }),
    foreign: fc.option(memberName, { nil: undefined }),
    streamId: fc.integer({ min: 1, max: 65535 }),
    state,
    parameters,
  });
  return fc
    .uniqueArray(row, { maxLength: 12, selector: (r) => r.id })
    .map((rows) => {
      const streams = new Set<number>();
      return rows.flatMap((r): LocalTube[] => {
        const initiator = r.foreign ?? self;
        if (r.kind === 'stream') return [{ type: 'stream', id: r.id, service: r.service, initiator, state: r.state, parameters: r.parameters }];
        if (streams.has(r.streamId)) return [];
        streams.add(r.streamId);
        return [{ type: 'dbus', id: r.id, service: r.service, initiator, streamId: r.streamId, state: r.state, parameters: r.parameters }];
      });
    });
}

describe('builder → serialize → parse → reader', () => {
  it(`gives back exactly the tubes salut's rules announce, nothing dropped (seed ${seed})`, () => {
    assertProperty(
      fc.property(
        memberName.chain((self) => fc.tuple(fc.constant(self), table(self))),
        ([self, tubes]) => {
          const bytes = serializeStanzaDocument(buildTubeListMessage({ from: self, room: 'lunch', tubes }));
          const reading = readTubeList(parseStanzaDocument(bytes), self);
          if (reading.kind !== 'list') throw new Error(`not a list: ${JSON.stringify(reading)}`);
          const expected: AnnouncedTube[] = tubesToAnnounce(self, tubes).map((t) => {
            const { state: _state, ...tube } = t;
            return tube.type === 'dbus' ? { ...tube, dbusName: tubeDBusName(self) } : tube;
          });
          expect(reading.list.problems).toEqual([]);
          expect(reading.list.unreadable.size).toBe(0);
          expect([...reading.list.tubes.values()]).toEqual(expected);
        },
      ),
      seed,
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------- hostile lists

/** Mostly the valid value, sometimes something broken or nothing at all. */
const mostly = (valid: fc.Arbitrary<string>, ...broken: string[]): fc.Arbitrary<string | undefined> =>
  fc.oneof({ weight: 10, arbitrary: valid }, { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, ...broken) });

/** Attribute values a hostile or broken peer may write. */
const numberish = fc.oneof(
  fc.integer({ min: -5, max: 70000 }).map(String),
  fc.constantFrom('', '0', '65535', '65536', '4294967295', '4294967296', 'x', ' 1', '1e3', '-0', '9'.repeat(40)),
);

const hostileParameter = fc
  .record({
    name: mostly(fc.constantFrom('a', 'b', 'c', 'd', 'e'), '', 'n'.repeat(300)),
    type: mostly(fc.constantFrom('str', 'int', 'uint', 'bytes', 'bool'), 'float', ''),
    text: fc.oneof(numberish, fc.constantFrom('QUJD', 'QQ==', 'QQ', '!!', '1', '0', 'true'), fc.string({ maxLength: 20 })),
  })
  .map(({ name, type, text }) => el('parameter', NS_TUBES, { name, type }, text));

const hostileTube = fc
  .record({
    service: mostly(fc.constantFrom('svc', 'org.example.Chess'), '', 's'.repeat(300)),
    id: fc.oneof({ weight: 10, arbitrary: fc.integer({ min: 1, max: 150 }).map(String) }, { weight: 2, arbitrary: fc.option(numberish, { nil: undefined }) }),
    type: mostly(fc.constantFrom('dbus', 'stream'), 'file', ''),
    streamId: fc.oneof({ weight: 10, arbitrary: fc.integer({ min: 1, max: 400 }).map(String) }, { weight: 2, arbitrary: fc.option(numberish, { nil: undefined }) }),
    initiator: mostly(fc.constantFrom('alice@laptop', 'eve@evil'), '', 'é'.repeat(200)),
    dbusName: mostly(fc.constant(tubeDBusName('eve@evil')), ':2.ZXZlQGV2aWw=', tubeDBusName('bob@desk'), ':1.1'),
    params: fc.option(fc.array(hostileParameter, { maxLength: 6 }), { nil: undefined, freq: 5 }),
  })
  .map((t) =>
    el(
      'tube',
      NS_TUBES,
      { service: t.service, id: t.id, type: t.type, 'stream-id': t.streamId, initiator: t.initiator, 'dbus-name': t.dbusName },
      ...(t.params === undefined ? [] : [el('parameters', NS_TUBES, {}, ...t.params)]),
    ),
  );

const hostileList = fc
  .record({ tubes: fc.array(hostileTube, { maxLength: 90 }), lists: fc.constantFrom(1, 1, 1, 1, 2) })
  .map(({ tubes, lists }): XmlElement => {
    const message = el('message', NS_CLIENT, { type: 'groupchat', to: 'lunch' });
    for (let i = 0; i < lists; i++) message.append(el('tubes', NS_TUBES, {}, ...tubes));
    return message;
  });

describe('any list a peer can send', () => {
  it(`is read without throwing into bounded, valid state: kept tubes obey every rule (seed ${seed})`, () => {
    const own = tubeDBusName('eve@evil');
    const limits = DEFAULT_TUBE_LIST_LIMITS;
    assertProperty(
      fc.property(hostileList, (stanza) => {
        const reading = readTubeList(stanza, 'eve@evil');
        if (reading.kind === 'none') throw new Error('a groupchat message with <tubes> is a list');
        if (reading.kind === 'rejected') return;
        const { tubes, unreadable, problems } = reading.list;
        expect(tubes.size + unreadable.size).toBeLessThanOrEqual(limits.maxTubes);
        expect(problems.length).toBeLessThanOrEqual(limits.maxProblems);
        const streams = new Set<number>();
        for (const [id, tube] of tubes) {
          expect(tube.id).toBe(id);
          expect(unreadable.has(id)).toBe(false);
          expect(Number.isInteger(id) && id >= 1 && id <= 0xffff_ffff).toBe(true);
          expect(tube.service).not.toBe('');
          expect(tube.parameters.size).toBeLessThanOrEqual(limits.maxParameters);
          if (tube.type === 'stream') expect(tube.initiator).toBe('eve@evil');
          else {
            expect(tube.dbusName).toBe(own);
            expect(tube.streamId >= 1 && tube.streamId <= 65535).toBe(true);
            expect(streams.has(tube.streamId)).toBe(false);
            streams.add(tube.streamId);
          }
          for (const p of tube.parameters.values()) {
            if (p.type === 'int') expect(p.value >= -0x8000_0000 && p.value <= 0x7fff_ffff).toBe(true);
            if (p.type === 'uint') expect(p.value >= 0 && p.value <= 0xffff_ffff).toBe(true);
          }
        }
        // Whatever came before, the member's state after this list stays within the bound.
        const before = new Map<number, AnnouncedTube>();
        for (let id = 1; id <= 64; id++) before.set(id, { type: 'stream', id, service: 'old', initiator: 'eve@evil', parameters: new Map() });
        expect(applyTubeListReading(before, reading).state.size).toBeLessThanOrEqual(limits.maxTubes);
      }),
      seed,
      { numRuns: 400 },
    );
  });

  it(`as arbitrary bytes, fails in the XML parser or reads without throwing (seed ${seed})`, () => {
    const valid =
      '<?xml version="1.0" encoding="utf-8"?>\n<message xmlns="jabber:client" type="groupchat" from="eve@evil" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes">' +
      `<tube service="s" id="7" type="dbus" stream-id="2" initiator="alice@laptop" dbus-name="${tubeDBusName('eve@evil')}"><parameters><parameter name="p" type="uint">8</parameter></parameters></tube>` +
      '<tube service="w" id="8" type="stream"><parameters/></tube></tubes></message>\n';
    const bytes = new TextEncoder().encode(valid);
    const mutated = fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((flips) => {
      const copy = bytes.slice();
      for (const [at, value] of flips) copy[at] = value;
      return copy;
    });
    assertProperty(
      fc.property(fc.oneof(mutated, fc.uint8Array({ minLength: 1, maxLength: 200 })), (input) => {
        let stanza: XmlElement;
        try {
          stanza = parseStanzaDocument(input);
        } catch (error) {
          expect(error).toBeInstanceOf(XmlError);
          return;
        }
        const reading = readTubeList(stanza, 'eve@evil');
        expect(['none', 'rejected', 'list']).toContain(reading.kind);
      }),
      seed,
      { numRuns: 500 },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { applyTubeListReading, changedFields, diffTubeLists, NO_TUBES, sameParameters } from '../../src/tubes/tube-list-diff.js';
import { buildTubeListMessage, readTubeList } from '../../src/tubes/tube-list.js';
import type { AnnouncedTube, LocalTube, TubeList, TubeListReading, TubeParameter } from '../../src/tubes/tube-types.js';
import { parseStanzaDocument, serializeStanzaDocument } from '../../src/xml/stanza-document.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();
const BOB = 'bob@desk';
const BOB_NAME = tubeDBusName(BOB);

const stream = (id: number, service = `s${id}`, parameters: Map<string, TubeParameter> = new Map()): AnnouncedTube => ({ type: 'stream', id, service, initiator: BOB, parameters });
const dbus = (id: number, streamId: number, initiator = 'alice@laptop'): AnnouncedTube => ({
  type: 'dbus',
  id,
  service: `d${id}`,
  initiator,
  streamId,
  dbusName: BOB_NAME,
  parameters: new Map(),
});
const listOf = (tubes: AnnouncedTube[], unreadable: number[] = []): TubeList => ({
  tubes: new Map(tubes.map((t) => [t.id, t])),
  unreadable: new Set(unreadable),
  problems: [],
  problemsOmitted: 0,
});
const stateOf = (...tubes: AnnouncedTube[]): ReadonlyMap<number, AnnouncedTube> => new Map(tubes.map((t) => [t.id, t]));

/** What bob's peers read from the list bob builds from `table`. */
function bobSends(table: LocalTube[]): TubeListReading {
  const bytes = serializeStanzaDocument(buildTubeListMessage({ from: BOB, room: 'lunch', tubes: table }));
  return readTubeList(parseStanzaDocument(bytes), BOB);
}

describe('diff of a member’s previous and new list (§7.3)', () => {
  it('a first list adds everything in it', () => {
    const diff = diffTubeLists(NO_TUBES, listOf([stream(1), dbus(2, 1)]));
    expect(diff.added.map((t) => t.id)).toEqual([1, 2]);
    expect([diff.removed, diff.changed, diff.retained]).toEqual([[], [], []]);
    expect([...diff.state.keys()]).toEqual([1, 2]);
  });

  it('a tube missing from the new list is removed (full state, not a delta)', () => {
    const diff = diffTubeLists(stateOf(stream(1), dbus(2, 1)), listOf([stream(1)]));
    expect(diff.removed).toEqual([dbus(2, 1)]);
    expect(diff.added).toEqual([]);
    expect(diff.changed).toEqual([]);
    expect([...diff.state.keys()]).toEqual([1]);
  });

  it('an empty list removes everything', () => {
    const diff = diffTubeLists(stateOf(stream(1), dbus(2, 1)), listOf([]));
    expect(diff.removed.map((t) => t.id)).toEqual([1, 2]);
    expect(diff.state.size).toBe(0);
  });

  it('the same list again changes nothing (an offer is announced twice, §7.2)', () => {
    const previous = stateOf(stream(1, 'x', new Map([['k', { type: 'bytes', value: new Uint8Array([1, 2]) }]])), dbus(2, 1));
    const again = listOf([stream(1, 'x', new Map([['k', { type: 'bytes', value: new Uint8Array([1, 2]) }]])), dbus(2, 1)]);
    const diff = diffTubeLists(previous, again);
    expect([diff.added, diff.removed, diff.changed, diff.retained]).toEqual([[], [], [], []]);
  });

  it('names each changed field of a tube that keeps its id', () => {
    const before = dbus(2, 1);
    const after: AnnouncedTube = { ...dbus(2, 5, 'carol@box'), service: 'other', parameters: new Map([['p', { type: 'bool', value: true }]]) };
    const diff = diffTubeLists(stateOf(before), listOf([after]));
    expect(diff.changed).toEqual([{ before, after, fields: ['service', 'initiator', 'stream-id', 'parameters'] }]);
    expect(diff.state.get(2)).toBe(after);
    expect(changedFields(dbus(3, 1), stream(3, 'd3'))).toEqual(['type', 'initiator', 'stream-id', 'dbus-name']);
  });

  it('keeps the previous entry of a tube whose new entry was unreadable', () => {
    const diff = diffTubeLists(stateOf(stream(1), dbus(2, 1)), listOf([stream(1)], [2, 9]));
    expect(diff.retained).toEqual([dbus(2, 1)]);
    expect(diff.removed).toEqual([]);
    // an unreadable id the member never had is simply not added
    expect([...diff.state.keys()].sort()).toEqual([1, 2]);
  });

  it('a list rejected as garbage, or a stanza with no list, changes nothing', () => {
    const previous = stateOf(stream(1), dbus(2, 1));
    for (const reading of [{ kind: 'rejected', reason: 'multiple-lists', detail: '' }, { kind: 'none' }] as const) {
      const diff = applyTubeListReading(previous, reading);
      expect([diff.added, diff.removed, diff.changed, diff.retained]).toEqual([[], [], [], []]);
      expect(diff.state).toBe(previous);
    }
  });

  it('compares parameters by name and typed value, not order', () => {
    const a = new Map<string, TubeParameter>([
      ['x', { type: 'uint', value: 1 }],
      ['y', { type: 'bytes', value: new Uint8Array([7]) }],
    ]);
    expect(sameParameters(a, new Map([...a].reverse()))).toBe(true);
    expect(sameParameters(a, new Map([['x', { type: 'int', value: 1 }], ['y', { type: 'bytes', value: new Uint8Array([7]) }]]))).toBe(false);
    expect(sameParameters(a, new Map([['x', { type: 'uint', value: 1 }], ['y', { type: 'bytes', value: new Uint8Array([8]) }]]))).toBe(false);
    expect(sameParameters(a, new Map([['x', { type: 'uint', value: 1 }]]))).toBe(false);
  });
});

describe('a member’s lists over time, as peers read them', () => {
  const chess: Extract<LocalTube, { type: 'dbus' }> = { type: 'dbus', id: 10, service: 'chess', initiator: 'alice@laptop', streamId: 1, state: 'open', parameters: new Map() };
  const board: LocalTube = { type: 'stream', id: 11, service: 'board', initiator: BOB, state: 'open', parameters: new Map() };

  it('offer, join, close: added, added, removed', () => {
    let state = NO_TUBES;
    const step = (table: LocalTube[]) => {
      const diff = applyTubeListReading(state, bobSends(table));
      state = diff.state;
      return { added: diff.added.map((t) => t.id), removed: diff.removed.map((t) => t.id), changed: diff.changed.map((c) => c.after.id) };
    };
    expect(step([])).toEqual({ added: [], removed: [], changed: [] }); // new senders: empty <tubes/>
    expect(step([board])).toEqual({ added: [11], removed: [], changed: [] }); // bob offers a stream tube
    expect(step([board])).toEqual({ added: [], removed: [], changed: [] }); // the "offered" repeat
    expect(step([board, chess])).toEqual({ added: [10], removed: [], changed: [] }); // bob accepts alice's D-Bus tube
    expect(step([board, { ...chess, streamId: 2 }])).toEqual({ added: [], removed: [], changed: [10] });
    expect(step([board])).toEqual({ added: [], removed: [10], changed: [] }); // bob closes it
  });
});

describe('diff properties', () => {
  const tube = fc
    .record({ id: fc.integer({ min: 1, max: 20 }), kind: fc.boolean(), service: fc.constantFrom('a', 'b'), streamId: fc.integer({ min: 1, max: 3 }), flag: fc.boolean() })
    .map((r): AnnouncedTube => {
      const parameters = new Map<string, TubeParameter>([['f', { type: 'bool', value: r.flag }]]);
      return r.kind
        ? { type: 'stream', id: r.id, service: r.service, initiator: BOB, parameters }
        : { type: 'dbus', id: r.id, service: r.service, initiator: 'alice@laptop', streamId: r.streamId, dbusName: BOB_NAME, parameters };
    });
  const tubes = fc.uniqueArray(tube, { maxLength: 10, selector: (t) => t.id });

  it(`added, removed, changed, retained and unchanged split the ids exactly; the state is the new list plus the retained (seed ${seed})`, () => {
    assertProperty(
      fc.property(tubes, tubes, fc.uniqueArray(fc.integer({ min: 1, max: 25 }), { maxLength: 6 }), (before, after, unreadableRaw) => {
        const afterIds = new Set(after.map((t) => t.id));
        const unreadable = unreadableRaw.filter((id) => !afterIds.has(id));
        const previous = stateOf(...before);
        const diff = diffTubeLists(previous, listOf(after, unreadable));
        const ids = (list: AnnouncedTube[]) => list.map((t) => t.id).sort((a, b) => a - b);
        const sorted = (list: number[]) => [...list].sort((a, b) => a - b);
        expect(ids(diff.added)).toEqual(sorted(after.filter((t) => !previous.has(t.id)).map((t) => t.id)));
        expect(ids(diff.removed)).toEqual(sorted(before.filter((t) => !afterIds.has(t.id) && !unreadable.includes(t.id)).map((t) => t.id)));
        expect(ids(diff.retained)).toEqual(sorted(before.filter((t) => !afterIds.has(t.id) && unreadable.includes(t.id)).map((t) => t.id)));
        for (const t of after) {
          const old = previous.get(t.id);
          const change = diff.changed.find((c) => c.after.id === t.id);
          if (old === undefined) expect(change).toBeUndefined();
          else if (JSON.stringify([...Object.entries(old)].sort()) === JSON.stringify([...Object.entries(t)].sort()) && sameParameters(old.parameters, t.parameters)) {
            expect(change).toBeUndefined();
          } else expect(change?.fields.length).toBeGreaterThan(0);
        }
        const expectedState = new Map<number, AnnouncedTube>([...after.map((t): [number, AnnouncedTube] => [t.id, t]), ...diff.retained.map((t): [number, AnnouncedTube] => [t.id, t])]);
        expect(new Map([...diff.state].sort(([a], [b]) => a - b))).toEqual(new Map([...expectedState].sort(([a], [b]) => a - b)));
      }),
      seed,
      { numRuns: 300 },
    );
  });
});

import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import { SeededRandom } from '../../src/base/random.js';
import { RoomTubes, type TubeRoom } from '../../src/tubes/room-tubes.js';
import type { TubeDataEvent } from '../../src/tubes/room-tubes-types.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { NS_TUBES } from '../../src/xml/namespaces.js';
import { parseStanzaDocument } from '../../src/xml/stanza-document.js';
import type { XmlElement } from '../../src/xml/xml-element.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

/*
 * RoomTubes driven directly through a fake room by arbitrary sequences of
 * other members' lists (honest, sloppy and hostile), their data, their
 * departures and our accepts and closes. Whatever comes, it never throws,
 * its table stays bounded, no member's stream maps to two tubes, and data is
 * handed over only from a member in an open tube, on the stream it announced.
 */
const seed = propertySeed();
const encoder = new TextEncoder();
const MAX_TUBES = 6;

class FakeRoom extends EventEmitter {
  readonly name = 'lunch';
  readonly selfName = 'me@here';
  state = 'joined';
  readonly lists: XmlElement[] = [];
  readonly data: Array<[number, Uint8Array]> = [];

  sendElement(element: XmlElement): Promise<void> {
    this.lists.push(element);
    return Promise.resolve();
  }

  sendStream(streamId: number, data: Uint8Array): Promise<void> {
    this.data.push([streamId, data]);
    return Promise.resolve();
  }
}

const PEERS = ['eve@e', 'mal@m', 'bob@b'];

const ID = fc.constantFrom('1', '2', '3', '4', '5', '6', '7', '8');
/** Mostly well-formed entries (so tubes, members and streams come about), some sloppy or hostile ones. */
const entry = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      id: ID,
      type: fc.constantFrom('dbus', 'dbus', 'stream'),
      service: fc.constantFrom('org.example.A', 'org.example.B'),
      initiator: fc.constantFrom('eve@e', 'mal@m', 'bob@b'),
      streamId: fc.constantFrom('1', '2', '3'),
      name: fc.constant('own'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      id: fc.oneof(ID, fc.constantFrom('0', 'x', '99999999999')),
      type: fc.constantFrom('dbus', 'stream', 'bogus'),
      service: fc.constantFrom('org.example.A', 'org.example.B', ''),
      initiator: fc.constantFrom('eve@e', 'mal@m', 'me@here', undefined),
      streamId: fc.constantFrom('1', '2', '3', '0', '70000', undefined),
      name: fc.constantFrom('own', 'other', 'none'),
    }),
  },
);

type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;

type Action =
  | { kind: 'list'; peer: number; entries: Entry[] }
  | { kind: 'data'; peer: number; streamId: number }
  | { kind: 'accept-all' }
  | { kind: 'leave'; peer: number }
  | { kind: 'accept'; pick: number }
  | { kind: 'close'; pick: number }
  | { kind: 'offer' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('list' as const), peer: fc.nat(PEERS.length - 1), entries: fc.array(entry, { maxLength: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('data' as const), peer: fc.nat(PEERS.length - 1), streamId: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('leave' as const), peer: fc.nat(PEERS.length - 1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('accept' as const), pick: fc.nat(10) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('accept-all' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), pick: fc.nat(10) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('offer' as const) }) },
);

function listStanza(peer: string, entries: Extract<Action, { kind: 'list' }>['entries']): XmlElement {
  const tubes = entries
    .map((e) => {
      const name = e.name === 'own' ? tubeDBusName(peer) : e.name === 'other' ? tubeDBusName('someone@else') : undefined;
      const attrs = [
        `service="${e.service}"`,
        `id="${e.id}"`,
        `type="${e.type}"`,
        e.streamId !== undefined ? `stream-id="${e.streamId}"` : '',
        e.initiator !== undefined ? `initiator="${e.initiator}"` : '',
        name !== undefined ? `dbus-name="${name}"` : '',
      ];
      return `<tube ${attrs.join(' ')}><parameters/></tube>`;
    })
    .join('');
  const xml = `<?xml version="1.0" encoding="utf-8"?>\n<message xmlns="jabber:client" type="groupchat" from="${peer}" to="lunch"><tubes xmlns="${NS_TUBES}">${tubes}</tubes></message>\n`;
  return parseStanzaDocument(encoder.encode(xml));
}

describe(`RoomTubes under arbitrary input (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('never throws, stays bounded, keeps one tube per member stream, and hands over only announced data of open tubes', () => {
    let totalHanded = 0;
    assertProperty(
      fc.property(fc.array(action, { minLength: 10, maxLength: 40 }), (actions) => {
        const room = new FakeRoom();
        const tubes = new RoomTubes(room as unknown as TubeRoom, { random: new SeededRandom(seed), logger: silentLogger, limits: { maxTubes: MAX_TUBES } });
        const handed: TubeDataEvent[] = [];
        // Listener exceptions are caught by the emitter: record what we see, check afterwards.
        const seen: Array<{ state: string | undefined; name: string | undefined; announced: string | undefined }> = [];
        tubes.on('tube-data', (d) => {
          // At the moment it is handed over: the tube is open and the sender is in it under its own name.
          const tube = tubes.tube(d.tubeId);
          const member = tube?.members.find((m) => m.name === d.sender && !m.self);
          seen.push({ state: tube?.state, name: member?.dbusName, announced: d.dbusName });
          handed.push(d);
        });
        for (const a of actions) {
          const ids = tubes.tubes().map((t) => t.id);
          const picked = ids.length === 0 ? undefined : ids[('pick' in a ? a.pick : 0) % ids.length];
          switch (a.kind) {
            case 'list': {
              const peer = PEERS[a.peer]!;
              const stanza = listStanza(peer, a.entries);
              room.emit('tubes', { room: 'lunch', sender: peer, stanza, element: stanza.getChild('tubes', NS_TUBES)! });
              break;
            }
            case 'data': {
              const peer = PEERS[a.peer]!;
              const before = handed.length;
              room.emit('stream-data', { room: 'lunch', sender: peer, streamId: a.streamId, data: Uint8Array.of(a.streamId) });
              const accepted = handed.length > before;
              const owner = tubes.tubes().find((t) => t.members.some((m) => m.name === peer && !m.self && m.streamId === a.streamId));
              expect(accepted).toBe(owner !== undefined && owner.state === 'open' && owner.type === 'dbus');
              if (accepted) expect(handed.at(-1)!.tubeId).toBe(owner!.id);
              break;
            }
            case 'leave':
              room.emit('member-left', { name: PEERS[a.peer]! });
              break;
            case 'accept-all':
              for (const t of tubes.tubes()) if (t.state === 'local-pending' && t.type === 'dbus') tubes.acceptTube(t.id);
              break;
            case 'accept':
              if (picked !== undefined && tubes.tube(picked)?.state === 'local-pending' && tubes.tube(picked)?.type === 'dbus') tubes.acceptTube(picked);
              break;
            case 'close':
              if (picked !== undefined) tubes.closeTube(picked);
              break;
            case 'offer':
              if (tubes.tubes().length < MAX_TUBES) tubes.offerDBusTube({ service: 'org.example.Mine' });
              break;
          }
          const table = tubes.tubes();
          expect(table.length).toBeLessThanOrEqual(MAX_TUBES);
          for (const peer of PEERS) {
            const streams = table.flatMap((t) => t.members.filter((m) => m.name === peer && m.streamId !== undefined).map((m) => m.streamId));
            expect(new Set(streams).size, `${peer}'s streams`).toBe(streams.length);
          }
          // Our own open D-Bus tubes each have a stream of ours, all different.
          const ours = table.filter((t) => t.state === 'open' && t.type === 'dbus').map((t) => t.streamId);
          expect(ours.every((s) => s !== undefined && s >= 1 && s <= 65535)).toBe(true);
          expect(new Set(ours).size).toBe(ours.length);
          // A pending offer is listed by someone.
          for (const t of table) if (t.state === 'local-pending') expect(t.members.length).toBeGreaterThan(0);
        }
        for (const s of seen) {
          expect(s.state).toBe('open');
          expect(s.name).toBe(s.announced);
        }
        for (const d of handed) expect(d.dbusName).toBe(tubeDBusName(d.sender));
        tubes.close();
        expect(tubes.tubes()).toEqual([]);
        totalHanded += handed.length;
      }),
      seed,
      { numRuns: 300 },
    );
    // The generator reaches the interesting part: data handed over at all.
    expect(totalHanded).toBeGreaterThan(0);
  });
});

describe('our own list stays within its byte budget', () => {
  it('an offer or accept that would make our list too large is refused and undone; nothing is sent for it', () => {
    const room = new FakeRoom();
    const tubes = new RoomTubes(room as unknown as TubeRoom, { random: new SeededRandom(seed), logger: silentLogger, limits: { maxListBytes: 700 } });
    const big = { note: { type: 'str' as const, value: 'x'.repeat(200) } };
    const first = tubes.offerDBusTube({ service: 'org.example.One', parameters: big });
    expect(first.streamId).toBe(1);
    expect(room.lists).toHaveLength(1);
    expect(() => tubes.offerStreamTube({ service: 'two', parameters: big })).toThrow(expect.objectContaining({ code: 'too-many-tubes' }));
    expect(tubes.tubes().map((t) => t.id)).toEqual([first.id]);
    expect(room.lists).toHaveLength(1);
    // Someone else's D-Bus tube, offered to us: accepting it would overflow our list.
    const peer = 'eve@e';
    const xml = `<?xml version="1.0" encoding="utf-8"?>\n<message xmlns="jabber:client" type="groupchat" from="${peer}" to="lunch"><tubes xmlns="${NS_TUBES}"><tube service="org.example.Eve" id="42" type="dbus" stream-id="1" initiator="${peer}" dbus-name="${tubeDBusName(peer)}"><parameters><parameter name="note" type="str">${'y'.repeat(200)}</parameter></parameters></tube></tubes></message>\n`;
    const stanza = parseStanzaDocument(encoder.encode(xml));
    room.emit('tubes', { room: 'lunch', sender: peer, stanza, element: stanza.getChild('tubes', NS_TUBES)! });
    expect(() => tubes.acceptTube(42)).toThrow(expect.objectContaining({ code: 'too-many-tubes' }));
    expect(tubes.tube(42)).toMatchObject({ state: 'local-pending', streamId: undefined });
    expect(room.lists).toHaveLength(1);
    // The id reserved for the refused accept is free again, but allocation goes on from the last one handed out (§7.4).
    tubes.closeTube(first.id);
    expect(tubes.offerDBusTube({ service: 'org.example.Three' }).streamId).toBe(3);
  });
});

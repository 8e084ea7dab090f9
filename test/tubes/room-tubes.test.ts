import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import { SeededRandom, type RandomSource } from '../../src/base/random.js';
import type { Room } from '../../src/rooms/room.js';
import { roomSimulation, type SimulatedGroupLink } from '../../src/testing/room-simulation.js';
import { RoomTubes } from '../../src/tubes/room-tubes.js';
import type { RoomTubeInfo, TubeDataEvent, TubeListIssue, TubeMemberEvent } from '../../src/tubes/room-tubes-types.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { propertySeed } from '../support/fast-check-seed.js';

/*
 * RoomTubes over rooms on virtual time (src/testing/room-simulation.ts):
 * fake groups deliver each member's messages in order with seeded delays,
 * so lists, accepts and data run deterministically. A raw group link plays
 * a hostile member that writes any bytes on any stream.
 */
const seed = propertySeed();

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: 1_800_000_000_000 });
});
afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
});

const run = async (ms: number): Promise<void> => {
  await vi.advanceTimersByTimeAsync(ms);
};
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Returns `values` one after the other (so a tube id comes out as chosen), then seeded ones. */
function scriptedRandom(ids: number[]): RandomSource {
  const rest = new SeededRandom(seed);
  // randomInRange(1, 2147483647) maps x to 1 + x for x below the span.
  const queue = ids.map((id) => id - 1);
  return { nextUint32: () => queue.shift() ?? rest.nextUint32() };
}

interface Person {
  room: Room;
  tubes: RoomTubes;
  offered: RoomTubeInfo[];
  data: TubeDataEvent[];
  joinedTube: TubeMemberEvent[];
  leftTube: TubeMemberEvent[];
  closed: Array<[number, string]>;
  issues: TubeListIssue[];
}

function person(room: Room, random: RandomSource = new SeededRandom(seed ^ room.selfName.length)): Person {
  const tubes = new RoomTubes(room, { random, logger: silentLogger });
  const p: Person = { room, tubes, offered: [], data: [], joinedTube: [], leftTube: [], closed: [], issues: [] };
  tubes.on('tube-offered', (t) => p.offered.push(t));
  tubes.on('tube-data', (d) => p.data.push(d));
  tubes.on('tube-member-joined', (e) => p.joinedTube.push(e));
  tubes.on('tube-member-left', (e) => p.leftTube.push(e));
  tubes.on('tube-closed', (t, reason) => p.closed.push([t.id, reason]));
  tubes.on('list-issue', (i) => p.issues.push(i));
  return p;
}

/** What a member's group link sends, by stream. */
function sentBy(link: SimulatedGroupLink): Array<{ streamId: number; data: Uint8Array }> {
  const sent: Array<{ streamId: number; data: Uint8Array }> = [];
  const send = link.send.bind(link);
  link.send = (streamId, data) => {
    sent.push({ streamId, data });
    send(streamId, data);
  };
  return sent;
}

const xmlDoc = (xml: string): Uint8Array => encoder.encode(`<?xml version="1.0" encoding="utf-8"?>\n${xml}\n`);
const tubesFrom = (from: string, entries: string): Uint8Array =>
  xmlDoc(`<message xmlns="jabber:client" type="groupchat" from="${from}" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes">${entries}</tubes></message>`);

describe(`RoomTubes on simulated rooms (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('what we send is salut’s list byte for byte (§7.2 example): an accepted D-Bus tube with our stream id and name, our stream tube', async () => {
    const sim = roomSimulation(seed);
    const aliceRoom = sim.host('alice@laptop').join('lunch');
    await run(2_000);
    const bobRoom = sim.host('bob@desk').join('lunch');
    await run(3_000);
    const alice = person(aliceRoom, scriptedRandom([1234567]));
    const bob = person(bobRoom, scriptedRandom([99, 7654321]));
    const bobSent = sentBy(sim.groups.link('bob@desk', bobRoom.address, bobRoom.port));
    // Bob's stream id 1 goes to a tube he closes again: the next one is 2, as in the spec.
    bob.tubes.offerDBusTube({ service: 'org.example.Scratch' });
    bob.tubes.closeTube(99);
    alice.tubes.offerDBusTube({ service: 'com.example.Chess', parameters: { board: { type: 'uint', value: 8 } } });
    await run(500);
    expect(bob.offered.map((t) => [t.id, t.service, t.initiator, t.state, t.requested])).toEqual([[1234567, 'com.example.Chess', 'alice@laptop', 'local-pending', false]]);
    expect(bob.offered[0]!.parameters).toEqual(new Map([['board', { type: 'uint', value: 8 }]]));
    expect(bob.tubes.acceptTube(1234567)).toMatchObject({ state: 'open', streamId: 2, dbusName: ':2.Ym9iQGRlc2sA' });
    bob.tubes.offerStreamTube({ service: 'whiteboard' });
    await run(500);
    const lists = bobSent.filter((s) => s.streamId === 0).map((s) => decoder.decode(s.data));
    expect(lists.at(-1)).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n' +
        '<message xmlns="jabber:client" type="groupchat" from="bob@desk" to="lunch">' +
        '<tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes">' +
        '<tube service="com.example.Chess" id="1234567" type="dbus" stream-id="2" initiator="alice@laptop" dbus-name=":2.Ym9iQGRlc2sA">' +
        '<parameters><parameter name="board" type="uint">8</parameter></parameters></tube>' +
        '<tube service="whiteboard" id="7654321" type="stream"><parameters/></tube>' +
        '</tubes></message>\n',
    );
    // One list per change (offer, close, accept, offer): no salut-style double broadcast.
    expect(lists).toHaveLength(4);
    expect(lists[1]).toContain('<tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/>');
    // Alice sees bob join her tube with his name and stream, and learns his stream tube.
    expect(alice.joinedTube.filter((e) => e.tubeId === 1234567)).toEqual([{ room: 'lunch', tubeId: 1234567, member: 'bob@desk', dbusName: ':2.Ym9iQGRlc2sA', streamId: 2 }]);
    expect(alice.offered.map((t) => [t.id, t.type, t.initiator])).toEqual([
      [99, 'dbus', 'bob@desk'],
      [7654321, 'stream', 'bob@desk'],
    ]);
    // Bob's short-lived tube: offered, then nobody listed it any more.
    expect(alice.closed).toEqual([[99, 'withdrawn']]);
  });

  it('offer, accept, data: bytes reach the member that accepted exactly once; a member that did not accept gets none; close', async () => {
    const sim = roomSimulation(seed);
    const rooms = ['alice@a', 'bob@b', 'carol@c'].map((name) => sim.host(name).join('lunch'));
    await run(10_000);
    expect(rooms.map((r) => r.members.length)).toEqual([3, 3, 3]);
    const [alice, bob, carol] = rooms.map((r) => person(r));
    const tube = alice!.tubes.offerDBusTube({ service: 'com.example.Chess' });
    expect(tube).toMatchObject({ state: 'open', requested: true, streamId: 1, dbusName: tubeDBusName('alice@a'), initiator: 'alice@a' });
    await run(500);
    for (const p of [bob!, carol!]) {
      expect(p.offered.map((t) => t.id)).toEqual([tube.id]);
      expect(p.joinedTube).toEqual([{ room: 'lunch', tubeId: tube.id, member: 'alice@a', dbusName: tubeDBusName('alice@a'), streamId: 1 }]);
    }
    bob!.tubes.acceptTube(tube.id);
    await run(500);
    expect(alice!.tubes.tube(tube.id)?.members.map((m) => [m.name, m.self, m.streamId])).toEqual([
      ['alice@a', true, 1],
      ['bob@b', false, 1],
    ]);
    const payloads = [1, 2, 3].map((i) => encoder.encode(`signal ${i}`));
    for (const bytes of payloads) await alice!.tubes.sendDBusMessage(tube.id, bytes);
    await run(500);
    expect(bob!.data.map((d) => [d.tubeId, d.sender, d.dbusName, decoder.decode(d.bytes)])).toEqual(
      payloads.map((b) => [tube.id, 'alice@a', tubeDBusName('alice@a'), decoder.decode(b)]),
    );
    expect(carol!.data).toEqual([]);
    expect(carol!.tubes.stats.dataDropped['tube-not-open']).toBe(3);
    // Bob answers on his own stream; alice gets it, carol still nothing.
    await bob!.tubes.sendDBusMessage(tube.id, encoder.encode('reply'));
    await run(500);
    expect(alice!.data.map((d) => [d.sender, decoder.decode(d.bytes)])).toEqual([['bob@b', 'reply']]);
    expect(carol!.data).toEqual([]);

    alice!.tubes.closeTube(tube.id);
    expect(alice!.tubes.tubes()).toEqual([]);
    await expect(alice!.tubes.sendDBusMessage(tube.id, encoder.encode('x'))).rejects.toMatchObject({ code: 'unknown-tube' });
    await run(500);
    // Bob's channel stays (§7.4) without alice in it; carol never accepted, and nobody offers it any more.
    expect(bob!.leftTube.map((e) => [e.tubeId, e.member])).toEqual([[tube.id, 'alice@a']]);
    expect(bob!.tubes.tube(tube.id)?.members.map((m) => m.name)).toEqual(['bob@b']);
    // Carol never accepted; bob still lists the tube, so the offer stands, now with bob only.
    expect(carol!.closed).toEqual([]);
    expect(carol!.tubes.tube(tube.id)?.members.map((m) => m.name)).toEqual(['bob@b']);
    bob!.tubes.closeTube(tube.id);
    await run(500);
    // Nobody lists it any more: the offer is withdrawn.
    expect(carol!.closed).toEqual([[tube.id, 'withdrawn']]);
    expect(carol!.tubes.tubes()).toEqual([]);
    // Alice's id is not brought back by bob's list, which still names it.
    expect(alice!.offered).toEqual([]);
  });

  it('reserveStream shares the tubes’ stream pool: a tube never gets a reserved stream, releaseStream frees only reserved ones, others drop the data', async () => {
    const sim = roomSimulation(seed);
    const rooms = ['alice@a', 'bob@b'].map((name) => sim.host(name).join('lunch'));
    await run(10_000);
    const [alice, bob] = rooms.map((r) => person(r));
    const reserved = alice!.tubes.reserveStream();
    const tube = alice!.tubes.offerDBusTube({ service: 'com.example.Chess' });
    expect(tube.streamId).not.toBe(reserved);
    expect(alice!.tubes.releaseStream(tube.streamId!)).toBe(false);
    await run(500);
    bob!.tubes.acceptTube(tube.id);
    await run(500);
    // Data on the reserved stream is nobody's tube data: bob drops it, counted.
    await rooms[0]!.sendStream(reserved, encoder.encode('share chunk'));
    await run(500);
    expect(bob!.data).toEqual([]);
    expect(bob!.tubes.stats.dataDropped['unannounced-stream']).toBe(1);
    expect(alice!.tubes.releaseStream(reserved)).toBe(true);
    expect(alice!.tubes.releaseStream(reserved)).toBe(false);
    // The tube's stream is still in use after all that.
    const second = alice!.tubes.reserveStream();
    expect(second).not.toBe(tube.streamId);
  });

  it('a newcomer learns the open tubes from the lists every member sends when it joins', async () => {
    const sim = roomSimulation(seed);
    const alice = person(sim.host('alice@a').join('lunch'));
    await run(2_000);
    const bob = person(sim.host('bob@b').join('lunch'));
    await run(5_000);
    const chess = alice.tubes.offerDBusTube({ service: 'com.example.Chess' });
    await run(500);
    bob.tubes.acceptTube(chess.id);
    const board = bob.tubes.offerStreamTube({ service: 'board', parameters: new Map([['size', { type: 'int', value: -3 }]]) });
    await run(500);
    const carolRoom = sim.host('carol@c').join('lunch');
    const carol = person(carolRoom);
    await run(8_000);
    expect(carol.tubes.tubes().map((t) => [t.id, t.type, t.initiator, t.state, t.members.map((m) => m.name).sort()])).toEqual([
      [chess.id, 'dbus', 'alice@a', 'local-pending', ['alice@a', 'bob@b']],
      [board.id, 'stream', 'bob@b', 'local-pending', ['bob@b']],
    ]);
    expect(carol.tubes.tube(board.id)?.parameters.get('size')).toEqual({ type: 'int', value: -3 });
    expect(carol.issues).toEqual([]);
  });

  it('hostile lists cost only their bad entries: bogus and duplicate ids, conflicting ids, a stream id used twice, forged names', async () => {
    const sim = roomSimulation(seed);
    const aliceRoom = sim.host('alice@a').join('lunch');
    await run(2_000);
    const bob = person(sim.host('bob@b').join('lunch'));
    const alice = person(aliceRoom);
    await run(5_000);
    const eve = sim.groups.open('eve@e', aliceRoom.address, aliceRoom.port);
    await run(2_000);
    const chess = alice.tubes.offerDBusTube({ service: 'com.example.Chess' });
    await run(500);
    expect(bob.offered.map((t) => [t.id, t.service])).toEqual([[chess.id, 'com.example.Chess']]);
    bob.offered.length = 0;
    const eveName = tubeDBusName('eve@e');
    const dbus = (id: number, streamId: number, service: string, initiator: string, name = eveName): string =>
      `<tube service="${service}" id="${id}" type="dbus" stream-id="${streamId}" initiator="${initiator}" dbus-name="${name}"><parameters/></tube>`;
    eve.send(
      0,
      tubesFrom(
        'eve@e',
        '<tube service="a" id="zero" type="stream"><parameters/></tube>' + // bogus id
          '<tube service="b" id="0" type="stream"><parameters/></tube>' + // out of range
          '<tube service="c" id="77" type="stream"/><tube service="d" id="77" type="stream"/>' + // duplicate id
          dbus(chess.id, 5, 'com.example.Other', 'alice@a') + // alice's id with another service
          dbus(300, 6, 'org.example.Forged', 'eve@e', tubeDBusName('alice@a')) + // someone else's name
          dbus(301, 7, 'org.example.NoStream', 'eve@e').replace(' stream-id="7"', '') + // crashes salut
          '<tube service="good" id="400" type="stream"><parameters/></tube>' +
          dbus(500, 9, 'org.example.Eve', 'eve@e'),
      ),
    );
    await run(500);
    for (const p of [alice, bob]) {
      expect(p.offered.map((t) => [t.id, t.service]).sort()).toEqual([
        [400, 'good'],
        [500, 'org.example.Eve'],
      ]);
      expect(p.issues.map((i) => (i.kind === 'entry-dropped' ? i.problem.reason : i.kind === 'entry-refused' ? i.reason : i.reason)).sort()).toEqual(
        ['bad-id', 'bad-id', 'conflicting-tube', 'dbus-name-mismatch', 'duplicate-id', 'missing-stream-id'].sort(),
      );
    }
    // Eve moves her tube 500 to stream 10 (refused: the first stays) and joins alice's tube on 9, still 500's: refused too.
    eve.send(0, tubesFrom('eve@e', '<tube service="good" id="400" type="stream"><parameters/></tube>' + dbus(500, 10, 'org.example.Eve', 'eve@e') + dbus(chess.id, 9, 'com.example.Chess', 'alice@a')));
    await run(500);
    expect(alice.issues.slice(-2)).toMatchObject([
      { kind: 'entry-refused', sender: 'eve@e', tubeId: 500, reason: 'changed-entry' },
      { kind: 'entry-refused', sender: 'eve@e', tubeId: chess.id, reason: 'stream-id-in-use' },
    ]);
    expect(alice.tubes.tube(500)?.members).toEqual([{ name: 'eve@e', self: false, dbusName: eveName, streamId: 9 }]);
    expect(alice.tubes.tube(chess.id)?.members.map((m) => m.name)).toEqual(['alice@a']);
    // The honest part of the room is untouched: bob accepts and data flows.
    bob.tubes.acceptTube(chess.id);
    await run(500);
    await alice.tubes.sendDBusMessage(chess.id, encoder.encode('still fine'));
    await run(500);
    expect(bob.data.map((d) => decoder.decode(d.bytes))).toEqual(['still fine']);
    // A whole list that is garbage (two lists in one stanza) changes nothing.
    const before = bob.tubes.tubes();
    eve.send(0, xmlDoc('<message xmlns="jabber:client" type="groupchat" from="eve@e" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/></message>'));
    await run(500);
    expect(bob.tubes.tubes()).toEqual(before);
    expect(bob.issues.at(-1)).toMatchObject({ kind: 'list-rejected', reason: 'multiple-lists' });
    // Eve drops her tubes: the offers nobody else lists and bob never took go.
    eve.send(0, tubesFrom('eve@e', ''));
    await run(500);
    expect(bob.closed.sort()).toEqual([
      [400, 'withdrawn'],
      [500, 'withdrawn'],
    ]);
    expect(bob.tubes.tubes().map((t) => t.id)).toEqual([chess.id]);
  });

  it('data on a stream nobody announced, or from a member not in the tube, is dropped and counted; the tube carries on', async () => {
    const sim = roomSimulation(seed);
    const aliceRoom = sim.host('alice@a').join('lunch');
    await run(2_000);
    const bob = person(sim.host('bob@b').join('lunch'));
    const alice = person(aliceRoom);
    await run(5_000);
    const eve = sim.groups.open('eve@e', aliceRoom.address, aliceRoom.port);
    await run(2_000);
    const chess = alice.tubes.offerDBusTube({ service: 'com.example.Chess' });
    await run(500);
    bob.tubes.acceptTube(chess.id);
    await run(500);
    // Eve writes on alice's stream number (streams are per sender: hers is not alice's) and on a random one.
    eve.send(1, encoder.encode('forged on 1'));
    eve.send(4242, encoder.encode('nobody announced 4242'));
    // Eve announces a tube of her own but bob has not accepted it: her data there is early.
    eve.send(0, tubesFrom('eve@e', `<tube service="org.example.Eve" id="500" type="dbus" stream-id="3" initiator="eve@e" dbus-name="${tubeDBusName('eve@e')}"><parameters/></tube>`));
    eve.send(3, encoder.encode('before accept'));
    await alice.tubes.sendDBusMessage(chess.id, encoder.encode('real'));
    await run(500);
    expect(bob.data.map((d) => [d.sender, decoder.decode(d.bytes)])).toEqual([['alice@a', 'real']]);
    expect(bob.tubes.stats.dataDropped).toEqual({ 'unannounced-stream': 2, 'tube-not-open': 1 });
    expect(bob.tubes.stats.dataAccepted).toBe(1);
  });

  it('a member leaving the room leaves its tubes (its names and streams go); the table is bounded', async () => {
    const sim = roomSimulation(seed);
    const aliceRoom = sim.host('alice@a').join('lunch');
    await run(2_000);
    const bobRoom = sim.host('bob@b').join('lunch');
    const alice = person(aliceRoom);
    const bob = new RoomTubes(bobRoom, { random: new SeededRandom(seed), logger: silentLogger, limits: { maxTubes: 2 } });
    const bobIssues: TubeListIssue[] = [];
    bob.on('list-issue', (i) => bobIssues.push(i));
    await run(5_000);
    const one = alice.tubes.offerDBusTube({ service: 'org.example.One' });
    const two = alice.tubes.offerStreamTube({ service: 'two' });
    const three = alice.tubes.offerStreamTube({ service: 'three' });
    await run(500);
    expect(bob.tubes().map((t) => t.id)).toEqual([one.id, two.id]);
    expect(bobIssues).toEqual([{ kind: 'entry-refused', room: 'lunch', sender: 'alice@a', tubeId: three.id, reason: 'too-many-tubes' }]);
    bob.acceptTube(one.id);
    await run(500);
    const left: TubeMemberEvent[] = [];
    bob.on('tube-member-left', (e) => left.push(e));
    const leaving = aliceRoom.leave();
    await run(2_000);
    await leaving;
    expect(left.map((e) => [e.tubeId, e.member]).sort()).toEqual(
      [
        [one.id, 'alice@a'],
        [two.id, 'alice@a'],
      ].sort(),
    );
    // Bob's accepted tube stays open with him alone; the stream tube he never took is withdrawn.
    expect(bob.tubes().map((t) => [t.id, t.state, t.members.map((m) => m.name)])).toEqual([[one.id, 'open', ['bob@b']]]);
    expect(alice.closed.map(([, reason]) => reason)).toEqual(['room-left', 'room-left', 'room-left']);
  });

  it('bad offers are refused before anything is sent; leaving the room closes every tube', async () => {
    const sim = roomSimulation(seed);
    const room = sim.host('alice@a').join('lunch');
    await run(2_000);
    const alice = person(room);
    expect(() => alice.tubes.offerDBusTube({ service: 'not a bus name' })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => alice.tubes.offerDBusTube({ service: ':1.42' })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => alice.tubes.offerStreamTube({ service: '' })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => alice.tubes.offerStreamTube({ service: 's', parameters: { n: { type: 'int', value: 2 ** 31 } } })).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => alice.tubes.acceptTube(5)).toThrow(expect.objectContaining({ code: 'unknown-tube' }));
    expect(alice.tubes.stats.listsSent).toBe(0);
    const tube = alice.tubes.offerStreamTube({ service: 'web' });
    expect(() => alice.tubes.acceptTube(tube.id)).toThrow(expect.objectContaining({ code: 'wrong-state' }));
    await expect(alice.tubes.sendDBusMessage(tube.id, encoder.encode('x'))).rejects.toMatchObject({ code: 'wrong-state' });
    const leaving = room.leave();
    await run(2_000);
    await leaving;
    expect(alice.closed).toEqual([[tube.id, 'room-left']]);
    expect(() => alice.tubes.offerStreamTube({ service: 'web' })).toThrow(expect.objectContaining({ code: 'closed' }));
  });
});

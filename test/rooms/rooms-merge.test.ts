import { randomInt } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomAddress } from '../../src/linklocal/room-advertiser.js';
import type { Room } from '../../src/rooms/room.js';
import { capturingLogger, observer, record, runId, startClique, stopAll } from './room-test-kit.js';
import { waitFor } from '../support/wait.js';

/**
 * Split rooms merge (room-merge.ts), over real UDP multicast and real mDNS on
 * loopback: rooms joined by name that find themselves alone in a group while
 * the room is advertised at another one move there; rooms joined by address
 * never do.
 */
afterEach(async () => {
  await stopAll();
});

function groupOf(room: Room): string {
  return `${room.address}:${room.port}`;
}

function recordMoves(room: Room): Array<{ to: RoomAddress; from: RoomAddress }> {
  const moves: Array<{ to: RoomAddress; from: RoomAddress }> = [];
  room.on('moved', (to, from) => moves.push({ to, from }));
  return moves;
}

/** By name, with no wait for the room list: what two people typing `clique join Witchcraft` at once get. */
const AT_ONCE = { discovery: true, lookupWaitMs: 0 } as const;

describe('split rooms merge', () => {
  it('two people creating the same room at the same moment end up in one group and chat', async () => {
    const room = `Witchcraft-${runId()}`;
    const watcher = await observer();
    const [alice, bob] = await Promise.all([startClique('alice@test', AT_ONCE), startClique('bob@test', AT_ONCE)]);
    const [atAlice, atBob] = await Promise.all([alice.join(room), bob.join(room)]);
    // Neither saw the other advertised: each created a group, as salut would (§11.5).
    expect(atAlice.creator && atBob.creator).toBe(true);
    expect(groupOf(atAlice)).not.toBe(groupOf(atBob));
    const created = { alice: { name: room, address: atAlice.address, port: atAlice.port }, bob: { name: room, address: atBob.address, port: atBob.port } };
    const aliceMoves = recordMoves(atAlice);
    const bobMoves = recordMoves(atBob);
    const aliceLog = record(atAlice);
    const bobLog = record(atBob);
    // Said while alone in their own groups.
    await atAlice.send('hello from alice');
    await atBob.send('hello from bob');

    await waitFor('one group, both members in it', () => groupOf(atAlice) === groupOf(atBob) && atAlice.members.length === 2 && atBob.members.length === 2);
    // Exactly one of them moved, to where the other one is.
    expect(aliceMoves.length + bobMoves.length).toBe(1);
    const aliceMoved = aliceMoves.length === 1;
    const [mover, stayer, moves, stayerLog] = aliceMoved ? [atAlice, atBob, aliceMoves, bobLog] : [atBob, atAlice, bobMoves, aliceLog];
    expect(moves[0]).toEqual({ to: aliceMoved ? created.bob : created.alice, from: aliceMoved ? created.alice : created.bob });
    expect(mover.creator).toBe(false);
    expect(stayer.creator).toBe(true);
    expect([mover.state, stayer.state]).toEqual(['joined', 'joined']);
    // What the mover said while alone reached nobody then; it was sent again in the group it joined.
    const moverName = aliceMoved ? 'alice' : 'bob';
    await waitFor('the mover’s early line at the other', () => stayerLog.messages.some((m) => m.text === `hello from ${moverName}`));

    await atAlice.send('so we meet');
    await atBob.send('we do');
    await waitFor('both lines across', () => bobLog.messages.some((m) => m.text === 'so we meet') && aliceLog.messages.some((m) => m.text === 'we do'));
    // The room list shows the one group, advertised by both with identical records.
    await waitFor('one group listed', () => watcher.get(room)?.port === stayer.port);
    expect(watcher.get(room)).toEqual({ name: room, address: stayer.address, port: stayer.port });
    expect(alice.rooms().filter((r) => r.name === room)).toEqual([{ name: room, address: stayer.address, port: stayer.port }]);
  });

  it('a lone creator that finds the room already advertised with members moves there, losing none of its lines', async () => {
    const room = `coven-${runId()}`;
    const watcher = await observer();
    // The populated room sits at the highest group address: the move does not depend on address order.
    const populated = { address: '239.255.71.254', port: randomInt(20_000, 60_000) };
    const alice = await startClique('alice@test', { discovery: true });
    const bob = await startClique('bob@test', { discovery: true });
    const atAlice = await alice.join(room, { ...populated, joinWaitMs: 300 });
    const atBob = await bob.join(room, populated);
    await waitFor('alice and bob together', () => atAlice.members.length === 2 && atBob.members.length === 2);
    await waitFor('their room advertised', () => watcher.get(room)?.port === populated.port);
    const aliceLog = record(atAlice);
    const bobLog = record(atBob);

    const carol = await startClique('carol@test', AT_ONCE);
    const atCarol = await carol.join(room);
    expect(atCarol.creator).toBe(true); // it had not heard the room list yet
    const created = { name: room, address: atCarol.address, port: atCarol.port };
    const moves = recordMoves(atCarol);
    const carolLog = record(atCarol);
    // Carol keeps talking through the move: alone, while moving, and once there.
    const sent: string[] = [];
    const sends: Array<Promise<unknown>> = [];
    for (let i = 0; i < 40 && moves.length === 0; i++) {
      sent.push(`line ${i}`);
      sends.push(atCarol.send(`line ${i}`));
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor('carol moved', () => moves.length === 1);
    for (let i = 0; i < 3; i++) {
      sent.push(`after ${i}`);
      sends.push(atCarol.send(`after ${i}`));
    }
    await Promise.all(sends);
    expect(moves).toEqual([{ to: { name: room, ...populated }, from: created }]);
    expect(groupOf(atCarol)).toBe(`${populated.address}:${populated.port}`);
    expect(atCarol.creator).toBe(false);
    await waitFor('carol with alice and bob', () => [atAlice, atBob, atCarol].every((r) => r.members.length === 3));
    expect(atCarol.members.map((m) => m.name).sort()).toEqual(['alice@test', 'bob@test', 'carol@test']);

    // Every line, once each, in order, at both of the others.
    const fromCarol = (log: typeof aliceLog): string[] => log.messages.filter((m) => m.sender === 'carol@test').map((m) => m.text);
    await waitFor('all of carol’s lines at alice and bob', () => fromCarol(aliceLog).length >= sent.length && fromCarol(bobLog).length >= sent.length);
    expect(fromCarol(aliceLog)).toEqual(sent);
    expect(fromCarol(bobLog)).toEqual(sent);
    await atAlice.send('welcome, carol');
    await waitFor('alice’s line at carol', () => carolLog.messages.some((m) => m.text === 'welcome, carol'));
    // Carol now advertises the same records as the others; the list still shows their group.
    expect(watcher.get(room)).toEqual({ name: room, ...populated });
  });

  it('a room joined by explicit address never moves, even when alone and the name is advertised elsewhere', async () => {
    const room = `private-${runId()}`;
    const alice = await startClique('alice@test', { discovery: true });
    const atAlice = await alice.join(room);
    await waitFor('alice’s room advertised', () => alice.rooms().some((r) => r.name === room));

    const { logger, records } = capturingLogger();
    const dave = await startClique('dave@test', { discovery: true, logger });
    const mine = { address: '239.255.71.1', port: randomInt(20_000, 60_000) };
    const atDave = await dave.join(room, { ...mine, joinWaitMs: 300 });
    const moves = recordMoves(atDave);
    await atDave.whenReady();
    // Both things that make a room joined by name move have happened: dave lost the name, and lists alice's group.
    // (The room's log says which: a room that may move says it will, one that may not says it stays unadvertised.)
    const refused = (): boolean => records.some((r) => r.message.includes('not advertising ours') || r.message.includes('we join it if we are alone'));
    await waitFor('dave’s advertisement refused', refused);
    await waitFor('alice’s group listed at dave', () => dave.rooms().some((r) => r.name === room && r.port === atAlice.port));
    // A move is decided at once on either event (and logged); the switch follows once the other group is open.
    expect(records.some((r) => r.message.includes('moving there'))).toBe(false);
    expect(moves).toEqual([]);
    expect(atDave.stats.moves).toBe(0);
    expect(groupOf(atDave)).toBe(`${mine.address}:${mine.port}`);
    // Its group still works: someone joining it by address meets dave, not alice.
    const erin = await startClique('erin@test');
    const atErin = await erin.join(room, mine);
    await waitFor('erin with dave', () => atDave.members.length === 2 && atErin.members.length === 2);
    expect(atAlice.members).toHaveLength(1);
    expect(moves).toEqual([]);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Room } from '../../src/rooms/room.js';
import type { RoomMember, RoomMessage, RoomWarning, TopicChange } from '../../src/rooms/room-types.js';
import { roomSimulation } from '../../src/testing/room-simulation.js';
import { propertySeed } from '../support/fast-check-seed.js';

/**
 * Rooms on virtual time: fake groups with seeded delays and a fake directory
 * (mDNS advertising and browsing) instead of sockets, so the merge race, a
 * move, the topic re-announce and roster changes run deterministically. Each
 * test runs a few seeds derived from the file's; a failure names the seed.
 * The real-socket versions are in rooms-merge.test.ts and rooms-chat.test.ts.
 */
const seed = propertySeed();
const RUNS = 5;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: 1_800_000_000_000 });
});
afterEach(() => {
  // A failed run leaves timers behind: they must not fire into the next test.
  vi.clearAllTimers();
  vi.useRealTimers();
});

const run = async (ms: number): Promise<void> => {
  await vi.advanceTimersByTimeAsync(ms);
};

/** Runs `body` for RUNS seeds; a failure says which one replays it. */
async function eachSeed(body: (seed: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < RUNS; i++) {
    const runSeed = (seed + i) | 0;
    try {
      await body(runSeed);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\nrun seed ${runSeed}; replay the file with CLIQUE_SEED=${seed}`, { cause: error });
    }
  }
}

function texts(room: Room): string[] {
  const seen: string[] = [];
  room.on('message', (m: RoomMessage) => seen.push(`${m.sender}: ${m.text}`));
  return seen;
}

describe(`rooms on virtual time (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('merge race: two people creating the same room at the same moment end in one group, and exactly one of them moved', async () => {
    await eachSeed(async (s) => {
      const sim = roomSimulation(s);
      const alice = sim.host('alice@a').join('lunch');
      const bob = sim.host('bob@b').join('lunch');
      const moved: string[] = [];
      alice.on('moved', () => moved.push('alice'));
      bob.on('moved', () => moved.push('bob'));
      expect(alice.creator && bob.creator).toBe(true);
      expect(`${alice.address}:${alice.port}`).not.toBe(`${bob.address}:${bob.port}`);
      await run(10_000);
      expect(`${alice.address}:${alice.port}`).toBe(`${bob.address}:${bob.port}`);
      expect(moved).toHaveLength(1);
      // room-merge.ts: the one whose probe lost (its data sorted first) is the one that moved.
      const listed = sim.directory.get('lunch');
      expect(listed).toEqual({ name: 'lunch', address: alice.address, port: alice.port });
      const mover = moved[0] === 'alice' ? alice : bob;
      expect(mover.creator).toBe(false);
      expect(mover.stats.moves).toBe(1);
      expect(alice.members.map((m) => m.name)).toEqual(['alice@a', 'bob@b']);
      expect(bob.members.map((m) => m.name)).toEqual(['bob@b', 'alice@a']);
      const heard = texts(bob);
      await alice.send('one room');
      await run(1_000);
      expect(heard).toEqual(['alice@a: one room']);
    });
  });

  it('move: a room alone in its group moves to the advertised one, and the lines said alone are re-sent there once', async () => {
    await eachSeed(async (s) => {
      const sim = roomSimulation(s);
      const bob = sim.host('bob@b').join('lunch');
      await run(3_000);
      const carol = sim.host('carol@c').join('lunch');
      await run(8_000);
      expect(carol.members.map((m) => m.name)).toEqual(['carol@c', 'bob@b']);
      const bobHeard = texts(bob);
      const carolHeard = texts(carol);
      // Alice's lookup missed the listing: she creates a group of her own and talks there, alone.
      const alice = sim.host('alice@a').join('lunch', { missListing: true });
      const from = { address: alice.address, port: alice.port };
      const moves: Array<[string, string]> = [];
      alice.on('moved', (to, was) => moves.push([`${to.address}:${to.port}`, `${was.address}:${was.port}`]));
      await run(500);
      expect(alice.state).toBe('joined');
      await alice.send('anyone here?');
      await alice.sendAction('waves');
      await run(10_000);
      expect(moves).toEqual([[`${bob.address}:${bob.port}`, `${from.address}:${from.port}`]]);
      expect(alice.members.map((m) => m.name)).toEqual(['alice@a', 'bob@b', 'carol@c']);
      expect(bobHeard).toEqual(['alice@a: anyone here?', 'alice@a: waves']);
      expect(carolHeard).toEqual(['alice@a: anyone here?', 'alice@a: waves']);
      // Her old group is gone and the directory still lists the room's group only.
      expect(sim.groups.members(from.address, from.port)).toEqual([]);
      expect(sim.directory.get('lunch')).toEqual({ name: 'lunch', address: bob.address, port: bob.port });
    });
  });

  it('topic: a newcomer gets it re-announced exactly once, by the old member whose name sorts first', async () => {
    await eachSeed(async (s) => {
      const sim = roomSimulation(s);
      const bob = sim.host('bob@b').join('lunch');
      await run(3_000);
      const alice = sim.host('alice@a').join('lunch');
      await run(8_000);
      await bob.setTopic('pizza at noon');
      await run(1_000);
      expect(alice.topic).toMatchObject({ topic: 'pizza at noon', setBy: 'bob@b', replay: false });
      const carol = sim.host('carol@c').join('lunch');
      const carolTopics: TopicChange[] = [];
      carol.on('topic', (t) => carolTopics.push(t));
      const aliceSentBefore = alice.stats.sent;
      const bobSentBefore = bob.stats.sent;
      await run(8_000);
      expect(carolTopics).toHaveLength(1);
      expect(carolTopics[0]).toMatchObject({ topic: 'pizza at noon', setBy: 'bob@b', announcedBy: 'alice@a', replay: true });
      // alice@a sorts before bob@b: she re-announces, he does not.
      expect(alice.stats.sent - aliceSentBefore).toBe(1);
      expect(bob.stats.sent - bobSentBefore).toBe(0);
      // The old members already knew it: no topic event for them.
      expect(carol.topic?.topic).toBe('pizza at noon');
    });
  });

  it('roster: join, nick change, leave (BYE) and lost (no BYE, shown as timed out) reach the others', async () => {
    await eachSeed(async (s) => {
      const sim = roomSimulation(s);
      const alice = sim.host('alice@a').join('lunch');
      const events: string[] = [];
      alice.on('member-joined', (m: RoomMember) => events.push(`joined ${m.name}`));
      alice.on('member-left', (m: RoomMember) => events.push(`left ${m.name}`));
      const leftWhy: string[] = [];
      alice.on('member-left', (m: RoomMember, reason) => leftWhy.push(`${m.name} ${reason}`));
      alice.on('member-updated', (m: RoomMember, before: RoomMember) => events.push(`updated ${before.displayName} -> ${m.displayName}`));
      await run(3_000);
      const bob = sim.host('bob@b').join('lunch');
      await run(8_000);
      const carol = sim.host('carol@c').join('lunch', { settings: { nick: 'Caz' } });
      await run(8_000);
      expect(events).toEqual(['joined bob@b', 'joined carol@c', 'updated carol@c -> Caz']);
      expect(alice.member('carol@c')?.displayName).toBe('Caz');
      await bob.setNick('Bobby');
      await run(1_000);
      expect(alice.member('bob@b')?.nick).toBe('Bobby');
      // leave() waits for the BYE, which takes virtual time.
      const leaving = bob.leave();
      await run(1_000);
      await leaving;
      expect(bob.state).toBe('left');
      // Carol's group vanishes without BYE: she is lost after the failure timeout, not before.
      sim.groups.crash('carol@c', carol.address, carol.port);
      await run(1_000);
      expect(alice.member('carol@c')).toBeDefined();
      await run(5_000);
      expect(events.slice(3)).toEqual(['updated bob@b -> Bobby', 'left bob@b', 'left carol@c']);
      // A clean leave and one lost by silence are told apart.
      expect(leftWhy).toEqual(['bob@b left', 'carol@c timed-out']);
      expect(alice.members.map((m) => m.name)).toEqual(['alice@a']);
    });
  });

  it('the same seed replays the same run', async () => {
    const trace = async (): Promise<string[]> => {
      const sim = roomSimulation(seed);
      const a = sim.host('alice@a').join('lunch');
      const b = sim.host('bob@b').join('lunch');
      await run(10_000);
      return [...sim.directory.log, `${a.address}:${a.port}`, `${b.address}:${b.port}`];
    };
    expect(await trace()).toEqual(await trace());
  });

  it('a reset of our group membership and forged packets reach the user as warnings; the room carries on', async () => {
    await eachSeed(async (s) => {
      const sim = roomSimulation(s);
      const alice = sim.host('alice@a').join('lunch');
      await run(2_000);
      const bob = sim.host('bob@b').join('lunch');
      await run(10_000);
      const warnings: RoomWarning[] = [];
      alice.on('warning', (w) => warnings.push(w));
      const link = sim.groups.link('alice@a', alice.address, alice.port);
      link.hear('reset', 'internal-error', 'a test fault');
      link.hear('spoof-suspected', { senderId: 0x1234, sender: 'bob@b', packetId: 7 });
      expect(warnings).toEqual([
        { kind: 'group-reset', room: 'lunch', reason: 'internal-error', detail: 'a test fault' },
        { kind: 'spoof-suspected', room: 'lunch', sender: 'bob@b', senderId: 0x1234 },
      ]);
      expect(alice.state).toBe('joined');
      const heard = texts(bob);
      await alice.send('still here');
      await run(1_000);
      expect(heard).toEqual(['alice@a: still here']);
    });
  });
});

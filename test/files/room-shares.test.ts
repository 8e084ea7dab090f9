import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as realSleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import { SeededRandom } from '../../src/base/random.js';
import { RoomShares, type RoomShareInfo } from '../../src/files/room-shares.js';
import type { Room } from '../../src/rooms/room.js';
import { roomSimulation } from '../../src/testing/room-simulation.js';
import { RoomTubes } from '../../src/tubes/room-tubes.js';
import { propertySeed } from '../support/fast-check-seed.js';

/*
 * RoomShares over rooms on virtual time (src/testing/room-simulation.ts):
 * one share reaches the members that accept it, written through
 * SafeReceiver; the others drop its chunks; a D-Bus tube next to it never
 * sees them. The disk is real (temporary directories).
 */
const seed = propertySeed();

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'], now: 1_800_000_000_000 });
});
const dirs: string[] = [];
afterEach(() => {
  vi.clearAllTimers();
  vi.useRealTimers();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clique-shares-'));
  dirs.push(dir);
  return dir;
}
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
/** Virtual time plus real turns of the event loop (the disk is real). */
async function until(what: string, check: () => boolean, extra?: () => string): Promise<void> {
  for (let i = 0; i < 5000; i++) {
    if (check()) return;
    await vi.advanceTimersByTimeAsync(20);
    // node:timers/promises is not faked: the real disk gets real time.
    await realSleep(2);
  }
  throw new Error(`never: ${what}${extra !== undefined ? ` (${extra()})` : ''}`);
}

interface Member {
  room: Room;
  tubes: RoomTubes;
  shares: RoomShares;
  offers: RoomShareInfo[];
  done: RoomShareInfo[];
  dir: string;
  autoAccept: boolean;
}

async function threeMembers(): Promise<Member[]> {
  const sim = roomSimulation(seed);
  const rooms = ['alice@a', 'bob@b', 'carol@c'].map((name) => sim.host(name).join('lunch'));
  await vi.advanceTimersByTimeAsync(10_000);
  expect(rooms.map((r) => r.members.length)).toEqual([3, 3, 3]);
  return rooms.map((room) => {
    const dir = freshDir();
    const m: Member = { room, tubes: new RoomTubes(room, { random: new SeededRandom(seed), logger: silentLogger }), shares: undefined!, offers: [], done: [], dir, autoAccept: false };
    m.shares = new RoomShares({ autoAcceptDir: () => (m.autoAccept ? dir : undefined) });
    m.shares.attach(room, m.tubes);
    m.shares.on('offer', (o) => m.offers.push(o));
    m.shares.on('done', (d) => m.done.push(d));
    return m;
  });
}

describe(`RoomShares on simulated rooms (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('one share reaches the member that accepts, hash checked; the one that does not gets an offer and nothing on disk; tube data stays apart', async () => {
    const [alice, bob, carol] = await threeMembers();
    bob!.autoAccept = true;
    const tube = alice!.tubes.offerDBusTube({ service: 'com.example.Chess' });
    await vi.advanceTimersByTimeAsync(500);
    bob!.tubes.acceptTube(tube.id);
    const tubeData: Uint8Array[] = [];
    bob!.tubes.on('tube-data', (d) => tubeData.push(d.bytes));
    await vi.advanceTimersByTimeAsync(500);

    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const src = join(freshDir(), 'film.bin');
    writeFileSync(src, bytes);
    const progress: number[] = [];
    alice!.shares.on('progress', (p) => progress.push(p.bytes));
    const { info, done } = await alice!.shares.share('lunch', src);
    expect(info).toMatchObject({ direction: 'out', room: 'lunch', name: 'film.bin', size: bytes.length, sha256: sha(bytes), state: 'sending' });
    let sent: RoomShareInfo | undefined;
    void done.then((d) => (sent = d));
    await until('bob received it', () => sent !== undefined && bob!.done.length > 0, () => JSON.stringify([sent, bob!.shares.list(), carol!.shares.list()]));
    expect(sent).toMatchObject({ state: 'sent', bytes: bytes.length });
    expect(progress.at(-1)).toBe(bytes.length);

    expect(bob!.offers).toEqual([expect.objectContaining({ direction: 'in', room: 'lunch', peer: 'alice@a', name: 'film.bin', size: bytes.length, sha256: sha(bytes), state: 'offered' })]);
    expect(bob!.done).toEqual([expect.objectContaining({ state: 'received', bytes: bytes.length })]);
    expect(sha(readFileSync(bob!.done[0]!.path!))).toBe(sha(bytes));
    expect(readdirSync(bob!.dir)).toEqual(['film.bin']);

    // Carol did not accept: an offer, which can no longer be taken once its chunks went by, and nothing on disk.
    expect(carol!.offers.map((o) => o.name)).toEqual(['film.bin']);
    expect(carol!.shares.get(carol!.offers[0]!.id)?.state).toBe('offered');
    await expect(carol!.shares.accept(carol!.offers[0]!.id, carol!.dir)).rejects.toMatchObject({ code: 'file-short' });
    expect(readdirSync(carol!.dir)).toEqual([]);
    // The share's stream was never the tube's: no chunk reached the tube, and the stream is free again.
    expect(tubeData).toEqual([]);
    expect(bob!.tubes.stats.dataDropped['unannounced-stream']).toBeGreaterThan(0);
    expect(alice!.shares.list().map((s) => [s.direction, s.state])).toEqual([['out', 'sent']]);
    // A member that missed it may fetch it 1-1 (ShareFetch): only members of that room, only shares sent whole.
    expect(alice!.shares.sharedFile('lunch', info.id, 'carol@c')).toBe(src);
    expect(alice!.shares.sharedFile('lunch', info.id, 'eve@e')).toBeUndefined();
    expect(alice!.shares.sharedFile('dinner', info.id, 'carol@c')).toBeUndefined();
    expect(alice!.shares.sharedFile('lunch', 'r99', 'carol@c')).toBeUndefined();
  });

  it('a cancelled share ends at its receivers with no file; the sender leaving ends it too; a decline is final', async () => {
    const [alice, bob, carol] = await threeMembers();
    bob!.autoAccept = true;
    const src = join(freshDir(), 'big.bin');
    writeFileSync(src, randomBytes(4 * 1024 * 1024));
    // Cancel (and later leave) from alice's own progress, a quarter of the way: no race with the disk.
    let onQuarter: ((id: string) => void) | undefined;
    alice!.shares.on('progress', (p) => {
      if (p.bytes >= 1024 * 1024 && onQuarter !== undefined) {
        const act = onQuarter;
        onQuarter = undefined;
        act(p.id);
      }
    });
    let cancelled: boolean | undefined;
    onQuarter = (id) => (cancelled = alice!.shares.cancel(id));
    const { done } = await alice!.shares.share('lunch', src);
    let ended: RoomShareInfo | undefined;
    void done.then((d) => (ended = d));
    await until('bob heard the cancel', () => ended !== undefined && bob!.done.length > 0);
    expect(cancelled).toBe(true);
    expect(ended?.state).toBe('cancelled');
    expect(bob!.done.map((d) => d.state)).toEqual(['cancelled']);
    await until('part file gone', () => readdirSync(bob!.dir).length === 0);

    // Carol declines a second share; bob is receiving it when alice leaves.
    let leaving: Promise<void> | undefined;
    onQuarter = () => (leaving = alice!.room.leave());
    const second = await alice!.shares.share('lunch', src);
    await until('carol has the offer', () => carol!.offers.length === 2);
    expect(carol!.shares.decline(carol!.offers[1]!.id).state).toBe('declined');
    expect(() => carol!.shares.decline(carol!.offers[1]!.id)).toThrow();
    let secondEnded: RoomShareInfo | undefined;
    void second.done.then((d) => (secondEnded = d));
    await until('bob gave up, alice stopped', () => bob!.done.length === 2 && secondEnded !== undefined);
    expect(secondEnded?.state).not.toBe('sent');
    await until('alice left', () => alice!.room.state === 'left');
    await leaving;
    expect(bob!.done[1]).toMatchObject({ state: expect.stringMatching(/failed|cancelled/) });
    await until('no part file', () => readdirSync(bob!.dir).length === 0, () => JSON.stringify([readdirSync(bob!.dir), bob!.done, bob!.shares.list()]));
    expect(readdirSync(carol!.dir)).toEqual([]);
  });
});

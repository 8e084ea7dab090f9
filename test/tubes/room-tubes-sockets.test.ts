import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import { CryptoRandom } from '../../src/base/random.js';
import type { Room } from '../../src/rooms/room.js';
import { RoomTubes } from '../../src/tubes/room-tubes.js';
import type { RoomTubeInfo, TubeDataEvent } from '../../src/tubes/room-tubes-types.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { runId, startClique, stopAll } from '../rooms/room-test-kit.js';
import { waitFor } from '../support/wait.js';

/**
 * RoomTubes over real rMulticast on loopback (run inside `unshare -n`):
 * three members, a D-Bus tube offered by one and accepted by another; data
 * goes on the offerer's own stream and arrives once, in order, only where
 * the tube is open.
 */
afterEach(stopAll);

interface Member {
  room: Room;
  tubes: RoomTubes;
  offered: RoomTubeInfo[];
  data: TubeDataEvent[];
}

function attach(room: Room): Member {
  const tubes = new RoomTubes(room, { random: new CryptoRandom(), logger: silentLogger });
  const member: Member = { room, tubes, offered: [], data: [] };
  tubes.on('tube-offered', (t) => member.offered.push(t));
  tubes.on('tube-data', (d) => member.data.push(d));
  return member;
}

describe('RoomTubes over loopback multicast', () => {
  it('A offers a D-Bus tube, B accepts: what A sends reaches B exactly once and in order; C, not in the tube, gets nothing', async () => {
    const name = `tubes-${runId()}`;
    const [a, b, c] = await Promise.all(['alice@test', 'bob@test', 'carol@test'].map((n) => startClique(n)));
    const atA = await a!.join(name);
    const alice = attach(atA);
    const bob = attach(await b!.join(name, { address: atA.address, port: atA.port }));
    const carol = attach(await c!.join(name, { address: atA.address, port: atA.port }));
    for (const m of [alice, bob, carol]) await m.room.waitForMembers(2, { timeoutMs: 30_000 });

    const tube = alice.tubes.offerDBusTube({ service: 'com.example.Chess', parameters: { board: { type: 'uint', value: 8 } } });
    await waitFor('the offer at bob and carol', () => bob.offered.length === 1 && carol.offered.length === 1, 20_000);
    expect(bob.offered[0]).toMatchObject({ id: tube.id, type: 'dbus', service: 'com.example.Chess', initiator: 'alice@test', state: 'local-pending' });
    bob.tubes.acceptTube(tube.id);
    await waitFor('bob in the tube at alice', () => alice.tubes.tube(tube.id)?.members.some((m) => m.name === 'bob@test') === true, 20_000);

    // Small messages and one that rMulticast fragments.
    const payloads = [...Array.from({ length: 20 }, (_, i) => new TextEncoder().encode(`signal ${i}`)), randomBytes(100_000)];
    for (const bytes of payloads) await alice.tubes.sendDBusMessage(tube.id, bytes);
    await waitFor('everything at bob', () => bob.data.length >= payloads.length, 20_000);
    // Every member has acknowledged all alice sent: nothing more can arrive.
    await atA.flush({ acknowledged: true, timeoutMs: 20_000 });
    expect(bob.data).toHaveLength(payloads.length);
    bob.data.forEach((d, i) => {
      expect(d).toMatchObject({ tubeId: tube.id, sender: 'alice@test', dbusName: tubeDBusName('alice@test') });
      expect(Buffer.from(d.bytes).equals(Buffer.from(payloads[i]!))).toBe(true);
    });
    expect(carol.data).toEqual([]);
    expect(carol.tubes.stats.dataDropped['tube-not-open']).toBe(payloads.length);

    await bob.tubes.sendDBusMessage(tube.id, new TextEncoder().encode('reply'));
    await waitFor('the reply at alice', () => alice.data.length === 1, 20_000);
    expect(alice.data[0]).toMatchObject({ sender: 'bob@test', dbusName: tubeDBusName('bob@test') });
    expect(carol.data).toEqual([]);
  }, 60_000);
});

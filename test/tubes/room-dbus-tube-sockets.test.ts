import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import { CryptoRandom } from '../../src/base/random.js';
import type { Room } from '../../src/rooms/room.js';
import type { DBusTube } from '../../src/tubes/dbus-tube.js';
import type { DBusTubeSignal } from '../../src/tubes/dbus-tube-types.js';
import { openRoomDBusTube } from '../../src/tubes/room-dbus-tube.js';
import { RoomTubes } from '../../src/tubes/room-tubes.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { runId, startClique, stopAll } from '../rooms/room-test-kit.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 11's acceptance for D-Bus tubes, over real rMulticast on loopback
 * (run inside `unshare -n`): three members on one D-Bus tube. Signals reach
 * the two others exactly once, each sender's in order, and in causal order
 * (B signals after seeing A's: C sees A's first); a method call gets its
 * return, an error its error.
 */
afterEach(stopAll);

interface Member {
  name: string;
  room: Room;
  tubes: RoomTubes;
  bus?: DBusTube;
  signals: DBusTubeSignal[];
}

const ROUNDS = 30;

describe('a D-Bus tube of three members over loopback multicast', () => {
  it('signals exactly once and in causal order; method calls get their return or error', async () => {
    const roomName = `dbus-${runId()}`;
    const names = ['alice@test', 'bob@test', 'carol@test'];
    const cliques = await Promise.all(names.map((n) => startClique(n)));
    const first = await cliques[0]!.join(roomName);
    const rooms = [first, ...(await Promise.all(cliques.slice(1).map((c) => c.join(roomName, { address: first.address, port: first.port }))))];
    const members: Member[] = rooms.map((room, i) => ({
      name: names[i]!,
      room,
      tubes: new RoomTubes(room, { random: new CryptoRandom(), logger: silentLogger }),
      signals: [],
    }));
    for (const m of members) await m.room.waitForMembers(2, { timeoutMs: 30_000 });
    const [alice, bob, carol] = members as [Member, Member, Member];

    const info = alice.tubes.offerDBusTube({ service: 'org.example.Board' });
    for (const m of [bob, carol]) {
      await waitFor(`the offer at ${m.name}`, () => m.tubes.tube(info.id) !== undefined, 20_000);
      m.tubes.acceptTube(info.id);
    }
    await waitFor(
      'everybody in the tube everywhere',
      () => members.every((m) => (m.tubes.tube(info.id)?.members.filter((x) => x.dbusName !== undefined).length ?? 0) === 3),
      20_000,
    );
    for (const m of members) {
      m.bus = openRoomDBusTube(m.tubes, info.id);
      m.bus.on('signal', (s) => m.signals.push(s));
    }
    const bus = (m: Member): DBusTube => m.bus!;

    // Bob answers calls; an unknown member gets a D-Bus error.
    bus(bob).on('method-call', (call) => {
      if (call.member === 'Add') bus(bob).reply(call, { signature: 'u', body: [(call.body[0] as number) + (call.body[1] as number)] });
      else bus(bob).replyError(call, 'org.example.Error.Unknown', `no method ${call.member}`);
    });
    // Causality: bob signals "seen-N" each time he sees alice's "tick-N".
    bus(bob).on('signal', (s) => {
      if (s.sender === 'alice@test' && s.member === 'Tick') {
        bus(bob).emitSignal({ path: '/', interface: 'org.example.Board', member: 'Seen', signature: 'u', body: [s.body[0] as number] });
      }
    });
    for (let i = 0; i < ROUNDS; i++) {
      bus(alice).emitSignal({ path: '/', interface: 'org.example.Board', member: 'Tick', signature: 'u', body: [i] });
      bus(carol).emitSignal({ path: '/', interface: 'org.example.Board', member: 'Chat', signature: 's', body: [`carol ${i}`] });
      await new Promise((r) => setTimeout(r, 10));
    }
    const from = (m: Member, sender: string, member: string): unknown[] =>
      m.signals.filter((s) => s.sender === sender && s.member === member).map((s) => s.body[0]);
    await waitFor(
      'every signal everywhere',
      () => from(carol, 'bob@test', 'Seen').length === ROUNDS && from(alice, 'bob@test', 'Seen').length === ROUNDS && from(bob, 'carol@test', 'Chat').length === ROUNDS && from(alice, 'carol@test', 'Chat').length === ROUNDS,
      30_000,
    );
    const ticks = Array.from({ length: ROUNDS }, (_, i) => i);
    for (const m of [bob, carol]) expect(from(m, 'alice@test', 'Tick'), `${m.name}: alice's ticks`).toEqual(ticks);
    for (const m of [alice, carol]) expect(from(m, 'bob@test', 'Seen'), `${m.name}: bob's`).toEqual(ticks);
    for (const m of [alice, bob]) expect(from(m, 'carol@test', 'Chat'), `${m.name}: carol's`).toEqual(ticks.map((i) => `carol ${i}`));
    // Each sender sees its own broadcasts once, locally.
    expect(from(alice, 'alice@test', 'Tick')).toEqual(ticks);
    // Causal order at carol: alice's tick-N before bob's seen-N.
    const order = carol.signals.map((s) => `${s.member}-${String(s.body[0])}`);
    for (const i of ticks) expect(order.indexOf(`Tick-${i}`), `carol: Tick-${i} before Seen-${i}`).toBeLessThan(order.indexOf(`Seen-${i}`));
    // Sender names are the tube-local ones of §7.4.
    expect(carol.signals.find((s) => s.sender === 'bob@test')?.uniqueName).toBe(tubeDBusName('bob@test'));

    const bobName = tubeDBusName('bob@test');
    const sum = await bus(carol).callMethod({ destination: bobName, path: '/', interface: 'org.example.Board', member: 'Add', signature: 'uu', body: [40, 2] });
    expect(sum).toMatchObject({ kind: 'return', sender: 'bob@test', body: [42] });
    const error = await bus(alice).callMethod({ destination: bobName, path: '/', interface: 'org.example.Board', member: 'Nope' });
    expect(error).toMatchObject({ kind: 'error', errorName: 'org.example.Error.Unknown', errorMessage: 'no method Nope' });

    // Closing the tube closes its bus.
    let closed = false;
    bus(alice).once('closed', () => (closed = true));
    alice.tubes.closeTube(info.id);
    expect(closed).toBe(true);
  }, 90_000);
});

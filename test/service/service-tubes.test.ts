import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import { RoomTubes } from '../../src/tubes/room-tubes.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { runId, startClique, stopAll } from '../rooms/room-test-kit.js';
import { waitFor } from '../support/wait.js';
import { cleanUp, person, run } from './service-people.js';

/**
 * `rooms.tubes` and `clique tubes ROOM` (real processes, run inside
 * `unshare -n`): alice's service is in a room where bob (an in-process
 * member) offers a D-Bus tube and a stream tube; alice lists them.
 */
afterEach(async () => {
  await stopAll();
  await cleanUp();
}, 60_000);

describe('clique tubes ROOM', () => {
  it('lists the tubes other members offer, as a table and as JSON; a room the service is not in is an error', async () => {
    const name = `tubes-${runId()}`;
    const bob = await startClique('bob@tubes');
    const room = await bob.join(name);
    const tubes = new RoomTubes(room, { logger: silentLogger });
    const alice = person('tubes-alice');
    // Alice's service joins the room (and lingers there) to send one line.
    const sent = await run(alice, ['send', name, 'hello', '--address', room.address, '--port', String(room.port), '--json']);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    await waitFor('alice in the room', () => room.members.length === 2);
    const aliceName = room.members.find((m) => !m.self)!.name;

    const chess = tubes.offerDBusTube({ service: 'com.example.Chess', parameters: { board: { type: 'uint', value: 8 }, key: { type: 'bytes', value: Uint8Array.from([1, 2, 255]) } } });
    const board = tubes.offerStreamTube({ service: 'whiteboard' });
    // The lists travel while we ask: ask again until both tubes are there (a bounded number of times).
    let listed: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100 && listed.length < 2; i++) {
      const out = await run(alice, ['tubes', name, '--json']);
      expect(out.code, out.stderr).toBe(0);
      listed = JSON.parse(out.stdout) as Array<Record<string, unknown>>;
      if (listed.length < 2) await new Promise((r) => setTimeout(r, 200));
    }
    expect(listed).toEqual([
      {
        id: chess.id,
        type: 'dbus',
        service: 'com.example.Chess',
        initiator: 'bob@tubes',
        state: 'local-pending',
        requested: false,
        streamId: null,
        dbusName: null,
        parameters: { board: { type: 'uint', value: 8 }, key: { type: 'bytes', value: 'AQL/' } },
        members: [{ member: 'bob@tubes', self: false, dbusName: tubeDBusName('bob@tubes'), streamId: 1 }],
      },
      {
        id: board.id,
        type: 'stream',
        service: 'whiteboard',
        initiator: 'bob@tubes',
        state: 'local-pending',
        requested: false,
        streamId: null,
        dbusName: null,
        parameters: {},
        members: [{ member: 'bob@tubes', self: false, dbusName: null, streamId: null }],
      },
    ]);
    // Bob's tubes know alice is there, but she has accepted nothing.
    expect(tubes.tube(chess.id)?.members.map((m) => m.name)).toEqual(['bob@tubes']);
    expect(aliceName).not.toBe('bob@tubes');

    const text = await run(alice, ['tubes', name]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      `${chess.id}  dbus  com.example.Chess  by bob@tubes  offered to us  board=8 key=AQL/\n` +
        `    bob@tubes  stream 1  ${tubeDBusName('bob@tubes')}\n` +
        `${board.id}  stream  whiteboard  by bob@tubes  offered to us\n` +
        `    bob@tubes\n`,
    );

    const elsewhere = await run(alice, ['tubes', `not-${name}`]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/not in/);
    await run(alice, ['down']);
  }, 90_000);
});

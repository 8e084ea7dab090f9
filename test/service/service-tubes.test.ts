import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import { RoomTubes } from '../../src/tubes/room-tubes.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { runId, startClique, stopAll } from '../rooms/room-test-kit.js';
import { waitFor } from '../support/wait.js';
import { roundTrip, startEchoServer } from '../support/tcp-echo.js';
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

describe('clique tube offer / accept / close (two services of distinct identities)', () => {
  it('an echo service offered by alice is accepted by bob: 10 MB go through both ways intact; close cuts it', async () => {
    const name = `echo-${runId()}`;
    const echo = await startEchoServer();
    const echoPort = echo.port;
    try {
      const alice = person('tube-alice');
      const bob = person('tube-bob');
      const offered = await run(alice, ['tube', 'offer', name, '--service', 'echo', '--port', String(echoPort), '--create']);
      expect(offered.stderr).toMatch(/close it with: clique tube close/);
      expect(offered.code, offered.stderr).toBe(0);
      const id = Number(offered.stdout.trim());
      expect(Number.isInteger(id) && id > 0).toBe(true);

      // Bob's service finds the room on mDNS, joins, and waits for the tube list.
      const accepted = await run(bob, ['tube', 'accept', name, '--service', 'echo', '--wait', '30000']);
      expect(accepted.code, accepted.stderr).toBe(0);
      const port = Number(accepted.stdout.trim());
      expect(accepted.stderr).toContain(`127.0.0.1:${port}`);

      const big = randomBytes(10 * 1024 * 1024);
      const back = await roundTrip(port, big);
      expect(back.length).toBe(big.length);
      expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));

      const listed = JSON.parse((await run(bob, ['tubes', name, '--json'])).stdout) as Array<Record<string, unknown>>;
      expect(listed).toMatchObject([{ id, type: 'stream', service: 'echo', state: 'open', requested: false }]);

      // Alice closes her offer: a live connection through the tube is cut.
      const live = new Promise<void>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port });
        s.on('error', () => undefined);
        s.on('close', () => resolve());
        s.resume(); // an unread socket never sees the FIN, and so never closes
        s.write('hello?');
      });
      const closed = await run(alice, ['tube', 'close', name, String(id)]);
      expect(closed.code, closed.stderr).toBe(0);
      await live;
      const again = await run(alice, ['tube', 'close', name, String(id)]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/no tube/);
      await run(alice, ['down']);
      await run(bob, ['down']);
    } finally {
      await echo.close();
    }
  }, 180_000);

  it('usage errors: accept needs --service or --id; offer needs a real port', async () => {
    const alice = person('tube-usage');
    const neither = await run(alice, ['tube', 'accept', 'room']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toMatch(/--service NAME or --id ID/);
    const zero = await run(alice, ['tube', 'offer', 'room', '--service', 'x', '--port', '0']);
    expect(zero.code).toBe(2);
  }, 60_000);
});

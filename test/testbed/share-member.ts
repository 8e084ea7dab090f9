/**
 * A room member for the lossy share test: joins the room at GROUP:PORT on
 * the host's eth0 address as NAME with RoomTubes and RoomShares (as the
 * service does), takes every share into DIR (or none with DIR `-`), and
 * prints JSON lines: ready, member-joined, offer, done. Each stdin line is a
 * path to share. stdin closed: leave and exit.
 *
 *   node --import tsx test/testbed/share-member.ts NAME ADDRESS GROUP PORT DIR
 */
import { createInterface } from 'node:readline';
import { RoomShares } from '../../src/files/room-shares.js';
import { Clique } from '../../src/rooms/clique.js';
import { RoomTubes } from '../../src/tubes/room-tubes.js';

const [name, address, group, port, dir] = process.argv.slice(2);
if (name === undefined || address === undefined || group === undefined || port === undefined || dir === undefined) {
  process.stderr.write('usage: share-member NAME ADDRESS GROUP PORT DIR\n');
  process.exit(2);
}
const print = (value: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

const clique = await Clique.start({ name, interface: address, presence: false, discovery: false, history: false, failureTimeoutMs: 30_000 });
const room = await clique.join('shares', { address: group, port: Number(port), advertise: false, joinWaitMs: 2_000 });
const shares = new RoomShares({ autoAcceptDir: () => (dir === '-' ? undefined : dir) });
shares.attach(room, new RoomTubes(room));
shares.on('offer', (o) => print({ event: 'offer', ...o }));
shares.on('done', (d) => print({ event: 'done', ...d }));
room.on('member-joined', (m) => print({ event: 'member-joined', member: m.name }));
room.on('member-left', (m) => print({ event: 'member-left', member: m.name }));
await room.whenReady();
print({ event: 'ready', members: room.members.filter((m) => !m.self).map((m) => m.name) });
const lines = createInterface({ input: process.stdin });
lines.on('line', (path) => {
  void shares.share('shares', path).then(
    ({ info }) => print({ event: 'sharing', ...info }),
    (error: unknown) => print({ event: 'share-failed', error: String(error) }),
  );
});
lines.on('close', () => {
  void clique.stop().then(() => process.exit(0));
});

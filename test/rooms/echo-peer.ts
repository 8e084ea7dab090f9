/**
 * A room member for the spawned-process tests: joins ROOM by name as NAME
 * (mDNS on loopback), prints what it sees as JSON lines, and answers every
 * message that is not itself an answer with `re: <text>` as a reply. Its
 * answers let the test check causal order across processes. SIGTERM: leave.
 *
 *   node --import tsx test/rooms/echo-peer.ts NAME ROOM FAILURE_TIMEOUT_MS
 */
import { Clique } from '../../src/rooms/clique.js';

const [name, roomName, failureTimeout] = process.argv.slice(2);
if (name === undefined || roomName === undefined || failureTimeout === undefined) {
  process.stderr.write('usage: echo-peer NAME ROOM FAILURE_TIMEOUT_MS\n');
  process.exit(2);
}
const print = (value: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

const clique = await Clique.start({
  name,
  interface: '127.0.0.1',
  presence: false,
  history: false,
  lookupWaitMs: 5000,
  failureTimeoutMs: Number(failureTimeout),
});
const room = await clique.join(roomName);
print({ event: 'joined', address: room.address, port: room.port, creator: room.creator });
const ready = (): void => print({ event: 'ready', members: room.members.filter((m) => !m.self).map((m) => m.name) });
// A creator is a member at once: 'ready' may have fired already.
if (room.joined) ready();
else room.once('ready', ready);
room.on('member-joined', (m) => print({ event: 'member-joined', member: m.name }));
room.on('member-left', (m) => print({ event: 'member-left', member: m.name }));
room.on('message', (m) => {
  print({ event: 'message', sender: m.sender, text: m.text, id: m.id });
  if (!m.text.startsWith('re: ')) {
    room.send(`re: ${m.text}`, { replyTo: m }).catch((error: unknown) => print({ event: 'error', error: String(error) }));
  }
});
process.once('SIGTERM', () => {
  void clique.stop().then(() => process.exit(0));
});

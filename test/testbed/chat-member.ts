/**
 * A room member for the testbed tests: joins the room at GROUP:PORT on the
 * host's eth0 address as NAME, says each stdin line as a message, and prints
 * what it sees as JSON lines. stdin closed: leave and exit.
 *
 *   node --import tsx test/testbed/chat-member.ts NAME ADDRESS GROUP PORT FAILURE_TIMEOUT_MS
 */
import { createInterface } from 'node:readline';
import { Clique } from '../../src/rooms/clique.js';

const [name, address, group, port, failureTimeout] = process.argv.slice(2);
if (name === undefined || address === undefined || group === undefined || port === undefined || failureTimeout === undefined) {
  process.stderr.write('usage: chat-member NAME ADDRESS GROUP PORT FAILURE_TIMEOUT_MS\n');
  process.exit(2);
}
const print = (value: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

const clique = await Clique.start({ name, interface: address, presence: false, discovery: false, history: false, failureTimeoutMs: Number(failureTimeout) });
const room = await clique.join('partition', { address: group, port: Number(port), advertise: false, joinWaitMs: 2_000 });
room.on('member-joined', (m) => print({ event: 'member-joined', member: m.name }));
room.on('member-left', (m) => print({ event: 'member-left', member: m.name }));
room.on('warning', (w) => print({ event: 'warning', kind: w.kind }));
room.on('message', (m) => print({ event: 'message', sender: m.sender, text: m.text, id: m.id, delayed: m.delayedFrom !== undefined }));
await room.whenReady();
print({ event: 'ready', members: room.members.filter((m) => !m.self).map((m) => m.name) });
const lines = createInterface({ input: process.stdin });
lines.on('line', (text) => {
  room.send(text).then(
    () => print({ event: 'sent', text }),
    (error: unknown) => print({ event: 'send-failed', text, error: String(error) }),
  );
});
lines.on('close', () => {
  void clique.stop().then(() => process.exit(0));
});

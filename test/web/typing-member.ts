/**
 * A member of one room on its own (no service, no presence), for the web page's
 * tests: it joins, says it is typing, and on a line "stop" on stdin stops
 * typing. The test SIGKILLs it to show a member lost by silence.
 *   node --import tsx test/web/typing-member.ts NAME ROOM
 */
import { createInterface } from 'node:readline';
import { Logger } from '../../src/base/logger.js';
import { Clique } from '../../src/rooms/clique.js';

const [name, roomName] = process.argv.slice(2);
if (name === undefined || roomName === undefined) throw new Error('usage: typing-member NAME ROOM');
const clique = await Clique.start({ name, rename: false, nick: 'Eve', interface: '127.0.0.1', presence: false, history: false, logger: new Logger({ level: 'silent' }) });
const room = await clique.join(roomName);
if (!room.joined) await new Promise<void>((resolve) => room.once('ready', () => resolve()));
await room.setTyping('composing');
process.stdout.write('typing\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stop') void room.setTyping('active').then(() => process.stdout.write('stopped\n'));
});

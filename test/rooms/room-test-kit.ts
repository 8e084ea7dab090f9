import { randomBytes } from 'node:crypto';
import { Logger, type LogRecord } from '../../src/base/logger.js';
import { RoomDirectory } from '../../src/linklocal/room-directory.js';
import { Clique, type CliqueOptions } from '../../src/rooms/clique.js';
import type { Room } from '../../src/rooms/room.js';
import type { RoomMessage } from '../../src/rooms/room-types.js';

/** Loopback only (NETWORK SAFETY): every multicast and mDNS socket is pinned to it. */
export const LOOPBACK = '127.0.0.1';
/**
 * Shorter id probing, name discovery, gathering and SESSION intervals keep
 * in-process joins quick (loopback loses nothing); the spawned-process tests
 * use the defaults.
 */
export const FAST_TIMING = {
  probeListen: 150,
  probeInterval: 50,
  attemptJoinDelay: [20, 60] as [number, number],
  gatheringQuiet: [400, 500] as [number, number],
  whoisFirstRequest: [10, 30] as [number, number],
  whoisReplyDelay: [10, 30] as [number, number],
  sessionInterval: [300, 600] as [number, number],
};

export function runId(): string {
  return randomBytes(4).toString('hex');
}

/** Captures warnings and errors of the library so tests can check what was logged. */
export function capturingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: new Logger({ level: 'debug', sink: (r) => (r.level === 'debug' ? undefined : records.push(r)) }), records };
}

const started: Clique[] = [];

/** A Clique on loopback with no mDNS and an in-memory history unless told otherwise; stopped in `stopAll`. */
export async function startClique(name: string, options: CliqueOptions = {}): Promise<Clique> {
  const clique = await Clique.start({
    name,
    interface: LOOPBACK,
    presence: false,
    discovery: false,
    history: { path: ':memory:' },
    timing: FAST_TIMING,
    ...options,
  });
  started.push(clique);
  return clique;
}

const directories: RoomDirectory[] = [];

/** A third party watching `_clique._udp` on loopback (closed by stopAll). */
export async function observer(): Promise<RoomDirectory> {
  const directory = await RoomDirectory.open({ interface: LOOPBACK });
  directories.push(directory);
  return directory;
}

export async function stopAll(): Promise<void> {
  await Promise.all(started.splice(0).map((c) => c.stop()));
  await Promise.all(directories.splice(0).map((d) => d.close()));
}

/** Everything a room emits, recorded for assertions. */
export interface RoomLog {
  messages: RoomMessage[];
  joined: string[];
  left: string[];
  events: string[];
}

export function record(room: Room): RoomLog {
  const log: RoomLog = { messages: [], joined: [], left: [], events: [] };
  room.on('message', (m) => {
    log.messages.push(m);
    log.events.push(`message ${m.sender} ${m.text}`);
  });
  room.on('member-joined', (m) => {
    log.joined.push(m.name);
    log.events.push(`joined ${m.name}`);
  });
  room.on('member-left', (m) => {
    log.left.push(m.name);
    log.events.push(`left ${m.name}`);
  });
  room.on('topic', (t) => log.events.push(`topic ${t.topic} by ${t.setBy}${t.replay ? ' (replay)' : ''}`));
  room.on('ready', () => log.events.push('ready'));
  return log;
}

import { InvalidArgumentError, Option, type Command } from 'commander';
import { Logger, levelFromEnv, type LogLevel } from '../base/logger.js';
import { MdnsError } from '../mdns/mdns-error.js';
import { Clique, MIN_FAILURE_TIMEOUT_MS } from '../rooms/clique.js';
import { RoomError } from '../rooms/room-error.js';
import type { Room } from '../rooms/room.js';
import type { RoomMember } from '../rooms/room-types.js';
import { parseGroup, parsePort } from './address-options.js';
import { interfaceOption } from './interface-option.js';
import { UsageError } from './usage-error.js';
import { parseSelfName } from './name-options.js';

/** Options shared by the script-friendly room commands `send` and `listen`. */
export interface RoomScriptOptions {
  name?: string;
  nick?: string;
  address?: string;
  port?: number;
  interface?: string;
  failureTimeoutMs?: number;
  /** A path, or false with --no-history-file. */
  historyFile?: string | false;
  lookupMs: number;
  json?: boolean;
  logLevel?: LogLevel;
}

const DEFAULT_LOOKUP_MS = 3000;

/** Adds the options the room commands (`join`, `send`, `listen`) share; `--json` for the scripted ones. */
export function addRoomScriptOptions(command: Command, { json = true }: { json?: boolean } = {}): Command {
  command
    .option('-n, --nick <nick>', 'our nick in the room')
    .option('--name <user@host>', 'our identity in the room, exactly (exit 1 if it is in use); default <login>@<host>, or <login>-2@<host>… if that is taken', parseSelfName)
    .option('-a, --address <group>', 'use this multicast group directly (a private room; no lookup), with --port', parseGroup)
    .option('-p, --port <port>', 'UDP port of the room, with --address', parsePort)
    .addOption(interfaceOption());
  if (json) command.option('--json', 'print one JSON object per line');
  return command
    .option('--lookup-ms <ms>', 'how long to look for the room on mDNS before creating it', parseMs, DEFAULT_LOOKUP_MS)
    .option('--failure-timeout-ms <ms>', `report a silent member gone after at most this long; members heard regularly go sooner, about 6 s on a quiet LAN (>= ${MIN_FAILURE_TIMEOUT_MS}; default 30000)`, parseFailureTimeout)
    .option('--history-file <path>', 'local history database (default: $XDG_DATA_HOME/clique/history.sqlite)')
    .option('--no-history-file', 'keep no local history')
    .addOption(new Option('--log-level <level>', 'log to stderr at this level (default: CLIQUE_LOG or warn)').choices(['debug', 'info', 'warn', 'error', 'silent']));
}

/**
 * Starts Clique for a script: rooms only (no XEP-0174 presence, so a
 * one-shot `send` does not flash a contact on everyone's list), mDNS room
 * lookup unless an address is given. Our own mistakes are usage errors.
 */
export async function startScriptClique(options: RoomScriptOptions): Promise<Clique> {
  if ((options.address === undefined) !== (options.port === undefined)) {
    throw new UsageError('--address and --port go together (a private room)');
  }
  try {
    return await Clique.start({
      // An explicit --name is used exactly or not at all; the default one becomes user-2@host if taken.
      ...(options.name !== undefined ? { name: options.name, rename: false } : {}),
      ...(options.nick !== undefined ? { nick: options.nick } : {}),
      ...(options.interface !== undefined ? { interface: options.interface } : {}),
      ...(options.failureTimeoutMs !== undefined ? { failureTimeoutMs: options.failureTimeoutMs } : {}),
      presence: false,
      history: options.historyFile === false ? false : options.historyFile !== undefined ? { path: options.historyFile } : {},
      lookupWaitMs: options.lookupMs,
      logger: new Logger({ level: options.logLevel ?? levelFromEnv() }),
    });
  } catch (error) {
    throw asUsageError(error);
  }
}

/**
 * Joins for a script; bad names and addresses are usage errors (exit 2).
 * `joinWaitMs`: when a joiner that sees nobody counts as a member anyway.
 */
export async function joinScriptRoom(clique: Clique, roomName: string, options: RoomScriptOptions, joinWaitMs?: number): Promise<Room> {
  try {
    return await clique.join(roomName, {
      ...(joinWaitMs !== undefined ? { joinWaitMs } : {}),
      ...(options.nick !== undefined ? { nick: options.nick } : {}),
      ...(options.address !== undefined && options.port !== undefined ? { address: options.address, port: options.port } : {}),
    });
  } catch (error) {
    await clique.stop();
    throw asUsageError(error);
  }
}

/** Our own mistakes (bad room name, address, interface, identity) as usage errors: exit 2. */
export function asUsageError(error: unknown): unknown {
  if (error instanceof RoomError && (error.code === 'bad-name' || error.code === 'bad-argument')) return new UsageError(error.message);
  if (error instanceof MdnsError && error.code === 'mdns-interface') return new UsageError(`--interface: ${error.message}`);
  if (error instanceof MdnsError && error.code === 'mdns-name') return new UsageError(`--name: ${error.message}`);
  return error;
}

/** A member as JSON output shows it. */
export function memberJson(member: RoomMember): Record<string, unknown> {
  return { member: member.name, nick: member.nick ?? null, status: member.status, statusMessage: member.statusMessage ?? null };
}

/** One JSON object per line (the shared safe writer). */
export { writeJsonLine } from './json-output.js';

/** Resolves once stdout has taken everything written so far. */
export function stdoutFlushed(): Promise<void> {
  return new Promise((resolve) => process.stdout.write('', () => resolve()));
}

function parseMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a whole number of milliseconds');
  return n;
}

function parseFailureTimeout(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < MIN_FAILURE_TIMEOUT_MS || n > 3_600_000) {
    throw new InvalidArgumentError(`must be a duration in ms between ${MIN_FAILURE_TIMEOUT_MS} and 3600000`);
  }
  return n;
}

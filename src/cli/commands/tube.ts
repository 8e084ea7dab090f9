import type { Command } from 'commander';
import { interfaceOption } from '../interface-option.js';
import { writeJsonDocument } from '../json-output.js';
import { wholeNumberParser } from '../number-options.js';
import { checkRoomNameForCli, connectService, serviceUsageError } from '../service-session.js';
import type { ServiceClient } from '../../service/service-client.js';
import { printable } from '../terminal-text.js';
import { UsageError } from '../usage-error.js';

interface TubeCommonOptions {
  interface?: string;
  json?: boolean;
}

const portNumber = wholeNumberParser(65535);
const tubeId = wholeNumberParser(4_294_967_295);

/**
 * `clique tube offer|accept|close`: room stream tubes (spec §7.5) held by the
 * clique service, so a tube outlives the command that opened it.
 */
export function registerTubeCommand(program: Command): void {
  const tube = program.command('tube').description('share a local TCP service with a room, or reach one a member shares (stream tubes)');

  tube
    .command('offer')
    .description('offer a local TCP service to the room; prints the tube id (it stays offered until `clique tube close` or the service stops)')
    .argument('<room>', 'room name')
    .requiredOption('--service <name>', 'what the tube carries, as members will see it (e.g. http, vnc, chess)')
    .requiredOption('--port <port>', 'the local service\'s TCP port', portNumber)
    .option('--host <address>', 'the local service\'s address', '127.0.0.1')
    .option('--create', 'create the room if nobody advertises it')
    .addOption(interfaceOption())
    .option('--json', 'print {room, id, service, initiator, host, port} as JSON')
    .action(async (room: string, options: TubeCommonOptions & { service: string; port: number; host: string; create?: boolean }) => {
      checkRoomNameForCli(room);
      if (options.port === 0) throw new UsageError('--port: 0 is not a port a service listens on');
      const offered = await withService(options, async (client) => {
        await client.request('rooms.join', { room, hold: 'stay', create: options.create === true });
        return client.request('tubes.offer', { room, service: options.service, port: options.port, host: options.host });
      });
      if (options.json) return writeJsonDocument(offered);
      process.stdout.write(`${offered.id}\n`);
      process.stderr.write(
        `clique: tube ${offered.id} offers ${printable(offered.service)} (${printable(offered.host)}:${offered.port}) in ${printable(room)}; ` +
          `close it with: clique tube close ${printable(room)} ${offered.id}\n`,
      );
    });

  tube
    .command('accept')
    .description('accept the stream tube a member offers for a service; prints the local port to connect to')
    .argument('<room>', 'room name')
    .option('--service <name>', 'the service of the tube to accept')
    .option('--id <id>', 'the id of the tube to accept (instead of --service)', tubeId)
    .option('--listen <port>', 'local port to listen on (default: any free port)', portNumber)
    .option('--wait <ms>', 'how long to wait for such a tube to be offered', wholeNumberParser(600_000), 10_000)
    .addOption(interfaceOption())
    .option('--json', 'print {room, id, service, initiator, host, port} as JSON')
    .action(async (room: string, options: TubeCommonOptions & { service?: string; id?: number; listen?: number; wait: number }) => {
      checkRoomNameForCli(room);
      if ((options.service === undefined) === (options.id === undefined)) throw new UsageError('give --service NAME or --id ID (one of them)');
      const accepted = await withService(options, async (client) => {
        await client.request('rooms.join', { room, hold: 'stay', create: false });
        return client.request('tubes.accept', {
          room,
          ...(options.service !== undefined ? { service: options.service } : {}),
          ...(options.id !== undefined ? { id: options.id } : {}),
          ...(options.listen !== undefined ? { listenPort: options.listen } : {}),
          waitMs: options.wait,
        });
      });
      if (options.json) return writeJsonDocument(accepted);
      process.stdout.write(`${accepted.port}\n`);
      process.stderr.write(
        `clique: connect to ${accepted.host}:${accepted.port} to reach ${printable(accepted.service)} of ${printable(accepted.initiator)} (tube ${accepted.id}); ` +
          `close it with: clique tube close ${printable(room)} ${accepted.id}\n`,
      );
    });

  tube
    .command('close')
    .description('close a stream tube (ours: every connection through it is cut; accepted: stop listening)')
    .argument('<room>', 'room name')
    .argument('<id>', 'tube id (see `clique tubes ROOM`)', tubeId)
    .addOption(interfaceOption())
    .action(async (room: string, id: number, options: TubeCommonOptions) => {
      checkRoomNameForCli(room);
      const { closed } = await withService(options, (client) => client.request('tubes.close', { room, id }), false);
      if (!closed) {
        process.stderr.write(`clique: no tube ${id} in ${printable(room)}\n`);
        process.exitCode = 1;
      }
    });
}

async function withService<T>(options: TubeCommonOptions, call: (client: ServiceClient) => Promise<T>, start = true): Promise<T> {
  const { client } = await connectService(options, { start });
  try {
    return await call(client);
  } catch (error) {
    throw serviceUsageError(error);
  } finally {
    client.close();
  }
}


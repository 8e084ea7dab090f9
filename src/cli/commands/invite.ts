import { InvalidArgumentError, type Command } from 'commander';
import { isIP } from 'node:net';
import { parsePort } from '../address-options.js';
import { parseTimeoutMs } from '../discovery-options.js';
import { interfaceOption } from '../interface-option.js';
import { hostPort, startCliService, writeLine } from '../link-local-session.js';
import { writeEvent } from '../json-output.js';
import { UsageError } from '../usage-error.js';
import { connectService, noServiceOption, serviceUsageError } from '../service-session.js';
import { parseSelfName } from '../name-options.js';
import { parseRoomName } from '../name-options.js';

const DEFAULT_WAIT_MS = 5000;

interface InviteOptions {
  interface?: string;
  name?: string;
  nick?: string;
  address?: string;
  port?: number;
  reason?: string;
  timeout?: number;
  json?: boolean;
  /** False with --no-service. */
  service: boolean;
}

function parseAddress(value: string): string {
  if (isIP(value) === 0) throw new InvalidArgumentError('not an IP address (the room\'s multicast group, e.g. 239.255.71.23)');
  return value;
}

/**
 * `clique invite CONTACT ROOM`: sends a Clique room invitation (spec §5).
 * The room's group and port are those it is advertised with on the network
 * (`_clique._udp`), unless `--address` and `--port` give them.
 */
export function registerInviteCommand(program: Command): void {
  program
    .command('invite')
    .description('invite a contact to a chat room, through the clique service (--no-service: comes online briefly)')
    .argument('<contact>', "the contact's name, user@host (see: clique contacts)")
    .argument('<room>', 'the room name (see: clique rooms)', parseRoomName)
    .option('--address <address>', "the room's multicast group (default: as advertised on the network)", parseAddress)
    .option('--port <port>', "the room's UDP port (default: as advertised on the network)", parsePort)
    .option('--reason <text>', 'a message to go with the invitation')
    .option('-n, --nick <nick>', 'nickname to publish while online')
    .option('--name <user@host>', 'our name on the network, exactly (exit 1 if it is in use); default <login>@<host>, or <login>-2@<host>… if that is taken', parseSelfName)
    .option('-t, --timeout <ms>', `how long to wait for the contact (and the room) to appear (default ${DEFAULT_WAIT_MS})`, parseTimeoutMs)
    .option('--json', 'print the result as one JSON object')
    .addOption(interfaceOption())
    .addOption(noServiceOption())
    .action(async (contact: string, room: string, options: InviteOptions) => {
      if (room === '') throw new UsageError('the room name is empty');
      if ((options.address === undefined) !== (options.port === undefined)) {
        throw new UsageError('give both --address and --port, or neither (to use the advertised room)');
      }
      if (options.service) {
        const { client } = await connectService(options);
        let sent: { address: string; port: number };
        try {
          sent = await client.request('invite', {
            contact,
            room,
            timeoutMs: options.timeout ?? DEFAULT_WAIT_MS,
            ...(options.reason !== undefined ? { reason: options.reason } : {}),
            ...(options.address !== undefined && options.port !== undefined ? { address: options.address, port: options.port } : {}),
          });
        } catch (error) {
          throw serviceUsageError(error);
        } finally {
          client.close();
        }
        if (options.json) writeEvent({ event: 'invited', from: client.identity.name, to: contact, room, address: sent.address, port: sent.port, reason: options.reason ?? '' });
        else writeLine(`invited ${contact} to ${room} (${hostPort(sent.address, sent.port)})`);
        return;
      }
      // Any free port: a brief visit should not take 5298 from a long-running client.
      const service = await startCliService({ ...options, tcpPort: 0 });
      const from = service.name;
      let address: string;
      let port: number;
      try {
        // Both are looked for at once, so the whole wait is at most --timeout.
        const timeoutMs = options.timeout ?? DEFAULT_WAIT_MS;
        const explicit = options.address !== undefined && options.port !== undefined ? { name: room, address: options.address, port: options.port } : undefined;
        const [, found] = await Promise.all([service.waitForContact(contact, { timeoutMs }), explicit ?? service.waitForRoom(room, { timeoutMs })]);
        ({ address, port } = found);
        await service.sendInvitation(contact, { room, address, port, ...(options.reason !== undefined ? { reason: options.reason } : {}) });
      } finally {
        await service.stop();
      }
      const reason = options.reason ?? '';
      if (options.json) writeEvent({ event: 'invited', from, to: contact, room, address, port, reason });
      else writeLine(`invited ${contact} to ${room} (${hostPort(address, port)})`);
    });
}

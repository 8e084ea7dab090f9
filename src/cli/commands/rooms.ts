import type { Command } from 'commander';
import type { RoomAddress } from '../../linklocal/room-advertiser.js';
import { RoomBrowser } from '../../linklocal/room-browser.js';
import { openCliResponder, parseTimeoutMs, untilTimeoutOrSignal } from '../discovery-options.js';
import { interfaceOption } from '../interface-option.js';
import { writeJsonDocument } from '../json-output.js';
import { printable } from '../terminal-text.js';
import { connectService, noServiceOption } from '../service-session.js';

const DEFAULT_BROWSE_MS = 3000;

/** `clique rooms`: the Clique rooms advertised on the LAN (`_clique._udp`), after a short browse. */
export function registerRoomsCommand(program: Command): void {
  program
    .command('rooms')
    .description('list chat rooms advertised on the local network, as the clique service sees them (--no-service: browse on its own)')
    .addOption(interfaceOption())
    .option('--json', 'print a JSON array of {name, address, port}')
    .option('-t, --timeout <ms>', `how long to browse (default ${DEFAULT_BROWSE_MS}); through a running service the list is at once`, parseTimeoutMs)
    .addOption(noServiceOption())
    .action(async (options: { interface?: string; json?: boolean; timeout?: number; service: boolean }) => {
      if (options.service) {
        const { client, started } = await connectService(options);
        let rooms: Array<{ room: string; address: string; port: number }>;
        try {
          // A service started just now has not heard the answers yet: it browses first.
          if (started) await untilTimeoutOrSignal(options.timeout ?? DEFAULT_BROWSE_MS);
          rooms = (await client.request('rooms.list', {})).rooms.sort((a, b) => a.room.localeCompare(b.room));
        } finally {
          client.close();
        }
        if (options.json) writeJsonDocument(rooms.map((r) => ({ name: r.room, address: r.address, port: r.port })));
        else if (rooms.length === 0) process.stdout.write('no rooms found\n');
        else for (const r of rooms) process.stdout.write(`${printable(r.room)}  ${r.address}:${r.port}\n`);
        return;
      }
      const responder = await openCliResponder(options.interface);
      const browser = new RoomBrowser(responder);
      let rooms: RoomAddress[];
      try {
        await untilTimeoutOrSignal(options.timeout ?? DEFAULT_BROWSE_MS);
        rooms = browser.list().sort((a, b) => a.name.localeCompare(b.name));
      } finally {
        browser.close();
        await responder.close();
      }
      if (options.json) writeJsonDocument(rooms);
      else if (rooms.length === 0) process.stdout.write('no rooms found\n');
      else for (const r of rooms) process.stdout.write(`${printable(r.name)}  ${r.address}:${r.port}\n`);
    });
}

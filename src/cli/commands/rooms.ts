import type { Command } from 'commander';
import type { RoomAddress } from '../../linklocal/room-advertiser.js';
import { RoomBrowser } from '../../linklocal/room-browser.js';
import { openCliResponder, parseTimeoutMs, untilTimeoutOrSignal } from '../discovery-options.js';
import { interfaceOption } from '../interface-option.js';
import { writeJsonDocument } from '../json-output.js';
import { printable } from '../terminal-text.js';

const DEFAULT_BROWSE_MS = 3000;

/** `clique rooms`: the Clique rooms advertised on the LAN (`_clique._udp`), after a short browse. */
export function registerRoomsCommand(program: Command): void {
  program
    .command('rooms')
    .description('list chat rooms advertised on the local network')
    .addOption(interfaceOption())
    .option('--json', 'print a JSON array of {name, address, port}')
    .option('-t, --timeout <ms>', `how long to browse (default ${DEFAULT_BROWSE_MS})`, parseTimeoutMs)
    .action(async (options: { interface?: string; json?: boolean; timeout?: number }) => {
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

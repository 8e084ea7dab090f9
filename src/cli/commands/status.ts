import type { Command } from 'commander';
import { ServiceError } from '../../service/service-error.js';
import { servicePaths } from '../../service/service-paths.js';
import { interfaceOption } from '../interface-option.js';
import { writeJsonLine } from '../room-script-session.js';
import { connectService } from '../service-session.js';
import { printable } from '../terminal-text.js';

/** `clique status`: what the service holds (identity, rooms, clients). Exit 1 when no service runs. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('show what the clique service holds: identity, rooms, clients (exit 1 if it is not running)')
    .addOption(interfaceOption())
    .option('--json', 'print one JSON object')
    .action(async (options: { interface?: string; json?: boolean }) => {
      let connected;
      try {
        connected = await connectService(options, { start: false });
      } catch (error) {
        if (!(error instanceof ServiceError && error.code === 'not-running')) throw error;
        const socket = servicePaths(options.interface).socket;
        if (options.json) writeJsonLine({ running: false, socket });
        else process.stdout.write(`no clique service is running (${socket})\n`);
        process.exitCode = 1;
        return;
      }
      const { client } = connected;
      try {
        const status = await client.request('status', {});
        if (options.json) {
          writeJsonLine({ running: true, ...status });
          return;
        }
        const s = status.service;
        const lines = [
          `clique service ${printable(s.name)}${s.nick !== null ? ` (${printable(s.nick)})` : ''}, pid ${s.pid}, up since ${status.startedAt}`,
          `socket ${s.socket}, interface ${s.interface ?? 'default'}, protocol ${status.protocol}`,
          `${status.clients} client${status.clients === 1 ? '' : 's'} connected, ${status.contacts} contact${status.contacts === 1 ? '' : 's'} on the link`,
        ];
        if (status.rooms.length === 0) lines.push('in no rooms');
        for (const r of status.rooms) {
          const held = r.stay ? 'joined' : r.holders > 0 ? `held by ${r.holders} client${r.holders === 1 ? '' : 's'}` : `idle until ${r.lingerUntil ?? '?'}`;
          const members = r.members.length === 0 ? 'nobody else' : r.members.map((m) => printable(m.nick ?? m.member)).join(', ');
          lines.push(`room ${printable(r.room)} (${r.address}:${r.port}): ${held}; with ${members}; ${r.subscribers} listening`);
        }
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        client.close();
      }
    });
}

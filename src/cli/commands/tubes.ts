import type { Command } from 'commander';
import type { TubeJson } from '../../service/control-protocol.js';
import { ServiceError } from '../../service/service-error.js';
import { interfaceOption } from '../interface-option.js';
import { writeJsonDocument } from '../json-output.js';
import { checkRoomNameForCli, connectService, serviceUsageError } from '../service-session.js';
import { printable } from '../terminal-text.js';

/** `clique tubes ROOM`: the room's tubes as the clique service holds them (spec §7). */
export function registerTubesCommand(program: Command): void {
  program
    .command('tubes')
    .description('list the tubes of a room the clique service is in: ours and those other members offer (exit 1 if no service runs)')
    .argument('<room>', 'room name')
    .addOption(interfaceOption())
    .option('--json', 'print a JSON array of tubes: {id, type, service, initiator, state, requested, streamId, dbusName, parameters, members}')
    .action(async (room: string, options: { interface?: string; json?: boolean }) => {
      checkRoomNameForCli(room);
      let connected;
      try {
        // Tubes live in the service's membership: starting a service just to find it empty would help nobody.
        connected = await connectService(options, { start: false });
      } catch (error) {
        if (!(error instanceof ServiceError && error.code === 'not-running')) throw error;
        process.stderr.write('clique: no clique service is running, so it is in no room (join one first)\n');
        process.exitCode = 1;
        return;
      }
      const { client } = connected;
      let tubes: TubeJson[];
      try {
        tubes = (await client.request('rooms.tubes', { room })).tubes;
      } catch (error) {
        throw serviceUsageError(error);
      } finally {
        client.close();
      }
      if (options.json) writeJsonDocument(tubes);
      else process.stdout.write(tubeTable(tubes));
    });
}

/** One line per tube, then its members indented; 'no tubes' when empty. */
export function tubeTable(tubes: TubeJson[]): string {
  if (tubes.length === 0) return 'no tubes\n';
  const lines: string[] = [];
  for (const t of tubes) {
    const state = t.state === 'open' ? (t.requested ? 'open (ours)' : 'open') : 'offered to us';
    const parameters = Object.entries(t.parameters).map(([name, p]) => `${printable(name)}=${printable(String(p.value))}`);
    lines.push(`${t.id}  ${t.type}  ${printable(t.service)}  by ${printable(t.initiator)}  ${state}${parameters.length > 0 ? `  ${parameters.join(' ')}` : ''}`);
    for (const m of t.members) {
      const stream = m.streamId !== null ? `  stream ${m.streamId}` : '';
      const name = m.dbusName !== null ? `  ${printable(m.dbusName)}` : '';
      lines.push(`    ${printable(m.member)}${m.self ? ' (us)' : ''}${stream}${name}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

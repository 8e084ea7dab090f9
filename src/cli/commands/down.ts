import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { ServiceError } from '../../service/service-error.js';
import { servicePaths } from '../../service/service-paths.js';
import { interfaceOption } from '../interface-option.js';
import { connectService } from '../service-session.js';
import { printable } from '../terminal-text.js';

const STOP_WAIT_MS = 30_000;

/** `clique down`: asks the service to stop (it leaves its rooms with BYE and goes offline) and waits until it has. */
export function registerDownCommand(program: Command): void {
  program
    .command('down')
    .description('stop the clique service: leave every room, go offline')
    .addOption(interfaceOption())
    .action(async (options: { interface?: string }) => {
      let connected;
      try {
        connected = await connectService(options, { start: false });
      } catch (error) {
        if (error instanceof ServiceError && error.code === 'not-running') {
          process.stdout.write('no clique service is running\n');
          return;
        }
        throw error;
      }
      const { client } = connected;
      const me = client.identity;
      const closed = new Promise<void>((resolve) => client.once('close', resolve));
      await client.request('shutdown', {});
      await closed;
      // The socket goes last, once rooms are left and goodbyes sent.
      const socket = servicePaths(options.interface).socket;
      const deadline = Date.now() + STOP_WAIT_MS;
      while (existsSync(socket) && Date.now() < deadline) await sleep(50);
      if (existsSync(socket)) throw new ServiceError('timeout', `the service (pid ${me.pid}) did not stop within ${STOP_WAIT_MS} ms`);
      process.stdout.write(`stopped clique service ${printable(me.name)} (pid ${me.pid})\n`);
    });
}

import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { Logger, levelFromEnv, type LogLevel } from '../../base/logger.js';
import { MdnsError } from '../../mdns/mdns-error.js';
import { CliqueService, DEFAULT_LINGER_MS } from '../../service/clique-service.js';
import { servicePaths } from '../../service/service-paths.js';
import { interfaceOption } from '../interface-option.js';
import { wholeNumberParser } from '../number-options.js';
import { checkLocalInterface, connectService } from '../service-session.js';
import { printable } from '../terminal-text.js';
import { UsageError } from '../usage-error.js';
import { parseSelfName } from '../name-options.js';

const STOP_GRACE_MS = 20_000;

interface UpOptions {
  daemon?: boolean;
  interface?: string;
  name?: string;
  nick?: string;
  lingerMs: number;
  logLevel?: LogLevel;
  lookupMs?: number;
  acceptFiles?: string;
}

/**
 * `clique up`: runs the person's clique service in the foreground until
 * SIGTERM/SIGINT or `clique down` (then it leaves its rooms with BYE, sends
 * mDNS goodbyes and removes its socket). `--daemon` starts it in the
 * background instead (as any command that needs it does) and returns.
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('run the clique service (your presence and rooms) in the foreground; --daemon starts it in the background')
    .option('-d, --daemon', 'start it in the background and return once it listens')
    .option('--name <user@host>', 'our identity, exactly (exit 1 if someone on the network already uses it); default <login>@<host>, or <login>-2@<host>… if that is taken', parseSelfName)
    .option('-n, --nick <nick>', 'our nick')
    .addOption(interfaceOption())
    .option('--linger-ms <ms>', `how long a room joined only for \`send\` stays joined after the last send`, wholeNumberParser(86_400_000), DEFAULT_LINGER_MS)
    .option('--lookup-ms <ms>', 'right after start, how long to look for a room on mDNS before creating it (default 3000)', wholeNumberParser(3_600_000))
    .option('--accept-files <dir>', 'receive every file offered to us into this directory, without asking')
    .addOption(new Option('--log-level <level>', 'log to stderr at this level (default: CLIQUE_LOG or warn)').choices(['debug', 'info', 'warn', 'error', 'silent']))
    .addHelpText(
      'after',
      '\nThe control socket is $XDG_RUNTIME_DIR/clique/service[-<interface>].sock (else /tmp/clique-<uid>/), mode 0600;\n' +
        'the log of a background service is $XDG_DATA_HOME/clique/service[-<interface>].log. Stop it with `clique down`.',
    )
    .action(async (options: UpOptions) => {
      if (options.interface !== undefined) checkLocalInterface(options.interface);
      if (options.daemon) await runDaemon(options);
      else await runForeground(options);
    });
}

async function runDaemon(options: UpOptions): Promise<void> {
  const { client, started } = await connectService(options);
  const me = client.identity;
  if (options.acceptFiles !== undefined) await client.request('files.auto-accept', { dir: resolve(options.acceptFiles), hold: 'stay' });
  client.close();
  process.stdout.write(`${started ? 'started' : 'already running:'} clique service ${printable(me.name)} (pid ${me.pid}) on ${me.socket}\n`);
}

async function runForeground(options: UpOptions): Promise<void> {
  // Nothing the service writes (history, log, lock) is for other users' eyes.
  process.umask(0o077);
  let service: CliqueService;
  try {
    service = await CliqueService.start({
      ...(options.interface !== undefined ? { interface: options.interface } : {}),
      ...(options.name !== undefined ? { name: options.name, rename: false } : {}),
      ...(options.nick !== undefined ? { nick: options.nick } : {}),
      lingerMs: options.lingerMs,
      ...(options.acceptFiles !== undefined ? { acceptFilesDir: resolve(options.acceptFiles) } : {}),
      ...(options.lookupMs !== undefined ? { lookupMs: options.lookupMs } : {}),
      paths: servicePaths(options.interface),
      logger: new Logger({ level: options.logLevel ?? levelFromEnv() }),
    });
  } catch (error) {
    if (error instanceof MdnsError && error.code === 'mdns-name') throw new UsageError(`--name: ${error.message}`);
    if (error instanceof MdnsError && error.code === 'mdns-interface') throw new UsageError(`--interface: ${error.message}`);
    throw error;
  }
  const stop = (signal: string): void => {
    // Leaving rooms and saying goodbye take a moment; a service stuck in it must still end.
    setTimeout(() => {
      process.stderr.write(`clique: the service did not stop within ${STOP_GRACE_MS} ms of ${signal}; exiting anyway\n`);
      process.exit(1);
    }, STOP_GRACE_MS).unref();
    void service.stop(`signal ${signal}`);
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.stdout.on('error', () => undefined);
  process.stdout.write(`clique service up as ${printable(service.name)} (pid ${process.pid}) on ${service.paths.socket}\n`);
  await service.stopped;
  process.stdout.write('clique service stopped\n');
  process.exit(0);
}

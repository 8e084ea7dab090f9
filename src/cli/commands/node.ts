import { InvalidArgumentError, Option, type Command } from 'commander';
import { CliqueError } from '../../base/clique-error.js';
import { errorText } from '../../base/error-text.js';
import { levelFromEnv, Logger, type LogLevel } from '../../base/logger.js';
import type { EngineTiming } from '../../rmcast/engine-types.js';
import type { EngineDriver } from '../../net/engine-driver.js';
import { LineSplitter } from '../../net/line-splitter.js';
import { openMulticastNode } from '../../net/multicast-node.js';
import { runStdioHarness } from '../../net/stdio-harness.js';
import { interfaceOption } from '../interface-option.js';
import { UsageError } from '../usage-error.js';
import { printable } from '../terminal-text.js';
import { parseGroup, parsePort } from '../address-options.js';

interface NodeOptions {
  stdio?: boolean;
  group?: string;
  port?: number;
  interface?: string;
  failureTimeoutMs?: number;
  logLevel?: LogLevel;
}

/**
 * `clique node NAME --group G --port P [--interface ADDR]`: a bare rMulticast
 * line chat on stream 0 (the first demo until rooms exist).
 * `clique node --stdio NAME`: the original test harness's line protocol.
 */
export function registerNodeCommand(program: Command): void {
  program
    .command('node')
    .description('join an rMulticast group as NAME: a line chat over UDP multicast, or the test-harness protocol with --stdio')
    .argument('<name>', 'our name in the group (e.g. user@host)')
    .option('--stdio', 'speak the original test-harness line protocol on stdin/stdout instead of using the network')
    .option('-g, --group <address>', 'IPv4 multicast group, e.g. 239.255.71.23', parseGroup)
    .option('-p, --port <port>', 'UDP port', parsePort)
    .addOption(interfaceOption())
    .option('--failure-timeout-ms <ms>', 'report a silent member lost after at most this long (members heard regularly go sooner, about 6 s on a quiet LAN); 0 = only the 5-minute watchdog (default 30000)', parseTimeout)
    .addOption(
      new Option('--log-level <level>', 'log to stderr at this level (default: CLIQUE_LOG or warn)').choices([
        'debug',
        'info',
        'warn',
        'error',
        'silent',
      ]),
    )
    .action(async (name: string, options: NodeOptions) => {
      const logger = new Logger({ level: options.logLevel ?? levelFromEnv() });
      const timing: Partial<EngineTiming> = options.failureTimeoutMs !== undefined ? { silenceTimeout: options.failureTimeoutMs } : {};
      if (options.stdio) {
        // --interface may come from CLIQUE_INTERFACE; it is simply unused here.
        if (options.group !== undefined || options.port !== undefined) {
          throw new UsageError('--stdio uses no network: drop --group and --port');
        }
        const status = await runStdioHarness({ name, input: process.stdin, output: process.stdout, errors: process.stderr, timing, logger });
        await exitAfterFlush(status);
        return;
      }
      if (options.group === undefined || options.port === undefined) {
        throw new UsageError('--group and --port are required (or use --stdio)');
      }
      await runLineChat(name, { group: options.group, port: options.port, interface: options.interface, timing, logger });
    });
}

async function runLineChat(
  name: string,
  options: { group: string; port: number; interface: string | undefined; timing: Partial<EngineTiming>; logger: Logger },
): Promise<void> {
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  let node: EngineDriver;
  try {
    node = await openMulticastNode({
      name,
      group: options.group,
      port: options.port,
      ...(options.interface !== undefined ? { interface: options.interface } : {}),
      timing: options.timing,
      logger: options.logger,
    });
  } catch (error) {
    if (error instanceof CliqueError && error.code === 'bad-name') throw new UsageError(error.message);
    throw error;
  }
  say(`* joining ${options.group}:${options.port} as ${printable(name)}`);

  // Lines typed before we have a sender id wait for it (bounded).
  const pending: string[] = [];
  const send = (text: string): void => {
    try {
      node.send(0, new TextEncoder().encode(text));
    } catch (error) {
      process.stderr.write(`clique: not sent: ${errorText(error)}\n`);
    }
  };
  node.on('connected', () => {
    say('* connected');
    for (const text of pending.splice(0)) send(text);
  });
  node.on('members-joined', (names) => names.forEach((n) => say(`* ${printable(n)} joined`)));
  // 'failed': lost by silence or a failure round; 'reset': the group declared us failed and we rejoin.
  const why = { left: '', failed: ' (timed out)', reset: ' (we rejoin under a new id)' } as const;
  node.on('members-lost', (names, reason) => names.forEach((n) => say(`* ${printable(n)} left${why[reason]}`)));
  node.on('message', (m) => {
    if (m.streamId !== 0) return;
    const text = new TextDecoder().decode(m.data).replace(/\r?\n$/, '');
    for (const line of text.split('\n')) say(`${printable(m.sender)}: ${printable(line)}`);
  });
  node.on('error', (error) => process.stderr.write(`clique: ${printable(error.message)} (${error.code})\n`));

  await new Promise<void>((resolve) => {
    let leaving = false;
    const leave = (): void => {
      if (leaving) return;
      leaving = true;
      process.stdin.off('data', onData);
      process.stdin.pause();
      void node.leave().then(() => {
        say('* left');
        resolve();
      });
    };
    const splitter = new LineSplitter(
      60_000,
      (line) => {
        if (line === '/quit') return leave();
        if (line === '') return;
        if (node.state === 'connected') send(line);
        else if (pending.length < 100) pending.push(line);
        else process.stderr.write('clique: not connected yet; line dropped\n');
      },
      () => process.stderr.write('clique: line too long; dropped\n'),
    );
    const onData = (chunk: Buffer): void => splitter.push(chunk);
    process.stdin.on('data', onData);
    process.stdin.once('end', () => {
      splitter.end();
      leave();
    });
    process.once('SIGINT', leave);
    process.once('SIGTERM', leave);
  });
  await exitAfterFlush(0);
}

async function exitAfterFlush(status: number): Promise<never> {
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(status);
}



/** Original members send a SESSION every 1.5-3 s (ours every 0.7-1.3 s): a shorter silence would fail healthy ones. */
const MIN_FAILURE_TIMEOUT_MS = 3500;

function parseTimeout(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || (ms !== 0 && (ms < MIN_FAILURE_TIMEOUT_MS || ms > 3_600_000))) {
    throw new InvalidArgumentError(`not 0 or a duration in ms between ${MIN_FAILURE_TIMEOUT_MS} and 3600000`);
  }
  return ms;
}

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import { Logger, levelFromEnv } from '../../base/logger.js';
import { ServiceClient } from '../../service/service-client.js';
import { servicePaths } from '../../service/service-paths.js';
import { defaultAssetsDir } from '../../web/assets-dir.js';
import { WebError } from '../../web/web-error.js';
import { WebServer } from '../../web/web-server.js';
import { checkListenAddress, listenWarning } from '../../web/web-security.js';
import { interfaceOption } from '../interface-option.js';
import { wholeNumberParser } from '../number-options.js';
import { connectService } from '../service-session.js';
import { UsageError } from '../usage-error.js';


/** How long a new service browses before the page lists the LAN's rooms. */
const FIRST_BROWSE_MS = 3000;

interface WebOptions {
  interface?: string;
  port: number;
  open?: boolean;
  listen: string;
  downloads?: string;
}

/**
 * `clique web`: the page in the browser, one more client of the person's
 * service (started on demand). Prints the page's URL (with its token) as the
 * first line of stdout and serves until Ctrl-C.
 */
export function registerWebCommand(program: Command): void {
  program
    .command('web')
    .description("serve the chat page on 127.0.0.1 (a client of the clique service); prints its URL with a token, serves until Ctrl-C")
    .addOption(interfaceOption())
    .addOption(new Option('--port <port>', 'TCP port of the page').argParser(wholeNumberParser(65535)).default(0, 'any free port'))
    .option('--open', 'open the page in the default browser')
    .option('--listen <address>', 'serve on this IP address instead of 127.0.0.1 (others on that network can then try the token)', '127.0.0.1')
    .option('--downloads <dir>', 'where files accepted in the page are saved (default: ~/Downloads)')
    .addHelpText('after', '\nThe URL carries a random token; without it the page and its WebSocket answer 401.\n\nExample:\n  clique web --open')
    .action(async (options: WebOptions) => runWeb(options));
}

async function runWeb(options: WebOptions): Promise<void> {
  try {
    checkListenAddress(options.listen);
  } catch (error) {
    if (error instanceof WebError) throw new UsageError(error.message);
    throw error;
  }
  const warning = listenWarning(options.listen);
  if (warning !== undefined) process.stderr.write(`clique: ${warning}\n`);
  const assetsDir = defaultAssetsDir();
  // Files the page sends up wait here (private, removed on exit); accepted ones go to the downloads directory.
  const uploadDir = mkdtempSync(join(tmpdir(), 'clique-web-'));
  const downloadDir = resolve(options.downloads ?? join(homedir(), 'Downloads'));
  mkdirSync(downloadDir, { recursive: true });
  const socket = servicePaths(options.interface).socket;
  const logger = new Logger({ level: levelFromEnv() });
  // The address is taken first, so a port in use or a foreign address never leaves a service started for nothing.
  let service: ServiceClient | undefined;
  const server = await WebServer.start({
    address: options.listen,
    port: options.port,
    assetsDir,
    logger,
    files: { uploadDir, downloadDir },
    connectClient: () => ServiceClient.connect(socket, { client: 'clique web page' }),
    initialRooms: async () => {
      if (service === undefined) throw new Error('not connected to the service yet');
      const status = await service.request('status', {}, { timeoutMs: 5000 });
      // A service started just now has not heard the LAN's answers yet: let it browse first (as `clique rooms` does).
      const age = Date.now() - Date.parse(status.startedAt);
      if (age < FIRST_BROWSE_MS) await sleep(FIRST_BROWSE_MS - age);
      return {
        lan: (await service.request('rooms.list', {}, { timeoutMs: 5000 })).rooms.map((r) => r.room).sort(),
        joined: status.rooms.map((r) => r.room).sort(),
      };
    },
  });
  let client: ServiceClient;
  try {
    client = (await connectService(options)).client;
  } catch (error) {
    await server.close();
    rmSync(uploadDir, { recursive: true, force: true });
    throw error;
  }
  service = client;
  process.stdout.write(`${server.url}\n`);
  process.stderr.write('clique: serving the page until Ctrl-C\n');
  if (options.open === true) openBrowser(server.url);
  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await server.close();
    client.close();
    rmSync(uploadDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  client.once('close', () => {
    if (stopping) return;
    process.stderr.write('clique: the clique service stopped\n');
    void stop(1);
  });
}

function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => process.stderr.write(`clique: could not start ${command}; open the URL yourself\n`));
    child.unref();
  } catch {
    process.stderr.write(`clique: could not start ${command}; open the URL yourself\n`);
  }
}

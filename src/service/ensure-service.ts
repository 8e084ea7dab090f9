import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceClient, type ServiceClientOptions } from './service-client.js';
import { ServiceError } from './service-error.js';
import { isAlive, readHolder } from './service-lock.js';
import { ensurePrivateDir, servicePaths, type ServicePaths } from './service-paths.js';

export interface EnsureServiceOptions extends ServiceClientOptions {
  interface?: string;
  /** Paths (default: servicePaths(interface)). */
  paths?: ServicePaths;
  /**
   * How to start the service when none runs: the program and arguments of a
   * foreground `clique up` (the CLI passes its own entry point). Without it,
   * a missing service is an error ('not-running').
   */
  spawn?: { command: string; args: string[]; env?: NodeJS.ProcessEnv };
  /** How long to wait for a spawned service's socket (default 30 000 ms: it probes its name on mDNS first). */
  startTimeoutMs?: number;
}

const MAX_LOG_BYTES = 1024 * 1024;

/**
 * Connects to the person's service, starting it first if nothing listens
 * (as tmux starts its server): the service is spawned detached, with its
 * output in a log file in the private data directory, and we wait (bounded)
 * for its socket. Two callers racing to start it are fine: the second
 * service finds the lock taken and exits; both callers connect to the first.
 */
export async function ensureService(options: EnsureServiceOptions = {}): Promise<{ client: ServiceClient; started: boolean }> {
  const paths = options.paths ?? servicePaths(options.interface);
  // A socket in a directory someone else controls could be an impostor's: never talk to it.
  if (existsSync(paths.controlDir)) ensurePrivateDir(paths.controlDir);
  try {
    return { client: await ServiceClient.connect(paths.socket, options), started: false };
  } catch (error) {
    if (!(error instanceof ServiceError && error.code === 'not-running') || options.spawn === undefined) throw error;
  }
  const { child, logStart } = spawnDetached(paths, options.spawn);
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  for (;;) {
    try {
      const client = await ServiceClient.connect(paths.socket, options);
      return { client, started: true };
    } catch (error) {
      if (!(error instanceof ServiceError && error.code === 'not-running')) throw error;
    }
    // A spawned service that exited lost a start race to another one (which holds the lock: wait for it), or failed.
    if (exited !== undefined && exited !== 0) {
      const holder = readHolder(paths.lock);
      if (holder === undefined || !isAlive(holder)) {
        // Its own last word (e.g. `--name` already in use) says more than its exit status.
        const said = serviceSaid(paths.log, logStart);
        throw new ServiceError(
          'start-failed',
          said !== undefined ? `the clique service could not start: ${said} (log: ${paths.log})` : `the clique service exited with status ${exited} before listening; see ${paths.log}`,
        );
      }
    }
    if (Date.now() > deadline) throw new ServiceError('start-failed', `the clique service did not come up within ${timeoutMs} ms; see ${paths.log}`);
    await sleep(50);
  }
}

/** The `clique: …` lines (error and hint) the service wrote to its log since `from`, without the prefix. */
function serviceSaid(log: string, from: number): string | undefined {
  try {
    const text = readFileSync(log).subarray(from).toString('utf8');
    const lines = text.split('\n').filter((l) => l.startsWith('clique: ')).map((l) => l.slice('clique: '.length));
    return lines.length > 0 ? lines.join('; ') : undefined;
  } catch {
    return undefined;
  }
}

function spawnDetached(paths: ServicePaths, how: NonNullable<EnsureServiceOptions['spawn']>): { child: ReturnType<typeof spawn>; logStart: number } {
  ensurePrivateDir(paths.dataDir, { tighten: true, purpose: 'clique data directory' });
  // One old log is kept, so the log of a service started again and again stays bounded.
  if (existsSync(paths.log) && statSync(paths.log).size > MAX_LOG_BYTES) renameSync(paths.log, `${paths.log}.old`);
  const log = openSync(paths.log, 'a', 0o600);
  try {
    const logStart = fstatSync(log).size;
    const child = spawn(how.command, how.args, { detached: true, stdio: ['ignore', log, log], env: how.env ?? process.env });
    child.unref();
    return { child, logStart };
  } finally {
    closeSync(log);
  }
}

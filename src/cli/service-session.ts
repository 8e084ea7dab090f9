import { networkInterfaces } from 'node:os';
import { Option } from 'commander';
import { checkRoomName } from '../rooms/clique.js';
import { RoomError } from '../rooms/room-error.js';
import { DEFAULT_LINGER_MS } from '../service/clique-service.js';
import { ensureService } from '../service/ensure-service.js';
import type { ServiceClient } from '../service/service-client.js';
import { ServiceRequestError } from '../service/service-request-error.js';
import { servicePaths } from '../service/service-paths.js';
import { UsageError } from './usage-error.js';

/** What the service-backed commands need to reach (or start) the person's service. */
export interface ServiceCliOptions {
  interface?: string;
  /** Used only when the service has to be started. */
  name?: string;
  nick?: string;
  /** `clique up --linger-ms`, used only when the service has to be started. */
  lingerMs?: number;
  /** `clique up --lookup-ms`, used only when the service has to be started. */
  lookupMs?: number;
}

/** How long a room joined for `send` stays joined after the last send, in words for --help. */
export const LINGER_TEXT = `${DEFAULT_LINGER_MS / 60_000} minutes`;

/** `--no-service`: run the command as its own one-shot member, as before the service existed. */
export function noServiceOption(): Option {
  return new Option('--no-service', 'do not use the clique service: join as a separate one-shot member (the old behaviour)');
}

/**
 * Connects to the person's service for this interface, starting it (detached)
 * when nothing listens. Checks first what can be checked locally, so a typo
 * never starts a service that then fails.
 */
export async function connectService(options: ServiceCliOptions, { start = true }: { start?: boolean } = {}): Promise<{ client: ServiceClient; started: boolean }> {
  if (options.interface !== undefined) checkLocalInterface(options.interface);
  const entry = process.argv[1];
  const spawn =
    start && entry !== undefined
      ? {
          command: process.execPath,
          args: [
            ...process.execArgv,
            entry,
            'up',
            ...(options.interface !== undefined ? ['--interface', options.interface] : []),
            ...(options.name !== undefined ? ['--name', options.name] : []),
            ...(options.nick !== undefined ? ['--nick', options.nick] : []),
            ...(options.lingerMs !== undefined ? ['--linger-ms', String(options.lingerMs)] : []),
            ...(options.lookupMs !== undefined ? ['--lookup-ms', String(options.lookupMs)] : []),
          ],
        }
      : undefined;
  const connected = await ensureService({
    paths: servicePaths(options.interface),
    ...(options.interface !== undefined ? { interface: options.interface } : {}),
    ...(spawn !== undefined ? { spawn } : {}),
    client: `clique ${process.argv[2] ?? ''}`.trim(),
  });
  const running = connected.client.identity.name;
  if (!connected.started && options.name !== undefined && running !== options.name && !running.startsWith(`${options.name}@`)) {
    process.stderr.write(`clique: the service already runs as ${running}; --name applies when it starts (clique down first, or --no-service)\n`);
  }
  return connected;
}

/** Options that only the one-shot way uses: say so rather than ignore them silently. */
export function warnOneShotOnly(options: { historyFile?: string | false }): void {
  if (options.historyFile !== undefined) {
    process.stderr.write('clique: --history-file/--no-history-file apply only with --no-service (the service keeps its own history)\n');
  }
}

/** A room name the service would refuse: a usage error before anything touches the network. */
export function checkRoomNameForCli(name: string): void {
  try {
    checkRoomName(name);
  } catch (error) {
    if (error instanceof RoomError) throw new UsageError(error.message);
    throw error;
  }
}

/** The service's answers to our own mistakes (bad names, params) are usage errors (exit 2). */
export function serviceUsageError(error: unknown): unknown {
  if (error instanceof ServiceRequestError && (error.code === 'bad-name' || error.code === 'bad-argument' || error.code === 'invalid-params')) {
    return new UsageError(error.message);
  }
  return error;
}

/** `--interface` must be an IPv4 address of this machine. */
export function checkLocalInterface(address: string): void {
  const local = Object.values(networkInterfaces())
    .flat()
    .some((i) => i !== undefined && i.family === 'IPv4' && i.address === address);
  if (!local) throw new UsageError(`--interface: ${address} is not an IPv4 address of this machine`);
}

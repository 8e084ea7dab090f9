import { isIPv4 } from 'node:net';
import type { Logger } from '../base/logger.js';
import type { RandomSource } from '../base/random.js';
import { TransportError } from '../net/transport-error.js';
import { openMulticastNode } from '../net/multicast-node.js';
import { randomMulticastPort } from '../net/udp-multicast-transport.js';
import { randomGroupAddress } from './group-address.js';
import type { EngineTiming } from '../rmcast/engine-types.js';
import { engineGroupLink } from './engine-group-link.js';
import type { GroupLink } from './group-link.js';
import { RoomError } from './room-error.js';

/** Salut tries this many random address/port pairs for a new room (§0). */
export const GROUP_ATTEMPTS = 10;

export interface OpenGroupOptions {
  /** Our rMulticast name (XEP-0174 instance name). */
  name: string;
  /** Both or neither: a given group is tried once; otherwise random ones, up to GROUP_ATTEMPTS times. */
  address?: string;
  port?: number;
  interface?: string;
  timing?: Partial<EngineTiming>;
  maxMessageSize?: number;
  random: RandomSource;
  logger: Logger;
}

export interface OpenedGroup {
  group: GroupLink;
  address: string;
  port: number;
}

/** The group socket could not be set up; worth another random pair (§3.1). */
function isRetryable(error: unknown): boolean {
  return error instanceof TransportError && (error.code === 'bind-failed' || error.code === 'membership-failed');
}

/**
 * Joins the room's multicast group and starts rMulticast under our name
 * ('connected' follows once a sender id is chosen). Throws RoomError
 * 'join-failed' (or 'bad-argument' for an unusable address/port/name).
 */
export async function openRoomGroup(options: OpenGroupOptions): Promise<OpenedGroup> {
  const given = options.address !== undefined || options.port !== undefined;
  if (given && (options.address === undefined || options.port === undefined)) {
    throw new RoomError('bad-argument', 'give both address and port, or neither');
  }
  if (options.address !== undefined && !isIPv4(options.address)) {
    // The UDP transport is IPv4-only; salut could also join IPv6 groups.
    throw new RoomError('bad-argument', `room address ${JSON.stringify(options.address)} is not an IPv4 multicast address`);
  }
  const attempts = given ? 1 : GROUP_ATTEMPTS;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const address = options.address ?? randomGroupAddress(options.random);
    const port = options.port ?? randomMulticastPort(options.random);
    try {
      const driver = await openMulticastNode({
        name: options.name,
        group: address,
        port,
        ...(options.interface !== undefined ? { interface: options.interface } : {}),
        ...(options.timing !== undefined ? { timing: options.timing } : {}),
        ...(options.maxMessageSize !== undefined ? { maxMessageSize: options.maxMessageSize } : {}),
        random: options.random,
        logger: options.logger,
      });
      return { group: engineGroupLink(driver), address, port };
    } catch (error) {
      lastError = error;
      if (error instanceof TransportError && error.code === 'bad-address') {
        throw new RoomError('bad-argument', error.message, { cause: error });
      }
      if (error instanceof Error && 'code' in error && error.code === 'bad-name') {
        throw new RoomError('bad-argument', `our name cannot be used in a room: ${error.message}`, { cause: error });
      }
      if (!isRetryable(error)) break;
      options.logger.debug('cannot open group, trying another', { address, port, attempt, error: error instanceof Error ? error.message : String(error) });
    }
  }
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw new RoomError('join-failed', given ? `cannot join ${options.address}:${options.port}: ${why}` : `no multicast group could be opened in ${attempts} attempts: ${why}`, {
    cause: lastError,
  });
}

import { silentLogger, type Logger } from '../base/logger.js';
import { CryptoRandom, type RandomSource } from '../base/random.js';
import type { EngineTiming } from '../rmcast/engine-types.js';
import { RMulticastEngine } from '../rmcast/rmulticast-engine.js';
import { EngineDriver } from './engine-driver.js';
import { UdpMulticastTransport } from './udp-multicast-transport.js';

export interface MulticastNodeOptions {
  /** Our name in the group (`user@host` in salut), < 255 UTF-8 bytes. */
  name: string;
  /** IPv4 multicast group, e.g. 239.255.71.23. */
  group: string;
  port: number;
  /**
   * IPv4 address of the interface to use. Omit for the system default; tests
   * and demos on one machine pass 127.0.0.1.
   */
  interface?: string;
  /** Protocol timer overrides, e.g. a short `silenceTimeout`. */
  timing?: Partial<EngineTiming>;
  maxMessageSize?: number;
  logger?: Logger;
  /** Default: cryptographic randomness (sender ids must not collide across hosts). */
  random?: RandomSource;
}

/**
 * Join an rMulticast group over UDP and start probing for a sender id. Listen
 * for 'connected', 'members-joined', 'message', ... on the returned driver;
 * `send(stream, bytes)` once connected; `leave()` to say goodbye.
 */
export async function openMulticastNode(options: MulticastNodeOptions): Promise<EngineDriver> {
  const logger = options.logger ?? silentLogger;
  const transport = await UdpMulticastTransport.open({
    group: options.group,
    port: options.port,
    ...(options.interface !== undefined ? { interfaceAddress: options.interface } : {}),
    logger,
  });
  let engine: RMulticastEngine;
  try {
    engine = new RMulticastEngine({
      name: options.name,
      random: options.random ?? new CryptoRandom(),
      maxDatagramSize: transport.maxDatagramSize,
      loopback: transport.loopback,
      ...(options.timing !== undefined ? { timing: options.timing } : {}),
      ...(options.maxMessageSize !== undefined ? { maxMessageSize: options.maxMessageSize } : {}),
      logger,
    });
  } catch (error) {
    await transport.close();
    throw error;
  }
  // The engine validates every datagram itself (and counts malformed ones), so
  // the driver need not decode each one a second time.
  const driver = new EngineDriver(engine, transport, { logger, datagramCheck: 'none' });
  driver.start();
  return driver;
}

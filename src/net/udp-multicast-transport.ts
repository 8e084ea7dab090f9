import { createSocket, type Socket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { randomInRange, type RandomSource } from '../base/random.js';
import { DEFAULT_MAX_DATAGRAM } from '../wire/packet.js';
import type { DatagramTransport } from './datagram-transport.js';
import { TransportError } from './transport-error.js';

/**
 * rMulticast over IPv4 UDP (spec rmulticast.md A.7): a receive socket bound to
 * 0.0.0.0:port with address reuse and joined to the group, and a send socket
 * connected to group:port, TTL 1, loopback on (so we, and other processes on
 * this host, receive what we send). Datagrams above 1500 bytes are dropped on
 * arrival (the original reads into a 1500-byte buffer, so it could never parse
 * them).
 *
 * Ours: the original sends from its receive socket, so its datagrams come from
 * the group port; ours come from an ephemeral port. Nobody reads the source
 * port (senders are named by the id in the header), and a connected socket
 * sends at once, where Node would resolve the address and defer every send of
 * an unconnected one to the next tick.
 */

/** Requested SO_RCVBUF/SO_SNDBUF (the kernel may grant less). */
const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** A buffer size request: not fatal when refused (the defaults still work, just drop more under bursts). */
function tryOption(set: () => void): void {
  try {
    set();
  } catch {
    // Some systems refuse; keep their default.
  }
}

/** The original's receive buffer: anything longer is truncated there, dropped here. */
export const RECEIVE_LIMIT = 1500;

export interface UdpMulticastOptions {
  /** IPv4 multicast group, e.g. 239.255.71.23. */
  group: string;
  port: number;
  /**
   * IPv4 address of the interface to join and send on. Omit for the system
   * default (real users); tests MUST pass 127.0.0.1 so nothing leaves the host.
   */
  interfaceAddress?: string;
  maxDatagramSize?: number;
  logger?: Logger;
}

export interface UdpTransportStats {
  received: number;
  sent: number;
  oversized: number;
  sendErrors: number;
}

export class UdpMulticastTransport implements DatagramTransport {
  readonly maxDatagramSize: number;
  readonly loopback = true;
  readonly group: string;
  readonly port: number;
  readonly interfaceAddress: string | undefined;
  readonly stats: UdpTransportStats = { received: 0, sent: 0, oversized: 0, sendErrors: 0 };

  private readonly datagramCallbacks: Array<(bytes: Uint8Array) => void> = [];
  private readonly errorCallbacks: Array<(error: TransportError) => void> = [];
  private closed = false;
  private pendingSends = 0;
  private sendsDrained: (() => void) | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly sendSocket: Socket,
    options: UdpMulticastOptions,
    private readonly logger: Logger,
  ) {
    this.group = options.group;
    this.port = options.port;
    this.interfaceAddress = options.interfaceAddress;
    this.maxDatagramSize = options.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM;
    socket.on('message', (message, remote) => {
      if (this.closed) return;
      if (message.length > RECEIVE_LIMIT) {
        this.stats.oversized++;
        this.logger.debug('dropped oversized datagram', { bytes: message.length, from: `${remote.address}:${remote.port}` });
        return;
      }
      this.stats.received++;
      const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
      const callbacks = this.datagramCallbacks;
      for (let i = 0; i < callbacks.length; i++) callbacks[i]!(bytes);
    });
    for (const each of [socket, sendSocket]) {
      each.on('error', (error) => {
        this.report(new TransportError('socket-error', `UDP socket error: ${error.message}`, { cause: error }));
      });
    }
  }

  /** Bind, join the group and open the send socket. Rejects with a TransportError. */
  static async open(options: UdpMulticastOptions): Promise<UdpMulticastTransport> {
    validate(options);
    const logger = (options.logger ?? silentLogger).child('udp');
    const socket = createSocket({ type: 'udp4', reuseAddr: true });
    try {
      await socketCall(socket, (done) => socket.bind({ port: options.port, address: '0.0.0.0' }, done));
    } catch (error) {
      socket.close();
      throw new TransportError('bind-failed', `cannot bind UDP port ${options.port}: ${errorText(error)}`, { cause: error });
    }
    try {
      socket.addMembership(options.group, options.interfaceAddress);
      // A burst larger than the default ~200 KiB receive buffer is dropped by the
      // kernel and costs a NAK round (>= 200 ms). Ask for more; the kernel caps
      // it at net.core.rmem_max, which is fine.
      tryOption(() => socket.setRecvBufferSize(SOCKET_BUFFER_BYTES));
    } catch (error) {
      socket.close();
      const where = options.interfaceAddress ?? 'the default interface';
      throw new TransportError('membership-failed', `cannot join ${options.group} on ${where}: ${errorText(error)}`, { cause: error });
    }
    let sendSocket: Socket;
    try {
      sendSocket = await openSendSocket(options);
    } catch (error) {
      socket.close();
      throw error;
    }
    logger.debug('joined multicast group', { group: options.group, port: options.port, interface: options.interfaceAddress });
    return new UdpMulticastTransport(socket, sendSocket, options, logger);
  }

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    if (bytes.length > this.maxDatagramSize) {
      this.report(new TransportError('datagram-too-large', `datagram of ${bytes.length} bytes exceeds ${this.maxDatagramSize}`));
      return;
    }
    this.stats.sent++;
    this.pendingSends++;
    this.sendSocket.send(bytes, this.afterSend);
  }

  /** One callback for every send (not a closure per datagram). */
  private readonly afterSend = (error: Error | null): void => {
    if (--this.pendingSends === 0) this.sendsDrained?.();
    if (error === null || error === undefined || this.closed) return;
    this.stats.sendErrors++;
    this.report(new TransportError('send-failed', `send to ${this.group}:${this.port} failed: ${error.message}`, { cause: error }));
  };

  onDatagram(callback: (bytes: Uint8Array) => void): void {
    this.datagramCallbacks.push(callback);
  }

  onError(callback: (error: TransportError) => void): void {
    this.errorCallbacks.push(callback);
  }

  /** Waits (up to a second) for datagrams already handed to the socket, e.g. a last BYE, then closes. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pendingSends > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.sendsDrained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all([closeSocket(this.socket), closeSocket(this.sendSocket)]);
  }

  private report(error: TransportError): void {
    if (this.errorCallbacks.length === 0) {
      this.logger.warn(error.message, { code: error.code });
      return;
    }
    for (const callback of this.errorCallbacks) callback(error);
  }
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed underneath us
    }
  });
}

/** The socket we send from: ephemeral port, pinned to the interface, TTL 1, loopback on, connected to group:port. */
async function openSendSocket(options: UdpMulticastOptions): Promise<Socket> {
  const socket = createSocket({ type: 'udp4' });
  try {
    await socketCall(socket, (done) => socket.bind({ port: 0, address: '0.0.0.0' }, done));
    if (options.interfaceAddress !== undefined) socket.setMulticastInterface(options.interfaceAddress);
    socket.setMulticastTTL(1);
    socket.setMulticastLoopback(true);
    tryOption(() => socket.setSendBufferSize(SOCKET_BUFFER_BYTES));
    await socketCall(socket, (done) => socket.connect(options.port, options.group, done));
  } catch (error) {
    socket.close();
    const where = options.interfaceAddress ?? 'the default interface';
    throw new TransportError('membership-failed', `cannot send to ${options.group}:${options.port} on ${where}: ${errorText(error)}`, {
      cause: error,
    });
  }
  return socket;
}

/** A socket call that ends in its callback or in an 'error' event. */
function socketCall(socket: Socket, start: (done: () => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    start(() => {
      socket.off('error', reject);
      resolve();
    });
  });
}

function validate(options: UdpMulticastOptions): void {
  if (!isIPv4(options.group) || !isMulticast(options.group)) {
    throw new TransportError('bad-address', `${options.group} is not an IPv4 multicast group (224.0.0.0/4)`);
  }
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) {
    throw new TransportError('bad-address', `port ${options.port} is not in 1..65535`);
  }
  if (options.interfaceAddress !== undefined && !isIPv4(options.interfaceAddress)) {
    throw new TransportError('bad-address', `interface address ${options.interfaceAddress} is not an IPv4 address`);
  }
  const max = options.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM;
  if (!Number.isInteger(max) || max <= 128 || max > RECEIVE_LIMIT) {
    throw new TransportError('bad-option', `max datagram size ${max} must be in 129..${RECEIVE_LIMIT}`);
  }
}

function isMulticast(address: string): boolean {
  const first = Number(address.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** A port for a new room: [1024, 65535) (spec §0.1). */
export function randomMulticastPort(random: RandomSource): number {
  return randomInRange(random, 1024, 65535);
}

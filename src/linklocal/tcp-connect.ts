import net from 'node:net';
import { LinkError } from './link-error.js';

/** `::ffff:192.0.2.1` → `192.0.2.1`, so IPv4 peers on dual-stack sockets match their advertised address. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

export interface ConnectOptions {
  /** Per address. */
  timeoutMs: number;
  /** Local address to connect from (our interface); ignored for targets of the other family. */
  localAddress?: string;
  signal?: AbortSignal;
  /** Keep our side writable after the peer's FIN (relays forward half-closes, TcpRelay). */
  allowHalfOpen?: boolean;
}

/**
 * Connects to the first address that accepts, trying them in order (spec
 * §6.4). Rejects with 'connect-timeout' if every failure was a timeout and at
 * least one address timed out, otherwise 'unreachable'.
 */
export async function connectFirst(addresses: readonly string[], port: number, options: ConnectOptions): Promise<net.Socket> {
  let timedOut = false;
  const failures: string[] = [];
  for (const address of addresses) {
    if (options.signal?.aborted) break;
    try {
      return await connectTcp(address, port, options);
    } catch (error) {
      if (error instanceof LinkError && error.code === 'connect-timeout') timedOut = true;
      failures.push(`${address}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (options.signal?.aborted) throw new LinkError('stream-closed', 'connection attempt abandoned');
  if (addresses.length === 0) throw new LinkError('unreachable', 'contact has no address');
  const detail = failures.join('; ');
  throw timedOut ? new LinkError('connect-timeout', `could not connect in time (${detail})`) : new LinkError('unreachable', `could not connect (${detail})`);
}

/**
 * One TCP connection to one address, from `localAddress` when it is of the
 * target's family. Rejects with 'connect-timeout', 'stream-closed' (aborted)
 * or the socket's error.
 */
export function connectTcp(address: string, port: number, options: ConnectOptions): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted === true) {
      reject(new LinkError('stream-closed', 'connection attempt abandoned'));
      return;
    }
    const family = net.isIP(address.replace(/%.*$/, ''));
    const local = options.localAddress;
    const useLocal = local !== undefined && family !== 0 && net.isIP(local) === family && local !== '0.0.0.0' && local !== '::';
    const socket = net.connect({ host: address, port, allowHalfOpen: options.allowHalfOpen === true, ...(useLocal ? { localAddress: local } : {}) });
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (error: Error): void => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(new LinkError('stream-closed', 'connection attempt abandoned'));
    };
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(new LinkError('connect-timeout', `no TCP connection to ${address}:${port} within ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    socket.once('connect', onConnect);
    socket.once('error', onError);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

import net from 'node:net';
import type { Logger } from '../base/logger.js';
import { LinkError } from './link-error.js';

/** Ports tried in order when none is configured (spec §6.4: 5298, else 5299, else any). */
export const DEFAULT_LISTEN_PORTS: readonly number[] = [5298, 5299, 0];

export interface LinkListenerOptions {
  /** Address to bind; default all interfaces. */
  host?: string;
  /** A fixed port (0 = any free port); default 5298, else 5299, else any. */
  port?: number;
  /** Backstop on sockets held at once (Node closes any beyond it at accept); the pool applies the real admission rules. */
  maxConnections: number;
  onConnection(socket: net.Socket): void;
  logger: Logger;
}

/** The XEP-0174 TCP listener. */
export class LinkListener {
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    readonly host: string,
  ) {}

  static async listen(options: LinkListenerOptions): Promise<LinkListener> {
    const ports = options.port === undefined ? DEFAULT_LISTEN_PORTS : [options.port];
    let lastError: unknown;
    for (const port of ports) {
      const server = net.createServer({ noDelay: true }, (socket) => options.onConnection(socket));
      server.maxConnections = options.maxConnections;
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port, ...(options.host !== undefined ? { host: options.host } : {}), exclusive: true }, () => {
            server.removeListener('error', reject);
            resolve();
          });
        });
      } catch (error) {
        lastError = error;
        const code = (error as NodeJS.ErrnoException).code;
        options.logger.debug('listen failed, trying next port', { port, code });
        if (code === 'EADDRINUSE' || code === 'EACCES') continue;
        break;
      }
      // A listener error after binding (rare: EMFILE on accept) must not crash the process.
      server.on('error', (error) => options.logger.warn('listener error', { error: error.message }));
      const address = server.address() as net.AddressInfo;
      options.logger.debug('listening', { address: address.address, port: address.port });
      return new LinkListener(server, address.port, address.address);
    }
    throw new LinkError('listen-failed', `cannot listen on ${options.host ?? 'all interfaces'} port ${ports.join('/')}: ${String(lastError)}`, { cause: lastError });
  }

  /** Stops accepting; existing connections are the caller's to close. */
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

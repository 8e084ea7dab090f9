import { createServer, type Server, type Socket } from 'node:net';
import { CliqueError } from '../base/clique-error.js';
import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { PROTOCOL_VERSION } from './control-protocol.js';
import { RpcFault } from './rpc-fault.js';
import { encodeError, encodeNotification, encodeResult, RpcErrorCode, RpcLineReader, type JsonValue, type RpcId, type RpcMessage, type RpcParams } from './json-rpc.js';

/** Per-client limits: whatever a client does, it costs the service at most this much. */
export interface ControlLimits {
  /** Longest request line (default 1 MiB); a longer one is answered with an error and the client is cut off. */
  maxLineBytes: number;
  /** Requests of one client being worked on at once (default 32); more are refused with 'too-many-requests'. */
  maxPendingRequests: number;
  /** Bytes queued to one client that it has not read (default 4 MiB); a client that falls this far behind is cut off. */
  maxOutboundBytes: number;
  /** Invalid lines one client may send before it is cut off (default 16). */
  maxInvalidLines: number;
  /** Clients connected at once (default 64). */
  maxClients: number;
}

export const DEFAULT_CONTROL_LIMITS: ControlLimits = {
  maxLineBytes: 1024 * 1024,
  maxPendingRequests: 32,
  maxOutboundBytes: 4 * 1024 * 1024,
  maxInvalidLines: 16,
  maxClients: 64,
};

/** One connected control client, as the handler sees it. */
export interface ControlClient {
  readonly id: number;
  /** Sends an event (a JSON-RPC notification). Dropped once the client is gone. */
  notify(method: string, params: { [key: string]: JsonValue }): void;
  readonly closed: boolean;
}

/** What the server dispatches to: the service. */
export interface ControlHandler {
  /** The `hello` result's `service` member. */
  identity(): { [key: string]: JsonValue };
  handle(client: ControlClient, method: string, params: RpcParams | undefined): Promise<JsonValue>;
  disconnected(client: ControlClient): void;
}

/**
 * The control socket's server: newline-delimited JSON-RPC 2.0, strictly
 * validated, with per-client limits. A client must say `hello` first. Any
 * fault of a client (garbage, floods, a stuck reader, a disconnect in the
 * middle of a request) ends at most that client's connection.
 */
export class ControlServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly limits: ControlLimits;
  private readonly logger: Logger;
  private nextId = 1;
  /** Clients cut off by a limit, with why: for status and tests. */
  readonly cutOffs: Array<{ client: number; reason: string }> = [];

  constructor(
    private readonly handler: ControlHandler,
    options: { limits?: Partial<ControlLimits>; logger?: Logger } = {},
  ) {
    this.limits = { ...DEFAULT_CONTROL_LIMITS, ...options.limits };
    this.logger = (options.logger ?? silentLogger).child('control');
    this.server = createServer((socket) => this.accept(socket));
  }

  get clientCount(): number {
    return this.connections.size;
  }

  /**
   * Listens on a Unix socket path with umask 0177 so the socket is never,
   * even for a moment, connectable by others; the caller then chmods and checks.
   */
  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const previous = process.umask(0o177);
      const onError = (error: Error): void => {
        process.umask(previous);
        reject(error);
      };
      this.server.once('error', onError);
      this.server.listen(path, () => {
        process.umask(previous);
        this.server.off('error', onError);
        this.server.on('error', (error) => this.logger.error('control socket error', { error: errorText(error) }));
        resolve();
      });
    });
  }

  /** Sends an event to every client that passed `hello` and for which `wants` holds. */
  broadcast(method: string, params: { [key: string]: JsonValue }, wants: (client: ControlClient) => boolean = () => true): void {
    for (const connection of this.connections) if (connection.greeted && wants(connection)) connection.notify(method, params);
  }

  /** Stops accepting and closes every connection (a client that does not close its end is cut after `graceMs`). */
  close(graceMs = 1000): Promise<void> {
    for (const connection of this.connections) connection.end();
    const force = setTimeout(() => {
      for (const connection of this.connections) connection.destroy();
    }, graceMs);
    return new Promise((resolve) =>
      this.server.close(() => {
        clearTimeout(force);
        resolve();
      }),
    );
  }

  private accept(socket: Socket): void {
    if (this.connections.size >= this.limits.maxClients) {
      socket.end(encodeError(null, { code: RpcErrorCode.application, message: 'too many clients', data: { code: 'too-many-clients' } }));
      socket.on('error', () => undefined);
      return;
    }
    const connection = new Connection(this.nextId++, socket, this.limits, this.handler, this.logger, (reason) => {
      this.cutOffs.push({ client: connection.id, reason });
      if (this.cutOffs.length > 100) this.cutOffs.shift();
      this.logger.warn('client cut off', { client: connection.id, reason });
    });
    this.connections.add(connection);
    socket.once('close', () => {
      this.connections.delete(connection);
      connection.closedNow();
    });
  }
}

class Connection implements ControlClient {
  greeted = false;
  private pending = 0;
  private invalidLines = 0;
  private gone = false;
  private readonly reader: RpcLineReader;

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly limits: ControlLimits,
    private readonly handler: ControlHandler,
    private readonly logger: Logger,
    private readonly onCutOff: (reason: string) => void,
  ) {
    this.reader = new RpcLineReader(
      limits.maxLineBytes,
      (message) => this.onMessage(message),
      (bytes) => {
        this.write(encodeError(null, { code: RpcErrorCode.invalidRequest, message: `line of ${bytes} bytes is longer than ${limits.maxLineBytes}`, data: { code: 'line-too-long' } }));
        this.cutOff('line too long');
      },
    );
    socket.on('data', (chunk: Buffer) => {
      if (!this.gone) this.reader.push(chunk);
    });
    socket.on('end', () => socket.end());
    socket.on('error', (error) => this.logger.debug('client socket error', { client: id, error: errorText(error) }));
  }

  get closed(): boolean {
    return this.gone;
  }

  notify(method: string, params: { [key: string]: JsonValue }): void {
    this.write(encodeNotification(method, params));
  }

  end(): void {
    if (this.gone) return;
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  closedNow(): void {
    this.gone = true;
    try {
      this.handler.disconnected(this);
    } catch (error) {
      this.logger.error('disconnect handler threw', { error: errorText(error) });
    }
  }

  private cutOff(reason: string): void {
    if (this.socket.destroyed) return;
    this.gone = true;
    this.onCutOff(reason);
    this.socket.destroy();
  }

  private write(line: string): void {
    if (this.gone || this.socket.destroyed) return;
    this.socket.write(line);
    // A reader that does not keep up is cut off rather than buffered for without bound.
    if (this.socket.writableLength > this.limits.maxOutboundBytes) this.cutOff(`more than ${this.limits.maxOutboundBytes} bytes unread`);
  }

  private onMessage(message: RpcMessage): void {
    if (this.gone) return;
    if (message.kind === 'invalid') {
      this.write(encodeError(message.id, message.error));
      this.countInvalid();
      return;
    }
    if (message.kind !== 'request') {
      // Notifications and responses mean nothing to the service; a client that keeps sending them is confused.
      this.countInvalid();
      return;
    }
    const { id, method, params } = message;
    if (this.pending >= this.limits.maxPendingRequests) {
      this.write(encodeError(id, { code: RpcErrorCode.application, message: `more than ${this.limits.maxPendingRequests} requests in progress`, data: { code: 'too-many-requests' } }));
      return;
    }
    this.pending++;
    void this.run(id, method, params).finally(() => this.pending--);
  }

  private countInvalid(): void {
    if (++this.invalidLines >= this.limits.maxInvalidLines) this.cutOff(`${this.invalidLines} invalid lines`);
  }

  private async run(id: RpcId, method: string, params: RpcParams | undefined): Promise<void> {
    try {
      let result: JsonValue;
      if (method === 'hello') {
        result = this.hello(params);
      } else if (!this.greeted) {
        throw new RpcFault('hello-required', 'say hello first (protocol version)', RpcErrorCode.invalidRequest);
      } else {
        result = await this.handler.handle(this, method, params);
      }
      this.write(encodeResult(id, result));
    } catch (error) {
      const fault = error instanceof RpcFault ? error : undefined;
      // The library's errors carry kebab-case codes clients branch on; anything else is our bug.
      const code = fault?.code ?? (error instanceof CliqueError ? error.code : 'internal-error');
      const rpcCode = fault?.rpcCode ?? (code === 'internal-error' ? RpcErrorCode.internalError : RpcErrorCode.application);
      if (code === 'internal-error') this.logger.error('request failed', { method, error: errorText(error) });
      this.write(encodeError(id, { code: rpcCode, message: errorText(error), data: { code } }));
    }
  }

  private hello(params: RpcParams | undefined): JsonValue {
    const protocol = params !== undefined && !Array.isArray(params) ? params['protocol'] : undefined;
    if (protocol !== PROTOCOL_VERSION) {
      throw new RpcFault('protocol-version', `this service speaks protocol ${PROTOCOL_VERSION}, not ${JSON.stringify(protocol ?? null)}`, RpcErrorCode.invalidParams);
    }
    this.greeted = true;
    return { protocol: PROTOCOL_VERSION, service: this.handler.identity() };
  }
}

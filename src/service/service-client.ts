import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { AsyncQueue } from '../base/async-queue.js';
import { errorText } from '../base/error-text.js';
import { LineSplitter } from '../net/line-splitter.js';
import { PROTOCOL_VERSION, type ControlEvent, type ControlEvents, type ControlMethod, type ControlMethods, type ServiceIdentity } from './control-protocol.js';
import { encodeRequest, parseRpcLine, type JsonValue, type RpcParams } from './json-rpc.js';
import { ServiceError } from './service-error.js';
import type { RemoteErrorCode } from './remote-error-code.js';
import { ServiceRequestError } from './service-request-error.js';

/** One event from the service: its name and params (see ControlEvents). */
export type ServiceEvent = { [K in ControlEvent]: { event: K; params: ControlEvents[K] } }[ControlEvent];

export interface ServiceClientEvents {
  event: [event: ServiceEvent];
  /** The connection closed (the service stopped, or close() was called). */
  close: [];
}

export interface ServiceClientOptions {
  /** For connect and hello (default 5000 ms). */
  timeoutMs?: number;
  /** Default per-request timeout (default 60 000 ms). */
  requestTimeoutMs?: number;
  /** Shown in the service's logs. */
  client?: string;
}

const MAX_INCOMING_LINE_BYTES = 16 * 1024 * 1024;

/**
 * A typed client of the clique service's control socket.
 *
 *   const client = await ServiceClient.connect(servicePaths('127.0.0.1').socket);
 *   await client.request('rooms.join', { room: 'lunch', hold: 'client' });
 *   await client.request('rooms.subscribe', { room: 'lunch' });
 *   for await (const e of client.events()) if (e.event === 'room.message') console.log(e.params.text);
 */
export class ServiceClient extends EventEmitter<ServiceClientEvents> {
  private readonly pending = new Map<number, { resolve: (value: JsonValue) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  private readonly readers = new Set<AsyncQueue<ServiceEvent>>();
  private nextId = 1;
  private closedFlag = false;
  private identityValue: ServiceIdentity | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly requestTimeoutMs: number,
  ) {
    super();
    const splitter = new LineSplitter(
      MAX_INCOMING_LINE_BYTES,
      (line) => this.onLine(line),
      () => socket.destroy(new ServiceError('disconnected', 'the service sent an overlong line')),
    );
    socket.on('data', (chunk: Buffer) => splitter.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => this.onClose());
  }

  /** Connects and says hello. Throws ServiceError 'not-running' if nothing listens, 'timeout', or the service's error. */
  static async connect(socketPath: string, options: ServiceClientOptions = {}): Promise<ServiceClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect(socketPath);
      const timer = setTimeout(() => {
        s.destroy();
        reject(new ServiceError('timeout', `no answer from ${socketPath} within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const code = error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? 'not-running' : 'disconnected';
        reject(new ServiceError(code, `cannot connect to the clique service at ${socketPath}: ${error.message}`, { cause: error }));
      });
    });
    const client = new ServiceClient(socket, options.requestTimeoutMs ?? 60_000);
    try {
      const hello = await client.request('hello', { protocol: PROTOCOL_VERSION, ...(options.client !== undefined ? { client: options.client } : {}) }, { timeoutMs });
      client.identityValue = hello.service;
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /** Who the service is (from hello). */
  get identity(): ServiceIdentity {
    if (this.identityValue === undefined) throw new ServiceError('disconnected', 'no hello yet');
    return this.identityValue;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /**
   * Calls a method. Rejects with ServiceRequestError (the service's `data.code`),
   * or ServiceError 'timeout' / 'disconnected'.
   */
  request<M extends ControlMethod>(method: M, params: ControlMethods[M]['params'], options: { timeoutMs?: number } = {}): Promise<ControlMethods[M]['result']> {
    if (this.closedFlag) return Promise.reject(new ServiceError('disconnected', 'the connection to the service is closed'));
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ServiceError('timeout', `${method}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: JsonValue) => void, reject, timer });
      this.socket.write(encodeRequest(id, method, params as unknown as RpcParams));
    });
  }

  /** Events from now on, as an async iterator (bounded: a reader more than `limit` behind fails). */
  events(limit = 100_000): AsyncIterableIterator<ServiceEvent> {
    const queue: AsyncQueue<ServiceEvent> = new AsyncQueue(
      limit,
      () => new ServiceError('disconnected', `more than ${limit} events unread`),
      () => this.readers.delete(queue),
    );
    if (this.closedFlag) queue.end();
    else this.readers.add(queue);
    return queue;
  }

  close(): void {
    this.socket.end();
    this.socket.destroySoon();
  }

  private onLine(line: string): void {
    const message = parseRpcLine(line);
    if (message.kind === 'notification') {
      const event = { event: message.method, params: message.params } as ServiceEvent;
      for (const reader of this.readers) reader.push(event);
      this.emit('event', event);
      return;
    }
    if (message.kind === 'result' || message.kind === 'error') {
      const id = message.id;
      const waiter = typeof id === 'number' ? this.pending.get(id) : undefined;
      if (waiter === undefined) return;
      this.pending.delete(id as number);
      clearTimeout(waiter.timer);
      if (message.kind === 'result') waiter.resolve(message.result);
      // A newer service may answer with a code this client does not know: it is passed on as it is (see RemoteErrorCode).
      else waiter.reject(new ServiceRequestError((message.error.data?.code ?? 'internal-error') as RemoteErrorCode, message.error.message, message.error.code));
      return;
    }
    if (message.kind === 'invalid' && message.error.data?.code !== undefined) {
      // The service never sends garbage; if it does, give up on the connection.
      this.socket.destroy(new ServiceError('disconnected', `bad line from the service: ${errorText(message.error.message)}`));
    }
  }

  private onClose(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const [id, waiter] of this.pending) {
      clearTimeout(waiter.timer);
      waiter.reject(new ServiceError('disconnected', 'the service closed the connection'));
      this.pending.delete(id);
    }
    for (const reader of this.readers) reader.end();
    this.emit('close');
  }
}

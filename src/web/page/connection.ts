import type { ControlEvents, ControlMethod, ControlMethods, ServiceIdentity } from '../../service/control-protocol.js';

/** One frame of the page's WebSocket (see src/web/web-relay.ts). */
export type PageEvent =
  | { [K in keyof ControlEvents]: { event: K; params: ControlEvents[K] } }[keyof ControlEvents]
  | { event: 'web.hello'; params: { service: ServiceIdentity } };

export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Requests over the page's WebSocket, answered by id; events go to `onEvent`. */
export class Connection {
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;

  private constructor(
    private readonly socket: WebSocket,
    onEvent: (event: PageEvent) => void,
    onClose: () => void,
  ) {
    socket.addEventListener('message', (message) => {
      const frame = JSON.parse(String(message.data)) as { id?: number | null; result?: unknown; error?: { code: string; message: string }; event?: string };
      if (frame.event !== undefined) return onEvent(frame as PageEvent);
      const waiter = typeof frame.id === 'number' ? this.pending.get(frame.id) : undefined;
      if (waiter === undefined) return;
      this.pending.delete(frame.id as number);
      if (frame.error !== undefined) waiter.reject(new RequestError(frame.error.code, frame.error.message));
      else waiter.resolve(frame.result);
    });
    let opened = false;
    socket.addEventListener('open', () => (opened = true), { once: true });
    socket.addEventListener('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new RequestError('disconnected', 'the connection closed'));
      this.pending.clear();
      // A socket that never opened is reported by open()'s rejection alone, so the page retries once, not twice.
      if (opened) onClose();
    });
  }

  static open(onEvent: (event: PageEvent) => void, onClose: () => void): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
      const connection = new Connection(socket, onEvent, onClose);
      socket.addEventListener('open', () => resolve(connection), { once: true });
      socket.addEventListener('error', () => reject(new RequestError('disconnected', 'cannot reach the page server')), { once: true });
    });
  }

  request<M extends ControlMethod>(method: M, params: ControlMethods[M]['params']): Promise<ControlMethods[M]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }
}

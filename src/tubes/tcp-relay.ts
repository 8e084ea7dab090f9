import type { Socket } from 'node:net';

/** What a relay carried, once both of its sockets are closed. */
export interface RelayOutcome {
  /** Bytes from `a` to `b`, and from `b` to `a`. */
  aToB: number;
  bToA: number;
  /** The first socket error, if the relay ended on one (a reset, a refused write). */
  error: Error | undefined;
}

/**
 * Joins two TCP sockets into one byte stream both ways, with back-pressure
 * (pipe pauses the faster side, so memory stays bounded by the sockets'
 * buffers) and half-close: when one side finishes sending, the other side
 * learns it and may still answer (an echo service must get its replies back
 * after the client's FIN). Both sockets need `allowHalfOpen: true`, else
 * Node ends the writable side on the first FIN and the answer is lost.
 *
 * Resolves once both sockets have closed; `stop()` destroys both at once.
 */
export class TcpRelay {
  readonly done: Promise<RelayOutcome>;
  private error: Error | undefined;
  private aToB = 0;
  private bToA = 0;

  constructor(
    private readonly a: Socket,
    private readonly b: Socket,
  ) {
    a.on('data', (chunk: Buffer) => (this.aToB += chunk.length));
    b.on('data', (chunk: Buffer) => (this.bToA += chunk.length));
    const onError = (error: Error): void => {
      this.error ??= error;
      // A failed side can neither send nor receive: end the whole relay.
      this.stop();
    };
    a.on('error', onError);
    b.on('error', onError);
    const closed = (socket: Socket): Promise<void> => new Promise((resolve) => (socket.destroyed && socket.closed ? resolve() : socket.once('close', () => resolve())));
    // One side closing for good (not just half-closing) leaves nothing to carry: close the other too.
    a.once('close', () => b.end());
    b.once('close', () => a.end());
    a.pipe(b);
    b.pipe(a);
    a.resume();
    b.resume();
    this.done = Promise.all([closed(a), closed(b)]).then(() => ({ aToB: this.aToB, bToA: this.bToA, error: this.error }));
  }

  /** Destroys both sockets (the tube closed, the service stops). */
  stop(): void {
    this.a.destroy();
    this.b.destroy();
  }
}

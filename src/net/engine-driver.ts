import { EventEmitter } from 'node:events';
import { AsyncQueue } from '../base/async-queue.js';
import type { CliqueError } from '../base/clique-error.js';
import { emitSafely } from '../base/emit-safely.js';
import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { waitFor } from '../base/wait-for.js';
import type { EngineEvent, EngineState, MembersLostReason, MulticastEngine, ResetReason } from '../rmcast/engine-types.js';
import { checkPacket, peekHeader } from '../wire/codec.js';
import { PacketError } from '../wire/packet-error.js';
import { SEND_WINDOW } from '../rmcast/engine-defaults.js';
import type { DatagramTransport } from './datagram-transport.js';
import { DriverError } from './driver-error.js';
import type { TransportError } from './transport-error.js';

/**
 * Runs a sans-IO engine in real time over a datagram transport: feeds it every
 * datagram, keeps one timer armed for its `nextDeadline()`, sends what it
 * produces after every call, and re-emits its events. Nothing thrown by the
 * engine or the socket escapes an event handler: it becomes an 'error' event
 * (or a warning in the log when nobody listens). Listeners run by the one rule
 * of `emitSafely`: one that throws is logged and costs neither the other
 * listeners nor the socket callback that fed the datagram.
 */

export interface DriverMessage {
  sender: string;
  senderId: number;
  streamId: number;
  /** Shared with the engine's repair cache (one-fragment messages are not copied): read it, never write into it. */
  data: Uint8Array;
}

export interface EngineDriverEvents {
  connected: [senderId: number];
  message: [message: DriverMessage];
  'members-joined': [names: string[]];
  /** `reason`: 'left' (BYE), 'failed', or 'reset' (we start over; see EngineEvent 'members-lost'). */
  'members-lost': [names: string[], reason: MembersLostReason];
  /** The engine starts over under a new sender id (see EngineEvent 'reset'). */
  reset: [reason: ResetReason, detail: string];
  /** Somebody forges packets of `senderId` (see EngineEvent 'spoof-suspected'). */
  'spoof-suspected': [suspect: { senderId: number; sender: string | undefined; packetId: number }];
  disconnected: [];
  /** `close()` ran (also at the end of `leave()`): the transport is closing and nothing more is sent or delivered. */
  closed: [];
  error: [error: CliqueError];
  /** Members acknowledged some of our packets: `unacknowledged` remain (flow control; see whenUnacknowledgedAtMost). */
  acknowledged: [unacknowledged: number];
}

export interface EngineDriverOptions {
  logger?: Logger;
  /** Milliseconds on a monotonic clock. Default `performance.now()`. */
  clock?: () => number;
  /**
   * 'clique' (default): decode each datagram first; a malformed one is logged
   * at debug, counted and not fed to the engine. 'none': feed everything (for
   * engines that speak something else, e.g. in driver tests).
   */
  datagramCheck?: 'clique' | 'none';
  /** Messages buffered per `messages()` iterator before it fails with 'backlog-overflow'. Default 10 000. */
  maxBufferedMessages?: number;
}

export interface DriverStats {
  datagramsIn: number;
  datagramsOut: number;
  malformed: number;
  engineErrors: number;
}

export class EngineDriver extends EventEmitter<EngineDriverEvents> {
  readonly stats: DriverStats = { datagramsIn: 0, datagramsOut: 0, malformed: 0, engineErrors: 0 };

  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly check: 'clique' | 'none';
  private readonly maxBuffered: number;
  private timer: NodeJS.Timeout | undefined;
  private timerDeadline: number | undefined;
  private started = false;
  private closed = false;
  private disconnected = false;
  private readonly iterators = new Set<AsyncQueue<DriverMessage>>();
  private closing: Promise<void> | undefined;
  private lastUnacknowledged = 0;
  /** The 'message' listeners as of the last change (see emitMessage). */
  private messageListeners: Array<(message: DriverMessage) => void> | undefined;

  constructor(
    readonly engine: MulticastEngine,
    private readonly transport: DatagramTransport,
    options: EngineDriverOptions = {},
  ) {
    super();
    this.logger = (options.logger ?? silentLogger).child('driver');
    this.clock = options.clock ?? (() => performance.now());
    this.check = options.datagramCheck ?? 'clique';
    this.maxBuffered = options.maxBufferedMessages ?? 10_000;
    const forgetListeners = (event: string | symbol): void => {
      if (event === 'message') this.messageListeners = undefined;
    };
    // The flow-control figure is computed per flush only while somebody listens
    // for 'acknowledged' (a waiting sender): a first listener starts from now.
    const startCounting = (event: string | symbol): void => {
      if (event === 'acknowledged' && this.listenerCount('acknowledged') === 0) {
        this.lastUnacknowledged = this.engine.unacknowledgedPackets;
      }
    };
    // Node's own bookkeeping events, outside the typed event map.
    const plain = this as unknown as EventEmitter;
    plain.on('newListener', forgetListeners);
    plain.on('newListener', startCounting);
    plain.on('removeListener', forgetListeners);
    transport.onDatagram((bytes) => this.onDatagram(bytes));
    transport.onError((error) => this.reportError(error));
  }

  get name(): string {
    return this.engine.name;
  }

  get state(): EngineState {
    return this.engine.state;
  }

  get senderId(): number | undefined {
    return this.engine.senderId;
  }

  get members(): readonly string[] {
    return this.engine.members;
  }

  /** Start probing for a sender id ('connected' follows). */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.call('start', (now) => this.engine.start(now));
  }

  /** Originate a message. Throws EngineError (not connected, too large, bad stream id). */
  send(streamId: number, data: Uint8Array): void {
    if (this.closed) throw new DriverError('closed', 'the node is closed');
    this.engine.send(streamId, data, this.clock());
    this.flush();
  }

  /** Harness `FAIL:<name>`: act as if that member had failed. */
  failMember(name: string): void {
    if (this.closed) return;
    this.call('failMember', (now) => this.engine.failMember(name, now));
  }

  /** Leave gracefully (BYEs), then close the transport. Resolves once disconnected. */
  async leave(): Promise<void> {
    if (this.closed) return this.closing;
    if (!this.disconnected && (this.engine.state === 'connecting' || this.engine.state === 'connected')) {
      const done = new Promise<void>((resolve) => this.once('disconnected', () => resolve()));
      this.call('leave', (now) => this.engine.leave(now));
      // Wait only if the engine is actually sending its BYEs; otherwise no 'disconnected' will come.
      if (this.disconnected || (this.engine.state as EngineState) === 'leaving') await done;
    }
    return this.close();
  }

  /** Stop at once (no BYE): timer off, transport closed, iterators ended. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closed = true;
    this.clearTimer();
    this.endIterators();
    this.closing = this.transport.close();
    emitSafely(this, this.logger, 'closed');
    return this.closing;
  }

  /** Messages delivered from now on, until the node disconnects or closes. */
  messages(): AsyncIterableIterator<DriverMessage> {
    const limit = this.maxBuffered;
    const queue: AsyncQueue<DriverMessage> = new AsyncQueue<DriverMessage>(
      limit,
      () => new DriverError('backlog-overflow', `messages() reader fell more than ${limit} messages behind`),
      () => this.iterators.delete(queue),
    );
    if (this.closed || this.disconnected) queue.end();
    else this.iterators.add(queue);
    return queue;
  }

  private onDatagram(bytes: Uint8Array): void {
    if (this.closed || !this.started) return;
    this.stats.datagramsIn++;
    if (this.check === 'clique') {
      // Checked in place (no packet built: the engine decodes it once more anyway).
      let error: unknown;
      try {
        error = checkPacket(bytes);
      } catch (thrown) {
        error = thrown;
      }
      if (error !== undefined) {
        this.stats.malformed++;
        if (this.logger.isEnabled('debug')) {
          const header = peekHeader(bytes);
          this.logger.debug('dropped malformed datagram', {
            type: header?.type ?? 'not a Clique packet',
            sender: header?.sender,
            bytes: bytes.length,
            reason: error instanceof PacketError ? error.code : String(error),
          });
        }
        if (!(error instanceof PacketError)) this.reportError(new DriverError('engine-failed', `decoder threw: ${String(error)}`, { cause: error }));
        return;
      }
    }
    // Inlined call(): this runs once per datagram, so no closure for it.
    try {
      this.engine.receive(bytes, this.clock());
    } catch (error) {
      this.failedIn('receive', error);
    }
    this.flush();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerDeadline = undefined;
    if (this.closed) return;
    const deadline = this.engine.nextDeadline();
    if (deadline === undefined) return;
    if (deadline > this.clock()) {
      this.arm();
      return;
    }
    this.call('tick', (now) => this.engine.tick(now));
  }

  /** One engine call, then route its output. Engine exceptions become 'error' events. */
  private call(what: string, body: (now: number) => void): void {
    try {
      body(this.clock());
    } catch (error) {
      this.failedIn(what, error);
    }
    this.flush();
  }

  private failedIn(what: string, error: unknown): void {
    this.stats.engineErrors++;
    this.reportError(
      new DriverError('engine-failed', `engine failed in ${what}: ${errorText(error)}`, { cause: error }),
    );
  }

  private flush(): void {
    const output = this.engine.drain();
    // Indexed loops: this runs per datagram and must not allocate iterators.
    const datagrams = output.datagrams;
    for (let i = 0; i < datagrams.length; i++) {
      this.stats.datagramsOut++;
      this.transport.send(datagrams[i]!);
    }
    const events = output.events;
    for (let i = 0; i < events.length; i++) this.dispatch(events[i]!);
    if (this.listenerCount('acknowledged') > 0) {
      const unacknowledged = this.engine.unacknowledgedPackets;
      if (unacknowledged < this.lastUnacknowledged) emitSafely(this, this.logger, 'acknowledged', unacknowledged);
      this.lastUnacknowledged = unacknowledged;
    }
    if (!this.closed) this.arm();
  }

  /**
   * Flow control without polling: resolves once at most `limit` of our packets
   * are unacknowledged (default SEND_WINDOW), or when the node disconnects or
   * closes (a later send then fails with its own error).
   */
  async whenUnacknowledgedAtMost(limit: number = SEND_WINDOW): Promise<void> {
    await waitFor({
      emitter: this,
      check: () => (this.engine.unacknowledgedPackets <= limit || this.closed || this.disconnected ? true : undefined),
      events: ['acknowledged', 'disconnected', 'closed'],
    });
  }

  private dispatch(event: EngineEvent): void {
    switch (event.type) {
      case 'connected':
        this.logger.debug('connected', { senderId: event.senderId });
        emitSafely(this, this.logger, 'connected', event.senderId);
        return;
      case 'message': {
        const message: DriverMessage = { sender: event.sender, senderId: event.senderId, streamId: event.streamId, data: event.data };
        if (this.iterators.size > 0) {
          for (const iterator of this.iterators) {
            // A reader too far behind fails with its own error and leaves the set.
            if (!iterator.push(message)) {
              this.reportError(new DriverError('backlog-overflow', `a messages() reader fell more than ${this.maxBuffered} messages behind`));
            }
          }
        }
        this.emitMessage(message);
        return;
      }
      case 'members-joined':
        emitSafely(this, this.logger, 'members-joined', [...event.names]);
        return;
      case 'members-lost':
        emitSafely(this, this.logger, 'members-lost', [...event.names], event.reason);
        return;
      case 'reset':
        this.logger.warn('engine reset', { reason: event.reason, detail: event.detail });
        emitSafely(this, this.logger, 'reset', event.reason, event.detail);
        return;
      case 'spoof-suspected':
        this.logger.warn('forged packets suspected', { senderId: event.senderId, sender: event.sender, packetId: event.packetId });
        emitSafely(this, this.logger, 'spoof-suspected', { senderId: event.senderId, sender: event.sender, packetId: event.packetId });
        return;
      case 'disconnected':
        this.disconnected = true;
        this.clearTimer();
        this.endIterators();
        emitSafely(this, this.logger, 'disconnected');
        return;
    }
  }

  /**
   * emitSafely's rule for the one per-message event, without its per-call
   * allocations (rest arguments, a fresh copy of the listener list): the list is
   * snapshotted once and dropped whenever a 'message' listener comes or goes.
   */
  private emitMessage(message: DriverMessage): void {
    const listeners = (this.messageListeners ??= this.rawListeners('message') as Array<(message: DriverMessage) => void>);
    for (let i = 0; i < listeners.length; i++) {
      try {
        listeners[i]!.call(this, message);
      } catch (error) {
        this.logger.error(`a 'message' listener threw`, { error: errorText(error) });
      }
    }
  }

  private endIterators(): void {
    for (const iterator of this.iterators) iterator.end();
    this.iterators.clear();
  }

  private arm(): void {
    const deadline = this.engine.nextDeadline();
    if (deadline === undefined) {
      this.clearTimer();
      return;
    }
    // A timer that fires no later than needed can stay: onTimer re-arms if it is
    // early. Re-arming only for earlier deadlines keeps setTimeout churn off the
    // per-datagram path.
    if (this.timer !== undefined && this.timerDeadline !== undefined && this.timerDeadline <= deadline) return;
    this.clearTimer();
    const delay = Math.min(Math.max(0, deadline - this.clock()), 0x7fffffff);
    this.timerDeadline = deadline;
    // Timers can fire a little early relative to the clock; onTimer re-arms when the deadline is not yet due.
    this.timer = setTimeout(() => this.onTimer(), Math.ceil(delay));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDeadline = undefined;
  }

  private reportError(error: CliqueError | TransportError): void {
    // Unheard, a driver error is a warning with its code (emitSafely alone would log it as an error without one).
    if (this.listenerCount('error') > 0) emitSafely(this, this.logger, 'error', error);
    else this.logger.warn(error.message, { code: error.code });
  }
}

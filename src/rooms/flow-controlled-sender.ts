import { EventEmitter } from 'node:events';
import { errorText } from '../base/error-text.js';
import { waitFor } from '../base/wait-for.js';
import { DATA_FRAGMENT_PAYLOAD, SEND_WINDOW } from '../rmcast/engine-defaults.js';
import { SENDER_POSITION_SIZE } from '../wire/packet.js';
import type { GroupLink } from './group-link.js';
import { RoomError } from './room-error.js';

/** Payload bytes per fragment, rounded down: a default-size datagram's data payload minus a few depends entries. */
const FRAGMENT_PAYLOAD_ESTIMATE = DATA_FRAGMENT_PAYLOAD - 4 * SENDER_POSITION_SIZE;
/** How often a sender that waits for the group to reconnect (after a reset) looks again. */
const POLL_MS = 10;

/** Told, synchronously, the moment rMulticast took the message (no error) or why it did not. */
export type SendDone = (error: RoomError | undefined) => void;

interface Pending {
  streamId: number;
  data: Uint8Array;
  done: SendDone;
}

/**
 * Sends messages in order, each only when the engine's flow-control window
 * has room for all its fragments (spec: keep fewer than SEND_WINDOW own
 * packets unacknowledged, or slow receivers drop what is beyond their
 * 256-packet window and recover only through slow repair rounds). A message
 * bigger than the whole window goes out when nothing is outstanding. While
 * the engine is reconnecting after a reset, sends wait instead of failing.
 * The room core decides what to send and when; this is the socket side.
 */
export class FlowControlledSender {
  private readonly queue: Pending[] = [];
  private pumping = false;
  private closedWith: RoomError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waitingForWindow = false;
  /** Fires 'progress' whenever the queue moves or the sender closes (whenIdle looks again then). */
  private readonly progress = new EventEmitter().setMaxListeners(0);

  constructor(
    private readonly driver: GroupLink,
    private readonly window: number = SEND_WINDOW,
  ) {}

  /** Sends waiting for the window. */
  get queued(): number {
    return this.queue.length;
  }

  /** Our packets the members have not all acknowledged yet. */
  get unacknowledged(): number {
    return this.driver.unacknowledged;
  }

  /** `done` runs once handed to the engine, or with RoomError 'not-joined' or 'send-failed'. The caller bounds the queue. */
  send(streamId: number, data: Uint8Array, done: SendDone): void {
    if (this.closedWith !== undefined) {
      done(this.closedWith);
      return;
    }
    this.queue.push({ streamId, data, done });
    this.pump();
  }

  /**
   * Resolves when nothing is queued any more (everything was handed to the
   * engine) and, with `acknowledged`, every member has also acknowledged all
   * we sent. Acknowledgements ride on the members' own next packets, so in a
   * quiet room they can take until their next keepalive (minutes). Rejects
   * with RoomError 'timeout'.
   */
  whenIdle(options: { acknowledged: boolean; timeoutMs: number }): Promise<void> {
    const idle = (): true | undefined =>
      this.closedWith !== undefined || (this.queue.length === 0 && (!options.acknowledged || this.unacknowledged === 0)) ? true : undefined;
    if (idle()) return Promise.resolve();
    // Acknowledgements arrive inside the engine without an event of ours: look again now and then.
    const poll = setInterval(() => this.progress.emit('progress'), POLL_MS);
    return waitFor({
      emitter: this.progress,
      events: ['progress'],
      check: idle,
      timeoutMs: options.timeoutMs,
      timeoutError: () => new RoomError('timeout', `after ${options.timeoutMs} ms, ${this.queue.length} messages are still queued and ${this.unacknowledged} packets unacknowledged`),
    }).then(
      () => clearInterval(poll),
      (error: unknown) => {
        clearInterval(poll);
        throw error;
      },
    );
  }

  /** Rejects everything queued and every later send with `reason`. */
  close(reason: RoomError): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = reason;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const pending of this.queue.splice(0)) pending.done(reason);
    this.progress.emit('progress');
  }

  private pump(): void {
    if (this.pumping || this.timer !== undefined || this.waitingForWindow) return;
    this.pumping = true;
    try {
      for (;;) {
        const next = this.queue[0];
        if (next === undefined || this.closedWith !== undefined) return;
        const state = this.driver.state;
        if (state === 'leaving' || state === 'closed') {
          this.close(new RoomError('not-joined', 'the room is being left'));
          return;
        }
        const fragments = Math.max(1, Math.ceil(next.data.length / FRAGMENT_PAYLOAD_ESTIMATE));
        const outstanding = this.unacknowledged;
        const fits = outstanding === 0 || outstanding + fragments <= this.window;
        if (state === 'connected' && !fits) {
          // Woken by the driver as soon as acknowledgements free the window.
          this.waitingForWindow = true;
          void this.driver.whenUnacknowledgedAtMost(Math.max(0, this.window - fragments)).then(() => {
            this.waitingForWindow = false;
            this.pump();
          });
          return;
        }
        if (state !== 'connected') {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.pump();
          }, POLL_MS);
          return;
        }
        this.queue.shift();
        let refused: RoomError | undefined;
        try {
          this.driver.send(next.streamId, next.data);
        } catch (error) {
          refused = new RoomError('send-failed', `rMulticast refused the message: ${errorText(error)}`, { cause: error });
        }
        next.done(refused);
      }
    } finally {
      this.pumping = false;
      this.progress.emit('progress');
    }
  }
}

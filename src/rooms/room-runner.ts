import { EventEmitter } from 'node:events';
import { deferred, type Deferred } from '../base/deferred.js';
import { errorText } from '../base/error-text.js';
import type { Logger } from '../base/logger.js';
import type { RoomAddress } from '../linklocal/room-advertiser.js';
import { FlowControlledSender } from './flow-controlled-sender.js';
import type { GroupLink } from './group-link.js';
import type { HistoryEntry } from './history-store.js';
import type { RoomClock } from './room-clock.js';
import type { RoomCore } from './room-core.js';
import { RoomError } from './room-error.js';
import type { GroupId, RoomEventOutput, RoomOutput, SendResult } from './room-output.js';
import type { RoomSetup } from './room-setup.js';
import type { CliqueError } from '../base/clique-error.js';
import type { LeaveReason } from './room-types.js';

/** A group the room is in or leaving: its link and the queue in front of it. */
interface GroupSocket {
  link: GroupLink;
  sender: FlowControlledSender;
}

/** What the runner hands back to the Room for its listeners, promises and iterators. */
export interface RoomRunnerHooks {
  event(output: RoomEventOutput): void;
  connected(): void;
  error(error: CliqueError): void;
  closed(reason: LeaveReason): void;
}

/**
 * Carries out what the room core asks (room-output.ts) with real parts: the
 * group's socket behind a flow-control queue, mDNS through the advertiser,
 * the history store, one timer for the core's deadline. Results come back
 * to the core as inputs; every input goes through `input()`.
 */
export class RoomRunner {
  private readonly sockets = new Map<GroupId, GroupSocket>();
  private readonly waiting = new Map<number, Deferred<SendResult>>();
  /** Groups we are leaving, still saying BYE. */
  private readonly departures = new Set<Promise<void>>();
  /** Fires whenever the core produced output (flush() looks again then). */
  readonly progress = new EventEmitter().setMaxListeners(0);
  private timer: NodeJS.Timeout | undefined;
  private timerAt: number | undefined;
  /** Outputs are being carried out: an input arriving meanwhile (a send completing) leaves its outputs to that loop, in order. */
  private running = false;

  constructor(
    private readonly core: RoomCore,
    private readonly setup: RoomSetup,
    private readonly logger: Logger,
    private readonly clock: RoomClock,
    private readonly hooks: RoomRunnerHooks,
  ) {}

  /** The queue in front of the group we are in now. */
  get sender(): FlowControlledSender | undefined {
    return this.sockets.get(this.core.groupId)?.sender;
  }

  get unacknowledged(): number {
    return this.sockets.get(this.core.groupId)?.link.unacknowledged ?? 0;
  }

  /** A user request: the core queues it (or refuses at once); the promise settles with its ticket. */
  request(submit: () => number | undefined): Promise<SendResult> {
    let ticket: number | undefined;
    try {
      this.input(() => {
        ticket = submit();
      });
    } catch (error) {
      return Promise.reject(error);
    }
    if (ticket === undefined) return Promise.resolve(undefined);
    // Settled in the same drain (a member with room in the window): already in `waiting`.
    const waiting = this.waiting.get(ticket) ?? this.wait(ticket);
    return waiting.promise;
  }

  private wait(ticket: number): Deferred<SendResult> {
    const waiting = deferred<SendResult>();
    this.waiting.set(ticket, waiting);
    return waiting;
  }

  /** Runs one input of the core, then carries out what it asked for. Nothing it throws reaches a socket callback, except a request's refusal. */
  input(body: () => void): void {
    body();
    this.run();
  }

  /** Group events count for the core only while that group is its own (it checks the id). */
  attach(id: GroupId, link: GroupLink): void {
    this.addSocket(id, link);
    this.listen(id, link);
  }

  private addSocket(id: GroupId, link: GroupLink): void {
    this.sockets.set(id, { link, sender: new FlowControlledSender(link) });
  }

  private listen(id: GroupId, link: GroupLink): void {
    const guarded = (what: string, body: () => void): void => {
      try {
        this.input(body);
      } catch (error) {
        this.logger.error(`handling ${what} failed`, { error: errorText(error) });
      }
    };
    link.on('connected', () => guarded('connected', () => this.core.groupConnected(id)));
    link.on('members-joined', (names) => guarded('members-joined', () => this.core.membersJoined(id, names)));
    link.on('members-lost', (names, reason) => guarded('members-lost', () => this.core.membersLost(id, names, reason)));
    link.on('message', (message) => guarded('message', () => this.core.received(id, message)));
    link.on('disconnected', () => guarded('disconnected', () => this.core.groupDisconnected(id)));
    link.on('reset', (reason, detail) => guarded('reset', () => this.core.groupReset(id, reason, detail)));
    link.on('spoof-suspected', (suspect) => guarded('spoof-suspected', () => this.core.spoofSuspected(id, suspect)));
    link.on('error', (error) => guarded('error', () => this.core.groupError(id, error)));
    if (link.state === 'connected') guarded('connected', () => this.core.groupConnected(id));
  }

  private run(): void {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        const outputs = this.core.drain();
        if (outputs.length === 0) break;
        for (const output of outputs) this.perform(output);
      }
    } finally {
      this.running = false;
    }
    this.schedule();
    this.progress.emit('progress');
  }

  private perform(output: RoomOutput): void {
    switch (output.type) {
      case 'event':
        this.hooks.event(output);
        return;
      case 'transmit':
        this.transmit(output.group, output.ticket, output.streamId, output.bytes);
        return;
      case 'settled': {
        const waiting = this.waiting.get(output.ticket) ?? this.wait(output.ticket);
        if (output.error === undefined) waiting.resolve(output.result);
        else waiting.reject(output.error);
        // A ticket settled before its request returned is picked up there; later ones are done with.
        queueMicrotask(() => this.waiting.delete(output.ticket));
        return;
      }
      case 'advertise':
        this.advertise(output.group, output.room);
        return;
      case 'withdraw':
        this.withdraw(output.group, output.name);
        return;
      case 'open-group':
        this.openGroup(output.group, output.address, output.port);
        return;
      case 'leave-group':
        this.leaveGroup(output.group, output.bye);
        return;
      case 'store':
        this.store(output.entry, output.unlessLastTopic);
        return;
      case 'connected':
        this.hooks.connected();
        return;
      case 'error':
        this.hooks.error(output.error);
        return;
      case 'closed':
        this.closed(output.reason);
        return;
    }
  }

  private transmit(group: GroupId, ticket: number, streamId: number, bytes: Uint8Array): void {
    const socket = this.sockets.get(group);
    if (socket === undefined) {
      this.input(() => this.core.transmitFailed(ticket, group, new RoomError('not-joined', 'that group is gone')));
      return;
    }
    socket.sender.send(streamId, bytes, (error) => {
      this.input(() => (error === undefined ? this.core.transmitted(ticket, group) : this.core.transmitFailed(ticket, group, error)));
    });
  }

  private advertise(group: GroupId, room: RoomAddress): void {
    const advertising = this.setup.advertising;
    if (advertising === undefined) return;
    advertising.advertise(room).then(
      (result) => this.input(() => this.core.advertiseSettled(group, result)),
      (error: unknown) => this.input(() => this.core.advertiseSettled(group, error instanceof Error ? error : new Error(errorText(error)))),
    );
  }

  private withdraw(group: GroupId, name: string): void {
    const advertising = this.setup.advertising;
    if (advertising === undefined) return;
    advertising
      .withdraw(name)
      .catch((error: unknown) => this.logger.debug('withdrawing the advertisement failed', { error: errorText(error) }))
      .finally(() => this.input(() => this.core.withdrawn(group)));
  }

  private openGroup(group: GroupId, address: string, port: number): void {
    const openGroup = this.setup.openGroup;
    if (openGroup === undefined) return;
    openGroup(address, port).then(
      (opened) => {
        this.addSocket(group, opened.group);
        this.input(() => this.core.groupOpened(group, opened.address, opened.port));
        // Only now is it the room's group: a 'connected' it already had counts.
        this.listen(group, opened.group);
      },
      (error: unknown) => this.input(() => this.core.groupOpenFailed(group, error)),
    );
  }

  private leaveGroup(group: GroupId, bye: boolean): void {
    const socket = this.sockets.get(group);
    if (socket === undefined) {
      if (bye) this.input(() => this.core.groupLeft(group));
      return;
    }
    this.sockets.delete(group);
    socket.sender.close(new RoomError('not-joined', `room ${JSON.stringify(this.core.name)} left that group`));
    if (!bye) {
      void socket.link.close();
      return;
    }
    const others = [...this.departures];
    const departure = socket.link
      .leave()
      .catch((error: unknown) => this.logger.warn('leaving the group failed', { error: errorText(error) }))
      .then(() => Promise.all(others))
      .then(() => this.input(() => this.core.groupLeft(group)));
    this.departures.add(departure);
    void departure.finally(() => this.departures.delete(departure));
  }

  private store(entry: Omit<HistoryEntry, 'room'>, unlessLastTopic: string | undefined): void {
    const history = this.setup.history;
    if (history === undefined) return;
    try {
      if (unlessLastTopic !== undefined && history.lastTopic(this.core.name)?.text === unlessLastTopic) return;
      history.add({ room: this.core.name, ...entry });
    } catch (error) {
      this.reportError(error instanceof RoomError ? error : new RoomError('history-failed', errorText(error), { cause: error }));
    }
  }

  private reportError(error: RoomError): void {
    this.logger.warn(error.message, { code: error.code });
    this.hooks.error(error);
  }

  private closed(reason: LeaveReason): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const socket of this.sockets.values()) {
      socket.sender.close(new RoomError('not-joined', `room ${JSON.stringify(this.core.name)} was left`));
      void socket.link.close();
    }
    this.sockets.clear();
    this.hooks.closed(reason);
  }

  /** One timer, for the core's next deadline (the join wait). */
  private schedule(): void {
    const at = this.core.nextDeadline();
    if (at === this.timerAt) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (at === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = undefined;
      this.input(() => this.core.tick(this.clock.now()));
    }, Math.max(0, at - this.clock.now()));
  }
}

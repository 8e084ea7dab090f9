import { EventEmitter } from 'node:events';
import { AsyncQueue } from '../base/async-queue.js';
import type { CliqueError } from '../base/clique-error.js';
import { deferred } from '../base/deferred.js';
import { emitSafely } from '../base/emit-safely.js';
import type { Logger } from '../base/logger.js';
import { waitFor, type WaitOptions } from '../base/wait-for.js';
import type { Contact, PresenceStatus } from '../linklocal/contact.js';
import type { RoomAddress } from '../linklocal/room-advertiser.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { HistoryEntry } from './history-store.js';
import { systemRoomClock, type RoomClock } from './room-clock.js';
import { RoomCore } from './room-core.js';
import { RoomRunner } from './room-runner.js';
import { RoomError } from './room-error.js';
import type { RoomControl, RoomSetup, SendOptions } from './room-setup.js';
import type { ChatState, ReplyReference } from './room-stanzas.js';
import type { LeaveReason, RoomEvents, RoomMember, RoomMessage, RoomState, TopicChange } from './room-types.js';

export type { InvitationSender, RoomAdvertising, RoomControl, RoomListing, RoomSettings, RoomSetup, SendOptions } from './room-setup.js';
/** Default timeout 60 000 ms. */
export type { WaitOptions } from '../base/wait-for.js';

export const DEFAULT_WAIT_MS = 60_000;
const controls = new WeakMap<Room, RoomControl>();

/** @internal The Clique's handle on a room it made. */
export function roomControl(room: Room): RoomControl {
  const control = controls.get(room);
  if (control === undefined) throw new RoomError('bad-argument', `room ${JSON.stringify(room.name)} was not made by a Clique`);
  return control;
}

/**
 * One Clique room we are in: an rMulticast group whose stream 0 carries
 * salut's XML (spec §3-§4). Get one from `clique.join()`. The protocol lives
 * in RoomCore (room-core.ts); this shell gives it sockets, mDNS, a clock,
 * the history, and turns its outputs into events, promises and iterators.
 *
 *   const room = await clique.join('lunch', { nick: 'Alice' });
 *   room.on('message', (m) => console.log(`<${m.senderName}> ${m.text}`));
 *   room.on('member-joined', (m) => console.log(`${m.displayName} joined`));
 *   await room.send('anyone for pizza?');
 *   await room.sendAction('waves');            // "/me waves"
 *   await room.setTopic('pizza at noon');
 *   for await (const m of room) { ... }        // until the room is left
 *   await room.leave();                        // BYE, then the advertisement is withdrawn
 */
export class Room extends EventEmitter<RoomEvents> implements AsyncIterable<RoomMessage> {
  readonly name: string;
  /** Our name in the room (the rMulticast name and the `from` of everything we send). */
  readonly selfName: string;

  private readonly core: RoomCore;
  private readonly setup: RoomSetup;
  private readonly logger: Logger;
  private readonly runner: RoomRunner;
  private readonly readers = new Set<AsyncQueue<RoomMessage>>();
  private readonly connectedSignal = deferred<void>();
  private readonly readySignal = deferred<void>();
  private readonly finished = deferred<void>();
  private leaving: Promise<void> | undefined;
  private readonly clock: RoomClock;

  /** @internal Use `clique.join()`. */
  constructor(setup: RoomSetup) {
    super();
    this.setup = setup;
    this.name = setup.name;
    this.selfName = setup.selfName;
    this.logger = setup.logger.child(`room:${setup.name}`);
    this.clock = setup.clock ?? systemRoomClock;
    const listing = setup.listing;
    const contacts = setup.contacts;
    this.core = new RoomCore({
      name: setup.name,
      selfName: setup.selfName,
      address: setup.address,
      port: setup.port,
      creator: setup.creator,
      advertises: setup.advertising !== undefined,
      mayMove: setup.byName === true && listing !== undefined && setup.openGroup !== undefined,
      listed: () => listing?.get(setup.name),
      contacts: contacts === undefined ? undefined : (name) => contacts.get(name),
      settings: setup.settings,
      time: this.clock,
      logger: this.logger,
    });
    // Nobody may be awaiting these when the room closes early; that must not be an unhandled rejection.
    this.connectedSignal.promise.catch(() => undefined);
    this.readySignal.promise.catch(() => undefined);
    this.runner = new RoomRunner(this.core, setup, this.logger, this.clock, {
      event: (output) => {
        if (output.name === 'message') this.toReaders(output.args[0]);
        if (output.name === 'ready') this.readySignal.resolve();
        emitSafely(this, this.logger, output.name, ...output.args);
      },
      connected: () => this.connectedSignal.resolve(),
      error: (error) => this.emitError(error),
      closed: () => this.closed(),
    });
    const input = (body: () => void): void => this.runner.input(body);
    controls.set(this, {
      close: (reason) => this.close(reason),
      listingChanged: () => input(() => this.core.listingChanged()),
      advertisementLost: (room) => input(() => this.core.advertisementLost(room)),
      contactChanged: (name, previous) => input(() => this.core.contactChanged(name, previous)),
    });
    this.runner.attach(this.core.groupId, setup.group);
  }

  get state(): RoomState {
    return this.core.state;
  }

  /** The room's multicast group (what invitations carry); changes when the room moves ('moved'). */
  get address(): string {
    return this.core.address;
  }

  get port(): number {
    return this.core.port;
  }

  /** We created the group we are in (a new random one); false after a move. */
  get creator(): boolean {
    return this.core.creator;
  }

  /** True once we are a member (messages flow). */
  get joined(): boolean {
    return this.core.state === 'joined';
  }

  /** Everyone in the room, ourselves first once we are a member; others sorted by name. */
  get members(): RoomMember[] {
    return this.core.members;
  }

  /** A member by name (ourselves included). */
  member(name: string): RoomMember | undefined {
    return this.core.member(name);
  }

  /** The current topic, if anyone set one since we joined (or re-announced it to us). */
  get topic(): TopicChange | undefined {
    return this.core.topic;
  }

  /** Where to find the room, as advertised and as invitations carry it. */
  get roomAddress(): RoomAddress {
    return this.core.roomAddress;
  }

  /** Counters for diagnostics and tests. */
  get stats(): { received: number; rejected: number; sent: number; moves: number; streamReceived: number } {
    return this.core.stats;
  }

  /** Resolves once rMulticast has chosen our sender id (join() already waited for it). */
  whenConnected(): Promise<void> {
    return this.connectedSignal.promise;
  }

  /** Resolves once we are a member (the 'ready' event); rejects if the room is left first. */
  whenReady(): Promise<void> {
    return this.readySignal.promise;
  }

  /**
   * Resolves once at least `count` other members are in the room. Rejects
   * with RoomError 'timeout' (default 60 s) or 'not-joined' if the room closes.
   *
   *   await room.waitForMembers(1, { timeoutMs: 10_000 });
   */
  waitForMembers(count = 1, options: WaitOptions = {}): Promise<void> {
    if (this.core.roster.size >= count) return Promise.resolve();
    if (this.core.state === 'left') return Promise.reject(new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left`));
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    return waitFor<true>({
      emitter: this,
      events: ['member-joined'],
      check: () => (this.core.roster.size >= count ? true : undefined),
      failOn: { left: () => new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left while waiting`) },
      timeoutMs,
      timeoutError: () => new RoomError('timeout', `fewer than ${count} other members after ${timeoutMs} ms in room ${JSON.stringify(this.name)}`),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    }).then(() => undefined);
  }

  /**
   * Sends a text message (§4.2). Resolves with the message once handed to
   * rMulticast: while we are still joining, sends wait until we are a member
   * (earlier data would reach nobody), and then for the flow-control window.
   * rMulticast never echoes our own messages, so this is where the UI gets it.
   * Rejects with RoomError ('not-joined', 'too-large', 'queue-full', 'send-failed', 'bad-argument').
   */
  async send(text: string, options: SendOptions = {}): Promise<RoomMessage> {
    const replyTo = replyReference(options.replyTo);
    return (await this.runner.request(() => this.core.sendText(text, options.kind ?? 'normal', replyTo))) as RoomMessage;
  }

  /** `/me TEXT`. */
  sendAction(text: string, options: Omit<SendOptions, 'kind'> = {}): Promise<RoomMessage> {
    return this.send(text, { ...options, kind: 'action' });
  }

  /** A notice (type="normal"; salut shows it as a notice). */
  sendNotice(text: string, options: Omit<SendOptions, 'kind'> = {}): Promise<RoomMessage> {
    return this.send(text, { ...options, kind: 'notice' });
  }

  /**
   * Sets the room topic ('' clears it) with a body-less `<subject>` message,
   * which salut peers ignore (§4.4). Newcomers get it re-announced.
   */
  async setTopic(topic: string): Promise<TopicChange> {
    return (await this.runner.request(() => this.core.setTopic(topic))) as TopicChange;
  }

  /**
   * Our XEP-0085 chat state ('composing' while the user types, 'paused',
   * 'active' ...). Sent only when it changes, as a body-less message; sending
   * a text message implies 'active'.
   */
  async setTyping(state: ChatState): Promise<void> {
    await this.runner.request(() => this.core.setTyping(state));
  }

  /**
   * Sends `element` as the only child of a body-less groupchat `<message>`
   * on stream 0 (how a tube list travels, spec §7.2). Resolves once handed
   * to rMulticast; waits for membership and the flow-control window like
   * `send()`, and rejects the same ways.
   */
  async sendElement(element: XmlElement): Promise<void> {
    await this.runner.request(() => this.core.sendElement(element));
  }

  /**
   * Sends `data` as one rMulticast message on stream `streamId` (1..65535,
   * tube data, spec §7.4); the others get it as 'stream-data'. Resolves once
   * handed to rMulticast; waits for membership and the flow-control window
   * like `send()`. Rejects with RoomError ('bad-argument', 'too-large',
   * 'queue-full', 'not-joined', 'send-failed').
   */
  async sendStream(streamId: number, data: Uint8Array): Promise<void> {
    await this.runner.request(() => this.core.sendStream(streamId, data));
  }

  /** Announces our status (and nick) in the room with a body-less `<presence>`; newcomers get it too. */
  async setStatus(status: PresenceStatus, message?: string): Promise<void> {
    await this.runner.request(() => this.core.setStatus(status, message));
  }

  /** Sets (or with undefined, removes) our nick in this room and announces it. */
  async setNick(nick: string | undefined): Promise<void> {
    await this.runner.request(() => this.core.setNick(nick));
  }

  /**
   * Invites a contact (§5) over XEP-0174 with this room's group and port.
   * Needs a Clique with the link-local service (RoomError 'no-link' otherwise).
   */
  async invite(contact: string | Contact, reason?: string): Promise<void> {
    const invite = this.setup.invite;
    if (invite === undefined) throw new RoomError('no-link', 'invitations need the link-local service: start Clique with presence');
    await invite(typeof contact === 'string' ? contact : contact.name, {
      room: this.name,
      address: this.address,
      port: this.port,
      ...(reason !== undefined && reason !== '' ? { reason } : {}),
    });
  }

  /**
   * The last `limit` stored entries of this room (messages and topic changes,
   * oldest first), `outgoing` when we (this member) wrote them; [] without a store.
   */
  history(limit = 50): HistoryEntry[] {
    return this.setup.history?.recent(this.name, limit, this.selfName) ?? [];
  }

  /**
   * Messages from the others from now on, until the room is left. Bounded:
   * a reader more than `maxBufferedMessages` behind fails with 'backlog-overflow'.
   */
  messages(): AsyncIterableIterator<RoomMessage> {
    const queue: AsyncQueue<RoomMessage> = new AsyncQueue<RoomMessage>(
      this.setup.settings.maxBufferedMessages,
      () => new RoomError('backlog-overflow', `a messages() reader fell more than ${this.setup.settings.maxBufferedMessages} messages behind`),
      () => this.readers.delete(queue),
    );
    if (this.core.state === 'left') queue.end();
    else this.readers.add(queue);
    return queue;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<RoomMessage> {
    return this.messages();
  }

  /**
   * Resolves once every message sent so far has been handed to rMulticast
   * (sends may wait for membership and the flow-control window). rMulticast
   * then repairs it for members that missed it, also during the BYEs of
   * `leave()`. With `acknowledged: true`, waits until every member has
   * received all our packets, as their packets and SESSIONs tell (about a
   * second among our peers, 1.5-3 s with an original member). Rejects with
   * RoomError 'timeout' (default 60 s).
   */
  async flush(options: { acknowledged?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const deadline = this.clock.now() + timeoutMs;
    const handed = (): true | undefined => (this.core.queued === 0 || this.core.closing() ? true : undefined);
    await waitFor({
      emitter: this.runner.progress,
      events: ['progress'],
      check: handed,
      timeoutMs,
      timeoutError: () => new RoomError('timeout', `after ${timeoutMs} ms, ${this.core.queued} messages are still waiting in room ${JSON.stringify(this.name)}`),
    });
    const sender = this.runner.sender;
    if (sender === undefined || this.core.closing()) return;
    await sender.whenIdle({ acknowledged: options.acknowledged ?? false, timeoutMs: Math.max(0, deadline - this.clock.now()) });
  }

  /** Our packets not yet acknowledged by every member (flow control holds sends when this nears the window). */
  get unacknowledgedPackets(): number {
    return this.runner.unacknowledged;
  }

  /**
   * Leaves (§2.5, §3.5): pending sends fail, rMulticast says BYE, then the
   * room's advertisement is withdrawn. Safe to call more than once.
   */
  leave(): Promise<void> {
    return this.close('left');
  }

  // ------------------------------------------------------------ the shell

  private close(reason: LeaveReason): Promise<void> {
    if (this.core.state === 'left') return Promise.resolve();
    this.leaving ??= (() => {
      this.runner.input(() => this.core.leave(reason));
      return this.finished.promise;
    })();
    return this.leaving;
  }

  private closed(): void {
    const error = new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left before it was ready`);
    this.connectedSignal.reject(error);
    this.readySignal.reject(error);
    for (const reader of [...this.readers]) reader.end();
    this.readers.clear();
    this.setup.onClosed(this);
    this.finished.resolve();
  }

  private toReaders(message: RoomMessage): void {
    for (const reader of [...this.readers]) {
      if (!reader.push(message)) this.reportError(new RoomError('backlog-overflow', 'a messages() reader fell too far behind and was ended'));
    }
  }

  private reportError(error: RoomError): void {
    this.logger.warn(error.message, { code: error.code });
    this.emitError(error);
  }

  /** Operational errors go to 'error' listeners only if there are any (they are logged already). */
  private emitError(error: CliqueError): void {
    if (this.listenerCount('error') > 0) emitSafely(this, this.logger, 'error', error);
  }
}

function replyReference(target: RoomMessage | ReplyReference | undefined): ReplyReference | undefined {
  if (target === undefined) return undefined;
  if ('sender' in target) return { id: target.id, to: target.sender };
  if (typeof target.id !== 'string' || target.id === '') throw new RoomError('bad-argument', 'replyTo needs the id of the original message');
  return target.to === undefined ? { id: target.id } : { id: target.id, to: target.to };
}

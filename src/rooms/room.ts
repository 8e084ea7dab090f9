import { errorText } from '../base/error-text.js';
import type { WaitOptions } from '../base/wait-for.js';
import type { Contact, PresenceStatus } from '../linklocal/contact.js';
import type { RoomAddress } from '../linklocal/room-advertiser.js';
import { AsyncQueue } from '../base/async-queue.js';
import type { HistoryEntry } from './history-store.js';
import { RoomError } from './room-error.js';
import type { RoomControl, RoomSetup, SendOptions } from './room-setup.js';
import { sameGroup } from './room-merge.js';
import { buildChatState, buildRoomText, buildTopic, type ChatState, type ReplyReference } from './room-stanzas.js';
import { DEFAULT_WAIT_MS, RoomMachinery } from './room-machinery.js';
import type { LeaveReason, RoomMessage, TopicChange } from './room-types.js';

export type { InvitationSender, RoomAdvertising, RoomControl, RoomListing, RoomSettings, RoomSetup, SendOptions } from './room-setup.js';
/** Default timeout 60 000 ms. */
export type { WaitOptions } from '../base/wait-for.js';

const controls = new WeakMap<Room, RoomControl>();

/** @internal The Clique's handle on a room it made. */
export function roomControl(room: Room): RoomControl {
  const control = controls.get(room);
  if (control === undefined) throw new RoomError('bad-argument', `room ${JSON.stringify(room.name)} was not made by a Clique`);
  return control;
}

/**
 * One Clique room we are in: an rMulticast group whose stream 0 carries
 * salut's XML (spec §3-§4). Get one from `clique.join()`.
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
export class Room extends RoomMachinery implements AsyncIterable<RoomMessage> {
  /** @internal Use `clique.join()`. */
  constructor(setup: RoomSetup) {
    super(setup);
    controls.set(this, {
      close: (reason) => this.close(reason),
      listingChanged: () => this.listingChanged(),
      advertisementLost: (room) => this.advertisementLost(room),
      contactChanged: (name, previous) => this.contactChanged(name, previous),
    });
  }

  protected closed(): void {
    this.setup.onClosed(this);
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
    return this.waitUntil(() => this.roster.size >= count, ['member-joined'], options, () => `fewer than ${count} other members after`);
  }

  /**
   * Sends a text message (§4.2). Resolves with the message once handed to
   * rMulticast: while we are still joining, sends wait until we are a member
   * (earlier data would reach nobody), and then for the flow-control window.
   * rMulticast never echoes our own messages, so this is where the UI gets it.
   * Rejects with RoomError ('not-joined', 'too-large', 'queue-full', 'send-failed', 'bad-argument').
   */
  async send(text: string, options: SendOptions = {}): Promise<RoomMessage> {
    if (typeof text !== 'string' || text === '') throw new RoomError('bad-argument', 'message text must be a non-empty string');
    const kind = options.kind ?? 'normal';
    if (kind !== 'normal' && kind !== 'action' && kind !== 'notice') throw new RoomError('bad-argument', `unknown message kind ${JSON.stringify(kind)}`);
    const replyTo = replyReference(options.replyTo);
    const id = this.clock.newId();
    const stanza = buildRoomText({ from: this.selfName, room: this.name, kind, text, id, ...(replyTo !== undefined ? { replyTo } : {}) });
    await this.sendStanza(stanza, 'message', true);
    this.sentTyping = 'active';
    const message: RoomMessage = {
      room: this.name,
      id,
      sender: this.selfName,
      senderName: this.roster.me().displayName,
      kind,
      text,
      time: new Date(this.clock.now()),
      outgoing: true,
      replyTo,
      stanza,
      extensions: [],
    };
    this.store({ id, sender: this.selfName, senderName: message.senderName, kind, text, time: message.time, outgoing: true, ...(replyTo !== undefined ? { replyTo: replyTo.id } : {}) });
    return message;
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
    if (typeof topic !== 'string') throw new RoomError('bad-argument', 'topic must be a string');
    const id = this.clock.newId();
    await this.sendStanza(buildTopic({ from: this.selfName, room: this.name, topic, id }), 'topic');
    const change: TopicChange = { room: this.name, topic, setBy: this.selfName, setAt: new Date(this.clock.now()), announcedBy: this.selfName, replay: false, id };
    this.currentTopic = change;
    this.store({ id, sender: this.selfName, senderName: this.roster.me().displayName, kind: 'topic', text: topic, time: change.setAt, outgoing: true });
    return { ...change };
  }

  /**
   * Our XEP-0085 chat state ('composing' while the user types, 'paused',
   * 'active' ...). Sent only when it changes, as a body-less message; sending
   * a text message implies 'active'.
   */
  async setTyping(state: ChatState): Promise<void> {
    if (state === this.sentTyping) return;
    this.sentTyping = state;
    await this.sendStanza(buildChatState({ from: this.selfName, room: this.name, state }), 'chat-state');
  }

  /** Announces our status (and nick) in the room with a body-less `<presence>`; newcomers get it too. */
  async setStatus(status: PresenceStatus, message?: string): Promise<void> {
    this.roster.self.status = status;
    this.roster.self.statusMessage = message === '' ? undefined : message;
    if (this.roomState === 'joined') await this.announceStatus();
  }

  /** Sets (or with undefined, removes) our nick in this room and announces it. */
  async setNick(nick: string | undefined): Promise<void> {
    this.roster.self.nick = nick === '' ? undefined : nick;
    if (this.roomState === 'joined') await this.announceStatus();
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

  /** The last `limit` stored entries of this room (messages and topic changes, oldest first); [] without a store. */
  history(limit = 50): HistoryEntry[] {
    return this.setup.history?.recent(this.name, limit) ?? [];
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
    if (this.roomState === 'left') queue.end();
    else this.readers.add(queue);
    return queue;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<RoomMessage> {
    return this.messages();
  }

  /**
   * Resolves once every message sent so far has been handed to rMulticast
   * (sends may wait for the flow-control window). rMulticast then repairs it
   * for members that missed it, also during the BYEs of `leave()`.
   * With `acknowledged: true`, waits until every member has acknowledged all
   * our packets; acknowledgements ride on the members' own next packets, so
   * in a quiet room that can take minutes. Rejects with RoomError 'timeout'
   * (default 60 s).
   */
  async flush(options: { acknowledged?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    const deadline = this.clock.now() + timeoutMs;
    // A move hands what was queued to the next group's sender: follow it there.
    for (;;) {
      const sender = this.sender;
      await sender.whenIdle({ acknowledged: options.acknowledged ?? false, timeoutMs: Math.max(0, deadline - this.clock.now()) });
      if (sender === this.sender || this.leaving !== undefined || this.roomState === 'left') return;
    }
  }

  /** Our packets not yet acknowledged by every member (flow control holds sends when this nears the window). */
  get unacknowledgedPackets(): number {
    return this.sender.unacknowledged;
  }

  /**
   * Leaves (§2.5, §3.5): pending sends fail, rMulticast says BYE, then the
   * room's advertisement is withdrawn. Safe to call more than once.
   */
  leave(): Promise<void> {
    return this.close('left');
  }

  private close(reason: LeaveReason): Promise<void> {
    this.leaving ??= (async () => {
      this.roomState = 'leaving';
      this.clearJoinTimer();
      this.sender.close(new RoomError('not-joined', `room ${JSON.stringify(this.name)} is being left`));
      try {
        await this.driver.leave();
      } catch (error) {
        this.logger.warn('leaving the group failed', { error: errorText(error) });
      }
      await this.withdraw();
      await Promise.all(this.departures);
      this.finish(reason);
    })();
    return this.leaving;
  }

  private listingChanged(): void {
    this.guard('room list', () => this.considerMerge());
  }

  /** Another host holds the room's name with other data: our advertisement of `room` was refused. */
  private advertisementLost(room: RoomAddress): void {
    if (room.name !== this.name || !sameGroup(room, this.group)) return;
    if (this.advertState === 'probing') this.advertState = 'lost-probing';
    else if (this.advertState === 'advertised') this.advertState = 'lost-established';
    this.guard('advertising conflict', () => this.considerMerge());
  }

  private contactChanged(name: string, previous: Contact | undefined): void {
    if (name === this.selfName) return;
    const change = this.roster.contactChanged(name, previous);
    if (change !== undefined) this.safeEmit('member-updated', ...change);
  }
}

function replyReference(target: RoomMessage | ReplyReference | undefined): ReplyReference | undefined {
  if (target === undefined) return undefined;
  if ('sender' in target) return { id: target.id, to: target.sender };
  if (typeof target.id !== 'string' || target.id === '') throw new RoomError('bad-argument', 'replyTo needs the id of the original message');
  return target.to === undefined ? { id: target.id } : { id: target.id, to: target.to };
}

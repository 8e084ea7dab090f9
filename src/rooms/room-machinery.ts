import { EventEmitter } from 'node:events';
import { deferred, type Deferred } from '../base/deferred.js';
import { emitSafely } from '../base/emit-safely.js';
import { errorText } from '../base/error-text.js';
import { waitFor, type WaitOptions } from '../base/wait-for.js';
import type { CliqueError } from '../base/clique-error.js';
import type { Logger } from '../base/logger.js';
import type { AdvertiseResult, RoomAddress } from '../linklocal/room-advertiser.js';
import { serializeStanzaDocument } from '../xml/stanza-document.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { XmlLimits } from '../xml/xml-limits.js';
import { AsyncQueue } from '../base/async-queue.js';
import { FlowControlledSender } from './flow-controlled-sender.js';
import type { GroupLink, GroupMessage } from './group-link.js';
import type { HistoryEntry } from './history-store.js';
import { RecentIds } from './recent-ids.js';
import { systemRoomClock, type RoomClock } from './room-clock.js';
import { readInbound } from './room-inbound.js';
import { Roster } from './room-roster.js';
import { mustReannounce, receivedTopic } from './room-topic.js';
import { UnheardLines, type UnheardLine } from './unheard-lines.js';
import { RoomError } from './room-error.js';
import type { RoomSetup } from './room-setup.js';
import type { OpenedGroup } from './room-group.js';
import { groupKey, mergeDecision, type AdvertState, type GroupAddress } from './room-merge.js';
import { buildMemberStatus, buildTopic, unknownChildren, type ChatState, type RoomStanza } from './room-stanzas.js';
import type { LeaveReason, MemberLeftReason, RoomEvents, RoomMember, RoomMessage, RoomState, TopicChange } from './room-types.js';

/** Default timeout 60 000 ms. */
export type { WaitOptions } from '../base/wait-for.js';

export const DEFAULT_WAIT_MS = 60_000;
const STREAM_XML = 0;
/** The rMulticast group the room is in now; a move replaces it (room-merge.ts). */
interface CurrentGroup {
  driver: GroupLink;
  address: string;
  port: number;
  /** We created it (a random group): a member as soon as connected (§3.2). */
  creator: boolean;
  /** Set when we moved here from another group of the room. */
  movedFrom?: RoomAddress;
  /** rMulticast chose our sender id in it (a reset reconnects under a new id; nothing to redo). */
  connected: boolean;
  /** We count as a member in it: sends go out (before, they would reach nobody). */
  member: boolean;
}

/**
 * The room's state and its machinery (group events, membership, advertising,
 * moves, the inbound pipeline); `Room` (room.ts) adds the public API on top.
 */
export abstract class RoomMachinery extends EventEmitter<RoomEvents> {
  readonly name: string;
  /** Our name in the room (the rMulticast name and the `from` of everything we send). */
  readonly selfName: string;
  /** Counters for diagnostics and tests. */
  readonly stats = { received: 0, rejected: 0, sent: 0, moves: 0 };

  protected roomState: RoomState = 'connecting';
  protected group: CurrentGroup;
  protected readonly setup: RoomSetup;
  protected readonly logger: Logger;
  protected sender: FlowControlledSender;
  protected advertState: AdvertState = 'off';
  protected moving = false;
  /** Groups we could not open; not tried again. */
  protected readonly unreachable = new Set<string>();
  protected readonly unheard = new UnheardLines();
  /** Groups we moved away from, still saying BYE. */
  protected readonly departures = new Set<Promise<void>>();
  protected readonly roster: Roster;
  protected readonly clock: RoomClock;
  protected readonly recentIds = new RecentIds();
  protected readonly readers = new Set<AsyncQueue<RoomMessage>>();
  protected readonly xmlLimits: Partial<XmlLimits>;
  protected currentTopic: TopicChange | undefined;
  protected sentTyping: ChatState = 'active';
  protected cancelJoinTimer: (() => void) | undefined;
  protected advertiseResult: Promise<AdvertiseResult | undefined> | undefined;
  protected leaving: Promise<void> | undefined;
  protected readonly connectedSignal: Deferred<void>;
  protected readonly readySignal: Deferred<void>;

  protected constructor(setup: RoomSetup) {
    super();
    this.setup = setup;
    this.name = setup.name;
    this.selfName = setup.selfName;
    this.group = { driver: setup.group, address: setup.address, port: setup.port, creator: setup.creator, connected: false, member: false };
    this.logger = setup.logger.child(`room:${setup.name}`);
    this.sender = this.senderFor(this.group);
    this.xmlLimits = { maxStanzaBytes: setup.settings.maxStanzaBytes };
    this.clock = setup.clock ?? systemRoomClock;
    const contacts = setup.contacts;
    this.roster = new Roster(
      { name: setup.selfName, nick: setup.settings.nick, status: setup.settings.status, statusMessage: setup.settings.statusMessage },
      contacts === undefined ? undefined : (name) => contacts.get(name),
    );
    this.connectedSignal = deferred();
    this.readySignal = deferred();
    // Nobody may be awaiting these when the room closes early; that must not be an unhandled rejection.
    this.connectedSignal.promise.catch(() => undefined);
    this.readySignal.promise.catch(() => undefined);

    this.attach(this.group);
  }

  get state(): RoomState {
    return this.roomState;
  }

  /** The room's multicast group (what invitations carry); changes when the room moves ('moved'). */
  get address(): string {
    return this.group.address;
  }

  get port(): number {
    return this.group.port;
  }

  /** We created the group we are in (a new random one); false after a move. */
  get creator(): boolean {
    return this.group.creator;
  }

  protected get driver(): GroupLink {
    return this.group.driver;
  }

  /** True once we are a member (messages flow). */
  get joined(): boolean {
    return this.roomState === 'joined';
  }

  /** Everyone in the room, ourselves first once we are a member; others sorted by name. */
  get members(): RoomMember[] {
    return this.roster.members(this.roomState === 'joined');
  }

  /** A member by name (ourselves included). */
  member(name: string): RoomMember | undefined {
    if (name === this.selfName) return this.roomState === 'joined' ? this.roster.me() : undefined;
    return this.roster.other(name);
  }

  /** The current topic, if anyone set one since we joined (or re-announced it to us). */
  get topic(): TopicChange | undefined {
    return this.currentTopic === undefined ? undefined : { ...this.currentTopic };
  }

  /** Where to find the room, as advertised and as invitations carry it. */
  get roomAddress(): RoomAddress {
    return { name: this.name, address: this.address, port: this.port };
  }

  /** The room is gone: its maker forgets it. */
  protected abstract closed(): void;

  /** Driver events count only while its group is ours (a group we moved away from may still be saying BYE). */
  protected attach(group: CurrentGroup): void {
    const driver = group.driver;
    const current = (): boolean => this.group === group;
    driver.on('connected', () => {
      if (current()) this.onConnected();
    });
    driver.on('members-joined', (names) => {
      if (current()) this.guard('members-joined', () => this.onMembersJoined(names));
    });
    driver.on('members-lost', (names, reason) => {
      if (current()) this.guard('members-lost', () => this.onMembersLost(names, reason === 'left' ? 'left' : 'timed-out'));
    });
    driver.on('message', (message) => {
      if (current()) this.guard('message', () => this.onMessage(message));
    });
    driver.on('disconnected', () => {
      if (current() && this.leaving === undefined) this.finish('disconnected');
    });
    driver.on('reset', (reason, detail) => {
      if (!current()) return;
      this.logger.warn('our membership of the group started over; rejoining', { reason, detail });
      this.safeEmit('warning', { kind: 'group-reset', room: this.name, reason, detail });
    });
    driver.on('spoof-suspected', (suspect) => {
      if (!current()) return;
      this.logger.warn('forged packets under a member id', { sender: suspect.sender, senderId: suspect.senderId });
      this.safeEmit('warning', { kind: 'spoof-suspected', room: this.name, sender: suspect.sender, senderId: suspect.senderId });
    });
    driver.on('error', (error) => {
      if (current()) this.reportError(error);
      else this.logger.debug('error in the group we left', { error: error.message });
    });
    if (driver.state === 'connected') this.onConnected();
  }

  protected senderFor(group: CurrentGroup): FlowControlledSender {
    // Before we are a member, what we send would reach nobody (data sent before our JOIN is never delivered).
    return new FlowControlledSender(group.driver, this.setup.settings.maxQueuedSends, () => this.roomState === 'joined' && group.member);
  }

  protected onConnected(): void {
    const group = this.group;
    if (group.connected || this.leaving !== undefined || this.roomState === 'left') return; // a reset reconnects under a new id; nothing to redo
    group.connected = true;
    this.logger.debug('connected', { address: group.address, port: group.port, creator: group.creator });
    if (this.roomState === 'connecting') {
      this.roomState = 'joining';
      this.connectedSignal.resolve();
    }
    if (group.movedFrom !== undefined) {
      this.logger.info('joined the existing room', { at: groupKey(group), left: groupKey(group.movedFrom) });
      this.safeEmit('moved', this.roomAddress, group.movedFrom);
    }
    // §2.1: every participant advertises as soon as it is connected, without waiting for others.
    this.advertise(group);
    if (group.creator) this.becomeMember();
    else this.cancelJoinTimer = this.clock.after(this.setup.settings.joinWaitMs, () => this.becomeMember());
  }

  protected advertise(group: CurrentGroup): void {
    const advertising = this.setup.advertising;
    if (advertising === undefined) {
      this.advertState = 'off';
      return;
    }
    this.advertState = 'probing';
    this.advertiseResult = advertising.advertise({ name: this.name, address: group.address, port: group.port }).then(
      (result) => {
        if (this.group !== group) return result;
        if (result === 'conflict') {
          if (this.advertState === 'probing') this.advertState = 'lost-probing';
          if (this.mayMove()) this.logger.info('another group holds this room name on mDNS; we join it if we are alone', { room: this.name });
          else this.logger.warn('another room of this name is advertised with a different group; not advertising ours', { room: this.name });
        } else if (this.advertState === 'probing') {
          this.advertState = result === 'advertised' ? 'advertised' : 'withdrawn';
        }
        this.guard('advertising', () => this.considerMerge());
        return result;
      },
      (error: unknown) => {
        this.logger.warn('cannot advertise the room', { error: errorText(error) });
        if (this.group === group && this.advertState === 'probing') {
          this.advertState = 'off';
          this.guard('advertising', () => this.considerMerge());
        }
        return undefined;
      },
    );
  }

  protected becomeMember(): void {
    const group = this.group;
    if (!group.connected || group.member || this.leaving !== undefined || this.roomState === 'left') return;
    this.clearJoinTimer();
    group.member = true;
    this.logger.debug('member', { members: this.roster.size });
    if (this.roomState === 'joining') {
      this.roomState = 'joined';
      this.readySignal.resolve();
      this.safeEmit('ready');
    }
    if (this.roster.hasStatusToAnnounce()) void this.announceStatus().catch((error: unknown) => this.logger.debug('status not sent', { error: errorText(error) }));
    this.considerMerge();
  }

  // ------------------------------------------------- merging split rooms (room-merge.ts)

  /** leave()/close() began, or the room is gone (a method: state read after an await must not be narrowed). */
  protected closing(): boolean {
    return this.leaving !== undefined || this.roomState === 'left';
  }

  /** Joined by name, with a room list to look at and a way to open another group. */
  protected mayMove(): boolean {
    return this.setup.byName === true && this.setup.listing !== undefined && this.setup.openGroup !== undefined;
  }

  /** Moves to the group the room list shows under our name when the merge rule says so. */
  protected considerMerge(): void {
    const { listing, openGroup } = this.setup;
    if (!this.mayMove() || listing === undefined || openGroup === undefined) return;
    if (this.moving || this.leaving !== undefined || this.roomState !== 'joined' || !this.group.member) return;
    const listed = listing.get(this.name);
    const decision = mergeDecision({ ours: this.group, listed, alone: this.roster.alone, advert: this.advertState });
    if (decision !== 'move' || listed === undefined || this.unreachable.has(groupKey(listed))) return;
    void this.moveTo(listed, openGroup);
  }

  /**
   * Leaves our group quietly (advertisement withdrawn, BYE to nobody) for
   * `target`. The Room object, its listeners and its readers stay; sends
   * waiting meanwhile go out in the new group once we are a member there,
   * after what we said while alone.
   */
  protected async moveTo(target: GroupAddress, openGroup: (address: string, port: number) => Promise<OpenedGroup>): Promise<void> {
    this.moving = true;
    const from = this.group;
    this.logger.info('this room is also at another group and we are alone in ours: moving there', { from: groupKey(from), to: groupKey(target) });
    try {
      // The advertiser and the room list know one group per name: ours goes first.
      await this.withdraw();
      this.advertiseResult = undefined;
      if (this.closing()) return;
      let opened: OpenedGroup;
      try {
        opened = await openGroup(target.address, target.port);
      } catch (error) {
        this.unreachable.add(groupKey(target));
        this.logger.warn('cannot join the other group of this room; staying in ours', { to: groupKey(target), error: errorText(error) });
        if (!this.closing()) this.advertise(from);
        return;
      }
      if (this.closing() || !this.roster.alone) {
        // Leaving, or someone found us meanwhile: our group stays the room.
        void opened.group.close();
        if (!this.closing()) this.advertise(from);
        return;
      }
      this.switchTo(opened, { name: this.name, address: from.address, port: from.port });
    } finally {
      this.moving = false;
    }
  }

  protected switchTo(opened: OpenedGroup, from: RoomAddress): void {
    const old = { group: this.group, sender: this.sender };
    const next: CurrentGroup = { driver: opened.group, address: opened.address, port: opened.port, creator: false, connected: false, member: false, movedFrom: from };
    this.clearJoinTimer();
    this.group = next;
    this.sender = this.senderFor(next);
    this.stats.moves++;
    this.advertState = 'off';
    // We are the newcomer there: the topic its members re-announce to us is the room's, not one we set alone.
    this.currentTopic = undefined;
    for (const note of this.unheard.take(this.clock.now())) {
      note.resent = this.sender.send(STREAM_XML, note.bytes);
      note.resent.catch((error: unknown) => this.logger.debug('a message said while alone was not re-sent', { error: errorText(error) }));
    }
    // Sends still waiting in the old group's sender fail with 'not-joined' and go out again in the new one (sendStanza).
    old.sender.close(new RoomError('not-joined', 'the room moved to another group'));
    const departure = old.group.driver.leave().catch((error: unknown) => this.logger.debug('leaving our old group failed', { error: errorText(error) }));
    this.departures.add(departure);
    void departure.finally(() => this.departures.delete(departure));
    this.attach(next);
  }

  protected onMembersJoined(names: string[]): void {
    if (this.leaving !== undefined) return;
    const before = this.roster.names();
    const added = this.roster.join(names, this.selfName);
    this.logger.debug('members joined', { names });
    // Someone is here: what we say is heard, and the room will not move while they stay.
    if (added.length > 0) this.unheard.clear();
    for (const member of added) this.safeEmit('member-joined', member);
    // §3.2 step 3: the others first, then ourselves.
    this.becomeMember();
    if (added.length === 0 || this.roomState !== 'joined') return;
    this.reannounceTopic(before);
    if (this.roster.hasStatusToAnnounce()) void this.announceStatus().catch((error: unknown) => this.logger.debug('status not sent', { error: errorText(error) }));
  }

  protected onMembersLost(names: string[], reason: MemberLeftReason): void {
    this.logger.debug('members lost', { names, reason });
    for (const member of this.roster.lose(names)) this.safeEmit('member-left', member, reason);
    if (this.roster.alone) this.considerMerge();
  }

  /** One old member re-sends the topic to newcomers (room-topic.ts has the rule). */
  protected reannounceTopic(before: string[]): void {
    const topic = this.currentTopic;
    if (!mustReannounce(topic, before, this.selfName)) return;
    const stanza = buildTopic({ from: this.selfName, room: this.name, topic: topic.topic, id: topic.id, replay: { setBy: topic.setBy, setAt: topic.setAt } });
    this.sendStanza(stanza, 'topic (re-announced)').catch((error: unknown) => this.logger.debug('topic not re-announced', { error: errorText(error) }));
  }

  protected announceStatus(): Promise<void> {
    const stanza = buildMemberStatus({
      from: this.selfName,
      room: this.name,
      status: this.roster.self.status ?? 'avail',
      ...(this.roster.self.statusMessage !== undefined ? { message: this.roster.self.statusMessage } : {}),
      ...(this.roster.self.nick !== undefined ? { nick: this.roster.self.nick } : {}),
    });
    return this.sendStanza(stanza, 'status');
  }

  /** @param replayable a text message: if we are alone, a move sends it again in the group we move to. */
  protected async sendStanza(stanza: XmlElement, what: string, replayable = false): Promise<void> {
    if (this.leaving !== undefined || this.roomState === 'left') throw new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left`);
    const bytes = serializeStanzaDocument(stanza);
    if (bytes.length > this.setup.settings.maxStanzaBytes) {
      throw new RoomError('too-large', `${what} of ${bytes.length} bytes exceeds the room limit of ${this.setup.settings.maxStanzaBytes} bytes`);
    }
    const note: UnheardLine | undefined = replayable && this.roster.alone && this.mayMove() ? this.unheard.note(bytes, this.clock.now()) : undefined;
    for (;;) {
      const sender = this.sender;
      try {
        await sender.send(STREAM_XML, bytes);
        break;
      } catch (error) {
        const moved = sender !== this.sender && error instanceof RoomError && error.code === 'not-joined' && !this.closing();
        if (!moved) throw error;
        // The room moved while this waited: it goes out in the new group (the move re-sent it already if it was noted).
        if (note?.resent !== undefined) {
          await note.resent;
          break;
        }
      }
    }
    this.stats.sent++;
    this.logger.debug('sent', { stanza: what, bytes: bytes.length });
  }

  protected onMessage(message: GroupMessage): void {
    if (message.streamId !== STREAM_XML) {
      // Streams 1..65535 are D-Bus tube data (§7.4); we offer and accept no tubes.
      this.logger.debug('ignoring data on a tube stream', { sender: message.sender, streamId: message.streamId, bytes: message.data.length });
      return;
    }
    if (this.roomState === 'left') return;
    this.stats.received++;
    const sender = message.sender;
    const inbound = readInbound(message.data, this.name, sender, this.xmlLimits);
    if ('refused' in inbound) {
      this.reject(inbound.refused, sender);
      return;
    }
    const { stanza, read } = inbound;
    this.logger.debug('received', { stanza: stanza.name, kind: read.type, sender });
    switch (read.type) {
      case 'text':
        this.onText(sender, stanza, read);
        return;
      case 'topic':
        this.onTopic(sender, read);
        return;
      case 'chat-state':
        this.setMemberTyping(sender, read.state);
        return;
      case 'status':
        this.onStatus(sender, read);
        return;
      case 'ignored':
        return;
    }
  }

  protected onText(sender: string, stanza: XmlElement, read: Extract<RoomStanza, { type: 'text' }>): void {
    if (read.id !== undefined && !this.recentIds.add(sender, read.id)) {
      this.reject(new RoomError('duplicate', `${sender} sent message id ${JSON.stringify(read.id)} again`), sender);
      return;
    }
    const id = read.id ?? `local:${this.clock.newId()}`;
    const message: RoomMessage = {
      room: this.name,
      id,
      sender,
      senderName: this.roster.displayName(sender),
      kind: read.kind,
      text: read.text,
      time: new Date(this.clock.now()),
      outgoing: false,
      replyTo: read.replyTo,
      stanza,
      extensions: unknownChildren(stanza),
    };
    // A message ends the author's typing, whatever chat state it carries.
    this.setMemberTyping(sender, read.chatState ?? 'active');
    this.store({ id, sender, senderName: message.senderName, kind: read.kind, text: read.text, time: message.time, outgoing: false, ...(read.replyTo !== undefined ? { replyTo: read.replyTo.id } : {}) });
    for (const reader of [...this.readers]) {
      if (!reader.push(message)) this.reportError(new RoomError('backlog-overflow', 'a messages() reader fell too far behind and was ended'));
    }
    this.safeEmit('message', message);
  }

  protected onTopic(sender: string, read: Extract<RoomStanza, { type: 'topic' }>): void {
    const change = receivedTopic(this.name, sender, read, this.currentTopic, { now: new Date(this.clock.now()), id: () => this.clock.newId() });
    if (change === undefined) return;
    const { replay, setBy } = change;
    this.currentTopic = change;
    const lastStored = replay ? this.setup.history?.lastTopic(this.name) : undefined;
    if (!replay || lastStored === undefined || lastStored.text !== read.topic) {
      const setter = this.member(setBy);
      this.store({ id: change.id, sender: setBy, ...(setter !== undefined ? { senderName: setter.displayName } : {}), kind: 'topic', text: read.topic, time: change.setAt, outgoing: false });
    }
    this.safeEmit('topic', { ...change });
  }

  protected onStatus(sender: string, read: Extract<RoomStanza, { type: 'status' }>): void {
    const change = this.roster.announce(sender, read);
    if (change !== undefined) this.safeEmit('member-updated', ...change);
  }

  protected setMemberTyping(sender: string, typing: ChatState): void {
    if (this.roster.typing(sender, typing)) this.safeEmit('typing', { room: this.name, member: sender, state: typing });
  }

  protected store(entry: Omit<HistoryEntry, 'room'>): void {
    const history = this.setup.history;
    if (history === undefined) return;
    try {
      history.add({ room: this.name, ...entry });
    } catch (error) {
      this.reportError(error instanceof RoomError ? error : new RoomError('history-failed', errorText(error), { cause: error }));
    }
  }

  protected reject(error: RoomError, sender: string): void {
    this.stats.rejected++;
    // Foreign rooms sharing our group are normal (§2.3): not worth a warning.
    if (error.code === 'wrong-room') this.logger.debug('stanza refused', { code: error.code, sender, error: error.message });
    else this.logger.warn('stanza refused', { code: error.code, sender, error: error.message });
    this.safeEmit('rejected', error, sender);
  }

  protected reportError(error: CliqueError): void {
    this.logger.warn(error.message, { code: error.code });
    if (this.listenerCount('error') > 0) this.safeEmit('error', error);
  }

  protected async withdraw(): Promise<void> {
    const advertising = this.setup.advertising;
    if (advertising === undefined || this.advertiseResult === undefined) return;
    // Wait for the announcement to settle so the goodbye is not overtaken by it.
    const result = await this.advertiseResult;
    if (result !== 'advertised') return;
    try {
      await advertising.withdraw(this.name);
    } catch (error) {
      this.logger.debug('withdrawing the advertisement failed', { error: errorText(error) });
    }
  }

  protected finish(reason: LeaveReason): void {
    if (this.roomState === 'left') return;
    this.roomState = 'left';
    this.clearJoinTimer();
    this.sender.close(new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left`));
    const error = new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left before it was ready`);
    this.connectedSignal.reject(error);
    this.readySignal.reject(error);
    for (const reader of [...this.readers]) reader.end();
    this.readers.clear();
    this.roster.clear();
    this.unheard.clear();
    if (reason === 'disconnected') void this.driver.close();
    this.logger.debug('left', { reason });
    this.closed();
    this.safeEmit('left', reason);
  }

  protected clearJoinTimer(): void {
    this.cancelJoinTimer?.();
    this.cancelJoinTimer = undefined;
  }

  protected waitUntil(condition: () => boolean, events: Array<keyof RoomEvents>, options: WaitOptions, what: () => string): Promise<void> {
    if (condition()) return Promise.resolve();
    if (this.roomState === 'left') return Promise.reject(new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left`));
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    return waitFor<true>({
      emitter: this,
      events,
      check: () => (condition() ? true : undefined),
      failOn: { left: () => new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left while waiting`) },
      timeoutMs,
      timeoutError: () => new RoomError('timeout', `${what()} ${timeoutMs} ms in room ${JSON.stringify(this.name)}`),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    }).then(() => undefined);
  }

  /** Runs a driver event handler; nothing it throws reaches the socket callback. */
  protected guard(what: string, body: () => void): void {
    try {
      body();
    } catch (error) {
      this.logger.error(`handling ${what} failed`, { error: errorText(error) });
    }
  }

  /** An application listener that throws must cost neither the room nor the process. */
  protected safeEmit<K extends keyof RoomEvents>(event: K, ...args: RoomEvents[K]): void {
    emitSafely(this, this.logger, event, ...args);
  }
}

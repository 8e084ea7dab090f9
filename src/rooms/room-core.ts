import { errorText } from '../base/error-text.js';
import type { CliqueError } from '../base/clique-error.js';
import type { Logger } from '../base/logger.js';
import type { Contact, PresenceStatus } from '../linklocal/contact.js';
import type { AdvertiseResult, RoomAddress } from '../linklocal/room-advertiser.js';
import { serializeStanzaDocument } from '../xml/stanza-document.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { TextMessageKind } from '../xml/stanzas.js';
import type { GroupMessage } from './group-link.js';
import type { HistoryEntry } from './history-store.js';
import type { RoomClock } from './room-clock.js';
import { RoomError } from './room-error.js';
import { DEFAULT_MAX_QUEUED_BYTES, DEFAULT_MAX_STREAM_MESSAGE_BYTES, extensionMessage, streamPayload } from './room-extensions.js';
import { messageEntry, RoomInbound } from './room-inbound.js';
import { groupKey, mergeDecision, sameGroup, type GroupAddress } from './room-merge.js';
import { RoomAdvertisement } from './room-advertisement.js';
import { RoomOutbox, type OutgoingStanza } from './room-outbox.js';
import type { GroupId, RoomEventOutput, RoomOutput, SendResult } from './room-output.js';
import { Roster, type ContactLookup } from './room-roster.js';
import type { RoomSettings } from './room-setup.js';
import { buildChatState, buildMemberStatus, buildRoomText, buildTopic, withDelay, type ChatState, type ReplyReference } from './room-stanzas.js';
import { mustReannounce } from './room-topic.js';
import type { LeaveReason, RoomMember, RoomMessage, RoomState, TopicChange } from './room-types.js';
import { UnheardLines } from './unheard-lines.js';
import { LineReplay } from './sent-lines.js';

export interface RoomCoreSetup {
  name: string;
  selfName: string;
  /** The first group: given, listed, or a new random one. */
  address: string;
  port: number;
  /** We created that group: a member as soon as connected (§3.2). */
  creator: boolean;
  /** The room is advertised on mDNS (through the shell). */
  advertises: boolean;
  /** Joined by name with a room list and a way to open groups: the room may move (room-merge.ts). */
  mayMove: boolean;
  /** What the room list shows under the room's name now. */
  listed: () => GroupAddress | undefined;
  contacts: ContactLookup | undefined;
  settings: RoomSettings;
  /** Wall-clock time and fresh ids, injected so a simulation replays a room exactly. */
  time: RoomClock;
  logger: Logger;
}

/** A group the room is in (a move replaces it). */
interface CurrentGroup {
  id: GroupId;
  address: string;
  port: number;
  creator: boolean;
  /** Set when we moved here from another group of the room. */
  movedFrom: RoomAddress | undefined;
  /** rMulticast chose our sender id in it (a reset reconnects under a new id; nothing to redo). */
  connected: boolean;
  /** We count as a member: sends go out (before, they would reach nobody). */
  member: boolean;
}

interface Move {
  target: GroupAddress;
  /** The number of the group being opened, once asked for. */
  opening: GroupId | undefined;
}

/**
 * A Clique room without I/O: membership of its group, the roster, the topic
 * and its re-announcement, the merge of split rooms with the replay of lines
 * said alone, the outgoing queue and the inbound pipeline. Inputs are method
 * calls (group events, results of effects, the user's requests, `tick`);
 * outputs are taken with `drain()`, and `nextDeadline()` says when to tick.
 * The shell (room.ts) turns outputs into sockets, mDNS, history and events.
 */
export class RoomCore {
  readonly name: string;
  readonly selfName: string;
  readonly stats = { received: 0, rejected: 0, sent: 0, moves: 0, streamReceived: 0 };
  readonly roster: Roster;

  private roomState: RoomState = 'connecting';
  private group: CurrentGroup;
  private nextGroupId = 1;
  private readonly advert: RoomAdvertisement;
  private move: Move | undefined;
  private leaveReason: LeaveReason | undefined;
  private joinDeadline: number | undefined;
  private currentTopic: TopicChange | undefined;
  private sentTyping: ChatState = 'active';
  private readonly unreachable = new Set<string>();
  private readonly unheard = new UnheardLines();
  /** Our recent lines, for members lost without BYE who come back (sent-lines.ts). */
  private readonly replay: LineReplay;
  private readonly outbox: RoomOutbox;
  private readonly inbound: RoomInbound;
  private outputs: RoomOutput[] = [];

  constructor(private readonly setup: RoomCoreSetup) {
    this.name = setup.name;
    this.selfName = setup.selfName;
    this.group = this.newGroup(this.nextGroupId++, setup.address, setup.port, setup.creator, undefined);
    this.outbox = new RoomOutbox(setup.settings.maxQueuedSends, setup.settings.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES);
    this.advert = new RoomAdvertisement(setup.advertises);
    this.replay = new LineReplay(setup.settings.lossWindowMs);
    this.roster = new Roster(
      { name: setup.selfName, nick: setup.settings.nick, status: setup.settings.status, statusMessage: setup.settings.statusMessage },
      setup.contacts,
    );
    const core = this;
    this.inbound = new RoomInbound(
      {
        name: setup.name,
        roster: this.roster,
        time: setup.time,
        logger: setup.logger,
        stats: this.stats,
        get topic() {
          return core.currentTopic;
        },
        set topic(topic) {
          core.currentTopic = topic;
        },
        member: (name) => this.member(name),
        output: (output) => this.outputs.push(output),
      },
      { maxStanzaBytes: setup.settings.maxStanzaBytes },
    );
  }

  // ------------------------------------------------------------ outputs and state

  /** What the shell must do now, in order; the list is emptied. */
  drain(): RoomOutput[] {
    const out = this.outputs;
    this.outputs = [];
    return out;
  }

  /** When to call `tick` next (epoch ms), if ever. */
  nextDeadline(): number | undefined {
    return this.joinDeadline;
  }

  tick(now: number): void {
    if (this.joinDeadline !== undefined && now >= this.joinDeadline) {
      this.joinDeadline = undefined;
      this.becomeMember();
    }
  }

  get state(): RoomState {
    return this.roomState;
  }

  /** The group we are in now (what the shell sends on). */
  get groupId(): GroupId {
    return this.group.id;
  }

  get address(): string {
    return this.group.address;
  }

  get port(): number {
    return this.group.port;
  }

  get creator(): boolean {
    return this.group.creator;
  }

  get roomAddress(): RoomAddress {
    return { name: this.name, address: this.group.address, port: this.group.port };
  }

  get members(): RoomMember[] {
    return this.roster.members(this.roomState === 'joined');
  }

  member(name: string): RoomMember | undefined {
    if (name === this.selfName) return this.roomState === 'joined' ? this.roster.me() : undefined;
    return this.roster.other(name);
  }

  get topic(): TopicChange | undefined {
    return this.currentTopic === undefined ? undefined : { ...this.currentTopic };
  }

  /** Sends not yet taken by rMulticast. */
  get queued(): number {
    return this.outbox.size;
  }

  /** leave() began, or the room is gone. */
  closing(): boolean {
    return this.leaveReason !== undefined || this.roomState === 'left';
  }

  // ------------------------------------------------------------ the user's requests

  /** A text message; the ticket's result is the RoomMessage as sent. */
  sendText(text: string, kind: TextMessageKind, replyTo: ReplyReference | undefined): number {
    if (typeof text !== 'string' || text === '') throw new RoomError('bad-argument', 'message text must be a non-empty string');
    if (kind !== 'normal' && kind !== 'action' && kind !== 'notice') throw new RoomError('bad-argument', `unknown message kind ${JSON.stringify(kind)}`);
    const id = this.setup.time.newId();
    const stanza = buildRoomText({ from: this.selfName, room: this.name, kind, text, id, ...(replyTo !== undefined ? { replyTo } : {}) });
    return this.submit(stanza, 'message', {
      awaited: true,
      replayable: true,
      onSent: (sent) => {
        this.sentTyping = 'active';
        const at = this.setup.time.now();
        this.replay.lines.add({ id, stanza, bytes: sent.bytes.length, at }, at);
        const message: RoomMessage = {
          room: this.name,
          id,
          sender: this.selfName,
          senderName: this.roster.me().displayName,
          kind,
          text,
          time: new Date(at),
          outgoing: true,
          replyTo,
          stanza,
          extensions: [],
        };
        this.store(messageEntry(message));
        return message;
      },
    });
  }

  /** The ticket's result is the TopicChange. */
  setTopic(topic: string): number {
    if (typeof topic !== 'string') throw new RoomError('bad-argument', 'topic must be a string');
    const id = this.setup.time.newId();
    return this.submit(buildTopic({ from: this.selfName, room: this.name, topic, id }), 'topic', {
      awaited: true,
      onSent: () => {
        const setAt = new Date(this.setup.time.now());
        const change: TopicChange = { room: this.name, topic, setBy: this.selfName, setAt, announcedBy: this.selfName, replay: false, id };
        this.currentTopic = change;
        this.store({ id, sender: this.selfName, senderName: this.roster.me().displayName, kind: 'topic', text: topic, time: setAt, outgoing: true });
        return { ...change };
      },
    });
  }

  /**
   * A body-less `<message type="groupchat">` carrying `child` (e.g. a tube
   * list, spec §7.2), on stream 0. Its ticket's result is undefined.
   */
  sendElement(child: XmlElement): number {
    return this.submit(extensionMessage(this.selfName, this.name, child), `<${child.name}>`, { awaited: true });
  }

  /**
   * One rMulticast message on stream `streamId` (1..65535: tube data, spec
   * §7.4), behind the same membership wait, flow control and queue bounds
   * as stanzas. Its ticket's result is undefined.
   */
  sendStream(streamId: number, data: Uint8Array): number {
    const payload = streamPayload(streamId, data, this.setup.settings.maxStreamMessageBytes ?? DEFAULT_MAX_STREAM_MESSAGE_BYTES);
    if (this.closing()) throw new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left`);
    const queued = this.outbox.add(payload, `data on stream ${streamId}`, { unheard: undefined, awaited: true, onSent: undefined, streamId });
    this.release();
    return queued.ticket;
  }

  /** Undefined when the state is the one last sent. */
  setTyping(state: ChatState): number | undefined {
    if (state === this.sentTyping) return undefined;
    this.sentTyping = state;
    return this.submit(buildChatState({ from: this.selfName, room: this.name, state }), 'chat-state', { awaited: true });
  }

  /** Undefined when not yet a member (the status goes out on joining). */
  setStatus(status: PresenceStatus, message: string | undefined): number | undefined {
    this.roster.self.status = status;
    this.roster.self.statusMessage = message === '' ? undefined : message;
    return this.requestStatus();
  }

  setNick(nick: string | undefined): number | undefined {
    this.roster.self.nick = nick === '' ? undefined : nick;
    return this.requestStatus();
  }

  /** The user changed our status or nick: announced now if we are a member, else on joining. */
  private requestStatus(): number | undefined {
    return this.roomState === 'joined' ? this.submit(this.statusStanza(), 'status', { awaited: true }) : undefined;
  }

  /** §2.5, §3.5: pending sends fail, BYE (effect 'leave-group'), then the advertisement goes. */
  leave(reason: LeaveReason): void {
    if (this.closing()) return;
    this.leaveReason = reason;
    this.roomState = 'leaving';
    this.joinDeadline = undefined;
    this.failQueued(new RoomError('not-joined', `room ${JSON.stringify(this.name)} is being left`));
    this.outputs.push({ type: 'leave-group', group: this.group.id, bye: true });
  }

  // ------------------------------------------------------------ the group's events

  groupConnected(id: GroupId): void {
    const group = this.group;
    if (id !== group.id || group.connected || this.closing()) return;
    group.connected = true;
    this.setup.logger.debug('connected', { address: group.address, port: group.port, creator: group.creator });
    if (this.roomState === 'connecting') {
      this.roomState = 'joining';
      this.outputs.push({ type: 'connected' });
    }
    if (group.movedFrom !== undefined) {
      this.setup.logger.info('joined the existing room', { at: groupKey(group), left: groupKey(group.movedFrom) });
      this.event({ type: 'event', name: 'moved', args: [this.roomAddress, group.movedFrom] });
    }
    // §2.1: every participant advertises as soon as it is connected, without waiting for others.
    this.advertise();
    if (group.creator) this.becomeMember();
    else this.joinDeadline = this.setup.time.now() + this.setup.settings.joinWaitMs;
  }

  membersJoined(id: GroupId, names: string[]): void {
    if (id !== this.group.id || this.leaveReason !== undefined) return;
    const before = this.roster.names();
    const added = this.roster.join(names, this.selfName);
    this.setup.logger.debug('members joined', { names });
    // Someone is here: what we say is heard, and the room will not move while they stay.
    if (added.length > 0) this.unheard.clear();
    for (const member of added) this.event({ type: 'event', name: 'member-joined', args: [member] });
    // §3.2 step 3: the others first, then ourselves.
    this.becomeMember();
    if (added.length === 0 || this.roomState !== 'joined') return;
    this.reannounceTopic(before);
    if (this.roster.hasStatusToAnnounce()) this.submitStatus();
    this.resendToReturning(added.map((member) => member.name));
  }

  /** @param reason 'left': they said BYE; otherwise they may come back having missed our lines. */
  membersLost(id: GroupId, names: string[], reason: 'left' | 'failed' | 'reset'): void {
    if (id !== this.group.id) return;
    this.setup.logger.debug('members lost', { names, reason });
    const now = this.setup.time.now();
    for (const member of this.roster.lose(names)) {
      if (reason !== 'left') this.replay.lost(member.name, now);
      this.event({ type: 'event', name: 'member-left', args: [member, reason === 'left' ? 'left' : 'timed-out'] });
    }
    if (this.roster.alone) this.considerMerge();
  }

  received(id: GroupId, message: GroupMessage): void {
    if (id !== this.group.id || this.roomState === 'left') return;
    this.inbound.received(message);
  }

  /** The group is gone without our asking (the socket closed). */
  groupDisconnected(id: GroupId): void {
    if (id !== this.group.id || this.leaveReason !== undefined) return;
    this.outputs.push({ type: 'leave-group', group: id, bye: false });
    this.finish('disconnected');
  }

  groupReset(id: GroupId, reason: string, detail: string): void {
    if (id !== this.group.id) return;
    this.setup.logger.warn('our membership of the group started over; rejoining', { reason, detail });
    this.event({ type: 'event', name: 'warning', args: [{ kind: 'group-reset', room: this.name, reason, detail }] });
  }

  spoofSuspected(id: GroupId, suspect: { senderId: number; sender: string | undefined }): void {
    if (id !== this.group.id) return;
    this.setup.logger.warn('forged packets under a member id', { sender: suspect.sender, senderId: suspect.senderId });
    this.event({ type: 'event', name: 'warning', args: [{ kind: 'spoof-suspected', room: this.name, sender: suspect.sender, senderId: suspect.senderId }] });
  }

  groupError(id: GroupId, error: CliqueError): void {
    if (id === this.group.id) this.reportError(error);
    else this.setup.logger.debug('error in a group we left', { error: error.message });
  }

  /** rMulticast took the stanza behind `ticket` (it will repair it for members that miss it). */
  transmitted(ticket: number, id: GroupId): void {
    const stanza = this.outbox.settle(ticket, id);
    if (stanza === undefined) return;
    if (!stanza.resend) this.stats.sent++;
    this.setup.logger.debug('sent', { stanza: stanza.what, bytes: stanza.bytes.length });
    if (stanza.awaited) this.outputs.push({ type: 'settled', ticket, result: stanza.onSent?.(stanza), error: undefined });
  }

  /** The group refused it or went away first; a stanza carried to a new group by a move is not affected. */
  transmitFailed(ticket: number, id: GroupId, error: RoomError): void {
    const stanza = this.outbox.settle(ticket, id);
    if (stanza !== undefined) this.settleFailed(stanza, error);
  }

  /** The shell left group `id` (after 'leave-group' with `bye`). */
  groupLeft(id: GroupId): void {
    if (id !== this.group.id || this.leaveReason === undefined) return;
    const reason = this.leaveReason;
    this.withdrawThen(() => this.finish(reason));
  }

  // ------------------------------------------------------------ mDNS and the room list

  advertiseSettled(id: GroupId, result: AdvertiseResult | Error): void {
    const group = this.group;
    if (id !== group.id) return;
    if (result instanceof Error) this.setup.logger.warn('cannot advertise the room', { error: errorText(result) });
    else if (result === 'conflict' && this.setup.mayMove) this.setup.logger.info('another group holds this room name on mDNS; we join it if we are alone', { room: this.name });
    else if (result === 'conflict') this.setup.logger.warn('another room of this name is advertised with a different group; not advertising ours', { room: this.name });
    if (this.advert.settled(result)) this.outputs.push({ type: 'withdraw', group: group.id, name: this.name });
    this.considerMerge();
  }

  withdrawn(id: GroupId): void {
    if (id === this.group.id) this.advert.withdrawn();
  }

  /** The room list changed under our name. */
  listingChanged(): void {
    this.considerMerge();
  }

  /** Another host holds the room's name with other data: our advertisement of `room` was refused. */
  advertisementLost(room: RoomAddress): void {
    if (room.name !== this.name || !sameGroup(room, this.group)) return;
    this.advert.lost();
    this.considerMerge();
  }

  contactChanged(name: string, previous: Contact | undefined): void {
    if (name === this.selfName) return;
    const change = this.roster.contactChanged(name, previous);
    if (change !== undefined) this.event({ type: 'event', name: 'member-updated', args: change });
  }

  /** The group asked for by 'open-group' is open (its 'connected' follows). */
  groupOpened(id: GroupId, address: string, port: number): void {
    const move = this.move;
    if (move === undefined || move.opening !== id) {
      this.outputs.push({ type: 'leave-group', group: id, bye: false });
      return;
    }
    this.move = undefined;
    if (this.closing() || !this.roster.alone) {
      // Leaving, or someone found us meanwhile: our group stays the room.
      this.outputs.push({ type: 'leave-group', group: id, bye: false });
      if (!this.closing()) this.advertise();
      return;
    }
    this.switchTo(id, address, port);
  }

  groupOpenFailed(id: GroupId, error: unknown): void {
    const move = this.move;
    if (move === undefined || move.opening !== id) return;
    this.move = undefined;
    this.unreachable.add(groupKey(move.target));
    this.setup.logger.warn('cannot join the other group of this room; staying in ours', { to: groupKey(move.target), error: errorText(error) });
    if (!this.closing()) this.advertise();
  }

  // ------------------------------------------------------------ membership

  private newGroup(id: GroupId, address: string, port: number, creator: boolean, movedFrom: RoomAddress | undefined): CurrentGroup {
    return { id, address, port, creator, movedFrom, connected: false, member: false };
  }

  private becomeMember(): void {
    const group = this.group;
    if (!group.connected || group.member || this.closing()) return;
    this.joinDeadline = undefined;
    group.member = true;
    this.setup.logger.debug('member', { members: this.roster.size });
    if (this.roomState === 'joining') {
      this.roomState = 'joined';
      this.event({ type: 'event', name: 'ready', args: [] });
    }
    this.release();
    if (this.roster.hasStatusToAnnounce()) this.submitStatus();
    this.considerMerge();
  }

  private finish(reason: LeaveReason): void {
    if (this.roomState === 'left') return;
    this.roomState = 'left';
    this.joinDeadline = undefined;
    this.failQueued(new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left`));
    this.roster.clear();
    this.unheard.clear();
    this.replay.clear();
    this.advert.clear();
    this.setup.logger.debug('left', { reason });
    this.outputs.push({ type: 'closed', reason });
    this.event({ type: 'event', name: 'left', args: [reason] });
  }

  // ------------------------------------------------------------ advertising

  private advertise(): void {
    if (this.advert.start()) this.outputs.push({ type: 'advertise', group: this.group.id, room: this.roomAddress });
  }

  /** Withdraws our advertisement (room-advertisement.ts has the order), then `next`. */
  private withdrawThen(next: () => void): void {
    if (this.advert.withdrawThen(next)) this.outputs.push({ type: 'withdraw', group: this.group.id, name: this.name });
  }

  // ------------------------------------------------------------ merging split rooms (room-merge.ts)

  /** Moves to the group the room list shows under our name when the merge rule says so. */
  private considerMerge(): void {
    if (!this.setup.mayMove || this.move !== undefined || this.leaveReason !== undefined || this.roomState !== 'joined' || !this.group.member) return;
    const listed = this.setup.listed();
    const decision = mergeDecision({ ours: this.group, listed, alone: this.roster.alone, advert: this.advert.state });
    if (decision !== 'move' || listed === undefined || this.unreachable.has(groupKey(listed))) return;
    this.setup.logger.info('this room is also at another group and we are alone in ours: moving there', { from: groupKey(this.group), to: groupKey(listed) });
    const move: Move = { target: { address: listed.address, port: listed.port }, opening: undefined };
    this.move = move;
    // The advertiser and the room list know one group per name: ours goes first.
    this.withdrawThen(() => {
      if (this.move !== move) return;
      if (this.closing()) {
        this.move = undefined;
        return;
      }
      move.opening = this.nextGroupId++;
      this.outputs.push({ type: 'open-group', group: move.opening, address: move.target.address, port: move.target.port });
    });
  }

  /**
   * Leaves our group quietly (advertisement withdrawn already, BYE to
   * nobody) for the one just opened. Sends not yet taken go out there once
   * we are a member, after the lines we said alone.
   */
  private switchTo(id: GroupId, address: string, port: number): void {
    const old = this.group;
    const from: RoomAddress = { name: this.name, address: old.address, port: old.port };
    this.joinDeadline = undefined;
    this.group = this.newGroup(id, address, port, false, from);
    this.stats.moves++;
    this.advert.movedOn();
    // We are the newcomer there: the topic its members re-announce to us is the room's, not one we set alone.
    this.currentTopic = undefined;
    this.outbox.requeueAfter(this.unheard.take(this.setup.time.now()));
    this.outputs.push({ type: 'leave-group', group: old.id, bye: true });
  }

  // ------------------------------------------------------------ sending

  /** @param options.awaited someone waits for the outcome ('settled' output); the room's own announcements are not. */
  private submit(stanza: XmlElement, what: string, options: { awaited: boolean; replayable?: boolean; onSent?: (sent: OutgoingStanza) => SendResult }): number {
    if (this.closing()) throw new RoomError('not-joined', `room ${JSON.stringify(this.name)} was left`);
    const bytes = serializeStanzaDocument(stanza);
    if (bytes.length > this.setup.settings.maxStanzaBytes) {
      throw new RoomError('too-large', `${what} of ${bytes.length} bytes exceeds the room limit of ${this.setup.settings.maxStanzaBytes} bytes`);
    }
    const unheard = options.replayable === true && this.roster.alone && this.setup.mayMove ? this.unheard.note(bytes, this.setup.time.now()) : undefined;
    const queued = this.outbox.add(bytes, what, { unheard, awaited: options.awaited, onSent: options.onSent });
    this.release();
    return queued.ticket;
  }

  /** Hands what waits to the group once we are a member (earlier, rMulticast would deliver it to nobody). */
  private release(): void {
    const group = this.group;
    if (this.roomState !== 'joined' || !group.member || this.closing()) return;
    for (const stanza of this.outbox.handAll(group.id)) {
      this.outputs.push({ type: 'transmit', group: group.id, ticket: stanza.ticket, streamId: stanza.streamId, bytes: stanza.bytes });
    }
  }

  /**
   * Members lost without BYE are back (a healed partition, a restart, our
   * own reset): our lines since shortly before we lost them go out again
   * with their ids and XEP-0203 `<delay>`; whoever has them drops them.
   */
  private resendToReturning(names: string[]): void {
    const replay = this.replay.back(names, this.setup.time.now());
    if (replay === undefined) return;
    let refused = false;
    for (const line of replay.lines) {
      try {
        this.submit(withDelay(line.stanza, this.selfName, new Date(line.at)), 'message (sent again after a heal)', { awaited: false });
      } catch (error) {
        refused = true;
        this.setup.logger.debug('a line was not sent again', { error: errorText(error) });
      }
    }
    this.setup.logger.info('members are back after being lost: our recent lines go out again', { members: replay.members, lines: replay.lines.length });
    if (replay.incomplete || refused) {
      this.event({ type: 'event', name: 'warning', args: [{ kind: 'lines-may-be-lost', room: this.name, members: replay.members, since: new Date(replay.since) }] });
    }
  }

  /** Our status (and nick) for the others, unasked: on joining and to newcomers. */
  private submitStatus(): void {
    const stanza = this.statusStanza();
    this.background(() => this.submit(stanza, 'status', { awaited: false }), 'status');
  }

  private statusStanza(): XmlElement {
    const self = this.roster.self;
    return buildMemberStatus({
      from: this.selfName,
      room: this.name,
      status: self.status ?? 'avail',
      ...(self.statusMessage !== undefined ? { message: self.statusMessage } : {}),
      ...(self.nick !== undefined ? { nick: self.nick } : {}),
    });
  }

  /** One old member re-sends the topic to newcomers (room-topic.ts has the rule). */
  private reannounceTopic(before: string[]): void {
    const topic = this.currentTopic;
    if (!mustReannounce(topic, before, this.selfName)) return;
    const stanza = buildTopic({ from: this.selfName, room: this.name, topic: topic.topic, id: topic.id, replay: { setBy: topic.setBy, setAt: topic.setAt } });
    this.background(() => this.submit(stanza, 'topic (re-announced)', { awaited: false }), 'topic (re-announced)');
  }

  /** A send the room makes on its own: a refusal is only worth a debug line. */
  private background(send: () => number, what: string): void {
    try {
      send();
    } catch (error) {
      this.setup.logger.debug(`${what} not sent`, { error: errorText(error) });
    }
  }

  private failQueued(error: RoomError): void {
    for (const stanza of this.outbox.drop()) this.settleFailed(stanza, error);
  }

  private settleFailed(stanza: OutgoingStanza, error: RoomError): void {
    if (stanza.awaited) this.outputs.push({ type: 'settled', ticket: stanza.ticket, result: undefined, error });
    else this.setup.logger.debug(`${stanza.what} not sent`, { error: error.message });
  }

  private store(entry: Omit<HistoryEntry, 'room'>): void {
    this.outputs.push({ type: 'store', entry });
  }

  private reportError(error: CliqueError): void {
    this.setup.logger.warn(error.message, { code: error.code });
    this.outputs.push({ type: 'error', error });
  }

  private event(output: RoomEventOutput): void {
    this.outputs.push(output);
  }
}


import { EventEmitter } from 'node:events';
import { emitSafely } from '../base/emit-safely.js';
import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { CryptoRandom, randomInRange, type RandomSource } from '../base/random.js';
import type { Room } from '../rooms/room.js';
import type { RoomMember, RoomStreamData, RoomTubesStanza } from '../rooms/room-types.js';
import { serializeStanzaDocument } from '../xml/stanza-document.js';
import { isBusName } from './dbus-names.js';
import {
  DEFAULT_ROOM_TUBES_LIMITS,
  type RoomTubeInfo,
  type RoomTubeMember,
  type RoomTubesEvents,
  type RoomTubesLimits,
  type RoomTubesStats,
  type RoomTubeState,
  type TubeCloseReason,
  type TubeDataDropReason,
  type TubeEntryRefusal,
  type TubeListIssue,
} from './room-tubes-types.js';
import { RoomTubesError } from './room-tubes-error.js';
import { tubeDBusName } from './tube-dbus-name.js';
import { diffTubeLists, NO_TUBES } from './tube-list-diff.js';
import { buildTubeListMessage, buildTubesElement, localTubeProblem, readTubeList, resolveTubeListLimits, tubesToAnnounce } from './tube-list.js';
import { TubeStreamIds } from './tube-stream-ids.js';
import type { AnnouncedTube, LocalTube, TubeListLimits, TubeParameter, TubeParameters, TubeType } from './tube-types.js';

/** What RoomTubes needs of its room (a `Room` has it all). */
export type TubeRoom = Pick<Room, 'name' | 'selfName' | 'state' | 'sendElement' | 'sendStream' | 'on' | 'off'>;

export interface RoomTubesOptions {
  /** Picks our tube ids (1..2147483646, §7.1); default CryptoRandom. */
  random?: RandomSource;
  /** Default: silent. */
  logger?: Logger;
  limits?: Partial<RoomTubesLimits>;
  /** Bounds for reading members' lists (and for what we send, so that peers keep all of it). */
  listLimits?: Partial<TubeListLimits>;
}

export interface TubeOffer {
  /** D-Bus tubes: a well-known bus name (salut's `ServiceName`); stream tubes: any non-empty text (`Service`). */
  service: string;
  parameters?: TubeParameters | Readonly<Record<string, TubeParameter>>;
}

/** Salut's ids are random in 1..2147483646 (§7.1). */
const MAX_OWN_TUBE_ID = 2_147_483_646;

interface TubeRow {
  id: number;
  type: TubeType;
  service: string;
  initiator: string;
  parameters: TubeParameters;
  state: RoomTubeState;
  requested: boolean;
  /** Ours, while open (D-Bus tubes). */
  streamId: number | undefined;
  /** Other members whose lists mention the tube, with their D-Bus name and stream. */
  members: Map<string, { dbusName: string | undefined; streamId: number | undefined }>;
}

/**
 * The tubes of one room (spec §7.2–§7.4): our own offers, the tubes other
 * members offer us, who takes part in each, and D-Bus tube data on
 * rMulticast streams 1..65535.
 *
 * On the wire it follows salut: our list (open tubes we may announce) goes
 * out as full state whenever a member joins, and when a tube opens or closes
 * here; received lists are read entry by entry and diffed against the
 * sender's previous one. Where salut is fragile we are not: we always send
 * our list (an accepted stream tube of someone else is left out, not the
 * whole list) and never ignore a list for the tubes we hold; a bad entry,
 * a conflicting id or a reused stream id costs that entry only. Data is
 * accepted only on the stream its sender announced for a tube we have open.
 *
 *   const tubes = new RoomTubes(room, { random: new CryptoRandom(), logger });
 *   tubes.on('tube-offered', (t) => t.type === 'dbus' && tubes.acceptTube(t.id));
 *   tubes.on('tube-data', (d) => handle(d.sender, d.bytes));
 *   const chess = tubes.offerDBusTube({ service: 'com.example.Chess' });
 *   await tubes.sendDBusMessage(chess.id, bytes);
 *
 * Create it right after joining: lists that arrived before are not replayed
 * (members send theirs again when someone joins).
 */
export class RoomTubes extends EventEmitter<RoomTubesEvents> {
  readonly room: string;
  readonly selfName: string;
  readonly stats: RoomTubesStats = {
    listsSent: 0,
    listsReceived: 0,
    listsRejected: 0,
    entriesDropped: 0,
    entriesRefused: 0,
    dataSent: 0,
    dataAccepted: 0,
    dataDropped: { 'unannounced-stream': 0, 'tube-not-open': 0 },
  };

  private readonly table = new Map<number, TubeRow>();
  /** Each member's last list, as full state (for the diff). */
  private readonly peerLists = new Map<string, ReadonlyMap<number, AnnouncedTube>>();
  /** Each member's data streams: stream id → tube id (§7.4). */
  private readonly peerStreams = new Map<string, Map<number, number>>();
  private readonly streamIds = new TubeStreamIds();
  /** Stream ids lent out by reserveStream() (room shares): never a tube's, and only releaseStream() frees them. */
  private readonly reservedStreams = new Set<number>();
  /** Ids of tubes closed here, oldest first (bounded). */
  private readonly closedIds = new Set<number>();
  private readonly limits: RoomTubesLimits;
  private readonly listLimits: TubeListLimits;
  private readonly ownDBusName: string;
  private readonly logger: Logger;
  private readonly random: RandomSource;
  private broadcastPending = false;
  private detached = false;
  /** Takes our listeners off the room. */
  private readonly unlisten: () => void;

  constructor(
    private readonly tubeRoom: TubeRoom,
    options: RoomTubesOptions = {},
  ) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? new CryptoRandom();
    this.room = tubeRoom.name;
    this.selfName = tubeRoom.selfName;
    this.ownDBusName = tubeDBusName(tubeRoom.selfName);
    this.limits = { ...DEFAULT_ROOM_TUBES_LIMITS, ...options.limits };
    this.listLimits = resolveTubeListLimits(options.listLimits);
    const onTubes = (announcement: RoomTubesStanza): void => this.listReceived(announcement);
    const onData = (data: RoomStreamData): void => this.dataReceived(data);
    // rMulticast's new senders (§7.2): everyone hears our full list again.
    const onJoined = (): void => this.scheduleBroadcast();
    const onLeft = (member: RoomMember): void => this.memberGone(member.name);
    const onRoomLeft = (): void => this.close();
    tubeRoom.on('tubes', onTubes);
    tubeRoom.on('stream-data', onData);
    tubeRoom.on('member-joined', onJoined);
    tubeRoom.on('member-left', onLeft);
    tubeRoom.on('left', onRoomLeft);
    this.unlisten = () => {
      tubeRoom.off('tubes', onTubes);
      tubeRoom.off('stream-data', onData);
      tubeRoom.off('member-joined', onJoined);
      tubeRoom.off('member-left', onLeft);
      tubeRoom.off('left', onRoomLeft);
    };
    // A room already left has nothing to follow.
    if (tubeRoom.state === 'left') {
      this.detached = true;
      this.unlisten();
    }
  }

  // ------------------------------------------------------------ the application's side

  /** The table: our tubes and those offered to us, in the order we learnt of them. */
  tubes(): RoomTubeInfo[] {
    return [...this.table.values()].map((row) => this.info(row));
  }

  tube(id: number): RoomTubeInfo | undefined {
    const row = this.table.get(id);
    return row === undefined ? undefined : this.info(row);
  }

  /**
   * Takes one of our data stream ids for something other than a tube (a
   * room share's content): the same pool as the tubes', so a D-Bus tube
   * never gets a stream whose data is something else (its receivers would
   * read it as D-Bus messages). Members that were not told of the stream
   * drop its data (counted as 'unannounced-stream'). Free it with
   * releaseStream().
   */
  reserveStream(): number {
    this.mustBeAttached();
    const streamId = this.streamIds.allocate();
    if (streamId === undefined) throw new RoomTubesError('too-many-tubes', 'all 65535 stream ids are in use');
    this.reservedStreams.add(streamId);
    return streamId;
  }

  /** Gives back a stream id from reserveStream(); false if it was not one (a tube's id is never freed here). */
  releaseStream(streamId: number): boolean {
    if (!this.reservedStreams.delete(streamId)) return false;
    return this.streamIds.release(streamId);
  }

  /** Offers a D-Bus tube: open at once, our stream id reserved, the list broadcast (§7.4). */
  offerDBusTube(offer: TubeOffer): RoomTubeInfo {
    if (typeof offer.service !== 'string' || !isBusName(offer.service) || offer.service.startsWith(':')) {
      throw new RoomTubesError('bad-argument', `D-Bus tube service ${JSON.stringify(offer.service)} is not a well-known bus name`);
    }
    return this.offer('dbus', offer);
  }

  /**
   * Offers a stream tube: open and announced at once. The connections (SI +
   * OOB over XEP-0174, §7.5) are StreamTubeHost's.
   */
  offerStreamTube(offer: TubeOffer): RoomTubeInfo {
    if (typeof offer.service !== 'string' || offer.service === '') throw new RoomTubesError('bad-argument', 'a stream tube needs a service');
    return this.offer('stream', offer);
  }

  /**
   * Accepts a tube another member offered. A D-Bus tube opens at once with
   * our stream id reserved, and our list is broadcast (§7.4). A stream tube
   * opens here only: it is not ours to list (§7.2), and its connections go
   * over XEP-0174 (StreamTubeAcceptor, §7.5).
   */
  acceptTube(id: number): RoomTubeInfo {
    this.mustBeAttached();
    const row = this.mustGet(id);
    if (row.state !== 'local-pending') throw new RoomTubesError('wrong-state', `tube ${id} is already open`);
    if (row.type === 'stream') {
      row.state = 'open';
      this.logger.debug('stream tube accepted', { room: this.room, id, service: row.service, initiator: row.initiator });
      const info = this.info(row);
      emitSafely(this, this.logger, 'tube-opened', info);
      return info;
    }
    this.mustHaveListRoom(false);
    const streamId = this.streamIds.allocate();
    if (streamId === undefined) throw new RoomTubesError('too-many-tubes', 'all 65535 stream ids are in use');
    row.streamId = streamId;
    row.state = 'open';
    this.mustFitList(row);
    this.logger.debug('tube accepted', { room: this.room, id, service: row.service, streamId });
    // Announce before any data of ours can follow (rMulticast keeps our order across streams).
    this.broadcast();
    const info = this.info(row);
    emitSafely(this, this.logger, 'tube-opened', info);
    return info;
  }

  /** Closes a tube here: its stream id freed, our list broadcast without it (§7.4). Other members' channels stay. */
  closeTube(id: number): void {
    this.mustBeAttached();
    const row = this.mustGet(id);
    const wasOpen = row.state === 'open';
    this.remove(row, 'closed');
    if (wasOpen) this.broadcast();
  }

  /**
   * Sends one D-Bus message (already marshalled) on our stream for an open
   * D-Bus tube: one rMulticast message, behind the room's flow control.
   * Resolves once handed to rMulticast; rejects with RoomTubesError or
   * the room's RoomError.
   */
  async sendDBusMessage(id: number, bytes: Uint8Array): Promise<void> {
    this.mustBeAttached();
    const row = this.mustGet(id);
    if (row.type !== 'dbus' || row.state !== 'open' || row.streamId === undefined) {
      throw new RoomTubesError('wrong-state', `tube ${id} is not an open D-Bus tube`);
    }
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new RoomTubesError('bad-argument', 'a D-Bus message is a non-empty Uint8Array');
    await this.tubeRoom.sendStream(row.streamId, bytes);
    this.stats.dataSent++;
  }

  /** Stops following the room: every tube closes ('room-left'). Also done when the room is left. */
  close(): void {
    if (this.detached) return;
    this.detached = true;
    this.unlisten();
    for (const row of [...this.table.values()]) this.remove(row, 'room-left');
    this.peerLists.clear();
    this.peerStreams.clear();
  }

  // ------------------------------------------------------------ our offers and our list

  private offer(type: TubeType, offer: TubeOffer): RoomTubeInfo {
    this.mustBeAttached();
    const parameters = toParameters(offer.parameters);
    const id = this.newTubeId();
    const candidate: LocalTube =
      type === 'dbus'
        ? { type, id, service: offer.service, initiator: this.selfName, parameters, streamId: 1, state: 'open' }
        : { type, id, service: offer.service, initiator: this.selfName, parameters, state: 'open' };
    // Never offer what a peer's reader would drop (the same bounds both ways).
    const problem = localTubeProblem(candidate, this.listLimits);
    if (problem !== undefined) throw new RoomTubesError('bad-argument', problem);
    this.mustHaveListRoom(true);
    let streamId: number | undefined;
    if (type === 'dbus') {
      streamId = this.streamIds.allocate();
      if (streamId === undefined) throw new RoomTubesError('too-many-tubes', 'all 65535 stream ids are in use');
    }
    const row: TubeRow = { id, type, service: offer.service, initiator: this.selfName, parameters, state: 'open', requested: true, streamId, members: new Map() };
    this.table.set(id, row);
    this.mustFitList(row);
    this.logger.debug('tube offered', { room: this.room, id, type, service: row.service, streamId });
    // One broadcast, not salut's two identical ones (§7.2): the second adds nothing.
    this.broadcast();
    const info = this.info(row);
    emitSafely(this, this.logger, 'tube-opened', info);
    return info;
  }

  private newTubeId(): number {
    for (;;) {
      const id = randomInRange(this.random, 1, MAX_OWN_TUBE_ID + 1);
      if (!this.table.has(id) && !this.closedIds.has(id)) return id;
    }
  }

  /** Room for one more tube in our list (and, for a new tube, in our table). */
  private mustHaveListRoom(newRow: boolean): void {
    if (newRow && this.table.size >= this.limits.maxTubes) throw new RoomTubesError('too-many-tubes', `the room already has ${this.table.size} tubes`);
    if (tubesToAnnounce(this.selfName, this.localRows()).length >= this.listLimits.maxTubes) {
      throw new RoomTubesError('too-many-tubes', `our list already announces ${this.listLimits.maxTubes} tubes, what a peer keeps of one list`);
    }
  }

  /** Undoes opening `row` (just added or accepted) if our list would outgrow `maxListBytes`. */
  private mustFitList(row: TubeRow): void {
    const bytes = serializeStanzaDocument(buildTubeListMessage({ from: this.selfName, room: this.room, tubes: this.localRows(), limits: this.listLimits })).length;
    if (bytes <= this.limits.maxListBytes) return;
    if (row.streamId !== undefined) this.streamIds.release(row.streamId);
    row.streamId = undefined;
    if (row.requested) this.table.delete(row.id);
    else row.state = 'local-pending';
    throw new RoomTubesError('too-many-tubes', `our tube list would take ${bytes} bytes, more than ${this.limits.maxListBytes}`);
  }

  private localRows(): LocalTube[] {
    return [...this.table.values()].map((row) =>
      row.type === 'dbus'
        ? { type: 'dbus', id: row.id, service: row.service, initiator: row.initiator, parameters: row.parameters, streamId: row.streamId ?? 0, state: row.state }
        : { type: 'stream', id: row.id, service: row.service, initiator: row.initiator, parameters: row.parameters, state: row.state },
    );
  }

  /** Our full list now, on stream 0 (in order with our data: a list always precedes data it announces). */
  private broadcast(): void {
    if (this.detached) return;
    const state = this.tubeRoom.state;
    if (state === 'leaving' || state === 'left') return;
    let element;
    try {
      element = buildTubesElement(this.selfName, this.localRows(), this.listLimits);
    } catch (error) {
      // Our rows are checked on the way in; this would be a bug, not input.
      this.logger.error('cannot build our tube list', { room: this.room, error: errorText(error) });
      return;
    }
    this.stats.listsSent++;
    this.tubeRoom.sendElement(element).catch((error: unknown) => {
      // Leaving is the expected case; anything else means peers lack our current list.
      const leaving = this.detached || this.tubeRoom.state === 'leaving' || this.tubeRoom.state === 'left';
      this.logger[leaving ? 'debug' : 'warn']('tube list not sent', { room: this.room, error: errorText(error) });
    });
  }

  /** Several members joining at once get one broadcast. */
  private scheduleBroadcast(): void {
    if (this.broadcastPending) return;
    this.broadcastPending = true;
    queueMicrotask(() => {
      this.broadcastPending = false;
      this.broadcast();
    });
  }

  // ------------------------------------------------------------ other members' lists (§7.3)

  private listReceived(announcement: RoomTubesStanza): void {
    const sender = announcement.sender;
    // rMulticast never echoes ours; a stanza under our name is not ours to read.
    if (sender === this.selfName || this.detached) return;
    const reading = readTubeList(announcement.stanza, sender, this.listLimits);
    if (reading.kind === 'none') return;
    this.stats.listsReceived++;
    if (reading.kind === 'rejected') {
      this.stats.listsRejected++;
      this.issue({ kind: 'list-rejected', room: this.room, sender, reason: reading.reason, detail: reading.detail });
      return;
    }
    const list = reading.list;
    for (const problem of list.problems) {
      this.stats.entriesDropped++;
      this.issue({ kind: 'entry-dropped', room: this.room, sender, problem });
    }
    this.stats.entriesDropped += list.problemsOmitted;
    const diff = diffTubeLists(this.peerLists.get(sender) ?? NO_TUBES, list);
    this.peerLists.set(sender, diff.state);
    // Full state: what the member no longer lists goes first, so a stream it moved from one tube to another is free.
    for (const gone of diff.removed) this.memberDropped(sender, gone.id);
    for (const entry of list.tubes.values()) this.entryReceived(sender, entry);
  }

  /** §7.3 step 2 for one valid entry: a new tube, or `sender` in a known one. */
  private entryReceived(sender: string, entry: AnnouncedTube): void {
    const existing = this.table.get(entry.id);
    if (existing === undefined) {
      if (entry.initiator === this.selfName || this.closedIds.has(entry.id)) return this.refuse(sender, entry.id, 'closed-here');
    } else if (existing.type !== entry.type || existing.service !== entry.service || existing.initiator !== entry.initiator) {
      return this.refuse(sender, entry.id, 'conflicting-tube');
    }
    const known = existing?.members.get(sender);
    if (known !== undefined) {
      if (entry.type === 'dbus' && (known.streamId !== entry.streamId || known.dbusName !== entry.dbusName)) this.refuse(sender, entry.id, 'changed-entry');
      return;
    }
    // One stream of a member carries one tube's data (§7.4).
    const holder = entry.type === 'dbus' ? this.peerStreams.get(sender)?.get(entry.streamId) : undefined;
    if (holder !== undefined && holder !== entry.id) return this.refuse(sender, entry.id, 'stream-id-in-use');
    let row = existing;
    if (row === undefined) {
      if (this.table.size >= this.limits.maxTubes) return this.refuse(sender, entry.id, 'too-many-tubes');
      row = { id: entry.id, type: entry.type, service: entry.service, initiator: entry.initiator, parameters: entry.parameters, state: 'local-pending', requested: false, streamId: undefined, members: new Map() };
      this.table.set(row.id, row);
      this.logger.debug('tube offered to us', { room: this.room, id: row.id, type: row.type, service: row.service, by: sender });
    }
    const dbusName = entry.type === 'dbus' ? entry.dbusName : undefined;
    const streamId = entry.type === 'dbus' ? entry.streamId : undefined;
    if (streamId !== undefined) {
      const streams = this.peerStreams.get(sender) ?? new Map<number, number>();
      streams.set(streamId, entry.id);
      this.peerStreams.set(sender, streams);
    }
    row.members.set(sender, { dbusName, streamId });
    if (existing === undefined) emitSafely(this, this.logger, 'tube-offered', this.info(row));
    emitSafely(this, this.logger, 'tube-member-joined', { room: this.room, tubeId: entry.id, member: sender, dbusName, streamId });
  }

  /** §7.3 step 3: `sender` no longer lists tube `id` (or left the room). */
  private memberDropped(sender: string, id: number): void {
    const row = this.table.get(id);
    const known = row?.members.get(sender);
    if (row === undefined || known === undefined) return;
    row.members.delete(sender);
    if (known.streamId !== undefined) this.dropStream(sender, known.streamId, id);
    emitSafely(this, this.logger, 'tube-member-left', { room: this.room, tubeId: id, member: sender, dbusName: known.dbusName, streamId: known.streamId });
    // An offer nobody lists any more and that we never took up goes (salut keeps it for good: our table stays bounded).
    if (row.state === 'local-pending' && row.members.size === 0) this.remove(row, 'withdrawn');
  }

  /**
   * A member left the room. Salut keeps its names (§7.4); we drop them: if it
   * comes back it is a new rMulticast sender whose streams may differ, and it
   * sends its list again when it rejoins.
   */
  private memberGone(name: string): void {
    const previous = this.peerLists.get(name);
    this.peerLists.delete(name);
    for (const id of previous?.keys() ?? []) this.memberDropped(name, id);
    this.peerStreams.delete(name);
  }

  private dropStream(sender: string, streamId: number, id: number): void {
    const streams = this.peerStreams.get(sender);
    if (streams?.get(streamId) !== id) return;
    streams.delete(streamId);
    if (streams.size === 0) this.peerStreams.delete(sender);
  }

  private refuse(sender: string, tubeId: number, reason: TubeEntryRefusal): void {
    this.stats.entriesRefused++;
    this.issue({ kind: 'entry-refused', room: this.room, sender, tubeId, reason });
  }

  private issue(issue: TubeListIssue): void {
    // 'closed-here' is the normal race after a close; the rest is somebody's broken or hostile list.
    if (issue.kind === 'entry-refused' && issue.reason === 'closed-here') this.logger.debug('tube list entry ignored', { ...issue });
    else this.logger.warn('tube list problem', { ...issue, ...('problem' in issue ? { problem: issue.problem.reason } : {}) });
    emitSafely(this, this.logger, 'list-issue', issue);
  }

  // ------------------------------------------------------------ data (§7.4)

  private dataReceived(data: RoomStreamData): void {
    if (this.detached) return;
    const id = this.peerStreams.get(data.sender)?.get(data.streamId);
    const row = id === undefined ? undefined : this.table.get(id);
    const member = row?.members.get(data.sender);
    if (row === undefined || member === undefined || member.dbusName === undefined) return this.dropData(data, 'unannounced-stream');
    if (row.state !== 'open') return this.dropData(data, 'tube-not-open');
    this.stats.dataAccepted++;
    emitSafely(this, this.logger, 'tube-data', { room: this.room, tubeId: row.id, sender: data.sender, dbusName: member.dbusName, bytes: data.data });
  }

  private dropData(data: RoomStreamData, reason: TubeDataDropReason): void {
    this.stats.dataDropped[reason]++;
    this.logger.debug('tube data dropped', { room: this.room, sender: data.sender, streamId: data.streamId, bytes: data.data.length, reason });
  }

  // ------------------------------------------------------------ the table

  private remove(row: TubeRow, reason: TubeCloseReason): void {
    const info = this.info(row);
    this.table.delete(row.id);
    if (row.streamId !== undefined) this.streamIds.release(row.streamId);
    for (const [member, known] of row.members) if (known.streamId !== undefined) this.dropStream(member, known.streamId, row.id);
    if (reason === 'closed' || row.state === 'open') this.rememberClosed(row.id);
    this.logger.debug('tube closed', { room: this.room, id: row.id, reason });
    emitSafely(this, this.logger, 'tube-closed', info, reason);
  }

  private rememberClosed(id: number): void {
    this.closedIds.delete(id);
    this.closedIds.add(id);
    if (this.closedIds.size > this.limits.maxClosedIds) {
      const [oldest] = this.closedIds;
      if (oldest !== undefined) this.closedIds.delete(oldest);
    }
  }

  private info(row: TubeRow): RoomTubeInfo {
    const open = row.state === 'open';
    const dbus = row.type === 'dbus';
    const members: RoomTubeMember[] = [];
    if (open) members.push({ name: this.selfName, self: true, dbusName: dbus ? this.ownDBusName : undefined, streamId: dbus ? row.streamId : undefined });
    for (const [name, known] of row.members) members.push({ name, self: false, dbusName: known.dbusName, streamId: known.streamId });
    return {
      room: this.room,
      id: row.id,
      type: row.type,
      service: row.service,
      initiator: row.initiator,
      parameters: new Map(row.parameters),
      state: row.state,
      requested: row.requested,
      streamId: open && dbus ? row.streamId : undefined,
      dbusName: open && dbus ? this.ownDBusName : undefined,
      members,
    };
  }

  private mustGet(id: number): TubeRow {
    const row = this.table.get(id);
    if (row === undefined) throw new RoomTubesError('unknown-tube', `no tube ${id} in room ${JSON.stringify(this.room)}`);
    return row;
  }

  private mustBeAttached(): void {
    if (this.detached) throw new RoomTubesError('closed', `room ${JSON.stringify(this.room)} was left`);
  }
}

function toParameters(parameters: TubeOffer['parameters']): TubeParameters {
  if (parameters === undefined) return new Map();
  if (parameters instanceof Map) return new Map(parameters);
  if (typeof parameters !== 'object' || parameters === null) throw new RoomTubesError('bad-argument', 'parameters must be a Map or an object');
  return new Map(Object.entries(parameters));
}

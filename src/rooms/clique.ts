import { EventEmitter } from 'node:events';
import type { CliqueError } from '../base/clique-error.js';
import { emitSafely } from '../base/emit-safely.js';
import { errorText } from '../base/error-text.js';
import { waitFor } from '../base/wait-for.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { CryptoRandom, type RandomSource } from '../base/random.js';
import type { Contact, ContactDirectory, PresenceStatus } from '../linklocal/contact.js';
import type { InvitationEvent } from '../linklocal/link-local-messenger.js';
import { defaultSelfName, LinkLocalService, splitSelfName } from '../linklocal/link-local-service.js';
import { defaultInterfaceAddress } from '../mdns/transport.js';
import { localHostLabel } from '../linklocal/presence-publisher.js';
import type { RoomAddress } from '../linklocal/room-advertiser.js';
import { RoomDirectory } from '../linklocal/room-directory.js';
import { DEFAULT_TIMING } from '../rmcast/engine-defaults.js';
import type { EngineTiming } from '../rmcast/engine-types.js';
import type { CliqueInvitation } from '../xml/invitation.js';
import { HistoryStore, type HistoryStoreOptions } from './history-store.js';
import { RoomError } from './room-error.js';
import { openRoomGroup, type OpenedGroup } from './room-group.js';
import { Room, roomControl, type RoomControl, type RoomSettings } from './room.js';

/** A room invitation received over XEP-0174 (§5), ready for `clique.acceptInvitation()`. */
export interface RoomInvitation {
  /** Who invited us (their instance name). */
  from: string;
  room: string;
  address: string;
  port: number;
  /** '' when none was given. */
  reason: string;
  receivedAt: Date;
}

export interface CliqueOptions {
  /**
   * Our name in rooms (`user@host`; a bare `user` gets this machine's host
   * name). Default `<login>@<host>`. With presence, the link-local service's
   * published name is used instead (it may have been renamed on a conflict).
   */
  name?: string;
  /**
   * Our name is probed on mDNS even without presence (then claimed without
   * being listed), so no two processes are the same member. If it is taken:
   * true (default) becomes `user-2@host`; false fails with MdnsError
   * 'mdns-name-in-use' (for a name the user asked for explicitly): `start()`
   * with presence, the first `join()` without.
   */
  rename?: boolean;
  /**
   * IPv4 address of the network interface for multicast and mDNS. Default:
   * the system's multicast route and the first non-loopback interface for
   * mDNS. Tests pass '127.0.0.1'.
   */
  interface?: string;
  /**
   * Be visible as a person (XEP-0174 `_presence._tcp`), receive invitations and
   * show contacts' aliases: `true` (default) starts a LinkLocalService, or pass
   * a running one to share it (it is not stopped by `stop()`). `false`: rooms only.
   */
  presence?: boolean | LinkLocalService;
  /** TCP listener port when we start the presence service (default 5298, else 5299, else any; 0 = any). */
  tcpPort?: number;
  /**
   * Browse and advertise rooms on mDNS (`_clique._udp`). Default true. With
   * false (and no presence), rooms can only be joined by address and port,
   * and are not advertised.
   */
  discovery?: boolean;
  /** Our default nick in rooms (and published with our presence). */
  nick?: string;
  /**
   * Local history: options for the store (default path, 10 000 entries per
   * room), a store of your own (not closed by `stop()`), or false for none.
   */
  history?: false | HistoryStore | HistoryStoreOptions;
  /**
   * Joining by name right after start: wait until this long after start for
   * the room to show up on mDNS before creating it (default 2000 ms).
   */
  lookupWaitMs?: number;
  /** Defaults for every join (see JoinOptions). */
  joinWaitMs?: number;
  failureTimeoutMs?: number;
  timing?: Partial<EngineTiming>;
  /** Largest stream-0 stanza, sent or received (default 256 KiB). */
  maxStanzaBytes?: number;
  /** Largest rMulticast message we reassemble; a member sending more is failed by the engine (default 1 MiB). */
  maxMessageBytes?: number;
  logger?: Logger;
  random?: RandomSource;
}

export interface JoinOptions {
  /** Our nick in this room (announced with a body-less `<presence>`, salut ignores it). */
  nick?: string;
  status?: PresenceStatus;
  statusMessage?: string;
  /**
   * Join this group directly (a private room: no mDNS lookup). Both or
   * neither. The room is still advertised once joined, as salut does (§2.1),
   * unless `advertise: false`. A room joined by address never moves to
   * another group (see `clique.join()`).
   */
  address?: string;
  port?: number;
  /** Advertise the room on `_clique._udp` once connected. Default true (salut has no opt-out). */
  advertise?: boolean;
  /** A joiner becomes a member after this long if it sees nobody (default 60 000 ms, salut's value). */
  joinWaitMs?: number;
  /**
   * Report a member gone after at most this much silence (rMulticast
   * `silenceTimeout`, default 30 000 ms; at least 3500). A member whose
   * SESSIONs (about one a second) arrive regularly is reported sooner, after
   * the limit it earned (about 6 s on a quiet LAN; silence-rule.ts).
   */
  failureTimeoutMs?: number;
  /** Other rMulticast timer overrides. */
  timing?: Partial<EngineTiming>;
  /** Sends that may wait for the flow-control window before `send()` fails with 'queue-full' (default 1000). */
  maxQueuedSends?: number;
  /** Messages buffered per `room.messages()` reader (default 10 000). */
  maxBufferedMessages?: number;
}

export interface CliqueEvents {
  'room-added': [room: RoomAddress];
  'room-updated': [room: RoomAddress, previous: RoomAddress];
  'room-removed': [room: RoomAddress];
  /** Someone invited us to a room (needs presence). Accept with `clique.acceptInvitation(invitation)`. */
  invitation: [invitation: RoomInvitation];
  /** Non-fatal problems (presence, mDNS). Emitted only if someone listens. */
  error: [error: CliqueError];
}

const DEFAULT_LOOKUP_WAIT_MS = 2000;
const DEFAULT_JOIN_WAIT_MS = 60_000;
const DEFAULT_MAX_STANZA_BYTES = 256 * 1024;
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
const CONNECT_TIMEOUT_MS = 30_000;
/** Original members send a SESSION every 1.5-3 s (ours every 0.7-1.3 s): a shorter silence would fail healthy ones. */
export const MIN_FAILURE_TIMEOUT_MS = 3500;
/** Between a member falling silent for the silence timeout and the group declaring it failed. */
const LOSS_WINDOW_MARGIN_MS = 10_000;
/** DNS-SD instance labels hold 63 bytes (§1). */
const MAX_ROOM_NAME_BYTES = 63;

/**
 * Clique rooms on the local network: browse, create, join, leave, invitations,
 * with a local history of what we saw.
 *
 *   const clique = await Clique.start({ nick: 'Alice' });
 *   clique.rooms();                                   // [{ name, address, port }, ...] advertised on the LAN
 *   const room = await clique.join('lunch');          // joins the advertised room, or creates it
 *   room.on('message', (m) => console.log(`<${m.senderName}> ${m.text}`));
 *   await room.send('anyone for pizza?');
 *   clique.on('invitation', async (inv) => { const r = await clique.acceptInvitation(inv); ... });
 *   await clique.stop();                              // leaves every room, goes offline
 */
export class Clique extends EventEmitter<CliqueEvents> {
  /** The history store, if any. */
  readonly history: HistoryStore | undefined;
  /** The link-local service (presence, contacts, 1-1 chat), if any. */
  readonly link: LinkLocalService | undefined;

  private readonly joinedRooms = new Map<string, Room>();
  private readonly joining = new Map<string, Promise<Room>>();
  private readonly startedAt = Date.now();
  private readonly logger: Logger;
  private readonly random: RandomSource;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly options: CliqueOptions,
    private readonly fixedName: string,
    link: LinkLocalService | undefined,
    private readonly ownsLink: boolean,
    private readonly directory: RoomDirectory | undefined,
    private readonly ownsDirectory: boolean,
    history: HistoryStore | undefined,
    private readonly ownsHistory: boolean,
  ) {
    super();
    this.link = link;
    this.history = history;
    this.logger = (options.logger ?? silentLogger).child('clique');
    this.random = options.random ?? new CryptoRandom();
    if (directory !== undefined) {
      directory.on('room-added', (r) => {
        this.safeEmit('room-added', r);
        this.control(r.name)?.listingChanged();
      });
      directory.on('room-updated', (r, p) => {
        this.safeEmit('room-updated', r, p);
        this.control(r.name)?.listingChanged();
      });
      directory.on('room-removed', (r) => this.safeEmit('room-removed', r));
      directory.on('advertise-conflict', (r) => this.control(r.name)?.advertisementLost(r));
    }
    if (link !== undefined) {
      link.on('invitation', (event) => this.safeEmit('invitation', invitationOf(event)));
      link.on('contact-added', (c) => this.contactChanged(c.name, undefined));
      link.on('contact-updated', (c, previous) => this.contactChanged(c.name, previous));
      link.on('contact-removed', (c) => this.contactChanged(c.name, c));
      link.on('error', (error) => {
        if (this.listenerCount('error') > 0) this.safeEmit('error', error);
      });
    }
  }

  /**
   * Starts: opens the history store, then (by default) comes online on the
   * link (presence + room browsing). Throws RoomError 'history-failed', or the
   * link-local service's MdnsError/LinkError (bad interface, bad name).
   */
  static async start(options: CliqueOptions = {}): Promise<Clique> {
    const logger = options.logger ?? silentLogger;
    if (options.failureTimeoutMs !== undefined) checkFailureTimeout(options.failureTimeoutMs);
    const givenStore = options.history instanceof HistoryStore ? options.history : undefined;
    const history =
      givenStore ?? (options.history === false ? undefined : HistoryStore.open({ logger, ...(options.history as HistoryStoreOptions | undefined) }));
    const ownsHistory = givenStore === undefined && history !== undefined;
    let link: LinkLocalService | undefined;
    let ownsLink = false;
    let directory: RoomDirectory | undefined;
    let ownsDirectory = false;
    try {
      if (options.presence instanceof LinkLocalService) {
        link = options.presence;
      } else if (options.presence ?? true) {
        link = await LinkLocalService.start({
          ...(options.name !== undefined ? { name: options.name } : {}),
          ...(options.nick !== undefined ? { nick: options.nick } : {}),
          ...(options.interface !== undefined ? { interface: options.interface } : {}),
          ...(options.tcpPort !== undefined ? { port: options.tcpPort } : {}),
          ...(options.rename !== undefined ? { rename: options.rename } : {}),
          logger,
        });
        ownsLink = true;
      }
      if (link !== undefined) {
        directory = link.rooms;
      } else if (options.discovery ?? true) {
        const claim = { ...splitSelfName(options.name ?? defaultSelfName()), ...(options.rename !== undefined ? { rename: options.rename } : {}) };
        directory = await RoomDirectory.open({ interface: options.interface ?? defaultInterfaceAddress(), logger, claim });
        ownsDirectory = true;
      }
    } catch (error) {
      if (ownsLink) await link?.stop();
      if (ownsHistory) history?.close();
      throw error;
    }
    const name = selfNameFrom(options.name);
    return new Clique(options, name, link, ownsLink, directory, ownsDirectory, history, ownsHistory);
  }

  /**
   * Our name in rooms (`user@host`): the name our presence holds after
   * probing; rooms only, the name our unlisted claim is probing, final once
   * a `join()` has resolved (a join waits for it).
   */
  get name(): string {
    return this.link?.name ?? this.directory?.claimedName ?? this.fixedName;
  }

  /** Rooms advertised on the link right now, ours included (empty without discovery). */
  rooms(): RoomAddress[] {
    return this.directory?.list() ?? [];
  }

  /** The rooms we are in (joined or still joining). */
  joined(): Room[] {
    return [...this.joinedRooms.values()];
  }

  /** A room we are in, by name. */
  room(name: string): Room | undefined {
    return this.joinedRooms.get(name);
  }

  /** People on the link (empty without presence). */
  get contacts(): ContactDirectory | undefined {
    return this.link?.contacts;
  }

  /**
   * Joins a room by name (§3.1): with `address`/`port`, that group directly;
   * otherwise the first advertised group of that name, or, if none is
   * advertised, a new random group (we are then its creator). A room joined
   * by name that is alone in its group moves to the group advertised under
   * its name when that is the room (two people created it at the same
   * moment; room-merge.ts has the rule): the room emits 'moved'. Resolves once
   * rMulticast is connected (we can send); `room.whenReady()` / 'ready' tell
   * when we are a member. Joining a room we are already in returns it.
   * Throws RoomError 'bad-name', 'bad-argument', 'join-failed'.
   *
   *   const room = await clique.join('lunch', { nick: 'Al' });
   *   const secret = await clique.join('plans', { address: '239.255.71.77', port: 40404 });
   */
  async join(name: string, options: JoinOptions = {}): Promise<Room> {
    checkRoomName(name);
    if (this.stopping !== undefined) throw new RoomError('not-joined', 'clique is stopped');
    const existing = this.joinedRooms.get(name);
    if (existing !== undefined && existing.state !== 'leaving' && existing.state !== 'left') {
      await existing.whenConnected();
      return existing;
    }
    const pending = this.joining.get(name);
    if (pending !== undefined) return pending;
    const joining = this.doJoin(name, options).finally(() => this.joining.delete(name));
    this.joining.set(name, joining);
    return joining;
  }

  /**
   * Accepts an invitation (§5.3): joins its group and port directly. If we
   * are already in a room of that name, that room is returned and the
   * invitation's address is ignored, as salut does.
   */
  acceptInvitation(invitation: RoomInvitation | CliqueInvitation | InvitationEvent, options: Omit<JoinOptions, 'address' | 'port'> = {}): Promise<Room> {
    const { room, address, port } = 'invitation' in invitation ? invitation.invitation : invitation;
    const existing = this.joinedRooms.get(room);
    if (existing !== undefined && existing.state !== 'leaving' && existing.state !== 'left') return this.join(room);
    return this.join(room, { ...options, address, port });
  }

  /** Leaves every room (BYE), then goes offline (mDNS goodbyes) and closes what we opened. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.allSettled([...this.joining.values()]);
      await Promise.all([...this.joinedRooms.values()].map((room) => roomControl(room).close('stopped')));
      if (this.ownsLink) await this.link?.stop();
      if (this.ownsDirectory) await this.directory?.close();
      if (this.ownsHistory) this.history?.close();
      this.removeAllListeners();
    })();
    return this.stopping;
  }

  private async doJoin(name: string, options: JoinOptions): Promise<Room> {
    const failureTimeoutMs = options.failureTimeoutMs ?? this.options.failureTimeoutMs;
    if (failureTimeoutMs !== undefined) checkFailureTimeout(failureTimeoutMs);
    let address = options.address;
    let port = options.port;
    if ((address === undefined) !== (port === undefined)) throw new RoomError('bad-argument', 'give both address and port, or neither');
    let creator = false;
    if (address === undefined) {
      const found = await this.lookup(name);
      if (found !== undefined) {
        ({ address, port } = found);
        this.logger.debug('joining advertised room', { room: name, address, port });
      } else {
        creator = true;
        this.logger.debug('no such room advertised; creating it', { room: name });
      }
    }
    const timing: Partial<EngineTiming> = {
      ...this.options.timing,
      ...options.timing,
      ...(failureTimeoutMs !== undefined ? { silenceTimeout: failureTimeoutMs } : {}),
    };
    // Rooms only: our member name is claimed in the background from start; it must be ours before it goes on the wire.
    await this.directory?.nameClaimed();
    const selfName = this.name;
    const logger = this.options.logger ?? silentLogger;
    const openGroup = (at: { address: string; port: number } | undefined): Promise<OpenedGroup> =>
      openRoomGroup({
        name: selfName,
        ...(at !== undefined ? at : {}),
        ...(this.options.interface !== undefined ? { interface: this.options.interface } : {}),
        timing,
        maxMessageSize: this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        random: this.random,
        logger,
      });
    const group = await openGroup(address !== undefined && port !== undefined ? { address, port } : undefined);
    const byName = options.address === undefined;
    const settings: RoomSettings = {
      nick: options.nick ?? this.options.nick,
      status: options.status ?? 'avail',
      statusMessage: options.statusMessage,
      joinWaitMs: options.joinWaitMs ?? this.options.joinWaitMs ?? DEFAULT_JOIN_WAIT_MS,
      maxStanzaBytes: this.options.maxStanzaBytes ?? DEFAULT_MAX_STANZA_BYTES,
      maxQueuedSends: options.maxQueuedSends ?? 1000,
      // Peers fail a sender whose message exceeds their rMulticast limit: tube data stays within ours.
      maxStreamMessageBytes: this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      maxBufferedMessages: options.maxBufferedMessages ?? 10_000,
      // Silence for this long gets a member suspected, and then declared failed; a margin for the declaration.
      lossWindowMs: (timing.silenceTimeout ?? DEFAULT_TIMING.silenceTimeout) + LOSS_WINDOW_MARGIN_MS,
    };
    const link = this.link;
    const room = new Room({
      name,
      selfName,
      address: group.address,
      port: group.port,
      creator,
      group: group.group,
      advertising: (options.advertise ?? true) ? this.directory : undefined,
      byName,
      listing: this.directory,
      openGroup: byName ? (groupAddress, groupPort) => openGroup({ address: groupAddress, port: groupPort }) : undefined,
      contacts: link?.contacts,
      history: this.history,
      invite: link === undefined ? undefined : (contact, invitation) => link.sendInvitation(contact, invitation),
      settings,
      logger,
      onClosed: (closed) => {
        if (this.joinedRooms.get(closed.name) === closed) this.joinedRooms.delete(closed.name);
      },
    });
    this.joinedRooms.set(name, room);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        room.whenConnected(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RoomError('join-failed', `rMulticast did not connect within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      await roomControl(room).close('left');
      throw error instanceof RoomError && error.code === 'join-failed' ? error : new RoomError('join-failed', `joining ${JSON.stringify(name)} failed: ${errorText(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    return room;
  }

  /**
   * The first advertised address of the room (§3.1). Right after start the
   * browser may not have heard the answers yet: wait for them, up to
   * `lookupWaitMs` after start.
   */
  private async lookup(name: string): Promise<RoomAddress | undefined> {
    const directory = this.directory;
    if (directory === undefined) return undefined;
    const found = directory.get(name);
    if (found !== undefined) return found;
    const remaining = this.startedAt + (this.options.lookupWaitMs ?? DEFAULT_LOOKUP_WAIT_MS) - Date.now();
    if (remaining <= 0) return undefined;
    // Not advertised within the wait is an answer (a new group), not an error.
    const notListed = new Error('not listed');
    return waitFor<RoomAddress>({
      emitter: directory,
      events: ['room-added', 'room-updated'],
      check: () => directory.get(name),
      timeoutMs: remaining,
      timeoutError: () => notListed,
    }).catch((error: unknown) => {
      if (error === notListed) return undefined;
      throw error;
    });
  }

  private contactChanged(name: string, previous: Contact | undefined): void {
    for (const room of this.joinedRooms.values()) roomControl(room).contactChanged(name, previous);
  }

  private control(name: string): RoomControl | undefined {
    const room = this.joinedRooms.get(name);
    return room === undefined ? undefined : roomControl(room);
  }

  private safeEmit<K extends keyof CliqueEvents>(event: K, ...args: CliqueEvents[K]): void {
    emitSafely(this, this.logger, event, ...args);
  }
}

/** A room name as salut accepts it (non-empty) and mDNS can carry (≤ 63 bytes, no control characters). */
export function checkRoomName(name: string): void {
  if (typeof name !== 'string' || name === '') throw new RoomError('bad-name', 'room name must not be empty');
  if (Buffer.byteLength(name) > MAX_ROOM_NAME_BYTES) throw new RoomError('bad-name', `room name ${JSON.stringify(name)} is longer than ${MAX_ROOM_NAME_BYTES} bytes of UTF-8`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new RoomError('bad-name', `room name ${JSON.stringify(name)} contains control characters`);
}

function checkFailureTimeout(ms: number): void {
  if (!Number.isInteger(ms) || (ms !== 0 && ms < MIN_FAILURE_TIMEOUT_MS)) {
    throw new RoomError('bad-argument', `failureTimeoutMs must be 0 (off) or at least ${MIN_FAILURE_TIMEOUT_MS}, got ${ms}`);
  }
}

function selfNameFrom(name: string | undefined): string {
  if (name === undefined) return defaultSelfName();
  if (name === '') throw new RoomError('bad-argument', 'our name must not be empty');
  return name.includes('@') ? name : `${name}@${localHostLabel()}`;
}

function invitationOf(event: InvitationEvent): RoomInvitation {
  const { room, address, port, reason } = event.invitation;
  return { from: event.from, room, address, port, reason, receivedAt: event.receivedAt };
}

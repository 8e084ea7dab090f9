import { existsSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { waitFor } from '../base/wait-for.js';
import type { Contact } from '../linklocal/contact.js';
import { Clique, type JoinOptions } from '../rooms/clique.js';
import type { HistoryEntry } from '../rooms/history-store.js';
import type { Room } from '../rooms/room.js';
import type { RoomMember, RoomMessage } from '../rooms/room-types.js';
import { ParamReader, PROTOCOL_VERSION, type ContactJson, type ControlEvents, type JoinHold, type MemberJson, type MessageJson, type RoomSnapshot, type RoomStatusJson, type SendResult, type ServiceIdentity, type StatusResult } from './control-protocol.js';
import { RpcFault } from './rpc-fault.js';
import { ControlServer, type ControlClient, type ControlHandler, type ControlLimits } from './control-server.js';
import type { JsonValue, RpcParams } from './json-rpc.js';
import { ServiceError } from './service-error.js';
import { acquireServiceLock } from './service-lock.js';
import { ensurePrivateDir, makeOwnerOnly, servicePaths, type ServicePaths } from './service-paths.js';
import { warningJson } from '../rooms/room-warning.js';
import { RoomTubes } from '../tubes/room-tubes.js';
import { tubesOf } from './tube-json.js';
import { contactJson, historyJson, memberJson, messageJson, others, snapshot } from './service-json.js';
import { ServiceStreamTubes } from './stream-tube-rpc.js';
import { FileRpc } from './file-rpc.js';

export interface CliqueServiceOptions {
  /** IPv4 address of the interface (as for Clique); also part of the socket's name. */
  interface?: string;
  /** Our identity (`user@host`, or `user`); probed on mDNS and renamed on a conflict. */
  name?: string;
  /** False: fail with MdnsError 'mdns-name-in-use' rather than rename when `name` is taken (an explicit `--name`). */
  rename?: boolean;
  nick?: string;
  /** How long a room joined only on behalf of `rooms.send` stays joined after the last send (default 5 minutes). */
  lingerMs?: number;
  /** How long after start to wait for rooms to show up on mDNS before saying a room is not advertised (default 3000 ms). */
  lookupMs?: number;
  /** Default silence timeout for members of our rooms. */
  failureTimeoutMs?: number;
  /** Paths (default: servicePaths(interface)). */
  paths?: ServicePaths;
  limits?: Partial<ControlLimits>;
  /** Receive every file offered to us into this directory (`clique up --accept-files`). */
  acceptFilesDir?: string;
  logger?: Logger;
}

export const DEFAULT_LINGER_MS = 5 * 60_000;
const DEFAULT_LOOKUP_MS = 3000;
const DEFAULT_SEND_WAIT_MS = 30_000;
const DEFAULT_CONTACT_WAIT_MS = 5000;
const MAX_TEXTS_PER_SEND = 10_000;
const MAX_TEXT_LENGTH = 64 * 1024;
const MAX_HISTORY = 10_000;
/** Rooms the service holds at once: each costs sockets and timers, so a client cannot make it join without bound. */
const MAX_ROOMS = 100;

/** One room the person is in: one rMulticast membership, shared by every client. */
interface Membership {
  room: Room;
  /** Its tubes, followed from the moment we join (lists are not replayed). */
  tubes: RoomTubes;
  /** Held until rooms.leave. */
  stay: boolean;
  /** Clients holding it while connected. */
  holders: Set<number>;
  subscribers: Set<ControlClient>;
  lingerTimer: NodeJS.Timeout | undefined;
  lingerUntil: Date | undefined;
  /** A chat (`clique join`) held it: when its last holder goes, leave at once instead of lingering. */
  leaveOnRelease: boolean;
}

/**
 * The clique service: one long-lived process per login and interface that
 * holds the person's presence (one probed XEP-0174 name), the 1-1 listener,
 * every room the person is in (one membership per room, shared by all of the
 * person's clients) and the history database, and serves them to clients on
 * a private Unix socket (docs/control-protocol.md).
 *
 *   const service = await CliqueService.start({ interface: '127.0.0.1' });
 *   await service.stopped;                       // until shutdown, or service.stop()
 */
export class CliqueService implements ControlHandler {
  /** Resolves once the service has stopped (rooms left, goodbyes sent, socket removed). */
  readonly stopped: Promise<void>;
  readonly startedAt = new Date();

  private readonly memberships = new Map<string, Membership>();
  private readonly joining = new Map<string, Promise<Membership>>();
  private readonly chatSubscribers = new Set<ControlClient>();
  private readonly contactSubscribers = new Set<ControlClient>();
  private readonly server: ControlServer;
  private readonly logger: Logger;
  private readonly lingerMs: number;
  private stopping: Promise<void> | undefined;
  private resolveStopped!: () => void;
  private readonly streamTubes: ServiceStreamTubes;
  /** files.* (set in start(), before the socket listens). */
  private files!: FileRpc;

  private constructor(
    private readonly clique: Clique,
    readonly paths: ServicePaths,
    private readonly releaseLock: () => void,
    private readonly options: CliqueServiceOptions,
  ) {
    this.logger = (options.logger ?? silentLogger).child('service');
    this.lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.server = new ControlServer(this, { ...(options.limits !== undefined ? { limits: options.limits } : {}), logger: options.logger ?? silentLogger });
    const link = clique.link;
    this.streamTubes = new ServiceStreamTubes(link, (room) => this.membership(room), this.logger.child('tubes'));
    if (link !== undefined) {
      link.on('message', (m) => this.tell(this.chatSubscribers, 'chat.message', { from: m.from, kind: m.kind, text: m.text, time: m.receivedAt.toISOString() }));
      link.on('invitation', (i) =>
        this.tell(this.chatSubscribers, 'chat.invitation', {
          from: i.from,
          room: i.invitation.room,
          address: i.invitation.address,
          port: i.invitation.port,
          reason: i.invitation.reason,
          time: i.receivedAt.toISOString(),
        }),
      );
      link.on('name-contested', (name, from) => {
        this.logger.warn('someone announced our name; defending it', { name, from });
        this.tell(this.chatSubscribers, 'presence.name-contested', { name, from });
      });
      link.on('name-changed', (name, previous) => this.tell(this.chatSubscribers, 'presence.name-changed', { name, previous }));
      link.on('contact-added', (c) => this.tell(this.contactSubscribers, 'contact.added', contactJson(c)));
      link.on('contact-updated', (c) => this.tell(this.contactSubscribers, 'contact.updated', contactJson(c)));
      link.on('contact-removed', (c) => this.tell(this.contactSubscribers, 'contact.removed', contactJson(c)));
    }
    clique.on('error', (error) => this.logger.warn('clique', { code: error.code, error: error.message }));
  }

  /**
   * Takes the lock, replaces a stale socket, comes online (presence probed on
   * mDNS), then listens on the private socket (mode 0600 in a 0700 directory).
   * Throws ServiceError 'already-running', 'unsafe-directory', 'unsafe-socket',
   * or what Clique.start throws.
   */
  static async start(options: CliqueServiceOptions = {}): Promise<CliqueService> {
    const paths = options.paths ?? servicePaths(options.interface);
    ensurePrivateDir(paths.controlDir);
    ensurePrivateDir(paths.dataDir, { tighten: true, purpose: 'clique data directory' });
    const releaseLock = acquireServiceLock(paths.lock);
    let clique: Clique | undefined;
    try {
      await removeStaleSocket(paths.socket);
      clique = await Clique.start({
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.rename !== undefined ? { rename: options.rename } : {}),
        ...(options.nick !== undefined ? { nick: options.nick } : {}),
        ...(options.interface !== undefined ? { interface: options.interface } : {}),
        ...(options.failureTimeoutMs !== undefined ? { failureTimeoutMs: options.failureTimeoutMs } : {}),
        presence: true,
        history: { path: join(paths.dataDir, 'history.sqlite') },
        lookupWaitMs: options.lookupMs ?? DEFAULT_LOOKUP_MS,
        ...(options.logger !== undefined ? { logger: options.logger } : {}),
      });
      const service = new CliqueService(clique, paths, releaseLock, options);
      service.files = await FileRpc.start(clique.link, { logger: service.logger, ...(options.acceptFilesDir !== undefined ? { acceptFilesDir: options.acceptFilesDir } : {}) });
      await service.server.listen(paths.socket);
      makeOwnerOnly(paths.socket);
      service.logger.info('listening', { socket: paths.socket, name: clique.name });
      return service;
    } catch (error) {
      await clique?.stop();
      releaseLock();
      throw error;
    }
  }

  /** Our name on the link and in every room. */
  get name(): string {
    return this.clique.name;
  }

  identity(): ServiceIdentity & { [key: string]: JsonValue } {
    return {
      name: this.clique.name,
      nick: this.clique.link?.info.nick ?? this.options.nick ?? null,
      pid: process.pid,
      interface: this.options.interface ?? null,
      socket: this.paths.socket,
    };
  }

  /** Leaves every room (BYE), goes offline (mDNS goodbyes), closes the socket and removes it, releases the lock. */
  stop(reason = 'stopped'): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('stopping', { reason });
      this.server.broadcast('service.stopping', { reason });
      for (const m of this.memberships.values()) clearTimeout(m.lingerTimer);
      await this.streamTubes.stop();
      try {
        await this.files.close();
        await this.clique.stop();
      } catch (error) {
        this.logger.error('stopping clique failed', { error: errorText(error) });
      }
      await this.server.close();
      try {
        unlinkSync(this.paths.socket);
      } catch {
        // already gone
      }
      this.releaseLock();
      this.resolveStopped();
    })();
    return this.stopping;
  }

  async handle(client: ControlClient, method: string, params: RpcParams | undefined): Promise<JsonValue> {
    if (this.stopping !== undefined) throw new RpcFault('shutting-down', 'the service is stopping');
    switch (method) {
      case 'status':
        new ParamReader(params, []);
        return this.status();
      case 'rooms.list':
        new ParamReader(params, []);
        return { rooms: this.clique.rooms().map((r) => ({ room: r.name, address: r.address, port: r.port })) };
      case 'rooms.join':
        return this.joinRequest(client, new ParamReader(params, ['room', 'nick', 'address', 'port', 'create', 'hold', 'release', 'joinWaitMs', 'failureTimeoutMs']));
      case 'rooms.leave': {
        const room = new ParamReader(params, ['room']).string('room');
        return { left: await this.leave(room) };
      }
      case 'rooms.send':
        return this.send(new ParamReader(params, ['room', 'texts', 'kind', 'create', 'address', 'port', 'nick', 'waitMembers', 'timeoutMs', 'failureTimeoutMs']));
      case 'rooms.subscribe': {
        const m = this.membership(new ParamReader(params, ['room']).string('room'));
        m.subscribers.add(client);
        return snapshot(m.room);
      }
      case 'rooms.unsubscribe': {
        const room = new ParamReader(params, ['room']).string('room');
        return { subscribed: this.memberships.get(room)?.subscribers.delete(client) ?? false };
      }
      case 'rooms.topic': {
        const reader = new ParamReader(params, ['room', 'topic']);
        const m = this.membership(reader.string('room', { maxLength: 256 }));
        const change = await m.room.setTopic(reader.string('topic', { maxLength: MAX_TEXT_LENGTH }));
        // Like our lines, our own topic change is not delivered back to us: our clients hear it from here.
        this.tell(m.subscribers, 'room.topic', { room: m.room.name, topic: change.topic, setBy: change.setBy, setAt: change.setAt.toISOString(), replay: false });
        return { topic: change.topic };
      }
      case 'rooms.nick': {
        const reader = new ParamReader(params, ['room', 'nick']);
        const m = this.membership(reader.string('room', { maxLength: 256 }));
        const nick = reader.optionalString('nick', { maxLength: 256 });
        await m.room.setNick(nick === '' ? undefined : nick);
        return { nick: nick === '' ? null : (nick ?? null) };
      }
      case 'rooms.tubes':
        return tubesOf(this.membership(new ParamReader(params, ['room']).string('room', { maxLength: 256 })).tubes);
      case 'rooms.typing': {
        const reader = new ParamReader(params, ['room', 'state']);
        const m = this.membership(reader.string('room', { maxLength: 256 }));
        const state = reader.optionalChoice('state', ['active', 'composing', 'paused', 'inactive', 'gone'] as const) ?? 'active';
        await m.room.setTyping(state);
        return { state };
      }
      case 'tubes.offer':
      case 'tubes.accept':
      case 'tubes.close':
        return this.streamTubes.handle(method, params);
      case 'rooms.history': {
        const reader = new ParamReader(params, ['room', 'limit']);
        const room = reader.string('room', { maxLength: 256 });
        const limit = reader.optionalInteger('limit', 0, MAX_HISTORY) ?? 50;
        return { entries: (this.clique.history?.recent(room, limit, this.clique.name) ?? []).map(historyJson) };
      }
      case 'contacts.list':
        new ParamReader(params, []);
        return { contacts: this.contacts() };
      case 'contacts.subscribe':
        new ParamReader(params, []);
        this.contactSubscribers.add(client);
        return { contacts: this.contacts() };
      case 'chat.subscribe':
        new ParamReader(params, []);
        this.chatSubscribers.add(client);
        return { subscribed: true };
      case 'chat.send':
        return this.chatSend(new ParamReader(params, ['contact', 'text', 'kind', 'timeoutMs']));
      case 'presence.set':
        return this.presenceSet(new ParamReader(params, ['status', 'message', 'nick']));
      case 'invite':
        return this.invite(new ParamReader(params, ['contact', 'room', 'reason', 'address', 'port', 'timeoutMs']));
      case 'files.offer':
      case 'files.share':
      case 'files.list':
      case 'files.accept':
      case 'files.decline':
      case 'files.cancel':
      case 'files.subscribe':
      case 'files.auto-accept':
        return this.files.handle(client, method, params);
      case 'shutdown':
        new ParamReader(params, []);
        // Answer first; the connection closes as the service stops.
        setImmediate(() => void this.stop('shutdown requested'));
        return { stopping: true };
      default:
        throw new RpcFault('method-not-found', `no method ${JSON.stringify(method)}`, -32601);
    }
  }

  disconnected(client: ControlClient): void {
    this.chatSubscribers.delete(client);
    this.contactSubscribers.delete(client);
    this.files.disconnected(client);
    for (const m of this.memberships.values()) {
      m.subscribers.delete(client);
      if (m.holders.delete(client.id)) this.reconsider(m);
    }
  }

  private status(): StatusResult {
    return {
      service: this.identity(),
      protocol: PROTOCOL_VERSION,
      startedAt: this.startedAt.toISOString(),
      clients: this.server.clientCount,
      lingerMs: this.lingerMs,
      rooms: [...this.memberships.values()].map(roomStatus),
      contacts: this.clique.contacts?.list().length ?? 0,
    };
  }

  private contacts(): ContactJson[] {
    return (this.clique.contacts?.list() ?? []).map(contactJson);
  }

  private async joinRequest(client: ControlClient, reader: ParamReader): Promise<JsonValue> {
    const room = reader.string('room', { maxLength: 256 });
    const hold = reader.optionalChoice<JoinHold>('hold', ['stay', 'client']) ?? 'stay';
    const release = reader.optionalChoice('release', ['linger', 'leave'] as const) ?? 'linger';
    const joinOptions = readJoinOptions(reader);
    const create = reader.optionalBoolean('create') ?? true;
    const before = this.memberships.get(room);
    const m = await this.ensureMembership(room, joinOptions, create);
    if (hold === 'stay') m.stay = true;
    else if (!client.closed) m.holders.add(client.id);
    if (hold === 'client' && release === 'leave') m.leaveOnRelease = true;
    this.reconsider(m);
    return { ...snapshot(m.room), joinedNow: before === undefined };
  }

  private async send(reader: ParamReader): Promise<SendResult> {
    const roomName = reader.string('room', { maxLength: 256 });
    const texts = reader.stringArray('texts', { maxItems: MAX_TEXTS_PER_SEND, maxLength: MAX_TEXT_LENGTH });
    const kind = reader.optionalChoice('kind', ['normal', 'action', 'notice'] as const) ?? 'normal';
    const create = reader.optionalBoolean('create') ?? false;
    const waitMembers = reader.optionalInteger('waitMembers', 0, 1000) ?? 0;
    const timeoutMs = reader.optionalInteger('timeoutMs', 1, 3_600_000) ?? DEFAULT_SEND_WAIT_MS;
    const joinOptions = readJoinOptions(reader);
    const before = this.memberships.get(roomName);
    // A membership made for sends only: it lingers, so the next sends are instant.
    const m = before ?? (await this.ensureMembership(roomName, { joinWaitMs: timeoutMs, ...joinOptions }, create));
    const room = m.room;
    this.reconsider(m, true);
    let shortBy = 0;
    if (waitMembers > 0) {
      try {
        await room.waitForMembers(waitMembers, { timeoutMs });
      } catch (error) {
        if (!(error instanceof Error && 'code' in error && error.code === 'timeout')) throw error;
        shortBy = waitMembers - others(room).length;
      }
    }
    const members = others(room).map((x) => x.name);
    const sent: SendResult['sent'] = [];
    for (const text of texts) {
      const message = await room.send(text, { kind });
      sent.push({ id: message.id, kind: message.kind, text: message.text });
      // rMulticast never delivers our own lines to us: our other clients get them from here.
      this.tell(m.subscribers, 'room.message', messageJson(message));
    }
    this.reconsider(m, true);
    const { address, port } = room.roomAddress;
    return { room: roomName, address, port, self: room.selfName, members, sent, joinedNow: before === undefined, shortBy };
  }

  private async chatSend(reader: ParamReader): Promise<JsonValue> {
    const contact = reader.string('contact', { maxLength: 256 });
    const text = reader.string('text', { maxLength: MAX_TEXT_LENGTH });
    const kind = reader.optionalChoice('kind', ['normal', 'action', 'notice'] as const) ?? 'normal';
    const timeoutMs = reader.optionalInteger('timeoutMs', 0, 600_000) ?? DEFAULT_CONTACT_WAIT_MS;
    const link = this.clique.link;
    if (link === undefined) throw new RpcFault('no-presence', 'the service has no presence');
    // Someone who just came online may not be seen yet.
    if (link.contacts.get(contact) === undefined) await link.waitForContact(contact, { timeoutMs });
    await link.sendMessage(contact, text, { kind });
    return { to: contact };
  }

  private presenceSet(reader: ParamReader): JsonValue {
    const status = reader.optionalChoice('status', ['avail', 'away', 'dnd'] as const);
    const message = reader.optionalString('message', { maxLength: 1024 });
    const nick = reader.optionalString('nick', { maxLength: 256 });
    const link = this.clique.link;
    if (link === undefined) throw new RpcFault('no-presence', 'the service has no presence');
    if (status !== undefined || message !== undefined) {
      const now = link.info;
      const nextMessage = message ?? now.message;
      link.setStatus(status ?? now.status, nextMessage === '' ? undefined : nextMessage);
    }
    if (nick !== undefined) link.setNick(nick === '' ? undefined : nick);
    const { status: published, message: publishedMessage, nick: publishedNick } = link.info;
    return { status: published, message: publishedMessage ?? null, nick: publishedNick ?? null };
  }

  private async invite(reader: ParamReader): Promise<JsonValue> {
    const contact = reader.string('contact', { maxLength: 256 });
    const roomName = reader.string('room', { maxLength: 256 });
    const reason = reader.optionalString('reason', { maxLength: 4096 });
    const address = reader.optionalString('address', { maxLength: 64 });
    const port = reader.optionalInteger('port', 1, 65535);
    const timeoutMs = reader.optionalInteger('timeoutMs', 0, 600_000) ?? DEFAULT_CONTACT_WAIT_MS;
    if ((address === undefined) !== (port === undefined)) throw new RpcFault('invalid-params', 'give both address and port, or neither', -32602);
    const m = this.memberships.get(roomName);
    if (m !== undefined && address === undefined) {
      await m.room.invite(contact, reason);
      return { to: contact, room: roomName, address: m.room.roomAddress.address, port: m.room.roomAddress.port };
    }
    // A room the service is not in: where it is advertised, or where the client says.
    const link = this.clique.link;
    if (link === undefined) throw new RpcFault('no-presence', 'the service has no presence');
    const where = address !== undefined && port !== undefined ? { address, port } : this.clique.rooms().find((r) => r.name === roomName);
    if (where === undefined) {
      throw new RpcFault('not-joined', `the service is not in ${JSON.stringify(roomName)} and nobody advertises a room of that name (give its address and port)`);
    }
    if (link.contacts.get(contact) === undefined) await link.waitForContact(contact, { timeoutMs });
    await link.sendInvitation(contact, { room: roomName, address: where.address, port: where.port, ...(reason !== undefined ? { reason } : {}) });
    return { to: contact, room: roomName, address: where.address, port: where.port };
  }

  private membership(room: string): Membership {
    const m = this.memberships.get(room);
    if (m === undefined) throw new RpcFault('not-joined', `the service is not in ${JSON.stringify(room)}`);
    return m;
  }

  private ensureMembership(name: string, joinOptions: JoinOptions, create: boolean): Promise<Membership> {
    const existing = this.memberships.get(name);
    if (existing !== undefined) return Promise.resolve(existing);
    const pending = this.joining.get(name);
    if (pending !== undefined) return pending;
    const joining = this.join(name, joinOptions, create).finally(() => this.joining.delete(name));
    this.joining.set(name, joining);
    return joining;
  }

  private async join(name: string, joinOptions: JoinOptions, create: boolean): Promise<Membership> {
    if (this.memberships.size + this.joining.size > MAX_ROOMS) throw new RpcFault('too-many-rooms', `the service is already in ${MAX_ROOMS} rooms`);
    if (!create && joinOptions.address === undefined && !(await this.advertised(name))) {
      throw new RpcFault('no-such-room', `nobody advertises a room named ${JSON.stringify(name)} (create it with --create)`);
    }
    const room = await this.clique.join(name, joinOptions);
    const m: Membership = { room, tubes: new RoomTubes(room, { logger: this.logger.child(`tubes:${name}`) }), stay: false, holders: new Set(), subscribers: new Set(), lingerTimer: undefined, lingerUntil: undefined, leaveOnRelease: false };
    this.memberships.set(name, m);
    this.files.roomJoined(room, m.tubes);
    const tell = <K extends keyof ControlEvents>(event: K, params: ControlEvents[K]): void => this.tell(m.subscribers, event, params);
    room.on('ready', () => tell('room.ready', { room: name, members: others(room).map(memberJson) }));
    room.on('message', (msg) => tell('room.message', messageJson(msg)));
    room.on('member-joined', (x) => tell('room.member-joined', { room: name, ...memberJson(x) }));
    room.on('member-left', (x, reason) => tell('room.member-left', { room: name, reason, ...memberJson(x) }));
    room.on('member-updated', (x) => tell('room.member-updated', { room: name, ...memberJson(x) }));
    room.on('topic', (t) => tell('room.topic', { room: name, topic: t.topic, setBy: t.setBy, setAt: t.setAt.toISOString(), replay: t.replay }));
    room.on('warning', (w) => tell('room.warning', warningJson(w)));
    room.on('typing', (t) => tell('room.typing', { room: name, member: t.member, state: t.state }));
    room.on('moved', (to, from) => tell('room.moved', { room: name, address: to.address, port: to.port, previousAddress: from.address, previousPort: from.port }));
    room.on('error', (error) => this.logger.warn('room', { room: name, code: error.code, error: error.message }));
    room.once('left', (reason) => {
      clearTimeout(m.lingerTimer);
      if (this.memberships.get(name) === m) this.memberships.delete(name);
      tell('room.left', { room: name, reason });
    });
    this.logger.info('joined', { room: name, address: room.address, port: room.port });
    return m;
  }

  /** Whether a room of this name is advertised; right after start, waits for mDNS answers up to lookupMs. */
  private async advertised(name: string): Promise<boolean> {
    const deadline = this.startedAt.getTime() + (this.options.lookupMs ?? DEFAULT_LOOKUP_MS);
    const found = await waitFor({
      emitter: this.clique,
      events: ['room-added', 'room-updated'],
      check: () => (this.clique.rooms().some((r) => r.name === name) ? true : undefined),
      timeoutMs: Math.max(0, deadline - Date.now()),
    }).catch(() => false);
    return found;
  }

  private async leave(name: string): Promise<boolean> {
    const m = this.memberships.get(name);
    if (m === undefined) return false;
    clearTimeout(m.lingerTimer);
    this.memberships.delete(name);
    await m.room.leave();
    return true;
  }

  /**
   * Keeps the membership while it is held (stay, or a connected holder);
   * otherwise it lingers `lingerMs` after its last use (`used`: a send
   * restarts the clock), then leaves.
   */
  private reconsider(m: Membership, used = false): void {
    if (m.stay || m.holders.size > 0) {
      clearTimeout(m.lingerTimer);
      m.lingerTimer = undefined;
      m.lingerUntil = undefined;
      return;
    }
    if (m.leaveOnRelease && !used) {
      // The person closed their last chat window on this room: they left it.
      this.logger.info('last chat closed; leaving', { room: m.room.name });
      void this.leave(m.room.name);
      return;
    }
    if (m.lingerTimer !== undefined && !used) return;
    clearTimeout(m.lingerTimer);
    m.lingerUntil = new Date(Date.now() + this.lingerMs);
    m.lingerTimer = setTimeout(() => {
      this.logger.info('idle; leaving', { room: m.room.name });
      void this.leave(m.room.name);
    }, this.lingerMs);
    m.lingerTimer.unref();
  }

  private tell<K extends keyof ControlEvents>(clients: Set<ControlClient>, event: K, params: ControlEvents[K]): void {
    for (const client of clients) client.notify(event, params as unknown as { [key: string]: JsonValue });
  }
}

/** Connects to an existing socket: a live service means 'already-running'; a refused one is stale and removed. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const live = await new Promise<boolean>((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  if (live) throw new ServiceError('already-running', `a clique service already listens on ${path}`);
  unlinkSync(path);
}

function readJoinOptions(reader: ParamReader): JoinOptions {
  const nick = reader.optionalString('nick', { maxLength: 256 });
  const address = reader.optionalString('address', { maxLength: 64 });
  const port = reader.optionalInteger('port', 1, 65535);
  const joinWaitMs = reader.optionalInteger('joinWaitMs', 0, 3_600_000);
  const failureTimeoutMs = reader.optionalInteger('failureTimeoutMs', 0, 3_600_000);
  if ((address === undefined) !== (port === undefined)) throw new RpcFault('invalid-params', 'give both address and port, or neither', -32602);
  return {
    ...(nick !== undefined ? { nick } : {}),
    ...(address !== undefined && port !== undefined ? { address, port } : {}),
    ...(joinWaitMs !== undefined ? { joinWaitMs } : {}),
    ...(failureTimeoutMs !== undefined ? { failureTimeoutMs } : {}),
  };
}

function roomStatus(m: Membership): RoomStatusJson {
  return {
    ...snapshot(m.room),
    holders: m.holders.size,
    stay: m.stay,
    lingerUntil: m.lingerUntil?.toISOString() ?? null,
    subscribers: m.subscribers.size,
  };
}

import { EventEmitter } from 'node:events';
import { silentLogger } from '../base/logger.js';
import { randomInRange, SeededRandom } from '../base/random.js';
import type { AdvertiseResult, RoomAddress } from '../linklocal/room-advertiser.js';
import { randomMulticastPort } from '../net/udp-multicast-transport.js';
import { randomGroupAddress } from '../rooms/group-address.js';
import type { GroupLink, GroupLinkEvents, GroupLinkState } from '../rooms/group-link.js';
import { simulatedRoomClock } from '../rooms/room-clock.js';
import { groupKey, sameGroup } from '../rooms/room-merge.js';
import { Room, roomControl, type RoomAdvertising, type RoomSettings } from '../rooms/room.js';

/**
 * Rooms on virtual time: a fake reliable group (members, in-order delivery
 * with seeded delays, BYE and failure) and a fake directory (mDNS advertising
 * and browsing of rooms, with its probe and tie-break), driven by timers the
 * test fakes (vi.useFakeTimers) so a seed replays a run exactly.
 */

/** Delays, in virtual milliseconds. */
export interface RoomSimTiming {
  connect: [number, number];
  deliver: [number, number];
  /** mDNS probing before an advertisement holds (3 probes 250 ms apart). */
  probe: [number, number];
  /** How long the group takes to notice a member that vanished without BYE. */
  failure: number;
}

export const ROOM_SIM_TIMING: RoomSimTiming = { connect: [100, 400], deliver: [1, 40], probe: [700, 800], failure: 3_000 };

/** The fake groups of the simulated link, by address:port. */
export class SimulatedGroups {
  private readonly groups = new Map<string, Set<SimulatedGroupLink>>();
  /** Per sender and receiver, the time of the last delivery: the group delivers each sender's messages in order. */
  private readonly lastDelivery = new Map<string, number>();

  constructor(
    readonly random: SeededRandom,
    readonly timing: RoomSimTiming = ROOM_SIM_TIMING,
  ) {}

  delay([low, high]: [number, number]): number {
    return randomInRange(this.random, low, high + 1);
  }

  /** Opens `address:port` under `name`: 'connected' follows after a while, then the members meet. */
  open(name: string, address: string, port: number): SimulatedGroupLink {
    const link = new SimulatedGroupLink(this, name, address, port);
    setTimeout(() => this.connect(link), this.delay(this.timing.connect));
    return link;
  }

  /** `name`'s node in `address:port` vanishes without BYE (a crash, a pulled cable). */
  crash(name: string, address: string, port: number): void {
    const link = [...(this.groups.get(`${address}:${port}`) ?? [])].find((l) => l.name === name);
    if (link === undefined) throw new Error(`${name} is not in ${address}:${port}`);
    void link.close();
  }

  /** `name`'s node in `address:port`, to make it report what a real engine would (a reset, forged packets). */
  link(name: string, address: string, port: number): SimulatedGroupLink {
    const link = [...(this.groups.get(`${address}:${port}`) ?? [])].find((l) => l.name === name);
    if (link === undefined) throw new Error(`${name} is not in ${address}:${port}`);
    return link;
  }

  members(address: string, port: number): string[] {
    return [...(this.groups.get(`${address}:${port}`) ?? [])].map((l) => l.name).sort();
  }

  private connect(link: SimulatedGroupLink): void {
    if (link.state !== 'connecting') return;
    const key = groupKey(link);
    const group = this.groups.get(key) ?? new Set();
    this.groups.set(key, group);
    const others = [...group];
    group.add(link);
    link.state = 'connected';
    link.emit('connected');
    // Like rMulticast, a member hears of a newcomer before anything the newcomer sends (same in-order path).
    if (others.length > 0) this.deliver(others[0]!, link, 0, () => link.hear('members-joined', others.map((o) => o.name)));
    for (const other of others) this.deliver(link, other, 0, () => other.hear('members-joined', [link.name]));
  }

  /** Runs `action` at `to` after a seeded delay (at least `minimum`), after everything `from` sent `to` before. */
  private deliver(from: SimulatedGroupLink, to: SimulatedGroupLink, minimum: number, action: () => void): void {
    const pair = `${from.id}>${to.id}`;
    const now = Date.now();
    const at = Math.max(now + Math.max(minimum, this.delay(this.timing.deliver)), (this.lastDelivery.get(pair) ?? 0) + 1);
    this.lastDelivery.set(pair, at);
    setTimeout(action, at - now);
  }

  send(from: SimulatedGroupLink, streamId: number, data: Uint8Array): void {
    const group = this.groups.get(groupKey(from)) ?? new Set();
    for (const to of group) {
      if (to === from) continue;
      this.deliver(from, to, 0, () => to.hear('message', { sender: from.name, streamId, data }));
    }
  }

  /** Gone from its group: with BYE the others hear of it soon, without after the failure timeout. */
  remove(link: SimulatedGroupLink, bye: boolean): void {
    const group = this.groups.get(groupKey(link));
    if (group === undefined || !group.delete(link)) return;
    // After whatever it sent them; without BYE, only once the failure timeout noticed it.
    for (const other of group) this.deliver(link, other, bye ? 0 : this.timing.failure, () => other.hear('members-lost', [link.name], bye ? 'left' : 'failed'));
  }
}

let nextLinkId = 0;

export class SimulatedGroupLink extends EventEmitter implements GroupLink {
  readonly id = nextLinkId++;
  state: GroupLinkState = 'connecting';
  readonly unacknowledged = 0;
  /** Messages this member handed to the group. */
  sent = 0;

  constructor(
    private readonly network: SimulatedGroups,
    readonly name: string,
    readonly address: string,
    readonly port: number,
  ) {
    super();
  }

  /** Events reach the room only while the link is in its group. */
  hear<K extends keyof GroupLinkEvents>(event: K, ...args: GroupLinkEvents[K]): void {
    if (this.state === 'connected' || this.state === 'leaving') this.emit(event, ...args);
  }

  send(streamId: number, data: Uint8Array): void {
    if (this.state !== 'connected') throw new Error(`not connected (${this.state})`);
    this.sent++;
    this.network.send(this, streamId, data);
  }

  whenUnacknowledgedAtMost(): Promise<void> {
    return Promise.resolve();
  }

  leave(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    const wasIn = this.state === 'connected';
    this.state = 'leaving';
    return new Promise((resolve) => {
      setTimeout(() => {
        if (wasIn) this.network.remove(this, true);
        this.state = 'closed';
        if (wasIn) this.emit('disconnected');
        resolve();
      }, this.network.delay(this.network.timing.deliver));
    });
  }

  close(): Promise<void> {
    this.network.remove(this, false);
    this.state = 'closed';
    return Promise.resolve();
  }
}

interface Listing {
  room: RoomAddress;
  /** Hosts announcing these records (identical data from several hosts is no conflict on mDNS). */
  holders: Set<string>;
}

interface Probe {
  host: string;
  room: RoomAddress;
  settle: (result: AdvertiseResult) => void;
}

/**
 * The link's room list, as mDNS advertising and browsing make it: one group
 * per name. A probe that finds the name held with other data gets 'conflict';
 * two probes racing are decided like mDNS's tie-break (the larger data wins);
 * identical data is shared. Every change is told to `onChange` listeners.
 */
export class FakeDirectory {
  private readonly listings = new Map<string, Listing>();
  private readonly probes = new Map<string, Probe[]>();
  private readonly changeListeners = new Set<(name: string) => void>();
  /** What each host saw advertised (for assertions). */
  readonly log: string[] = [];

  constructor(private readonly groups: SimulatedGroups) {}

  get(name: string): RoomAddress | undefined {
    const listing = this.listings.get(name);
    return listing === undefined ? undefined : { ...listing.room };
  }

  onChange(listener: (name: string) => void): void {
    this.changeListeners.add(listener);
  }

  /** The advertising side of one host. */
  advertiserFor(host: string): RoomAdvertising {
    return {
      advertise: (room) => this.advertise(host, room),
      withdraw: (name) => {
        this.withdraw(host, name);
        return Promise.resolve();
      },
    };
  }

  private advertise(host: string, room: RoomAddress): Promise<AdvertiseResult> {
    return new Promise((settle) => {
      const racing = this.probes.get(room.name) ?? [];
      this.probes.set(room.name, racing);
      const probe: Probe = { host, room: { ...room }, settle };
      racing.push(probe);
      setTimeout(() => this.probeDone(probe), this.groups.delay(this.groups.timing.probe));
    });
  }

  private probeDone(probe: Probe): void {
    const name = probe.room.name;
    const racing = this.probes.get(name) ?? [];
    this.probes.set(name, racing.filter((p) => p !== probe));
    const held = this.listings.get(name);
    if (held !== undefined && !sameGroup(held.room, probe.room)) {
      this.log.push(`${probe.host}: conflict on ${name} (held at ${groupKey(held.room)})`);
      probe.settle('conflict');
      return;
    }
    // Probes still running for other data: the tie-break lets the larger data win.
    const rival = racing.find((p) => p !== probe && !sameGroup(p.room, probe.room));
    if (rival !== undefined && groupKey(rival.room) > groupKey(probe.room)) {
      this.log.push(`${probe.host}: lost the tie-break on ${name} to ${groupKey(rival.room)}`);
      probe.settle('conflict');
      return;
    }
    const listing = held ?? { room: probe.room, holders: new Set<string>() };
    listing.holders.add(probe.host);
    this.listings.set(name, listing);
    this.log.push(`${probe.host}: advertises ${name} at ${groupKey(probe.room)}`);
    probe.settle('advertised');
    if (held === undefined) this.changed(name);
  }

  private withdraw(host: string, name: string): void {
    const listing = this.listings.get(name);
    if (listing === undefined || !listing.holders.delete(host)) return;
    this.log.push(`${host}: withdraws ${name}`);
    if (listing.holders.size > 0) return;
    this.listings.delete(name);
    this.changed(name);
  }

  private changed(name: string): void {
    for (const listener of this.changeListeners) listener(name);
  }
}

/** Settings of simulated rooms (the library's defaults, a shorter join wait). */
export const SIM_ROOM_SETTINGS: RoomSettings = {
  nick: undefined,
  status: 'avail',
  statusMessage: undefined,
  joinWaitMs: 5_000,
  maxStanzaBytes: 64 * 1024,
  maxQueuedSends: 1000,
  maxBufferedMessages: 10_000,
  lossWindowMs: 5_000,
};

/** One person on the simulated link: joins rooms like Clique does (lookup, else a new random group). */
export class SimulatedHost {
  readonly rooms = new Map<string, Room>();

  constructor(
    readonly name: string,
    private readonly groups: SimulatedGroups,
    private readonly directory: FakeDirectory,
  ) {
    directory.onChange((room) => {
      const joined = this.rooms.get(room);
      if (joined !== undefined && joined.state !== 'left') roomControl(joined).listingChanged();
    });
  }

  /**
   * Joins `room` by name: the listed group, or a new random one.
   * `missListing`: act as if the lookup heard nothing (the listing came too late).
   */
  join(room: string, options: { settings?: Partial<RoomSettings>; missListing?: boolean } = {}): Room {
    const listed = options.missListing === true ? undefined : this.directory.get(room);
    const creator = listed === undefined;
    const address = listed?.address ?? randomGroupAddress(this.groups.random);
    const port = listed?.port ?? randomMulticastPort(this.groups.random);
    const joined = new Room({
      name: room,
      selfName: this.name,
      address,
      port,
      creator,
      group: this.groups.open(this.name, address, port),
      advertising: this.directory.advertiserFor(this.name),
      byName: true,
      listing: this.directory,
      openGroup: (at, atPort) => Promise.resolve({ group: this.groups.open(this.name, at, atPort), address: at, port: atPort }),
      contacts: undefined,
      history: undefined,
      invite: undefined,
      settings: { ...SIM_ROOM_SETTINGS, ...options.settings },
      logger: silentLogger,
      clock: simulatedRoomClock(() => Date.now(), this.groups.random),
      onClosed: (closed) => {
        if (this.rooms.get(closed.name) === closed) this.rooms.delete(closed.name);
      },
    });
    this.rooms.set(room, joined);
    return joined;
  }
}

/** A link of simulated hosts sharing one seeded random source. */
export function roomSimulation(seed: number, timing: RoomSimTiming = ROOM_SIM_TIMING): {
  groups: SimulatedGroups;
  directory: FakeDirectory;
  host(name: string): SimulatedHost;
} {
  const groups = new SimulatedGroups(new SeededRandom(seed), timing);
  const directory = new FakeDirectory(groups);
  return { groups, directory, host: (name) => new SimulatedHost(name, groups, directory) };
}

import { EventEmitter } from 'node:events';
import { Logger, silentLogger } from '../base/logger.js';
import { MdnsError } from '../mdns/mdns-error.js';
import {
  addressRecordType,
  checkInstanceLabel,
  DEFAULT_TTLS,
  MDNS_DOMAIN,
  SERVICES_META_QUERY,
  serviceInstanceName,
  type MdnsTtls,
} from '../mdns/records.js';
import type { MdnsRegistration, MdnsResponder, PublishedRecord } from '../mdns/responder.js';

export const ROOM_SERVICE_TYPE = '_clique._udp';

/** A room as it is advertised and discovered: name, multicast group, port. */
export interface RoomAddress {
  name: string;
  /** The room's multicast group (IPv4 or IPv6 literal). */
  address: string;
  port: number;
}

/**
 * The five records of spec §2.1, byte-identical on every member: the SRV
 * target is the dummy name `R._clique._udp.local`, whose A (or AAAA) record
 * holds the group address, and the TXT is exactly `txtvers=0`.
 */
export function roomRecords(room: RoomAddress, ttls: MdnsTtls = DEFAULT_TTLS): PublishedRecord[] {
  checkInstanceLabel(room.name, 'room name');
  if (!Number.isInteger(room.port) || room.port < 1 || room.port > 0xffff) {
    throw new MdnsError('mdns-name', `bad room port ${room.port}`);
  }
  const fqdn = serviceInstanceName(room.name, ROOM_SERVICE_TYPE);
  const typeName = `${ROOM_SERVICE_TYPE}.${MDNS_DOMAIN}`;
  const base = { name: fqdn, cacheFlush: false };
  const kind = addressRecordType(room.address);
  return [
    // Shared: several members may even disagree on it without it being a conflict (§2.3).
    { unique: false, record: kind === 'A' ? { ...base, type: 'A', ttl: ttls.host, data: room.address } : { ...base, type: 'AAAA', ttl: ttls.host, data: room.address } },
    { unique: true, record: { ...base, type: 'SRV', ttl: ttls.host, data: { priority: 0, weight: 0, port: room.port, target: fqdn } } },
    { unique: true, record: { ...base, type: 'TXT', ttl: ttls.other, data: [Buffer.from('txtvers=0')] } },
    { unique: false, record: { name: typeName, cacheFlush: false, type: 'PTR', ttl: ttls.other, data: fqdn } },
    { unique: false, record: { name: SERVICES_META_QUERY, cacheFlush: false, type: 'PTR', ttl: ttls.other, data: typeName } },
  ];
}

/** 'withdrawn': withdraw() or close() came before probing finished. */
export type AdvertiseResult = 'advertised' | 'conflict' | 'withdrawn';

export interface RoomAdvertiserEvents {
  /**
   * Another host advertises this room name with a different group or port.
   * As in salut, we then do not advertise it (and never rename a room); unlike
   * salut we say so.
   */
  conflict: [room: RoomAddress];
}

/** Advertises the rooms we are in (spec §2.1, §2.5), cooperatively with the other members. */
export class RoomAdvertiser extends EventEmitter<RoomAdvertiserEvents> {
  private readonly rooms = new Map<string, { room: RoomAddress; registration: MdnsRegistration }>();
  private readonly ttls: MdnsTtls;
  private readonly logger: Logger;

  constructor(
    private readonly responder: MdnsResponder,
    options: { ttls?: MdnsTtls; logger?: Logger } = {},
  ) {
    super();
    this.ttls = options.ttls ?? DEFAULT_TTLS;
    this.logger = (options.logger ?? silentLogger).child('rooms');
  }

  /**
   * Publishes the room; at most once per name (a second call returns the
   * first one's outcome). Resolves when the records are announced, or with
   * 'conflict' when another host holds the name with different data.
   */
  async advertise(room: RoomAddress): Promise<AdvertiseResult> {
    const existing = this.rooms.get(room.name);
    const entry = existing ?? { room: { ...room }, registration: this.responder.register(roomRecords(room, this.ttls)) };
    if (existing === undefined) {
      this.rooms.set(room.name, entry);
      entry.registration.on('conflict', (theirs) => {
        this.logger.info('room name in use with other data; not advertising', { room: room.name, theirs: `${theirs.type} ${theirs.name}` });
        if (this.rooms.get(room.name) === entry) this.rooms.delete(room.name);
        this.emit('conflict', entry.room);
      });
    }
    try {
      await entry.registration.established();
      return 'advertised';
    } catch (error) {
      if (error instanceof MdnsError && error.code === 'mdns-conflict') return 'conflict';
      if (error instanceof MdnsError && error.code === 'mdns-closed') return 'withdrawn';
      throw error;
    }
  }

  /** Goodbyes for the room's records (other members' re-announcements keep it listed). */
  async withdraw(name: string, options: { goodbye?: boolean } = {}): Promise<void> {
    const entry = this.rooms.get(name);
    if (entry === undefined) return;
    this.rooms.delete(name);
    await entry.registration.withdraw(options);
  }

  advertised(): RoomAddress[] {
    return [...this.rooms.values()].filter((e) => e.registration.state === 'established').map((e) => ({ ...e.room }));
  }

  async withdrawAll(options: { goodbye?: boolean } = {}): Promise<void> {
    await Promise.all([...this.rooms.keys()].map((name) => this.withdraw(name, options)));
  }
}

import { EventEmitter } from 'node:events';
import type { MdnsResponder } from '../mdns/responder.js';
import type { MdnsServiceBrowser, ResolvedService } from '../mdns/service-browser.js';
import { ROOM_SERVICE_TYPE, type RoomAddress } from './room-advertiser.js';

export interface RoomBrowserEvents {
  'room-added': [room: RoomAddress];
  /** The group address or port under this name changed. */
  'room-updated': [room: RoomAddress, previous: RoomAddress];
  'room-removed': [room: RoomAddress];
}

function roomOf(service: ResolvedService): RoomAddress | undefined {
  const address = service.addresses[0];
  return address === undefined ? undefined : { name: service.instance, address, port: service.port };
}

/**
 * The room list (spec §2.4): every `_clique._udp` service on the link,
 * including the rooms we advertise ourselves. The TXT is not read, as in salut.
 */
export class RoomBrowser extends EventEmitter<RoomBrowserEvents> {
  private readonly browser: MdnsServiceBrowser;
  private readonly rooms = new Map<string, RoomAddress>();

  constructor(responder: MdnsResponder, options: { serviceType?: string } = {}) {
    super();
    this.browser = responder.browse(options.serviceType ?? ROOM_SERVICE_TYPE);
    this.browser.on('up', (s) => this.onService(s));
    this.browser.on('update', (s) => this.onService(s));
    this.browser.on('down', (s) => {
      const room = this.rooms.get(s.instance);
      if (room === undefined) return;
      this.rooms.delete(s.instance);
      this.emit('room-removed', room);
    });
    for (const s of this.browser.services()) this.onService(s);
  }

  list(): RoomAddress[] {
    return [...this.rooms.values()].map((r) => ({ ...r }));
  }

  get(name: string): RoomAddress | undefined {
    const room = this.rooms.get(name);
    return room === undefined ? undefined : { ...room };
  }

  close(): void {
    this.browser.close();
    this.rooms.clear();
    this.removeAllListeners();
  }

  private onService(service: ResolvedService): void {
    const room = roomOf(service);
    if (room === undefined) return;
    const previous = this.rooms.get(room.name);
    if (previous !== undefined && previous.address === room.address && previous.port === room.port) return;
    this.rooms.set(room.name, room);
    if (previous === undefined) this.emit('room-added', { ...room });
    else this.emit('room-updated', { ...room }, previous);
  }
}

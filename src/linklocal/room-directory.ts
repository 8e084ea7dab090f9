import { EventEmitter } from 'node:events';
import type { Logger } from '../base/logger.js';
import type { MdnsTtls } from '../mdns/records.js';
import { MdnsResponder } from '../mdns/responder.js';
import { RoomAdvertiser, type AdvertiseResult, type RoomAddress } from './room-advertiser.js';
import { RoomBrowser } from './room-browser.js';

export interface RoomDirectoryOptions {
  /** IPv4 address of the interface to pin mDNS to ('127.0.0.1' in tests). */
  interface: string;
  /** Share a responder with LinkLocalPresence; otherwise one is opened (and closed by `close`). */
  responder?: MdnsResponder;
  ttls?: MdnsTtls;
  logger?: Logger;
}

export interface RoomDirectoryEvents {
  'room-added': [room: RoomAddress];
  'room-updated': [room: RoomAddress, previous: RoomAddress];
  'room-removed': [room: RoomAddress];
  /** We could not advertise a room: its name is taken with another group/port. */
  'advertise-conflict': [room: RoomAddress];
}

/**
 * Rooms on the link: the live list (including our own) and advertising the
 * rooms we are in.
 *
 *   const rooms = await RoomDirectory.open({ interface });
 *   rooms.on('room-added', r => …);              // { name, address, port }
 *   await rooms.advertise({ name: 'lunch', address: '239.255.71.23', port: 40123 });
 *   rooms.list();
 *   await rooms.withdraw('lunch');                // when we leave
 *   await rooms.close();
 */
export class RoomDirectory extends EventEmitter<RoomDirectoryEvents> {
  private constructor(
    private readonly responder: MdnsResponder,
    private readonly ownsResponder: boolean,
    private readonly advertiser: RoomAdvertiser,
    private readonly browser: RoomBrowser,
  ) {
    super();
    browser.on('room-added', (r) => this.emit('room-added', r));
    browser.on('room-updated', (r, p) => this.emit('room-updated', r, p));
    browser.on('room-removed', (r) => this.emit('room-removed', r));
    advertiser.on('conflict', (r) => this.emit('advertise-conflict', r));
  }

  static async open(options: RoomDirectoryOptions): Promise<RoomDirectory> {
    const ownsResponder = options.responder === undefined;
    const responder =
      options.responder ?? (await MdnsResponder.open({ interface: options.interface, ...(options.logger ? { logger: options.logger } : {}) }));
    const advertiser = new RoomAdvertiser(responder, {
      ...(options.ttls !== undefined ? { ttls: options.ttls } : {}),
      ...(options.logger !== undefined ? { logger: options.logger } : {}),
    });
    return new RoomDirectory(responder, ownsResponder, advertiser, new RoomBrowser(responder));
  }

  advertise(room: RoomAddress): Promise<AdvertiseResult> {
    return this.advertiser.advertise(room);
  }

  withdraw(name: string): Promise<void> {
    return this.advertiser.withdraw(name);
  }

  /** Rooms we currently advertise. */
  advertised(): RoomAddress[] {
    return this.advertiser.advertised();
  }

  /** Every room seen on the link, ours included. */
  list(): RoomAddress[] {
    return this.browser.list();
  }

  get(name: string): RoomAddress | undefined {
    return this.browser.get(name);
  }

  async close(options: { goodbye?: boolean } = {}): Promise<void> {
    this.browser.close();
    await this.advertiser.withdrawAll(options);
    if (this.ownsResponder) await this.responder.close(options);
    this.removeAllListeners();
  }
}

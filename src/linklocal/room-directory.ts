import { EventEmitter } from 'node:events';
import type { Logger } from '../base/logger.js';
import type { MdnsTtls } from '../mdns/records.js';
import { MdnsResponder } from '../mdns/responder.js';
import { RoomAdvertiser, type AdvertiseResult, type RoomAddress } from './room-advertiser.js';
import { RoomBrowser } from './room-browser.js';
import { PresencePublisher } from './presence-publisher.js';

/** Our member name (`user@host`), claimed on mDNS without being listed as a person. */
export interface MemberNameClaim {
  user: string;
  /** Default: this machine's host name. */
  host?: string;
  /** When the name is taken: true (default) becomes `user-2@host`; false fails with MdnsError 'mdns-name-in-use'. */
  rename?: boolean;
}

export interface RoomDirectoryOptions {
  /** IPv4 address of the interface to pin mDNS to ('127.0.0.1' in tests). */
  interface: string;
  /** Share a responder with LinkLocalPresence; otherwise one is opened (and closed by `close`). */
  responder?: MdnsResponder;
  ttls?: MdnsTtls;
  logger?: Logger;
  /**
   * Without a presence (rooms only), claim our member name anyway so that no
   * two processes are the same member: probed like a presence name, but not
   * listed (no PTR). Probing runs in the background (browsing starts at
   * once); `nameClaimed()` resolves with the name once it is ours.
   */
  claim?: MemberNameClaim;
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
    private readonly claim: { publisher: PresencePublisher; claimed: Promise<string> } | undefined,
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
    let claim: { publisher: PresencePublisher; claimed: Promise<string> } | undefined;
    try {
      if (options.claim !== undefined) {
        const publisher = new PresencePublisher(responder, {
          user: options.claim.user,
          ...(options.claim.host !== undefined ? { host: options.claim.host } : {}),
          ...(options.claim.rename !== undefined ? { rename: options.claim.rename } : {}),
          listed: false,
          // Nothing listens: the SRV is there to be probed against, not used.
          port: 0,
          info: { status: 'avail' },
          ...(options.ttls !== undefined ? { ttls: options.ttls } : {}),
          ...(options.logger !== undefined ? { logger: options.logger } : {}),
        });
        const claimed = publisher.start();
        // Its failure is the business of whoever needs the name (nameClaimed), not an unhandled rejection.
        claimed.catch(() => undefined);
        claim = { publisher, claimed };
      }
    } catch (error) {
      if (ownsResponder) await responder.close();
      throw error;
    }
    return new RoomDirectory(responder, ownsResponder, advertiser, new RoomBrowser(responder), claim);
  }

  /** The member name we claim (`claim` option), after any rename so far; undefined without a claim. */
  get claimedName(): string | undefined {
    return this.claim?.publisher.name;
  }

  /**
   * Resolves with our member name once probing made it ours (undefined
   * without a claim); rejects with MdnsError 'mdns-name-in-use' (an exact
   * name that is taken) or 'mdns-conflict' (no free name found).
   */
  nameClaimed(): Promise<string | undefined> {
    return this.claim?.claimed ?? Promise.resolve(undefined);
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
    await this.claim?.publisher.stop(options);
    if (this.ownsResponder) await this.responder.close(options);
    this.removeAllListeners();
  }
}

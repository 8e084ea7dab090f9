import { EventEmitter } from 'node:events';
import type { Logger } from '../base/logger.js';
import type { Contact, ContactDirectory, PresenceStatus } from './contact.js';
import type { MdnsTtls } from '../mdns/records.js';
import { MdnsResponder } from '../mdns/responder.js';
import { PresenceBrowser } from './presence-browser.js';
import { PresencePublisher } from './presence-publisher.js';
import type { PresenceInfo } from './presence-txt.js';

export interface LinkLocalPresenceOptions {
  /** IPv4 address of the interface to pin mDNS to ('127.0.0.1' in tests). */
  interface: string;
  /** Published name, the part before '@' (default login name is the caller's business). */
  user: string;
  /** mDNS host name without `.local`; default: this machine's host name. */
  host?: string;
  /** Port of our XEP-0174 TCP listener. */
  port: number;
  /** When our name is taken: true (default) becomes `user-2@host`; false fails with MdnsError 'mdns-name-in-use'. */
  rename?: boolean;
  /** Initial TXT content; `status` defaults to `avail`. */
  info?: Partial<PresenceInfo>;
  /** Share a responder with a RoomDirectory; otherwise one is opened (and closed by `stop`). */
  responder?: MdnsResponder;
  ttls?: MdnsTtls;
  logger?: Logger;
}

export interface LinkLocalPresenceEvents {
  'name-changed': [name: string, previous: string];
  'name-contested': [name: string, from: string];
  'contact-added': [contact: Contact];
  'contact-updated': [contact: Contact, previous: Contact];
  'contact-removed': [contact: Contact];
  error: [error: Error];
}

/**
 * Us on the link: publishes our `_presence._tcp` service and keeps the list
 * of everyone else. The lead wires this into `say`/`invite`/`join`.
 *
 *   const p = await LinkLocalPresence.start({ interface, user: 'alice', port: 5298 });
 *   p.name                       // 'alice@laptop', or 'alice-2@laptop' after a conflict
 *   p.on('contact-added', c => …)
 *   p.setStatus('away', 'At the pub');
 *   await p.stop();              // goodbyes
 */
export class LinkLocalPresence extends EventEmitter<LinkLocalPresenceEvents> {
  private constructor(
    private readonly responder: MdnsResponder,
    private readonly ownsResponder: boolean,
    private readonly publisher: PresencePublisher,
    private readonly browser: PresenceBrowser,
  ) {
    super();
    publisher.on('name-changed', (name, previous) => {
      browser.recheck();
      this.emit('name-changed', name, previous);
    });
    publisher.on('name-contested', (name, from) => this.emit('name-contested', name, from));
    publisher.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
    browser.on('contact-added', (c) => this.emit('contact-added', c));
    browser.on('contact-updated', (c, p) => this.emit('contact-updated', c, p));
    browser.on('contact-removed', (c) => this.emit('contact-removed', c));
  }

  /** Opens mDNS, browses, and resolves once our name is probed and announced. */
  static async start(options: LinkLocalPresenceOptions): Promise<LinkLocalPresence> {
    const ownsResponder = options.responder === undefined;
    const responder =
      options.responder ?? (await MdnsResponder.open({ interface: options.interface, ...(options.logger ? { logger: options.logger } : {}) }));
    try {
      const publisher = new PresencePublisher(responder, {
        user: options.user,
        ...(options.host !== undefined ? { host: options.host } : {}),
        port: options.port,
        ...(options.rename !== undefined ? { rename: options.rename } : {}),
        info: { status: 'avail', ...options.info },
        ...(options.ttls !== undefined ? { ttls: options.ttls } : {}),
        ...(options.logger !== undefined ? { logger: options.logger } : {}),
      });
      const browser = new PresenceBrowser(responder, { ignore: (name) => name === publisher.name });
      const presence = new LinkLocalPresence(responder, ownsResponder, publisher, browser);
      await publisher.start();
      return presence;
    } catch (error) {
      if (ownsResponder) await responder.close();
      throw error;
    }
  }

  /** Our XEP-0174 instance name (`user@host`), after any conflict renames. */
  get name(): string {
    return this.publisher.name;
  }

  /** Everyone else on the link. */
  get contacts(): ContactDirectory {
    return this.browser;
  }

  get info(): PresenceInfo {
    return this.publisher.getInfo();
  }

  /** Rewrites `status` and sets or removes `msg` in our TXT record, in place. */
  setStatus(status: PresenceStatus, message?: string): void {
    const info = { ...this.publisher.getInfo(), status };
    if (message === undefined || message === '') delete info.message;
    else info.message = message;
    this.publisher.setInfo(info);
  }

  /** Sets or (with undefined/empty) removes `nick`. */
  setNick(nick: string | undefined): void {
    const info = this.publisher.getInfo();
    if (nick === undefined || nick === '') delete info.nick;
    else info.nick = nick;
    this.publisher.setInfo(info);
  }

  /** Replaces any TXT fields (first/last/email/jid/caps…). */
  setInfo(changes: Partial<PresenceInfo>): void {
    this.publisher.setInfo({ ...this.publisher.getInfo(), ...changes });
  }

  /** Withdraws our service (goodbyes unless `goodbye: false`) and stops browsing. */
  async stop(options: { goodbye?: boolean } = {}): Promise<void> {
    this.browser.close();
    await this.publisher.stop(options);
    if (this.ownsResponder) await this.responder.close(options);
    this.removeAllListeners();
  }
}

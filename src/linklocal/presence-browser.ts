import { EventEmitter } from 'node:events';
import type { Contact, ContactDirectory } from './contact.js';
import type { MdnsResponder } from '../mdns/responder.js';
import type { MdnsServiceBrowser, ResolvedService } from '../mdns/service-browser.js';
import { PRESENCE_SERVICE_TYPE } from './presence-publisher.js';
import { contactFromService } from './presence-txt.js';

export interface PresenceBrowserEvents {
  'contact-added': [contact: Contact];
  /** Status, message, alias, addresses or port changed. */
  'contact-updated': [contact: Contact, previous: Contact];
  'contact-removed': [contact: Contact];
}

export interface PresenceBrowserOptions {
  /** Names to leave out (our own service); asked again whenever `recheck()` is called. */
  ignore?: (name: string) => boolean;
  /** Only for tests: another service type. */
  serviceType?: string;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, lower-case hex for IPv6, no `%scope`. */
export function normaliseAddress(address: string): string {
  const lower = address.toLowerCase().replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped?.[1] ?? lower;
}

/**
 * The live contact list (spec §6.2): every `_presence._tcp` service on the
 * link except our own, kept up to date from announcements, TXT changes,
 * goodbyes and TTL expiry.
 */
export class PresenceBrowser extends EventEmitter<PresenceBrowserEvents> implements ContactDirectory {
  private readonly browser: MdnsServiceBrowser;
  private readonly services = new Map<string, ResolvedService>();
  private readonly contacts = new Map<string, Contact>();
  private readonly ignore: (name: string) => boolean;
  private readonly scope: string;

  constructor(responder: MdnsResponder, options: PresenceBrowserOptions = {}) {
    super();
    this.scope = responder.interfaceName;
    this.ignore = options.ignore ?? (() => false);
    // Like salut's resolver, a contact only appears once its TXT (status, names) is known.
    this.browser = responder.browse(options.serviceType ?? PRESENCE_SERVICE_TYPE, { requireTxt: true });
    this.browser.on('up', (s) => this.onService(s));
    this.browser.on('update', (s) => this.onService(s));
    this.browser.on('down', (s) => {
      this.services.delete(s.instance);
      this.drop(s.instance);
    });
    for (const s of this.browser.services()) this.onService(s);
  }

  get(name: string): Contact | undefined {
    return this.contacts.get(name);
  }

  findByAddress(address: string): Contact | undefined {
    const wanted = normaliseAddress(address);
    for (const contact of this.contacts.values()) {
      if (contact.addresses.some((a) => normaliseAddress(a) === wanted)) return contact;
    }
    return undefined;
  }

  list(): Contact[] {
    return [...this.contacts.values()];
  }

  /** Re-applies `ignore` (after our own name changed). */
  recheck(): void {
    for (const name of [...this.contacts.keys()]) if (this.ignore(name)) this.drop(name);
    for (const service of this.services.values()) if (!this.contacts.has(service.instance)) this.onService(service);
  }

  close(): void {
    this.browser.close();
    this.services.clear();
    this.contacts.clear();
    this.removeAllListeners();
  }

  private onService(service: ResolvedService): void {
    this.services.set(service.instance, service);
    if (this.ignore(service.instance)) return;
    const previous = this.contacts.get(service.instance);
    const contact = contactFromService(service, previous, this.scope);
    this.contacts.set(contact.name, contact);
    if (previous === undefined) this.emit('contact-added', contact);
    else this.emit('contact-updated', contact, previous);
  }

  private drop(name: string): void {
    const contact = this.contacts.get(name);
    if (contact === undefined) return;
    this.contacts.delete(name);
    this.emit('contact-removed', contact);
  }
}

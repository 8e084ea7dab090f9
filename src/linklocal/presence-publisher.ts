import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { Logger, silentLogger } from '../base/logger.js';
import { randomBytes } from 'node:crypto';
import { MdnsError } from '../mdns/mdns-error.js';
import {
  addressRecordType,
  checkInstanceLabel,
  DEFAULT_TTLS,
  MDNS_DOMAIN,
  nameKey,
  encodeTxt,
  SERVICES_META_QUERY,
  serviceInstanceName,
  type MdnsRecord,
  type MdnsTtls,
} from '../mdns/records.js';
import { escapeLabel } from '../mdns/dns-name.js';
import type { MdnsRegistration, MdnsResponder, PublishedRecord } from '../mdns/responder.js';
import { presenceTxt, type PresenceInfo } from './presence-txt.js';

export const PRESENCE_SERVICE_TYPE = '_presence._tcp';

export interface PresencePublisherOptions {
  /** Published name (the part before '@'), e.g. the login name. */
  user: string;
  /** mDNS host name without `.local`; default: this machine's host name. */
  host?: string;
  /** Port of our XEP-0174 TCP listener (SRV port and `port.p2pj`). */
  port: number;
  info: PresenceInfo;
  ttls?: MdnsTtls;
  /** Give up after this many renames (default 32). */
  maxRenames?: number;
  /**
   * When our name is taken: true (default) becomes `user-2@host`; false
   * fails (`start()` rejects, later an 'error') with MdnsError
   * 'mdns-name-in-use', for a name the user asked for explicitly.
   */
  rename?: boolean;
  /**
   * False: claim the name without being listed as a person (no PTR records,
   * so browsers never show it, and a TXT with no presence data). A process
   * in rooms only uses this to hold its member name: anyone probing for the
   * same name gets our answer and picks another one.
   */
  listed?: boolean;
  logger?: Logger;
}

export interface PresencePublisherEvents {
  /** Our name was taken by someone else and we now publish under `name`. */
  'name-changed': [name: string, previous: string];
  /** Someone announced our name from `from`; we probe to defend it (RFC 6762 §9) and keep it unless they answer. */
  'name-contested': [name: string, from: string];
  /** Renaming gave up; nothing is published any more. */
  error: [error: MdnsError];
}

/**
 * The machine's host name as one DNS label: the first dotted part, characters
 * outside letters/digits/hyphen replaced by '-', at most 63 bytes.
 */
export function localHostLabel(raw: string = hostname()): string {
  const first = raw.replace(/\.local\.?$/i, '').split('.')[0] ?? '';
  const label = first.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 63);
  return label.length > 0 ? label : 'clique';
}

/**
 * Publishes our XEP-0174 `_presence._tcp` service `user@host` (spec §6.1).
 *
 * Conflicts (RFC 6762 §9): if someone else holds our instance name with
 * different data we become `user-2@host`, `user-3@host`, …; if our host name
 * is taken by a machine with another address we become `user@host-2` (the
 * same `-N` form Avahi uses for host names). We do not use RFC 6763's
 * `name (2)` form because the instance name doubles as the XMPP address in
 * every stanza's `from` and as the rMulticast sender name, and a space is not
 * allowed in a JID; changing the local part keeps it a valid JID and keeps
 * `@host` meaning "on that machine".
 */
export class PresencePublisher extends EventEmitter<PresencePublisherEvents> {
  private readonly baseUser: string;
  private readonly baseHost: string;
  private userSuffix = 1;
  private hostSuffix = 1;
  private renames = 0;
  private info: PresenceInfo;
  private registration: MdnsRegistration | undefined;
  private failure: MdnsError | undefined;
  private stopped = false;
  private readonly ttls: MdnsTtls;
  private readonly logger: Logger;
  /**
   * An unlisted claim's TXT carries this, so that two claims of one name
   * never hold byte-identical records (identical records are shared, not a
   * conflict, and both would keep the name).
   */
  private readonly claimNonce = randomBytes(8).toString('hex');

  constructor(
    private readonly responder: MdnsResponder,
    private readonly options: PresencePublisherOptions,
  ) {
    super();
    this.baseUser = options.user;
    this.baseHost = options.host ?? localHostLabel();
    this.info = { ...options.info };
    this.ttls = options.ttls ?? DEFAULT_TTLS;
    this.logger = (options.logger ?? silentLogger).child('presence');
    checkInstanceLabel(this.baseHost, 'host name');
    checkInstanceLabel(this.name, 'presence name');
  }

  get user(): string {
    return this.userSuffix === 1 ? this.baseUser : `${this.baseUser}-${this.userSuffix}`;
  }

  get host(): string {
    return this.hostSuffix === 1 ? this.baseHost : `${this.baseHost}-${this.hostSuffix}`;
  }

  /** Our current XEP-0174 instance name, `user@host`. */
  get name(): string {
    return `${this.user}@${this.host}`;
  }

  /** Probes and announces; resolves with the name we ended up with. */
  async start(): Promise<string> {
    if (this.registration === undefined && this.failure === undefined) this.register();
    for (;;) {
      const registration = this.registration;
      if (registration === undefined) throw this.failure ?? new MdnsError('mdns-closed', 'presence publishing was stopped');
      try {
        await registration.established();
        if (registration === this.registration) return this.name;
      } catch (error) {
        // A conflict has already started the next registration under a new name: wait for that one.
        if (!(error instanceof MdnsError) || error.code !== 'mdns-conflict') throw error;
      }
    }
  }

  setInfo(info: PresenceInfo): void {
    this.info = { ...info };
    this.registration?.update(this.records());
  }

  getInfo(): PresenceInfo {
    return { ...this.info };
  }

  async stop(options: { goodbye?: boolean } = {}): Promise<void> {
    this.stopped = true;
    const registration = this.registration;
    this.registration = undefined;
    await registration?.withdraw(options);
  }

  private register(): MdnsRegistration {
    const registration = this.responder.register(this.records());
    this.registration = registration;
    registration.on('conflict', (theirs) => this.onConflict(registration, theirs));
    registration.on('contested', (_theirs, from) => {
      if (registration === this.registration) this.emit('name-contested', this.name, from.address);
    });
    return registration;
  }

  private onConflict(registration: MdnsRegistration, theirs: MdnsRecord): void {
    if (this.stopped || registration !== this.registration) return;
    const previous = this.name;
    try {
      if (this.options.rename === false) {
        this.logger.info('presence name taken; not renaming', { name: previous, by: `${theirs.type} ${theirs.name}` });
        throw new MdnsError('mdns-name-in-use', `the name ${previous} is already in use on the network`);
      }
      if ((theirs.type === 'A' || theirs.type === 'AAAA') && nameKey(theirs.name) === nameKey(this.hostFqdn())) this.hostSuffix++;
      else this.userSuffix++;
      this.renames++;
      const max = this.options.maxRenames ?? 32;
      if (this.renames > max) throw new MdnsError('mdns-conflict', `no free presence name after ${max} renames (last tried ${previous})`);
      checkInstanceLabel(this.name, 'presence name');
    } catch (error) {
      this.registration = undefined;
      this.failure = error as MdnsError;
      // A name in use is the caller's answer to give (start() rejects with it), not our log line.
      if (this.failure.code === 'mdns-name-in-use') this.logger.info(this.failure.message);
      else this.logger.error(this.failure.message);
      if (this.listenerCount('error') > 0) this.emit('error', this.failure);
      return;
    }
    this.logger.info('presence name taken, renaming', { previous, name: this.name, by: `${theirs.type} ${theirs.name}` });
    this.register();
    this.emit('name-changed', this.name, previous);
  }

  /** `laptop.local`; a host part with a dot (`--name alice@laptop.lan`) stays one label, as in the instance name. */
  private hostFqdn(): string {
    return `${escapeLabel(this.host)}.${MDNS_DOMAIN}`;
  }

  private records(): PublishedRecord[] {
    const instance = serviceInstanceName(this.name, PRESENCE_SERVICE_TYPE);
    const typeName = `${PRESENCE_SERVICE_TYPE}.${MDNS_DOMAIN}`;
    const hostFqdn = this.hostFqdn();
    const address = this.responder.interfaceAddress;
    const { host, other } = this.ttls;
    const base = { cacheFlush: false };
    const addressRecord: MdnsRecord =
      addressRecordType(address) === 'A'
        ? { ...base, name: hostFqdn, type: 'A', ttl: host, data: address }
        : { ...base, name: hostFqdn, type: 'AAAA', ttl: host, data: address };
    const listed = this.options.listed ?? true;
    const txt = listed ? presenceTxt(this.info, this.options.port) : encodeTxt([['txtvers', '1'], ['claim', this.claimNonce]]);
    return [
      ...(listed
        ? ([
            { unique: false, record: { ...base, name: typeName, type: 'PTR', ttl: other, data: instance } },
            { unique: false, record: { ...base, name: SERVICES_META_QUERY, type: 'PTR', ttl: other, data: typeName } },
          ] satisfies PublishedRecord[])
        : []),
      {
        unique: true,
        record: { ...base, name: instance, type: 'SRV', ttl: host, data: { priority: 0, weight: 0, port: this.options.port, target: hostFqdn } },
      },
      { unique: true, record: { ...base, name: instance, type: 'TXT', ttl: other, data: txt } },
      { unique: true, record: addressRecord },
    ];
  }
}

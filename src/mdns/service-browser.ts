import { EventEmitter } from 'node:events';
import { emitSafely } from '../base/emit-safely.js';
import type { Logger } from '../base/logger.js';
import type { MdnsCache } from './record-cache.js';
import {
  instanceOf,
  isAddressRecordType,
  MDNS_DOMAIN,
  nameKey,
  rdataKey,
  type MdnsQuestion,
  type MdnsRecord,
} from './records.js';

/** A DNS-SD service instance with everything needed to reach it. */
export interface ResolvedService {
  /** Instance label, e.g. `alice@laptop` or `lunch`. */
  instance: string;
  /** `<instance>.<type>.local`. */
  fqdn: string;
  /** `_presence._tcp`, `_clique._udp`. */
  serviceType: string;
  /** SRV target host name. */
  host: string;
  port: number;
  /** Latest TXT strings (empty when none was received). */
  txt: Uint8Array[];
  /** A/AAAA of the SRV target, IPv4 first. */
  addresses: string[];
}

/** What a browser needs from the responder that owns it. */
export interface BrowserHost {
  readonly cache: MdnsCache;
  /** Where a listener that throws is reported (it must not break packet handling). */
  readonly logger: Logger;
  now(): number;
  random(): number;
  /** Sends a query now; the host adds known answers from its cache. */
  sendQuery(questions: MdnsQuestion[]): void;
}

export interface ServiceBrowserEvents {
  up: [service: ResolvedService];
  update: [service: ResolvedService, previous: ResolvedService];
  down: [service: ResolvedService];
}

interface Instance {
  fqdn: string;
  service: ResolvedService | undefined;
  target: string | undefined;
  resolveAttempts: number;
  nextResolveAt: number;
}

/** RFC 6762 §5.2: continuous querying, intervals doubling up to one hour. */
const MAX_BROWSE_INTERVAL_MS = 3600_000;
const MAX_RESOLVE_ATTEMPTS = 6;

/**
 * Browses one service type over the shared cache: PTR → instances, SRV/TXT
 * → port and metadata, A/AAAA of the SRV target → addresses. An instance is
 * "up" once it has a PTR, an SRV, at least one address (and a TXT, if the
 * browser requires one), and goes "down" when any of them expires or is said
 * goodbye to.
 */
export class MdnsServiceBrowser extends EventEmitter<ServiceBrowserEvents> {
  readonly typeName: string;
  private readonly instances = new Map<string, Instance>();
  /** SRV target (name key) → instances (name keys) using it. */
  private readonly targets = new Map<string, Set<string>>();
  private nextQueryAt: number;
  private queryInterval = 1000;
  private closed = false;

  constructor(
    private readonly host: BrowserHost,
    readonly serviceType: string,
    private readonly onClose: (browser: MdnsServiceBrowser) => void,
    private readonly requireTxt: boolean,
  ) {
    super();
    this.typeName = `${serviceType}.${MDNS_DOMAIN}`;
    // RFC 6762 §5.2: the first query goes out after a random 20–120 ms.
    this.nextQueryAt = host.now() + 20 + host.random() * 100;
    for (const entry of host.cache.lookup(this.typeName, 'PTR')) this.refreshInstance(entry.record.data as string);
  }

  services(): ResolvedService[] {
    const out: ResolvedService[] = [];
    for (const instance of this.instances.values()) if (instance.service !== undefined) out.push(instance.service);
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.instances.clear();
    this.targets.clear();
    this.onClose(this);
    this.removeAllListeners();
  }

  /** Whether the cache should refresh this record before it expires. */
  interestedIn(record: MdnsRecord): boolean {
    const key = nameKey(record.name);
    if (record.type === 'PTR') return key === nameKey(this.typeName);
    if (record.type === 'SRV' || record.type === 'TXT') return this.instances.has(key);
    return this.targets.has(key);
  }

  /** Called by the host for every record added to or removed from the cache. */
  onCacheChange(record: MdnsRecord): void {
    if (this.closed) return;
    const key = nameKey(record.name);
    if (record.type === 'PTR') {
      if (key === nameKey(this.typeName)) this.refreshInstance(record.data);
      return;
    }
    if ((record.type === 'SRV' || record.type === 'TXT') && instanceOf(record.name, this.serviceType) !== undefined) {
      if (this.instances.has(key)) this.refreshInstance(record.name);
    }
    if (isAddressRecordType(record.type)) {
      for (const instanceKey of [...(this.targets.get(key) ?? [])]) {
        const instance = this.instances.get(instanceKey);
        if (instance !== undefined) this.refreshInstance(instance.fqdn);
      }
    }
  }

  /** Periodic work: continuous browse queries and resolve retries. */
  tick(now: number): void {
    if (this.closed) return;
    const questions: MdnsQuestion[] = [];
    if (now >= this.nextQueryAt) {
      questions.push({ name: this.typeName, type: 'PTR' });
      this.nextQueryAt = now + this.queryInterval;
      this.queryInterval = Math.min(this.queryInterval * 2, MAX_BROWSE_INTERVAL_MS);
    }
    for (const instance of this.instances.values()) {
      if (instance.service !== undefined || now < instance.nextResolveAt) continue;
      if (instance.resolveAttempts >= MAX_RESOLVE_ATTEMPTS) continue;
      const srv = this.host.cache.lookup(instance.fqdn, 'SRV')[0];
      if (srv === undefined) questions.push({ name: instance.fqdn, type: 'SRV' });
      if (srv === undefined || (this.requireTxt && this.host.cache.lookup(instance.fqdn, 'TXT').length === 0)) {
        questions.push({ name: instance.fqdn, type: 'TXT' });
      }
      if (srv?.record.type === 'SRV' && this.host.cache.lookup(srv.record.data.target, 'A').length + this.host.cache.lookup(srv.record.data.target, 'AAAA').length === 0) {
        questions.push({ name: srv.record.data.target, type: 'A' });
      }
      instance.resolveAttempts++;
      instance.nextResolveAt = now + 1000 * 2 ** (instance.resolveAttempts - 1);
    }
    if (questions.length > 0) this.host.sendQuery(questions);
  }

  private refreshInstance(fqdn: string): void {
    const key = nameKey(fqdn);
    const instanceLabel = instanceOf(fqdn, this.serviceType);
    const hasPtr = instanceLabel !== undefined && this.host.cache.lookup(this.typeName, 'PTR').some((e) => nameKey(e.record.data as string) === key);
    let instance = this.instances.get(key);
    if (!hasPtr || instanceLabel === undefined) {
      if (instance !== undefined) {
        this.instances.delete(key);
        this.setTarget(key, instance, undefined);
        if (instance.service !== undefined) emitSafely(this, this.host.logger, 'down', instance.service);
      }
      return;
    }
    if (instance === undefined) {
      instance = { fqdn, service: undefined, target: undefined, resolveAttempts: 0, nextResolveAt: this.host.now() };
      this.instances.set(key, instance);
    }
    const srvEntry = this.host.cache.lookup(fqdn, 'SRV')[0];
    const srv = srvEntry?.record.type === 'SRV' ? srvEntry.record.data : undefined;
    this.setTarget(key, instance, srv?.target);
    const txtEntry = this.host.cache.lookup(fqdn, 'TXT')[0];
    const txt = txtEntry?.record.type === 'TXT' ? txtEntry.record.data : undefined;
    const addresses =
      srv === undefined
        ? []
        : [
            // Stable order (IPv4 first, then textual) so that refreshes do not reorder and fire updates.
            ...this.host.cache.lookup(srv.target, 'A').map((e) => e.record.data as string).sort(),
            ...this.host.cache.lookup(srv.target, 'AAAA').map((e) => e.record.data as string).sort(),
          ];
    const previous = instance.service;
    if (srv === undefined || addresses.length === 0 || (this.requireTxt && txt === undefined)) {
      if (previous !== undefined) {
        instance.service = undefined;
        instance.resolveAttempts = 0;
        instance.nextResolveAt = this.host.now();
        emitSafely(this, this.host.logger, 'down', previous);
      }
      return;
    }
    const service: ResolvedService = {
      instance: instanceLabel,
      fqdn,
      serviceType: this.serviceType,
      host: srv.target,
      port: srv.port,
      txt: txt ?? [],
      addresses: [...new Set(addresses)],
    };
    instance.service = service;
    if (previous === undefined) emitSafely(this, this.host.logger, 'up', service);
    else if (!sameService(previous, service)) emitSafely(this, this.host.logger, 'update', service, previous);
  }

  private setTarget(instanceKey: string, instance: Instance, target: string | undefined): void {
    if (instance.target !== undefined && (target === undefined || nameKey(target) !== nameKey(instance.target))) {
      const set = this.targets.get(nameKey(instance.target));
      set?.delete(instanceKey);
      if (set?.size === 0) this.targets.delete(nameKey(instance.target));
    }
    instance.target = target;
    if (target !== undefined) {
      let set = this.targets.get(nameKey(target));
      if (set === undefined) {
        set = new Set();
        this.targets.set(nameKey(target), set);
      }
      set.add(instanceKey);
    }
  }
}

function sameService(a: ResolvedService, b: ResolvedService): boolean {
  const txt = (s: ResolvedService): string => rdataKey({ name: '', ttl: 0, cacheFlush: false, type: 'TXT', data: s.txt });
  return (
    a.port === b.port &&
    nameKey(a.host) === nameKey(b.host) &&
    a.addresses.join(',') === b.addresses.join(',') &&
    txt(a) === txt(b)
  );
}

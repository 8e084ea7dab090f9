import { emitSafely } from '../base/emit-safely.js';
import { Logger, silentLogger } from '../base/logger.js';
import { ConflictLimiter } from './conflict-limiter.js';
import { MdnsCache } from './record-cache.js';
import { systemClock, type MdnsClock, type MdnsTimer } from './mdns-clock.js';
import { MdnsError } from './mdns-error.js';
import {
  compareProbeSets,
  nameKey,
  recordKey,
  rrsetKey,
  withTtl,
  type MdnsMessage,
  type MdnsQuestion,
  type MdnsRecord,
} from './records.js';
import { MdnsRegistration, type PublishedRecord, type RegistrationOwner } from './registration.js';
import { MdnsServiceBrowser, type BrowserHost } from './service-browser.js';
import { openMdnsTransport, type MdnsEndpoint, type MdnsTransport, type MdnsTransportStats } from './transport.js';

export { MdnsRegistration, type PublishedRecord, type RegistrationEvents, type RegistrationState } from './registration.js';

/**
 * Our mDNS responder (RFC 6762) on top of the transport adapter: probing,
 * announcing, answering, goodbyes, conflict detection, the record cache and
 * DNS-SD browsing. Several registrations share one socket.
 *
 * Cooperative records (Clique rooms, §2.2 of the spec): a record identical to
 * ours, from anyone, is never a conflict; a goodbye or low-TTL copy of a record
 * we still publish makes us announce it again at once.
 */
export interface MdnsResponderOptions {
  /** IPv4 address of the interface to pin to ('127.0.0.1' in tests). */
  interface: string;
  port?: number;
  group?: string;
  logger?: Logger;
  maxCacheRecords?: number;
  /** For tests that need a different transport; normally opened from `interface`. */
  transport?: MdnsTransport;
  /** Time, timers and randomness; the real clock unless a test brings a virtual one. */
  clock?: MdnsClock;
}

const PROBE_INTERVAL_MS = 250;
const PROBE_COUNT = 3;
/** RFC 6762 §8.2: a host that loses a simultaneous-probe tie-break waits one second and probes again. */
const PROBE_DEFER_MS = 1000;
const ANNOUNCE_REPEAT_MS = 1000;
/** RFC 6762 §6: a record is multicast at most once per second (probe defence: 250 ms). */
const MULTICAST_RATE_MS = 1000;
const PROBE_DEFENCE_RATE_MS = 250;
/** Our own superseded data (after an update) may still be in flight on the wire; it is not a conflict. */
const SUPERSEDED_GRACE_MS = 10_000;
const LEGACY_UNICAST_MAX_TTL = 10;
/** Re-probing a name we owned, we give it up only to a rival that answered this many of our probes. */
const DEFENCE_ANSWERS = 2;
const TICK_MS = 250;

export class MdnsResponder implements BrowserHost, RegistrationOwner {
  readonly cache: MdnsCache;
  private readonly registrations = new Set<MdnsRegistration>();
  private readonly browsers = new Set<MdnsServiceBrowser>();
  private readonly lastMulticast = new Map<string, number>();
  private readonly timers = new Set<MdnsTimer>();
  private ticker: MdnsTimer;
  private closed = false;
  /** §8.1 back-off, host-wide: every registration's conflicts count. */
  private readonly conflicts = new ConflictLimiter();
  readonly logger: Logger;

  private constructor(
    private readonly transport: MdnsTransport,
    logger: Logger,
    maxCacheRecords: number | undefined,
    private readonly clock: MdnsClock,
  ) {
    this.logger = logger;
    this.cache = new MdnsCache({
      ...(maxCacheRecords !== undefined ? { maxRecords: maxCacheRecords } : {}),
      random: () => clock.random(),
      onChange: (record) => {
        for (const browser of [...this.browsers]) browser.onCacheChange(record);
      },
    });
    transport.onMessage((message, from) => this.onMessage(message, from));
    this.ticker = this.scheduleTick();
  }

  private scheduleTick(): MdnsTimer {
    return this.clock.setTimer(
      TICK_MS,
      () => {
        if (this.closed) return;
        this.ticker = this.scheduleTick();
        this.tick();
      },
      { background: true },
    );
  }

  static async open(options: MdnsResponderOptions): Promise<MdnsResponder> {
    const logger = (options.logger ?? silentLogger).child('mdns');
    const transport =
      options.transport ??
      (await openMdnsTransport({
        interface: options.interface,
        ...(options.port !== undefined ? { port: options.port } : {}),
        ...(options.group !== undefined ? { group: options.group } : {}),
        logger,
      }));
    return new MdnsResponder(transport, logger, options.maxCacheRecords, options.clock ?? systemClock);
  }

  get interfaceAddress(): string {
    return this.transport.interfaceAddress;
  }

  get interfaceName(): string {
    return this.transport.interfaceName;
  }

  get stats(): MdnsTransportStats {
    return this.transport.stats;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  now(): number {
    return this.clock.now();
  }

  random(): number {
    return this.clock.random();
  }

  /**
   * Publishes a record set. With `probe` (default) the unique records are
   * probed three times 250 ms apart before being announced; the returned
   * registration reports `established` or `conflict`.
   */
  register(records: PublishedRecord[], options: { probe?: boolean } = {}): MdnsRegistration {
    if (this.closed) throw new MdnsError('mdns-closed', 'mDNS responder is closed');
    const registration = new MdnsRegistration(this, normalise(records), options.probe ?? true);
    this.registrations.add(registration);
    const uniqueNames = probeNames(registration);
    if (!registration.probe || uniqueNames.length === 0) {
      this.later(0, () => this.announce(registration));
    } else {
      registration.timer = this.later(this.conflicts.probeDelay(this.now(), this.random() * PROBE_INTERVAL_MS), () => this.sendProbe(registration));
    }
    return registration;
  }

  /**
   * Starts browsing a service type (`_presence._tcp`); close the browser to
   * stop. With `requireTxt` an instance is only reported once its TXT is known.
   */
  browse(serviceType: string, options: { requireTxt?: boolean } = {}): MdnsServiceBrowser {
    if (this.closed) throw new MdnsError('mdns-closed', 'mDNS responder is closed');
    const browser = new MdnsServiceBrowser(this, serviceType, (b) => this.browsers.delete(b), options.requireTxt ?? false);
    this.browsers.add(browser);
    return browser;
  }

  /** One-shot query; answers land in the cache (and in browsers). */
  sendQuery(questions: MdnsQuestion[]): void {
    if (this.closed || questions.length === 0) return;
    const now = this.now();
    // Known-answer suppression (RFC 6762 §7.1): list what we hold with more than half its TTL left.
    const knownAnswers: MdnsRecord[] = [];
    for (const q of questions) {
      if (q.type === 'ANY') continue;
      for (const entry of this.cache.lookup(q.name, q.type)) {
        const left = this.cache.remainingTtl(entry.record, now);
        if (left !== undefined && left.remaining > left.original / 2) knownAnswers.push(withTtl(entry.record, Math.floor(left.remaining)));
      }
    }
    void this.transport.send({ id: 0, response: false, truncated: false, questions, answers: knownAnswers, authorities: [], additionals: [] });
  }

  /** Withdraws everything (goodbyes unless told otherwise) and closes the socket. */
  async close(options: { goodbye?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    const goodbye = options.goodbye ?? true;
    const live = [...this.registrations];
    if (goodbye) {
      const records = live.filter((r) => r.announced).flatMap((r) => r.records.map((p) => withTtl(p.record, 0)));
      await this.sendResponse(dedupe(records));
    }
    for (const r of live) this.retire(r, 'withdrawn');
    this.closed = true;
    this.ticker.cancel();
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    for (const b of [...this.browsers]) b.close();
    this.cache.clear();
    await this.transport.close();
  }

  // --- registrations (called by MdnsRegistration) ---

  /** @internal */
  updateRegistration(registration: MdnsRegistration, records: PublishedRecord[]): void {
    if (registration.state === 'withdrawn' || registration.state === 'conflict') return;
    const previous = registration.records;
    const next = normalise(records);
    const nextKeys = new Set(next.map((p) => recordKey(p.record)));
    const previousKeys = new Set(previous.map((p) => recordKey(p.record)));
    const now = this.now();
    const gone = previous.filter((p) => !nextKeys.has(recordKey(p.record)));
    for (const p of gone) if (p.unique) registration.superseded.set(recordKey(p.record), now + SUPERSEDED_GRACE_MS);
    registration.records = next;
    // While probing, the new set is simply what gets announced.
    if (registration.state !== 'established') return;
    // Replaced data in a unique RRset is flushed from caches by the cache-flush bit of the new data;
    // an RRset that vanished entirely needs a goodbye.
    const nextSets = new Set(next.map((p) => rrsetKey(p.record)));
    const goodbyes = gone.filter((p) => !nextSets.has(rrsetKey(p.record)) && !this.publishedElsewhere(p.record, registration));
    const fresh = next.filter((p) => !previousKeys.has(recordKey(p.record))).map((p) => p.record);
    void this.sendResponse([...fresh, ...goodbyes.map((p) => withTtl(p.record, 0))]);
    this.later(ANNOUNCE_REPEAT_MS, () => {
      if (registration.state !== 'established') return;
      const current = new Set(registration.records.map((p) => recordKey(p.record)));
      void this.sendResponse(fresh.filter((r) => current.has(recordKey(r))));
    });
  }

  /** @internal */
  async withdrawRegistration(registration: MdnsRegistration, goodbye: boolean): Promise<void> {
    if (registration.state === 'withdrawn') return;
    // Announced records are in others' caches even while we probe again to defend them (§9): say goodbye.
    const wasAnnounced = registration.announced;
    this.retire(registration, 'withdrawn');
    if (!goodbye || !wasAnnounced || this.closed) return;
    // A record another of our registrations still publishes (e.g. the `_services._dns-sd._udp` PTR) stays.
    const records = registration.records.filter((p) => !this.publishedElsewhere(p.record, undefined)).map((p) => withTtl(p.record, 0));
    await this.sendResponse(records);
  }

  private retire(registration: MdnsRegistration, state: 'withdrawn' | 'conflict'): void {
    registration.state = state;
    if (registration.timer !== undefined) this.clearLater(registration.timer);
    registration.timer = undefined;
    this.registrations.delete(registration);
    if (state === 'withdrawn') emitSafely(registration, this.logger, 'withdrawn');
  }

  private publishedKeys(): Set<string> {
    const keys = new Set<string>();
    for (const r of this.registrations) if (r.state === 'established') for (const p of r.records) keys.add(recordKey(p.record));
    return keys;
  }

  private isOwnSuperseded(record: MdnsRecord, now: number): boolean {
    for (const r of this.registrations) if (r.isSuperseded(record, now)) return true;
    return false;
  }

  private publishedElsewhere(record: MdnsRecord, except: MdnsRegistration | undefined): boolean {
    const key = recordKey(record);
    for (const r of this.registrations) {
      if (r === except || r.state !== 'established') continue;
      if (r.records.some((p) => recordKey(p.record) === key)) return true;
    }
    return false;
  }

  private sendProbe(registration: MdnsRegistration): void {
    if (registration.state !== 'probing' || this.closed) return;
    if (registration.probesSent >= PROBE_COUNT) {
      this.announce(registration);
      return;
    }
    const names = probeNames(registration);
    const unique = registration.records.filter((p) => p.unique).map((p) => p.record);
    registration.probesSent++;
    void this.transport.send({
      id: 0,
      response: false,
      truncated: false,
      questions: names.map((name) => ({ name, type: 'ANY' as const })),
      answers: [],
      authorities: unique,
      additionals: [],
    });
    registration.timer = this.later(PROBE_INTERVAL_MS, () => this.sendProbe(registration));
  }

  private announce(registration: MdnsRegistration): void {
    if (registration.state !== 'probing' || this.closed) return;
    registration.state = 'established';
    registration.announced = true;
    registration.defence = undefined;
    const records = registration.records.map((p) => p.record);
    void this.sendResponse(records);
    registration.timer = this.later(ANNOUNCE_REPEAT_MS, () => {
      if (registration.state === 'established') void this.sendResponse(registration.records.map((p) => p.record));
    });
    this.logger.debug('announced', { records: records.map((r) => `${r.type} ${r.name}`) });
    emitSafely(registration, this.logger, 'established');
  }

  private conflict(registration: MdnsRegistration, theirs: MdnsRecord): void {
    this.logger.info('name conflict', { name: theirs.name, type: theirs.type });
    this.conflicts.record(this.now());
    this.retire(registration, 'conflict');
    emitSafely(registration, this.logger, 'conflict', theirs);
  }

  /**
   * RFC 6762 §9: a conflicting announcement for a record we already own does
   * not take it from us. We go back to probing; a host that really holds the
   * name answers our probes and wins (then 'conflict' renames us), while
   * forged one-shot announcements get no say. After a burst of conflicts the
   * probes are spaced out (§8.1) so a flood cannot keep us probing flat out.
   */
  private contest(registration: MdnsRegistration, theirs: MdnsRecord, from: MdnsEndpoint, now: number): void {
    this.conflicts.record(now);
    this.logger.warn('someone claims our name; probing again to defend it', { name: theirs.name, type: theirs.type, from: from.address });
    registration.state = 'probing';
    registration.probesSent = 0;
    registration.defence = new Set();
    if (registration.timer !== undefined) this.clearLater(registration.timer);
    // Defend at once: re-announcing keeps our data fresh in everyone's cache, so the forged cache-flush
    // records cannot flush it while we probe (at most once a second per record, §6).
    void this.sendResponse(
      registration.records
        .filter((p) => p.unique && now - (this.lastMulticast.get(recordKey(p.record)) ?? -Infinity) >= MULTICAST_RATE_MS)
        .map((p) => p.record),
    );
    // The first probe waits a little, so the rest of a burst of announcements lands before it and counts for nothing.
    const delay = this.conflicts.probeDelay(now, PROBE_INTERVAL_MS * (1 + this.random()));
    registration.timer = this.later(delay, () => this.sendProbe(registration));
    emitSafely(registration, this.logger, 'contested', theirs, from);
  }

  /** Multicasts a response and applies it to our own cache (our browsers list what we publish). */
  private async sendResponse(records: MdnsRecord[]): Promise<void> {
    if (records.length === 0 || this.closed) return;
    const now = this.now();
    this.cache.batch(() => {
      for (const r of records) {
        this.lastMulticast.set(recordKey(r), now);
        this.cache.add(r, now);
      }
    });
    await this.transport.send({ id: 0, response: true, truncated: false, questions: [], answers: records, authorities: [], additionals: [] });
  }

  // --- incoming ---

  private onMessage(message: MdnsMessage, from: MdnsEndpoint): void {
    if (this.closed) return;
    if (message.response) this.onResponse(message, from);
    else this.onQuery(message, from);
  }

  private onResponse(message: MdnsMessage, from: MdnsEndpoint): void {
    this.cache.batch(() => this.applyResponse(message, from));
  }

  private applyResponse(message: MdnsMessage, from: MdnsEndpoint): void {
    const now = this.now();
    const records = [...message.answers, ...message.additionals];
    const reannounce = new Map<MdnsRegistration, MdnsRecord[]>();
    for (const theirs of records) {
      const theirKey = recordKey(theirs);
      const theirSet = rrsetKey(theirs);
      let ours = false;
      for (const registration of [...this.registrations]) {
        if (registration.state !== 'probing' && registration.state !== 'established') continue;
        const mine = registration.records.find((p) => recordKey(p.record) === theirKey);
        if (mine !== undefined) {
          ours ||= registration.state === 'established';
          // Someone said goodbye to, or let nearly expire, a record we still publish: put it back (§2.2).
          if (ours && (theirs.ttl === 0 || theirs.ttl < mine.record.ttl / 2)) {
            const list = reannounce.get(registration) ?? [];
            list.push(mine.record);
            reannounce.set(registration, list);
          }
          continue;
        }
        if (theirs.ttl === 0) continue;
        const clash = registration.records.some((p) => p.unique && rrsetKey(p.record) === theirSet);
        if (!clash || registration.isSuperseded(theirs, now)) continue;
        if (registration.state === 'established') this.contest(registration, theirs, from, now);
        else if (registration.defence === undefined) this.conflict(registration, theirs);
        else if (registration.probesSent > 0) {
          // A host that owns the name answers each of our probes; forged announcements that merely
          // happen to follow one probe do not take a name we held.
          registration.defence.add(registration.probesSent);
          if (registration.defence.size >= DEFENCE_ANSWERS) this.conflict(registration, theirs);
        }
      }
      // Our own published records never expire from our cache because of someone else's goodbye,
      // and our own data from before an update, looping back late, must not look newer than the update.
      if (ours && theirs.ttl === 0) continue;
      if (this.isOwnSuperseded(theirs, now)) continue;
      this.cache.add(theirs, now);
    }
    for (const [registration, list] of reannounce) this.reannounce(registration, list);
  }

  private reannounce(registration: MdnsRegistration, records: MdnsRecord[]): void {
    void this.sendResponse(records);
    // Receivers apply the goodbye and our answer in arrival order; a second copy covers a reordering.
    this.later(500, () => {
      if (registration.state !== 'established') return;
      const keys = new Set(records.map(recordKey));
      void this.sendResponse(registration.records.map((p) => p.record).filter((r) => keys.has(recordKey(r))));
    });
  }

  private onQuery(message: MdnsMessage, from: MdnsEndpoint): void {
    const now = this.now();
    const isProbe = message.authorities.length > 0;
    if (isProbe) this.tieBreak(message);
    const legacy = from.port !== this.transport.port;
    const answers = new Map<string, MdnsRecord>();
    let allUnique = true;
    for (const q of message.questions) {
      const qKey = nameKey(q.name);
      for (const registration of this.registrations) {
        if (registration.state !== 'established') continue;
        for (const p of registration.records) {
          if (nameKey(p.record.name) !== qKey || (q.type !== 'ANY' && q.type !== p.record.type)) continue;
          answers.set(recordKey(p.record), p.record);
          if (!p.unique) allUnique = false;
        }
      }
    }
    if (answers.size === 0) return;
    if (!legacy) {
      for (const known of message.answers) {
        const mine = answers.get(recordKey(known));
        if (mine !== undefined && known.ttl >= mine.ttl / 2) answers.delete(recordKey(known));
      }
    }
    const additionals = this.additionalsFor([...answers.values()], answers);
    if (legacy) {
      // RFC 6762 §6.7: a one-shot resolver on another port gets a unicast DNS answer.
      const cap = (r: MdnsRecord): MdnsRecord => ({ ...withTtl(r, Math.min(r.ttl, LEGACY_UNICAST_MAX_TTL)), cacheFlush: false }) as MdnsRecord;
      void this.transport.send(
        {
          id: message.id,
          response: true,
          truncated: false,
          questions: message.questions,
          answers: [...answers.values()].map(cap),
          authorities: [],
          additionals: additionals.map(cap),
        },
        from,
      );
      return;
    }
    const rate = isProbe ? PROBE_DEFENCE_RATE_MS : MULTICAST_RATE_MS;
    const due = [...answers.values()].filter((r) => now - (this.lastMulticast.get(recordKey(r)) ?? -Infinity) >= rate);
    if (due.length === 0) return;
    for (const r of due) this.lastMulticast.set(recordKey(r), now);
    // Unique answers (and probe defence) go at once; shared ones after 20–120 ms so responders do not collide.
    const delay = isProbe || allUnique ? 0 : 20 + this.random() * 100;
    this.later(delay, () => {
      // Records may have been updated or withdrawn during the delay: never send stale data.
      const current = this.publishedKeys();
      const answersNow = due.filter((r) => current.has(recordKey(r)));
      if (answersNow.length === 0) return;
      void this.transport.send({
        id: 0,
        response: true,
        truncated: false,
        questions: [],
        answers: answersNow,
        authorities: [],
        additionals: additionals.filter((r) => current.has(recordKey(r)) && !due.some((d) => recordKey(d) === recordKey(r))),
      });
    });
  }

  /** RFC 6763 §12: with a PTR send its SRV and TXT, with an SRV the target's addresses. */
  private additionalsFor(answers: MdnsRecord[], exclude: Map<string, MdnsRecord>): MdnsRecord[] {
    const out = new Map<string, MdnsRecord>();
    const published = [...this.registrations].filter((r) => r.state === 'established').flatMap((r) => r.records.map((p) => p.record));
    const addNamed = (name: string, types: string[]): void => {
      for (const r of published) {
        if (nameKey(r.name) === nameKey(name) && types.includes(r.type) && !exclude.has(recordKey(r))) out.set(recordKey(r), r);
      }
    };
    for (const a of answers) {
      if (a.type === 'PTR') addNamed(a.data, ['SRV', 'TXT']);
    }
    for (const r of [...answers, ...out.values()]) {
      if (r.type === 'SRV') addNamed(r.data.target, ['A', 'AAAA']);
    }
    return [...out.values()];
  }

  /** RFC 6762 §8.2: simultaneous probes for the same name; the lexicographically later data wins. */
  private tieBreak(message: MdnsMessage): void {
    for (const registration of this.registrations) {
      if (registration.state !== 'probing') continue;
      for (const name of probeNames(registration)) {
        if (!message.questions.some((q) => nameKey(q.name) === nameKey(name))) continue;
        const theirs = message.authorities.filter((r) => nameKey(r.name) === nameKey(name));
        if (theirs.length === 0) continue;
        const ours = registration.records.filter((p) => p.unique && nameKey(p.record.name) === nameKey(name)).map((p) => p.record);
        // Identical sets: our own probe looped back, or a cooperating host.
        if (compareProbeSets(ours, theirs) >= 0) continue;
        this.logger.debug('lost probe tie-break, deferring', { name });
        if (registration.timer !== undefined) this.clearLater(registration.timer);
        registration.probesSent = 0;
        registration.timer = this.later(this.conflicts.probeDelay(this.now(), PROBE_DEFER_MS), () => this.sendProbe(registration));
        break;
      }
    }
  }

  // --- periodic work ---

  private tick(): void {
    if (this.closed) return;
    const now = this.now();
    this.cache.expire(now);
    const refresh = this.cache.dueForRefresh(now, (r) => [...this.browsers].some((b) => b.interestedIn(r)));
    if (refresh.length > 0) {
      const seen = new Set<string>();
      const questions: MdnsQuestion[] = [];
      for (const r of refresh) {
        const key = rrsetKey(r);
        if (seen.has(key)) continue;
        seen.add(key);
        questions.push({ name: r.name, type: r.type });
      }
      this.sendQuery(questions);
    }
    for (const browser of [...this.browsers]) browser.tick(now);
    for (const [key, at] of this.lastMulticast) if (now - at > MULTICAST_RATE_MS) this.lastMulticast.delete(key);
    for (const registration of this.registrations) {
      for (const [key, until] of registration.superseded) if (until <= now) registration.superseded.delete(key);
    }
  }

  private later(ms: number, fn: () => void): MdnsTimer {
    const timer = this.clock.setTimer(ms, () => {
      this.timers.delete(timer);
      if (!this.closed) fn();
    });
    this.timers.add(timer);
    return timer;
  }

  private clearLater(timer: MdnsTimer): void {
    timer.cancel();
    this.timers.delete(timer);
  }
}

function normalise(records: PublishedRecord[]): PublishedRecord[] {
  return records.map((p) => ({ unique: p.unique, record: { ...p.record, cacheFlush: p.unique } as MdnsRecord }));
}

function probeNames(registration: MdnsRegistration): string[] {
  const names = new Map<string, string>();
  for (const p of registration.records) if (p.unique) names.set(nameKey(p.record.name), p.record.name);
  return [...names.values()];
}

function dedupe(records: MdnsRecord[]): MdnsRecord[] {
  const out = new Map<string, MdnsRecord>();
  for (const r of records) out.set(recordKey(r), r);
  return [...out.values()];
}

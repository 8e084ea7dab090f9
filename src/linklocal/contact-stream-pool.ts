import type net from 'node:net';
import type { Logger } from '../base/logger.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { XmlLimits } from '../xml/xml-limits.js';
import type { ContactDirectory } from './contact.js';
import { LinkError } from './link-error.js';
import { LinkStream, type LinkTimeouts, type PendingStanza, type StreamDirection } from './link-stream.js';
import { advertises, comparableAddress, identifyPeer } from './peer-identity.js';
import { StreamAdmission, type Admission, type AdmissionLimits } from './stream-admission.js';
import { connectFirst } from './tcp-connect.js';

/** How often a stanza may move to another stream because its stream closed before writing it. */
const MAX_MOVES = 3;
/** How often streams waiting for their contact to be resolved look at the directory again. */
const IDENTIFY_POLL_MS = 100;
/** A source address that forged a stream or exceeded its share is warned about at most this often (the rest goes to debug). */
const WARN_INTERVAL_MS = 60_000;
const MAX_WARNED_SOURCES = 1024;

export interface ContactStreamPoolOptions {
  selfName(): string;
  contacts: ContactDirectory;
  /** Our interface address: outgoing connections are made from it. */
  bindAddress?: string;
  timeouts: LinkTimeouts;
  /** Incoming connections: per source, in total, and how many are kept for contacts' addresses. */
  admission: AdmissionLimits;
  xmlLimits: Partial<XmlLimits>;
  maxBufferedBytes: number;
  logger: Logger;
  /** A stanza from an identified peer, on any of its streams. */
  onStanza(peer: string, stanza: XmlElement, stream: LinkStream): void;
  onStreamOpened?(peer: string, direction: StreamDirection): void;
  onStreamClosed?(peer: string, direction: StreamDirection, reason: LinkError | undefined): void;
}

interface ContactEntry {
  streams: LinkStream[];
  holds: number;
}

/**
 * At most one live stream per contact (spec §6.6), opened on demand, reused,
 * closed when idle and unheld.
 *
 * When a second stream to the same contact appears (typically both sides
 * connecting at once), both ends must agree on which one survives, or each
 * would close a different one. Rule: keep the stream initiated by the side
 * whose name sorts first; between two streams from the same side keep the
 * older (wocky's rule). The loser is accepted (so a peer waiting for our
 * header can flush its queue) and then closed gracefully; its unsent stanzas
 * move to the winner and stanzas arriving on it are still delivered.
 */
export class ContactStreamPool {
  private readonly entries = new Map<string, ContactEntry>();
  /** Incoming connections not yet identified. */
  private readonly unidentified = new Set<LinkStream>();
  /** Incoming streams whose header came but whose contact is not (yet) resolved at their address: until when they may wait. */
  private readonly identifying = new Map<LinkStream, number>();
  private identifyTimer: NodeJS.Timeout | undefined;
  private readonly admission: StreamAdmission;
  private readonly admitted = new Map<LinkStream, Admission>();
  private readonly warnedSources = new Map<string, number>();
  private readonly idleTimers = new Map<LinkStream, NodeJS.Timeout>();
  private stopping = false;

  constructor(private readonly options: ContactStreamPoolOptions) {
    this.admission = new StreamAdmission(options.admission);
  }

  /** Sends a serialized stanza to a contact over its stream, opening one if needed. */
  send(peer: string, text: string, label: string): Promise<void> {
    if (this.stopping) return Promise.reject(new LinkError('stopped', 'link-local service stopped'));
    return new Promise<void>((resolve, reject) => {
      const pending: PendingStanza = { text, bytes: Buffer.byteLength(text), label, resolve, reject, moves: 0 };
      this.dispatch(peer, pending);
    });
  }

  /** Keeps the contact's stream from idling out until the returned release is called. */
  hold(peer: string): () => void {
    const entry = this.entry(peer);
    entry.holds += 1;
    for (const stream of entry.streams) this.clearIdle(stream);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      entry.holds -= 1;
      if (entry.holds === 0) for (const stream of entry.streams) this.armIdle(stream);
      this.forgetIfEmpty(peer);
    };
  }

  /**
   * A new TCP connection from the listener. Refused at once (closed, nothing
   * sent) when its source already holds its share of connections, or when
   * the slots left are kept for contacts and no contact advertises the source.
   */
  acceptSocket(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const source = socket.remoteAddress === undefined ? '' : comparableAddress(socket.remoteAddress);
    const known = source !== '' && this.options.contacts.findByAddress(source) !== undefined;
    const admission = this.admission.admit(source, known);
    if (typeof admission === 'string') {
      // Said once a minute per address at warn level: a host flooding us should be visible, not drown the log.
      const level = this.shouldWarn(`limit ${source}`) ? 'warn' : 'debug';
      this.options.logger[level]('incoming connection refused: too many at once', { remote: source, why: admission });
      socket.destroy();
      return;
    }
    const stream = this.createStream('incoming', undefined, known ? undefined : this.options.timeouts.unknownSourceHeaderMs);
    this.admitted.set(stream, admission);
    this.unidentified.add(stream);
    stream.attachIncoming(socket);
  }

  /** Incoming connections counted against the admission limits (tests and diagnostics). */
  incomingCounts(): { total: number; unknown: number; sources: number } {
    return this.admission.counts();
  }

  /** Live streams to a contact (for tests and diagnostics). */
  streamsOf(peer: string): readonly LinkStream[] {
    return this.entries.get(peer)?.streams ?? [];
  }

  /** Closes every stream gracefully and resolves when all are gone (after at most closeMs). */
  async closeAll(): Promise<void> {
    this.stopping = true;
    this.stopIdentifyTimer();
    const all = [...this.unidentified, ...this.identifying.keys(), ...[...this.entries.values()].flatMap((e) => e.streams)];
    const closed = all.map((stream) => new Promise<void>((resolve) => this.whenClosed(stream, resolve)));
    for (const stream of all) stream.close('service stopping');
    await Promise.all(closed);
  }

  private readonly closeWaiters = new Map<LinkStream, Array<() => void>>();

  private whenClosed(stream: LinkStream, callback: () => void): void {
    if (stream.state === 'closed') {
      callback();
      return;
    }
    const waiters = this.closeWaiters.get(stream) ?? [];
    waiters.push(callback);
    this.closeWaiters.set(stream, waiters);
  }

  private dispatch(peer: string, pending: PendingStanza): void {
    if (this.stopping) {
      pending.reject(new LinkError('stopped', 'link-local service stopped'));
      return;
    }
    const stream = this.current(peer) ?? this.openOutgoing(peer, pending);
    stream?.send(pending);
  }

  /** The stream to use for a contact: its usable one (only identified streams are in the entry). */
  private current(peer: string): LinkStream | undefined {
    return this.entries.get(peer)?.streams.find((s) => s.usable);
  }

  private openOutgoing(peer: string, pending: PendingStanza): LinkStream | undefined {
    const contact = this.options.contacts.get(peer);
    if (contact === undefined) {
      pending.reject(new LinkError('unknown-contact', `no contact named ${JSON.stringify(peer)}`));
      return undefined;
    }
    if (contact.addresses.length === 0 || !(contact.port > 0 && contact.port < 65536)) {
      pending.reject(new LinkError('unreachable', `contact ${peer} has no address or port`));
      return undefined;
    }
    const stream = this.createStream('outgoing', peer);
    this.entry(peer).streams.push(stream);
    // The idle timer starts when the stream opens, so a slow connect is not cut short by it.
    const { timeouts, bindAddress } = this.options;
    connectFirst(contact.addresses, contact.port, {
      timeoutMs: timeouts.connectMs,
      signal: stream.connectAbort.signal,
      ...(bindAddress !== undefined ? { localAddress: bindAddress } : {}),
    }).then(
      (socket) => stream.attachOutgoing(socket, this.options.selfName()),
      (error: unknown) => stream.failConnect(error instanceof LinkError ? error : new LinkError('unreachable', String(error), { cause: error })),
    );
    return stream;
  }

  private createStream(direction: StreamDirection, peer: string | undefined, headerMs?: number): LinkStream {
    return new LinkStream({
      direction,
      ...(peer !== undefined ? { peer } : {}),
      ...(headerMs !== undefined ? { headerMs } : {}),
      timeouts: this.options.timeouts,
      xmlLimits: this.options.xmlLimits,
      maxBufferedBytes: this.options.maxBufferedBytes,
      logger: this.options.logger,
      handlers: {
        onHeader: (stream, attrs) => this.onHeader(stream, attrs),
        onStanza: (stream, stanza) => {
          if (stream.peer !== undefined) this.options.onStanza(stream.peer, stanza, stream);
        },
        onActivity: (stream) => {
          if (this.idleTimers.has(stream)) this.armIdle(stream);
        },
        onUnsent: (stream, unsent, reason) => this.onUnsent(stream, unsent, reason),
        onClosed: (stream, reason) => this.onClosed(stream, reason),
      },
    });
  }

  private onHeader(stream: LinkStream, attrs: Record<string, string>): void {
    if (stream.direction === 'outgoing') {
      this.armIdle(stream);
      if (stream.peer !== undefined) this.options.onStreamOpened?.(stream.peer, 'outgoing');
      return;
    }
    this.unidentified.delete(stream);
    const verdict = identifyPeer(attrs, stream.remoteAddress, this.options.contacts, this.options.selfName());
    if (verdict.kind === 'accept') this.acceptIdentified(stream, verdict.peer);
    else if (verdict.kind === 'refuse') this.refuse(stream, attrs, verdict.reason);
    else {
      // Maybe the contact's records are still on their way: look again for a while (the stream reads nothing meanwhile).
      this.options.logger.debug('incoming stream waits for its contact to be resolved', { remote: stream.remoteAddress, from: attrs['from'], why: verdict.reason });
      this.identifying.set(stream, Date.now() + this.options.timeouts.identifyMs);
      this.identifyTimer ??= setInterval(() => this.retryIdentification(), IDENTIFY_POLL_MS);
    }
  }

  private retryIdentification(): void {
    const now = Date.now();
    for (const [stream, deadline] of this.identifying) {
      const attrs = stream.peerHeader ?? {};
      const verdict = stream.awaitingAcceptance ? identifyPeer(attrs, stream.remoteAddress, this.options.contacts, this.options.selfName()) : undefined;
      if (verdict === undefined) this.identifying.delete(stream); // dropped meanwhile
      else if (verdict.kind === 'accept') {
        this.identifying.delete(stream);
        this.acceptIdentified(stream, verdict.peer);
      } else if (verdict.kind === 'refuse' || now >= deadline) {
        this.identifying.delete(stream);
        this.refuse(stream, attrs, verdict.reason);
      }
    }
    if (this.identifying.size === 0) this.stopIdentifyTimer();
  }

  private stopIdentifyTimer(): void {
    if (this.identifyTimer !== undefined) clearInterval(this.identifyTimer);
    this.identifyTimer = undefined;
  }

  /**
   * Drops a stream we cannot attribute, without answering its header: a
   * header back would make the other side believe the stream open and write
   * its stanzas into it; closed unanswered, a genuine peer that we simply do
   * not know yet retries instead (LinkLocalService does).
   */
  private refuse(stream: LinkStream, attrs: Record<string, string>, reason: string): void {
    const claimed = attrs['from'];
    const contact = claimed === undefined || claimed === '' ? undefined : this.options.contacts.get(claimed);
    const source = stream.remoteAddress ?? '?';
    if (contact !== undefined && !advertises(contact, source) && this.shouldWarn(`forged ${source}`)) {
      this.options.logger.warn('refused a stream claiming a contact from an address that contact does not advertise', {
        remote: source,
        claimed,
        advertised: contact.addresses,
      });
    } else if (claimed !== undefined && claimed !== '' && contact === undefined) {
      this.options.logger.debug('incoming stream from an unknown contact', { from: claimed, remote: source });
    } else {
      this.options.logger.debug('refused an incoming stream', { remote: source, claimed, why: reason });
    }
    stream.destroy(undefined, 'unidentified peer');
  }

  /** At most one warning per key (a source address and what it did) per interval. */
  private shouldWarn(key: string): boolean {
    const now = Date.now();
    const last = this.warnedSources.get(key);
    if (last !== undefined && now - last < WARN_INTERVAL_MS) return false;
    if (this.warnedSources.size >= MAX_WARNED_SOURCES) this.warnedSources.clear();
    this.warnedSources.set(key, now);
    return true;
  }

  private acceptIdentified(stream: LinkStream, peer: string): void {
    const admission = this.admitted.get(stream);
    if (admission !== undefined) this.admission.promote(admission);
    const entry = this.entry(peer);
    const rival = entry.streams.find((s) => s.usable);
    entry.streams.push(stream);
    stream.accept(peer, this.options.selfName());
    this.options.onStreamOpened?.(peer, 'incoming');
    if (rival === undefined) this.armIdle(stream);
    else this.settleRivals(peer, stream, rival);
    stream.resumeInput();
  }

  private settleRivals(peer: string, stream: LinkStream, rival: LinkStream): void {
    const newWins = rival.direction === 'outgoing' && peer < this.options.selfName();
    const [winner, loser] = newWins ? [stream, rival] : [rival, stream];
    this.options.logger.debug('second stream to the same contact', { peer, keep: winner.id, close: loser.id });
    for (const pending of loser.takeQueue()) winner.send(pending);
    loser.close('another stream to this contact is kept');
    this.armIdle(winner);
  }

  /** Stanzas a stream will never write: report the failure, or move them to the contact's current stream. */
  private onUnsent(stream: LinkStream, unsent: PendingStanza[], reason: LinkError | undefined): void {
    const peer = stream.peer;
    const neverOpened = stream.direction === 'outgoing' && stream.peerHeader === undefined;
    for (const pending of unsent) {
      if (peer === undefined) pending.reject(reason ?? new LinkError('stream-closed', 'stream closed'));
      else if (neverOpened && reason !== undefined) pending.reject(reason); // the contact could not be reached: say so
      else if (pending.moves < MAX_MOVES) {
        pending.moves += 1;
        this.dispatch(peer, pending);
      } else pending.reject(new LinkError('stream-closed', `stream to ${peer} closed repeatedly before the stanza could be sent`));
    }
  }

  private onClosed(stream: LinkStream, reason: LinkError | undefined): void {
    this.unidentified.delete(stream);
    this.identifying.delete(stream);
    const admission = this.admitted.get(stream);
    if (admission !== undefined) {
      this.admitted.delete(stream);
      this.admission.release(admission);
    }
    this.clearIdle(stream);
    const peer = stream.peer;
    const entry = peer === undefined ? undefined : this.entries.get(peer);
    if (entry !== undefined && peer !== undefined) {
      const index = entry.streams.indexOf(stream);
      if (index >= 0) {
        entry.streams.splice(index, 1);
        if (stream.peerHeader !== undefined) this.options.onStreamClosed?.(peer, stream.direction, reason);
      }
      this.forgetIfEmpty(peer);
    }
    const waiters = this.closeWaiters.get(stream);
    this.closeWaiters.delete(stream);
    for (const waiter of waiters ?? []) waiter();
  }

  private armIdle(stream: LinkStream): void {
    this.clearIdle(stream);
    const peer = stream.peer;
    if (peer === undefined || (this.entries.get(peer)?.holds ?? 0) > 0 || !stream.usable) return;
    this.idleTimers.set(
      stream,
      setTimeout(() => {
        this.idleTimers.delete(stream);
        stream.close('idle');
      }, this.options.timeouts.idleMs),
    );
  }

  private clearIdle(stream: LinkStream): void {
    const timer = this.idleTimers.get(stream);
    if (timer !== undefined) clearTimeout(timer);
    this.idleTimers.delete(stream);
  }

  private entry(peer: string): ContactEntry {
    let entry = this.entries.get(peer);
    if (entry === undefined) {
      entry = { streams: [], holds: 0 };
      this.entries.set(peer, entry);
    }
    return entry;
  }

  private forgetIfEmpty(peer: string): void {
    const entry = this.entries.get(peer);
    if (entry !== undefined && entry.streams.length === 0 && entry.holds === 0) this.entries.delete(peer);
  }
}


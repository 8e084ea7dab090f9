import type net from 'node:net';
import type { Logger } from '../base/logger.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { XmlLimits } from '../xml/xml-limits.js';
import { XmppStreamParser } from '../xml/xmpp-stream-parser.js';
import { NS_STREAM } from '../xml/namespaces.js';
import { LinkError } from './link-error.js';
import { initiatorHeader, responderHeader, STREAM_CLOSE, STREAM_FEATURES } from './stream-header.js';
import { normalizeAddress } from './tcp-connect.js';

export interface LinkTimeouts {
  /** Per address, for the TCP connection. */
  connectMs: number;
  /** From TCP connection to the peer's complete stream header (both directions). */
  headerMs: number;
  /**
   * The same for incoming connections from an address no contact advertises:
   * shorter, so a host nobody knows cannot hold connections open for long.
   */
  unknownSourceHeaderMs: number;
  /**
   * Incoming: after the header, how long we wait for the contact it names to
   * be resolved with the connection's source address (the peer's mDNS records
   * may reach us just after its connection). Then the stream is refused.
   */
  identifyMs: number;
  /** A started stanza must complete within this (slowloris guard). */
  stanzaMs: number;
  /** An unheld stream is closed after this long without stanzas (wocky: 5 s). */
  idleMs: number;
  /** After we send `</stream:stream>`, how long we keep reading before dropping the connection. */
  closeMs: number;
}

export const DEFAULT_LINK_TIMEOUTS: Readonly<LinkTimeouts> = Object.freeze({
  connectMs: 10_000,
  headerMs: 10_000,
  unknownSourceHeaderMs: 2_000,
  identifyMs: 2_000,
  stanzaMs: 30_000,
  idleMs: 5_000,
  closeMs: 5_000,
});

export type StreamDirection = 'outgoing' | 'incoming';
export type StreamState = 'connecting' | 'awaiting-header' | 'open' | 'closing' | 'closed';

type ParserEvent = ReturnType<XmppStreamParser['push']>[number];

/** A stanza waiting for (or being written to) a stream. */
export interface PendingStanza {
  text: string;
  bytes: number;
  /** What the logs call it: `message`, `iq`... */
  label: string;
  resolve(): void;
  reject(error: LinkError): void;
  /** How many times it moved to another stream because its stream closed before writing it. */
  moves: number;
}

export interface LinkStreamHandlers {
  /** Incoming streams: the peer's header arrived; call `accept` or `destroy`. Outgoing: the stream is now open. */
  onHeader(stream: LinkStream, attrs: Record<string, string>): void;
  onStanza(stream: LinkStream, stanza: XmlElement): void;
  /** A stanza was written or received (for idle timers). */
  onActivity(stream: LinkStream): void;
  /**
   * Stanzas that will never be written on this stream (it is closing or
   * closed before opening); `reason` is set when the stream failed.
   */
  onUnsent(stream: LinkStream, unsent: PendingStanza[], reason: LinkError | undefined): void;
  /** The connection is gone; `reason` is why it ended early (undefined for an orderly close). */
  onClosed(stream: LinkStream, reason: LinkError | undefined): void;
}

export interface LinkStreamOptions {
  direction: StreamDirection;
  /** Known from the start for outgoing streams; set on identification for incoming ones. */
  peer?: string;
  timeouts: LinkTimeouts;
  /** Overrides timeouts.headerMs for this stream (unknown sources get less). */
  headerMs?: number;
  xmlLimits: Partial<XmlLimits>;
  /** Bytes queued before the stream opens plus bytes buffered in the socket; above it sends fail with 'queue-full'. */
  maxBufferedBytes: number;
  handlers: LinkStreamHandlers;
  logger: Logger;
}

let nextStreamId = 1;

/**
 * One XEP-0174 TCP connection carrying an XML stream. It knows the wire
 * protocol (headers, features, close, timeouts, limits); who the peer is and
 * which stream to use is the pool's business.
 *
 * Closing is graceful: we send `</stream:stream>`, half-close, and keep
 * reading — and delivering — stanzas until the peer closes too or `closeMs`
 * passes, so a stanza the peer wrote before it saw our close is not lost.
 */
export class LinkStream {
  readonly id = nextStreamId++;
  readonly direction: StreamDirection;
  private currentState: StreamState;
  peer: string | undefined;
  remoteAddress: string | undefined;
  /** Our end's address (the host of URLs we give this peer, §8.1). */
  localAddress: string | undefined;
  /** The peer's header attributes, once received. */
  peerHeader: Record<string, string> | undefined;
  private socket: net.Socket | undefined;
  private readonly parser: XmppStreamParser;
  private queue: PendingStanza[] = [];
  private queuedBytes = 0;
  private headerTimer: NodeJS.Timeout | undefined;
  private stanzaTimer: NodeJS.Timeout | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private endReason: LinkError | undefined;
  /** Incoming: what arrived after the header while the peer was being identified; processed on accept. */
  private heldEvents: ParserEvent[] | undefined;
  private dropped = false;
  private readonly logger: Logger;
  /** Set by the pool: aborts an outgoing connection attempt. */
  readonly connectAbort = new AbortController();

  constructor(private readonly options: LinkStreamOptions) {
    this.direction = options.direction;
    this.peer = options.peer;
    this.currentState = options.direction === 'outgoing' ? 'connecting' : 'awaiting-header';
    this.parser = new XmppStreamParser(options.xmlLimits);
    this.logger = options.logger.child(`stream${this.id}`);
  }

  get state(): StreamState {
    return this.currentState;
  }

  /** Incoming: the header came and the stream waits to be accepted or dropped. */
  get awaitingAcceptance(): boolean {
    return this.direction === 'incoming' && this.currentState === 'awaiting-header' && this.peerHeader !== undefined && !this.dropped;
  }

  /** Usable for new stanzas: not closing or closed. */
  get usable(): boolean {
    return this.currentState === 'connecting' || this.currentState === 'awaiting-header' || this.currentState === 'open';
  }

  /** Outgoing: the TCP connection is up; send our header and wait for theirs. */
  attachOutgoing(socket: net.Socket, selfName: string): void {
    if (this.currentState !== 'connecting' || this.peer === undefined) {
      socket.destroy();
      return;
    }
    this.attach(socket);
    this.currentState = 'awaiting-header';
    this.write(initiatorHeader(this.peer, selfName));
  }

  /** Incoming: a connection was accepted; wait for the peer's header. */
  attachIncoming(socket: net.Socket): void {
    this.attach(socket);
  }

  /**
   * Incoming: the peer is identified; answer with our header and features.
   * What the peer sent after its header waits for `resumeInput`: until then
   * nothing it sent reaches a handler.
   */
  accept(peer: string, selfName: string): void {
    if (this.currentState !== 'awaiting-header') return;
    this.peer = peer;
    const from = this.peerHeader?.['from'];
    this.write(responderHeader(from === undefined || from === '' ? undefined : from, selfName) + STREAM_FEATURES);
    this.currentState = 'open';
    this.logger.debug('incoming stream open', { peer, remote: this.remoteAddress });
  }

  /** Incoming, after `accept`: handles what arrived while the peer was being identified, and reads on. */
  resumeInput(): void {
    const held = this.heldEvents;
    // Undefined: accepted from within the header handler, where onData carries on by itself.
    if (held === undefined || (this.currentState !== 'open' && this.currentState !== 'closing')) return;
    this.heldEvents = undefined;
    this.guard(() => this.process(held, 0));
    if (!this.isClosed()) this.socket?.resume();
  }

  /** Queues (before the stream is open) or writes a stanza; resolves once written to the socket. */
  send(pending: PendingStanza): void {
    if (!this.usable) {
      pending.reject(new LinkError('stream-closed', `stream to ${this.peer ?? '?'} is closing`));
      return;
    }
    const buffered = this.queuedBytes + (this.socket?.writableLength ?? 0);
    if (buffered + pending.bytes > this.options.maxBufferedBytes) {
      pending.reject(new LinkError('queue-full', `more than ${this.options.maxBufferedBytes} bytes waiting for ${this.peer ?? '?'}`));
      return;
    }
    if (this.currentState !== 'open') {
      this.queue.push(pending);
      this.queuedBytes += pending.bytes;
      return;
    }
    this.writeStanza(pending);
  }

  /** Removes the stanzas not yet written (to move them to another stream). */
  takeQueue(): PendingStanza[] {
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    return queue;
  }

  /**
   * Orderly close: `</stream:stream>` (if our header went out), half-close,
   * keep reading until the peer closes or `closeMs` passes. Stanzas still
   * queued are handed back at once through onUnsent.
   */
  close(why: string): void {
    if (this.currentState === 'closing' || this.currentState === 'closed') return;
    this.logger.debug('closing stream', { peer: this.peer, why });
    this.clearTimer('header');
    this.clearTimer('stanza');
    if (this.socket === undefined) {
      this.connectAbort.abort();
      this.finish();
      return;
    }
    if (this.direction === 'incoming' && this.currentState === 'awaiting-header') {
      // Never accepted (maybe paused while identifying): nothing to say goodbye to or to read.
      this.destroy(undefined, why);
      return;
    }
    const headerSent = this.direction === 'outgoing' || this.currentState === 'open';
    this.currentState = 'closing';
    this.releaseQueue(undefined);
    if (headerSent) this.socket.end(STREAM_CLOSE);
    else this.socket.end();
    this.closeTimer = setTimeout(() => this.destroy(undefined, 'peer did not close in time'), this.options.timeouts.closeMs);
  }

  /** Drops the connection at once. */
  destroy(reason: LinkError | undefined, why: string): void {
    if (this.currentState === 'closed') return;
    this.logger.debug('dropping stream', { peer: this.peer, remote: this.remoteAddress, why });
    this.dropped = true;
    this.heldEvents = undefined;
    this.endReason ??= reason;
    this.connectAbort.abort();
    if (this.socket === undefined || this.socket.destroyed) {
      this.finish();
      return;
    }
    this.socket.destroy();
    // 'close' follows and calls finish()
  }

  /** Outgoing: the connection attempt failed. */
  failConnect(error: LinkError): void {
    this.endReason ??= error;
    this.finish();
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    this.remoteAddress = socket.remoteAddress === undefined ? undefined : normalizeAddress(socket.remoteAddress);
    this.localAddress = socket.localAddress === undefined ? undefined : normalizeAddress(socket.localAddress);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: Buffer) => this.guard(() => this.onData(chunk)));
    socket.on('end', () => this.onEnd());
    socket.on('error', (error) => {
      this.logger.debug('socket error', { peer: this.peer, error: error.message });
      this.endReason ??= new LinkError('stream-closed', `connection error: ${error.message}`, { cause: error });
    });
    socket.on('close', () => this.finish());
    const headerMs = this.options.headerMs ?? this.options.timeouts.headerMs;
    this.headerTimer = setTimeout(() => {
      const code = this.direction === 'outgoing' ? 'connect-timeout' : 'stream-closed';
      this.destroy(new LinkError(code, `no stream header within ${headerMs} ms`), 'header timeout');
    }, headerMs);
  }

  /** Runs a piece of stream handling; our own bug or a throwing callback loses this stream, never the process. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (error) {
      this.logger.warn('stream handler failed', { peer: this.peer, error: error instanceof Error ? error.message : String(error) });
      this.destroy(new LinkError('stream-closed', 'internal error while handling the stream', { cause: error }), 'handler failure');
    }
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed()) return;
    this.process(this.parser.push(chunk), 0);
  }

  private process(events: ParserEvent[], from: number): void {
    for (let i = from; i < events.length; i++) {
      const event = events[i]!;
      if (this.isClosed()) return; // a handler may have dropped the stream
      switch (event.type) {
        case 'open':
          this.onPeerHeader(event.attrs);
          if (this.direction === 'incoming' && this.currentState === 'awaiting-header' && !this.dropped) {
            // Identification is pending: keep the rest, read no more until accept() or destroy().
            this.heldEvents = events.slice(i + 1);
            this.socket?.pause();
            return;
          }
          break;
        case 'stanza':
          this.onStanza(event.element);
          break;
        case 'close':
          this.onPeerClose();
          break;
        case 'error':
          this.destroy(new LinkError('stream-closed', `peer sent bad XML: ${event.error.message}`, { cause: event.error }), `xml ${event.error.code}`);
          return;
      }
    }
    if (this.isClosed()) return;
    // Slowloris guard: a stanza that has started must finish in time; whitespace keepalives do not count.
    if (this.parser.inStanza && this.peerHeader !== undefined) {
      this.stanzaTimer ??= setTimeout(() => this.destroy(new LinkError('stream-closed', 'stanza did not complete in time'), 'stanza timeout'), this.options.timeouts.stanzaMs);
    } else {
      this.clearTimer('stanza');
    }
  }

  private onPeerHeader(attrs: Record<string, string>): void {
    this.clearTimer('header');
    this.peerHeader = attrs;
    if (this.direction === 'outgoing') {
      if (this.currentState !== 'awaiting-header') return;
      // Features are sent and never awaited from the other side (§6.4).
      this.write(STREAM_FEATURES);
      this.currentState = 'open';
      this.logger.debug('outgoing stream open', { peer: this.peer, remote: this.remoteAddress, peerFrom: attrs['from'] });
      const queued = this.takeQueue();
      for (const pending of queued) this.writeStanza(pending);
    }
    this.options.handlers.onHeader(this, attrs);
  }

  private onStanza(stanza: XmlElement): void {
    if (stanza.namespace === NS_STREAM) {
      if (stanza.name === 'error') {
        this.logger.debug('stream error from peer', { peer: this.peer, condition: stanza.elements()[0]?.name });
        this.onPeerClose();
      }
      return; // <stream:features/> and other stream-level elements need nothing from us
    }
    if (this.peer === undefined || (this.currentState !== 'open' && this.currentState !== 'closing')) {
      this.destroy(undefined, 'stanza before the stream was accepted');
      return;
    }
    this.logger.debug('stanza received', { stanza: stanza.name, type: stanza.getAttr('type'), from: stanza.getAttr('from'), peer: this.peer });
    this.options.handlers.onActivity(this);
    this.options.handlers.onStanza(this, stanza);
  }

  private onPeerClose(): void {
    if (this.currentState === 'closing') {
      // Both sides have said goodbye: our close tag is already out; just finish the TCP close.
      this.socket?.end();
      return;
    }
    this.close('peer closed the stream');
  }

  private onEnd(): void {
    // Detect a peer vanishing mid-stanza (for the log); the socket closes by itself.
    const events = this.parser.end();
    const error = events.find((e) => e.type === 'error');
    if (error?.type === 'error' && !this.parser.closed) this.logger.debug('peer ended the connection', { peer: this.peer, detail: error.error.code });
    if (this.currentState === 'open' || this.currentState === 'awaiting-header') {
      this.endReason ??= new LinkError('stream-closed', 'peer ended the connection');
    }
  }

  private writeStanza(pending: PendingStanza): void {
    const socket = this.socket;
    if (socket === undefined || socket.destroyed || this.currentState !== 'open') {
      pending.reject(new LinkError('stream-closed', `stream to ${this.peer ?? '?'} closed`));
      return;
    }
    this.logger.debug('stanza sent', { stanza: pending.label, peer: this.peer });
    this.options.handlers.onActivity(this);
    socket.write(pending.text, (error) => {
      if (error) pending.reject(new LinkError('stream-closed', `write to ${this.peer ?? '?'} failed: ${error.message}`, { cause: error }));
      else pending.resolve();
    });
  }

  private write(text: string): void {
    if (this.socket !== undefined && !this.socket.destroyed && this.socket.writable) this.socket.write(text);
  }

  /** Closed, or being dropped (nothing more it received may be handled). */
  private isClosed(): boolean {
    return this.currentState === 'closed' || this.dropped;
  }

  private clearTimer(which: 'header' | 'stanza' | 'close'): void {
    const key = `${which}Timer` as const;
    const timer = this[key];
    if (timer !== undefined) clearTimeout(timer);
    this[key] = undefined;
  }

  private finish(): void {
    if (this.currentState === 'closed') return;
    this.currentState = 'closed';
    this.clearTimer('header');
    this.clearTimer('stanza');
    this.clearTimer('close');
    this.releaseQueue(this.endReason);
    this.logger.debug('stream closed', { peer: this.peer, reason: this.endReason?.message });
    this.options.handlers.onClosed(this, this.endReason);
  }

  private releaseQueue(reason: LinkError | undefined): void {
    const unsent = this.takeQueue();
    if (unsent.length > 0) this.options.handlers.onUnsent(this, unsent, reason);
  }
}

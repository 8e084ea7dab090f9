import { EventEmitter, on } from 'node:events';
import net from 'node:net';
import type { CliqueError } from '../base/clique-error.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { XmlElement } from '../xml/xml-element.js';
import type { XmlLimits } from '../xml/xml-limits.js';
import { serializeElement } from '../xml/xml-serialize.js';
import { NS_CLIENT } from '../xml/namespaces.js';
import { buildIqErrorReply, buildTextMessage, isClientNamespace, isIqRequest, readTextMessage, type TextMessageKind } from '../xml/stanzas.js';
import { buildInvitationMessage, findInvite, invitationBody, readInvitation, type CliqueInvitation } from '../xml/invitation.js';
import type { Contact, ContactDirectory } from './contact.js';
import { ContactStreamPool } from './contact-stream-pool.js';
import { LinkError } from './link-error.js';
import { LinkListener } from './link-listener.js';
import { DEFAULT_LINK_TIMEOUTS, type LinkStream, type LinkTimeouts, type StreamDirection } from './link-stream.js';
import { DEFAULT_ADMISSION_LIMITS, type AdmissionLimits } from './stream-admission.js';
import { IqRouter, type IqHandler, type IqRequestOptions } from './iq-router.js';

export interface LinkLocalMessengerOptions {
  /** Our XEP-0174 instance name (`user@host`); a function if it can change (mDNS name conflicts). */
  selfName: string | (() => string);
  /** Who is out there: addresses and ports to connect to, and names for header-less (iChat) peers. */
  contacts: ContactDirectory;
  /**
   * Interface address: the listener binds it and outgoing connections are made
   * from it. Default: all interfaces (listener) and the system's choice (outgoing).
   */
  bindAddress?: string;
  /** Listener port; default 5298, else 5299, else any free port. 0 = any free port. */
  port?: number;
  timeouts?: Partial<LinkTimeouts>;
  xmlLimits?: Partial<XmlLimits>;
  /** Simultaneous incoming connections (default 64); shorthand for admission.maxIncoming. */
  maxConnections?: number;
  /** Limits on incoming connections per source address and for unknown sources (see AdmissionLimits). */
  admission?: Partial<AdmissionLimits>;
  /** Per stream: bytes waiting to be written before sends fail with 'queue-full' (default 4 MiB). */
  maxBufferedBytes?: number;
  /**
   * Answers iq requests (get/set), before any added with handleIq. Return a
   * reply element (its `id`, `to` and `from` are filled in if missing), a
   * promise of one, or undefined to let the default `service-unavailable` error go out.
   */
  iqHandler?: IqHandler;
  logger?: Logger;
}

export interface ChatMessageEvent {
  /** The contact who sent it (the stream's identified peer). */
  from: string;
  kind: TextMessageKind;
  text: string;
  /** The stanza's `type` as received (`chat`, `normal`, missing for iChat's final message...). */
  type: string | undefined;
  /** Local receive time: the protocol carries no timestamps. */
  receivedAt: Date;
  stanza: XmlElement;
}

export interface InvitationEvent {
  from: string;
  invitation: CliqueInvitation;
  receivedAt: Date;
  stanza: XmlElement;
}

export interface StanzaEvent {
  from: string;
  stanza: XmlElement;
}

export interface StreamEvent {
  contact: string;
  direction: StreamDirection;
  /** Why a stream ended early; absent for orderly closes. */
  reason?: CliqueError;
}

export interface LinkLocalMessengerEvents {
  /** A 1-1 text message (normal, /me action, or notice). */
  message: [ChatMessageEvent];
  /** A valid Clique room invitation. */
  invitation: [InvitationEvent];
  /** Any other stanza from an identified peer (presence, body-less messages, iq results...). */
  stanza: [StanzaEvent];
  'stream-opened': [StreamEvent];
  'stream-closed': [StreamEvent];
  /** Non-fatal problems; only emitted if someone listens (an unheard 'error' must not crash the process). */
  error: [CliqueError];
}

export interface SendMessageOptions {
  /** Default 'normal'; 'action' is sent as `/me ` + text, 'notice' as type="normal". */
  kind?: TextMessageKind;
}

export type InvitationToSend = Omit<CliqueInvitation, 'extensions' | 'reason'> & Partial<Pick<CliqueInvitation, 'extensions' | 'reason'>>;

/**
 * XEP-0174 messaging: the TCP listener, one stream per contact, 1-1 chat and
 * Clique invitations.
 *
 *   const link = new LinkLocalMessenger({ selfName: () => presence.name, contacts: presence.contacts, bindAddress });
 *   const { port } = await link.start();          // publish this port in _presence._tcp
 *   link.on('message', (m) => ...);               // or: for await (const m of link.messages()) ...
 *   await link.sendMessage('bob@desk', 'hi');     // resolves once written to the socket
 *   await link.sendInvitation('bob@desk', { room: 'lunch', address: '239.255.71.23', port: 40123 });
 *   await link.stop();
 *
 * Safety deviation from salut/wocky: a stanza's `from` is accepted only if it
 * names the stream's identified peer (salut trusts any `from`, quirk 12);
 * stanzas claiming someone else are dropped.
 */
export class LinkLocalMessenger extends EventEmitter<LinkLocalMessengerEvents> {
  private readonly logger: Logger;
  private readonly timeouts: LinkTimeouts;
  private readonly admission: AdmissionLimits;
  private readonly pool: ContactStreamPool;
  private readonly selfNameOf: () => string;
  private listener: LinkListener | undefined;
  private state: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';
  private readonly lifetime = new AbortController();
  private readonly iqs: IqRouter;

  constructor(private readonly options: LinkLocalMessengerOptions) {
    super();
    const name = options.selfName;
    this.selfNameOf = typeof name === 'function' ? name : () => name;
    this.logger = (options.logger ?? silentLogger).child('xmpp-link');
    this.timeouts = { ...DEFAULT_LINK_TIMEOUTS, ...options.timeouts };
    this.admission = {
      ...DEFAULT_ADMISSION_LIMITS,
      ...(options.maxConnections !== undefined ? { maxIncoming: options.maxConnections } : {}),
      ...options.admission,
    };
    this.iqs = new IqRouter(this.logger);
    if (options.iqHandler !== undefined) this.iqs.addHandler(options.iqHandler);
    this.pool = new ContactStreamPool({
      selfName: this.selfNameOf,
      contacts: options.contacts,
      ...(options.bindAddress !== undefined ? { bindAddress: options.bindAddress } : {}),
      timeouts: this.timeouts,
      admission: this.admission,
      xmlLimits: options.xmlLimits ?? {},
      maxBufferedBytes: options.maxBufferedBytes ?? 4 * 1024 * 1024,
      logger: this.logger,
      onStanza: (peer, stanza, stream) => this.onStanza(peer, stanza, stream),
      onStreamOpened: (contact, direction) => this.safeEmit('stream-opened', { contact, direction }),
      onStreamClosed: (contact, direction, reason) => this.safeEmit('stream-closed', reason === undefined ? { contact, direction } : { contact, direction, reason }),
    });
  }

  get selfName(): string {
    return this.selfNameOf();
  }

  /** The listener's port (what `_presence._tcp` must advertise); undefined before start. */
  get port(): number | undefined {
    return this.listener?.port;
  }

  /** Binds the listener. Resolves with the bound address and port. */
  async start(): Promise<{ address: string; port: number }> {
    if (this.state !== 'idle') throw new LinkError('invalid-argument', `cannot start a messenger that is ${this.state}`);
    this.state = 'starting';
    try {
      this.listener = await LinkListener.listen({
        ...(this.options.bindAddress !== undefined ? { host: this.options.bindAddress } : {}),
        ...(this.options.port !== undefined ? { port: this.options.port } : {}),
        // The pool decides who gets a slot; this only bounds sockets in the kernel, closing ones included.
        maxConnections: this.admission.maxIncoming * 4,
        onConnection: (socket) => {
          if (this.state !== 'running') socket.destroy();
          else this.pool.acceptSocket(socket);
        },
        logger: this.logger,
      });
    } catch (error) {
      this.state = 'idle';
      throw error;
    }
    this.state = 'running';
    return { address: this.listener.host, port: this.listener.port };
  }

  /** Closes every stream (with `</stream:stream>`), rejects pending sends with 'stopped', stops listening. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.lifetime.abort();
    this.iqs.close(new LinkError('stopped', 'the link-local messenger stopped'));
    await this.pool.closeAll();
    await this.listener?.close();
  }

  /**
   * Sends a 1-1 text message (`type="chat"`, or `normal` for notices, §6.7).
   * Resolves once written to the socket; rejects with a LinkError
   * ('unknown-contact', 'unreachable', 'connect-timeout', 'stream-closed', ...).
   */
  async sendMessage(contact: string | Contact, text: string, options: SendMessageOptions = {}): Promise<void> {
    const to = contactName(contact);
    const stanza = buildTextMessage({ context: 'chat', kind: options.kind ?? 'normal', text, from: this.selfName, to });
    await this.sendStanza(to, stanza);
  }

  /** Sends a Clique room invitation (§5.1). The address must be an IP literal, the port 1..65535. */
  async sendInvitation(contact: string | Contact, invitation: InvitationToSend): Promise<void> {
    if (invitation.room === '') throw new LinkError('invalid-argument', 'room name must not be empty');
    if (net.isIP(invitation.address) === 0) throw new LinkError('invalid-argument', `invitation address ${JSON.stringify(invitation.address)} is not an IP literal`);
    if (!Number.isInteger(invitation.port) || invitation.port < 1 || invitation.port > 65535) {
      throw new LinkError('invalid-argument', `invitation port ${invitation.port} out of range`);
    }
    const to = contactName(contact);
    // The body is for clients without Clique: it says how to join (salut ignores it, §5.3).
    await this.sendStanza(to, buildInvitationMessage(invitation, { from: this.selfName, to }, invitationBody(invitation, this.selfName)));
  }

  /**
   * Sends any stanza to a contact; `from` and `to` are stamped if missing
   * (salut stamps both on everything, §6.4). Messages to ourselves are
   * delivered locally, as salut's loopback stream does.
   */
  async sendStanza(contact: string | Contact, stanza: XmlElement): Promise<void> {
    if (this.state !== 'running') throw new LinkError(this.state === 'stopped' ? 'stopped' : 'not-started', `link-local messenger is ${this.state}`);
    const to = contactName(contact);
    const stamped = stanza.clone(); // the caller's element is left as it was
    if (stamped.getAttr('from') === undefined) stamped.setAttr('from', this.selfName);
    if (stamped.getAttr('to') === undefined) stamped.setAttr('to', to);
    if (to === this.selfName) {
      setImmediate(() => this.handleStanza(to, stamped));
      return;
    }
    await this.pool.send(to, serializeElement(stamped, { parentNamespace: NS_CLIENT }), stamped.name);
  }

  /**
   * Sends an iq request (get/set) and resolves with the contact's `result`
   * answer; rejects with IqErrorAnswer on an `error` answer, 'iq-timeout',
   * 'iq-aborted', or the send's own LinkError. The request's id is replaced by
   * a fresh unguessable one.
   */
  async requestIq(contact: string | Contact, request: XmlElement, options: IqRequestOptions = {}): Promise<XmlElement> {
    const to = contactName(contact);
    const stanza = request.clone();
    const id = this.iqs.newId();
    stanza.setAttr('id', id);
    const answer = this.iqs.expect(to, id, options);
    this.sendStanza(to, stanza).catch((error: unknown) => this.iqs.fail(id, error instanceof Error ? error : new LinkError('stream-closed', String(error))));
    return answer;
  }

  /**
   * Adds a handler for incoming iq requests; the first handler that returns
   * something answers. Returns the function that removes it.
   */
  handleIq(handler: IqHandler): () => void {
    return this.iqs.addHandler(handler);
  }

  /**
   * Keeps the stream to a contact open (e.g. while a chat window is open)
   * until the returned function is called; unheld streams close after
   * `timeouts.idleMs` without traffic.
   */
  holdStream(contact: string | Contact): () => void {
    return this.pool.hold(contactName(contact));
  }

  /** Live streams to a contact (diagnostics and tests). */
  streamsOf(contact: string | Contact): ReadonlyArray<Pick<LinkStream, 'id' | 'direction' | 'state' | 'remoteAddress' | 'localAddress'>> {
    return this.pool.streamsOf(contactName(contact));
  }

  /**
   * The addresses of an open stream with a contact: `remote` is where the
   * contact's connections come from (§7.5 step 7), `local` the host of URLs
   * we hand it (§8.1). Undefined while no stream is open.
   */
  streamAddresses(contact: string | Contact): { local: string; remote: string } | undefined {
    for (const stream of this.pool.streamsOf(contactName(contact))) {
      if (stream.state === 'open' && stream.localAddress !== undefined && stream.remoteAddress !== undefined) {
        return { local: stream.localAddress, remote: stream.remoteAddress };
      }
    }
    return undefined;
  }

  /** Incoming connections held now, against the admission limits (diagnostics and tests). */
  incomingConnections(): { total: number; unknown: number; sources: number } {
    return this.pool.incomingCounts();
  }

  /** Incoming 1-1 messages as an async iterator; ends when the messenger stops or `signal` aborts. */
  messages(signal?: AbortSignal): AsyncGenerator<ChatMessageEvent> {
    return this.iterate('message', signal);
  }

  /** Incoming invitations as an async iterator; ends when the messenger stops or `signal` aborts. */
  invitations(signal?: AbortSignal): AsyncGenerator<InvitationEvent> {
    return this.iterate('invitation', signal);
  }

  private async *iterate<K extends 'message' | 'invitation'>(event: K, signal?: AbortSignal): AsyncGenerator<LinkLocalMessengerEvents[K][0]> {
    const combined = signal === undefined ? this.lifetime.signal : AbortSignal.any([signal, this.lifetime.signal]);
    try {
      for await (const [value] of on(this, event, { signal: combined })) yield value as LinkLocalMessengerEvents[K][0];
    } catch (error) {
      if (!(error instanceof Error && error.name === 'AbortError')) throw error;
    }
  }

  private onStanza(peer: string, stanza: XmlElement, _stream: LinkStream): void {
    const from = stanza.getAttr('from');
    // Our safe deviation: a stanza may not claim to come from someone other than the stream's peer.
    if (from !== undefined && from !== '' && from !== peer) {
      this.logger.debug('dropping stanza with a from that is not the stream peer', { stanza: stanza.name, from, peer });
      return;
    }
    this.handleStanza(peer, stanza);
  }

  private handleStanza(peer: string, stanza: XmlElement): void {
    try {
      this.dispatchStanza(peer, stanza);
    } catch (error) {
      // A listener that throws must not take the stream (or the process) down with it.
      this.logger.warn('stanza handler failed', { stanza: stanza.name, from: peer, error: error instanceof Error ? error.message : String(error) });
    }
  }

  private dispatchStanza(peer: string, stanza: XmlElement): void {
    if (!isClientNamespace(stanza)) {
      this.emit('stanza', { from: peer, stanza });
      return;
    }
    if (stanza.name === 'message') {
      // Invitations are consumed before any text handling, even when invalid (§5.3).
      if (findInvite(stanza) !== undefined) {
        this.onInvitation(peer, stanza);
        return;
      }
      const text = readTextMessage(stanza);
      if (text !== undefined) {
        this.logger.debug('chat message', { from: peer, kind: text.kind });
        this.emit('message', { from: peer, kind: text.kind, text: text.text, type: text.type, receivedAt: new Date(), stanza });
        return;
      }
    } else if (stanza.name === 'iq') {
      this.onIq(peer, stanza);
      return;
    }
    this.emit('stanza', { from: peer, stanza });
  }

  private onInvitation(peer: string, stanza: XmlElement): void {
    const result = readInvitation(stanza);
    if (result === undefined) return;
    if (!result.ok) {
      this.logger.debug('dropping invalid invitation', { from: peer, reason: result.reason });
      return;
    }
    if (net.isIP(result.invitation.address) === 0) {
      this.logger.debug('dropping invitation whose address is not an IP literal', { from: peer, address: result.invitation.address });
      return;
    }
    this.logger.debug('invitation', { from: peer, room: result.invitation.room });
    this.emit('invitation', { from: peer, invitation: result.invitation, receivedAt: new Date(), stanza });
  }

  private onIq(peer: string, stanza: XmlElement): void {
    if (!isIqRequest(stanza)) {
      if (!this.iqs.takeAnswer(stanza, peer)) this.emit('stanza', { from: peer, stanza });
      return;
    }
    const id = stanza.getAttr('id');
    if (id === undefined) {
      this.logger.debug('ignoring iq request without id', { from: peer });
      return;
    }
    void this.iqs.answer(stanza, peer).then((answer) => {
      let reply = answer;
      if (reply !== undefined) {
        if (reply.getAttr('id') === undefined) reply.setAttr('id', id);
      } else {
        reply = buildIqErrorReply(stanza, { from: this.selfName, to: peer });
      }
      if (reply === undefined || this.state !== 'running') return;
      this.sendStanza(peer, reply).catch((error: unknown) => this.report(error, 'iq reply failed'));
    });
  }

  /** Emits without letting a throwing listener break the stream that caused the event. */
  private safeEmit<K extends 'stream-opened' | 'stream-closed'>(event: K, value: StreamEvent): void {
    try {
      (this.emit as (name: K, arg: StreamEvent) => boolean)(event, value);
    } catch (error) {
      this.logger.warn(`${event} listener failed`, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  private report(error: unknown, what: string): void {
    this.logger.debug(what, { error: error instanceof Error ? error.message : String(error) });
    if (this.listenerCount('error') > 0 && error instanceof LinkError) this.emit('error', error);
  }
}

function contactName(contact: string | Contact): string {
  return typeof contact === 'string' ? contact : contact.name;
}

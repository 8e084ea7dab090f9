import { EventEmitter } from 'node:events';
import { userInfo } from 'node:os';
import type { CliqueError } from '../base/clique-error.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { waitFor, type WaitOptions } from '../base/wait-for.js';
import type { TextMessageKind } from '../xml/stanzas.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { IqHandler, IqRequestOptions } from './iq-router.js';
import type { Contact, ContactDirectory, PresenceStatus } from './contact.js';
import { LinkError } from './link-error.js';
import {
  LinkLocalMessenger,
  type ChatMessageEvent,
  type InvitationEvent,
  type InvitationToSend,
  type StreamEvent,
} from './link-local-messenger.js';
import { LinkLocalServiceError } from './link-local-service-error.js';
import type { LinkTimeouts } from './link-stream.js';
import { checkInstanceLabel, type MdnsTtls } from '../mdns/records.js';
import { MdnsResponder } from '../mdns/responder.js';
import { defaultInterfaceAddress } from '../mdns/transport.js';
import { localHostLabel } from './presence-publisher.js';
import { LinkLocalPresence } from './presence-service.js';
import type { PresenceInfo } from './presence-txt.js';
import type { RoomAddress } from './room-advertiser.js';
import { RoomDirectory } from './room-directory.js';

export interface LinkLocalServiceOptions {
  /**
   * Our XEP-0174 name: `user@host`, or just `user` (host = this machine's
   * host name). Default `<login>@<host>`. On a name conflict the service
   * renames itself (`user-2@host`); read `name` after start.
   */
  name?: string;
  /**
   * False: never rename; if our name is already in use, `start()` rejects
   * with MdnsError 'mdns-name-in-use' (for a name the user asked for
   * explicitly). Default true.
   */
  rename?: boolean;
  nick?: string;
  first?: string;
  last?: string;
  email?: string;
  jid?: string;
  /** Default 'avail'. */
  status?: PresenceStatus;
  /** Status message (`msg`). */
  message?: string;
  /**
   * IPv4 address of the interface to use: mDNS is pinned to it, the TCP
   * listener binds it and outgoing connections leave from it. Default: the
   * first non-loopback IPv4 interface. Tests pass '127.0.0.1'.
   */
  interface?: string;
  /** TCP listener port: default 5298, else 5299, else any free port; 0 = any free port. */
  port?: number;
  /**
   * A contact that has just come online may drop our first stream because it
   * has not processed our mDNS announcement yet (it only talks to contacts it
   * knows, §6.5). Sends whose stream was refused before it opened are retried
   * for this long (default 3000 ms; announcements repeat after 1 s).
   */
  unknownToPeerRetryMs?: number;
  timeouts?: Partial<LinkTimeouts>;
  ttls?: MdnsTtls;
  logger?: Logger;
}

export interface LinkLocalServiceEvents {
  /** A 1-1 text message (normal, /me action, or notice). */
  message: [ChatMessageEvent];
  /** A valid Clique room invitation. */
  invitation: [InvitationEvent];
  'contact-added': [contact: Contact];
  /** Status, message, alias, addresses or port changed. */
  'contact-updated': [contact: Contact, previous: Contact];
  'contact-removed': [contact: Contact];
  'room-added': [room: RoomAddress];
  'room-updated': [room: RoomAddress, previous: RoomAddress];
  'room-removed': [room: RoomAddress];
  /** Someone else holds our name: we now publish (and send) as `name`. */
  'name-changed': [name: string, previous: string];
  /**
   * Someone at `from` announced our name. We probe to defend it (RFC 6762 §9)
   * and keep it unless that host answers our probes; then 'name-changed' follows.
   */
  'name-contested': [name: string, from: string];
  /** Non-fatal problems; emitted only if someone listens. */
  error: [CliqueError];
}

/** The library's one `WaitOptions` (here `timeoutMs` defaults to 5000 ms). */
export type { WaitOptions };

export interface InvitationRequest {
  room: string;
  /** The room's multicast group (IP literal). */
  address: string;
  port: number;
  reason?: string;
}

const DEFAULT_WAIT_MS = 5000;
const DEFAULT_UNKNOWN_TO_PEER_RETRY_MS = 3000;
/** How many names an error message lists before summarising. */
const MAX_NAMES_IN_ERROR = 10;

/** The login name as a publishable label (control characters replaced; dots are fine, RFC 6763 §4.3). */
export function defaultUserName(): string {
  let login: string;
  try {
    login = userInfo().username;
  } catch {
    // No passwd entry (some containers).
    login = process.env['USER'] ?? process.env['USERNAME'] ?? '';
  }
  // eslint-disable-next-line no-control-regex
  const cleaned = login.replace(/[\u0000-\u001f\u007f]/g, '-');
  return cleaned === '' ? 'clique' : cleaned;
}

/** `<login>@<host>` (spec §1), host name without domain. */
export function defaultSelfName(): string {
  return `${defaultUserName()}@${localHostLabel()}`;
}

/** `alice@laptop` → user 'alice', host 'laptop'; `alice` → host undefined (this machine). Throws MdnsError 'mdns-name'. */
export function splitSelfName(name: string): { user: string; host?: string } {
  const at = name.lastIndexOf('@');
  if (at < 0) {
    checkInstanceLabel(name, 'name');
    checkInstanceLabel(`${name}@${localHostLabel()}`, 'name');
    return { user: name };
  }
  const user = name.slice(0, at);
  const host = name.slice(at + 1).replace(/\.local\.?$/i, '');
  checkInstanceLabel(user, `user part of ${JSON.stringify(name)}`);
  checkInstanceLabel(host, `host part of ${JSON.stringify(name)}`);
  // The whole `user@host` is one instance label, 63 bytes at most.
  checkInstanceLabel(`${user}@${host}`, 'name');
  return { user, host };
}

/**
 * Us on the link-local network, in one object: the XEP-0174 TCP listener,
 * our `_presence._tcp` publication, the contact list, the room list and
 * 1-1 messages and invitations.
 *
 *   const me = await LinkLocalService.start({ nick: 'Alice', interface: '192.168.1.20' });
 *   me.name;                                             // 'alice@laptop'
 *   me.on('message', (m) => console.log(`${m.from}: ${m.text}`));
 *   const bob = await me.waitForContact('bob@desk');
 *   await me.sendMessage(bob, 'lunch?');
 *   await me.sendInvitation(bob, { room: 'lunch', address: '239.255.71.23', port: 40123 });
 *   me.setStatus('away', 'eating');
 *   await me.stop();                                     // closes streams, then mDNS goodbyes
 */
export class LinkLocalService extends EventEmitter<LinkLocalServiceEvents> {
  private stopping: Promise<void> | undefined;
  private readonly lifetime = new AbortController();
  private readonly logger: Logger;

  private constructor(
    private readonly messenger: LinkLocalMessenger,
    private readonly presence: LinkLocalPresence,
    private readonly responder: MdnsResponder,
    /** The room list of the link (ours included). Do not close it: `stop()` does. */
    readonly rooms: RoomDirectory,
    /** The interface address everything is bound to. */
    readonly interfaceAddress: string,
    private readonly retryMs: number,
    logger: Logger,
  ) {
    super();
    this.logger = logger.child('service');
    messenger.on('message', (m) => this.emit('message', m));
    messenger.on('invitation', (i) => this.emit('invitation', i));
    messenger.on('error', (e) => this.emitError(e));
    presence.on('contact-added', (c) => this.emit('contact-added', c));
    presence.on('contact-updated', (c, p) => this.emit('contact-updated', c, p));
    presence.on('contact-removed', (c) => this.emit('contact-removed', c));
    presence.on('name-changed', (n, p) => this.emit('name-changed', n, p));
    presence.on('name-contested', (n, from) => this.emit('name-contested', n, from));
    presence.on('error', (e) => this.emitError(e as CliqueError));
    rooms.on('room-added', (r) => this.emit('room-added', r));
    rooms.on('room-updated', (r, p) => this.emit('room-updated', r, p));
    rooms.on('room-removed', (r) => this.emit('room-removed', r));
  }

  /**
   * Opens mDNS on the interface, starts the TCP listener (to learn its
   * port), then publishes our presence with that port and starts browsing
   * people and rooms. Resolves once our name is probed and announced. Throws MdnsError ('mdns-name' for a bad
   * name, 'mdns-interface' for a bad interface) or LinkError ('listen-failed').
   */
  static async start(options: LinkLocalServiceOptions = {}): Promise<LinkLocalService> {
    const logger = options.logger ?? silentLogger;
    const { user, host } = splitSelfName(options.name ?? defaultSelfName());
    const interfaceAddress = options.interface ?? defaultInterfaceAddress();
    const info: Partial<PresenceInfo> = { status: options.status ?? 'avail' };
    for (const key of ['nick', 'first', 'last', 'email', 'jid', 'message'] as const) {
      const value = options[key];
      if (value !== undefined && value !== '') info[key] = value;
    }

    // The messenger needs the contact list and our name, which exist only once
    // presence is published, and presence needs the messenger's port: forward.
    let presence: LinkLocalPresence | undefined;
    const provisionalName = host === undefined ? `${user}@${localHostLabel()}` : `${user}@${host}`;
    const contacts: ContactDirectory = {
      get: (name) => presence?.contacts.get(name),
      findByAddress: (address) => presence?.contacts.findByAddress(address),
      list: () => presence?.contacts.list() ?? [],
    };
    const messenger = new LinkLocalMessenger({
      selfName: () => presence?.name ?? provisionalName,
      contacts,
      bindAddress: interfaceAddress,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.timeouts !== undefined ? { timeouts: options.timeouts } : {}),
      logger,
    });
    let responder: MdnsResponder | undefined;
    let rooms: RoomDirectory | undefined;
    try {
      // mDNS first: it checks that the interface exists and gives the clearer error.
      responder = await MdnsResponder.open({ interface: interfaceAddress, logger });
      const { port } = await messenger.start();
      const shared = { interface: interfaceAddress, responder, logger, ...(options.ttls !== undefined ? { ttls: options.ttls } : {}) };
      rooms = await RoomDirectory.open(shared);
      presence = await LinkLocalPresence.start({
        ...shared,
        user,
        ...(host !== undefined ? { host } : {}),
        ...(options.rename !== undefined ? { rename: options.rename } : {}),
        port,
        info,
      });
      return new LinkLocalService(
        messenger,
        presence,
        responder,
        rooms,
        interfaceAddress,
        options.unknownToPeerRetryMs ?? DEFAULT_UNKNOWN_TO_PEER_RETRY_MS,
        logger,
      );
    } catch (error) {
      await messenger.stop();
      await presence?.stop();
      await rooms?.close();
      await responder?.close();
      throw error;
    }
  }

  /** Our XEP-0174 instance name (`user@host`), after any conflict renames. */
  get name(): string {
    return this.presence.name;
  }

  /** The TCP listener's port (published in SRV and `port.p2pj`). */
  get port(): number {
    return this.messenger.port ?? 0;
  }

  /** What we publish about ourselves (status, message, nick, ...). */
  get info(): PresenceInfo {
    return this.presence.info;
  }

  /** Everyone else on the link, live; changes arrive as contact-added/updated/removed events. */
  get contacts(): ContactDirectory {
    return this.presence.contacts;
  }

  /** Resolves with the contact as soon as it is on the link (with an address and port); gives up after 5000 ms unless told otherwise. */
  waitForContact(name: string, options: WaitOptions = {}): Promise<Contact> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    return this.waitFor(
      () => {
        const contact = this.contacts.get(name);
        return contact !== undefined && contact.addresses.length > 0 && contact.port > 0 ? contact : undefined;
      },
      ['contact-added', 'contact-updated'],
      options.signal,
      timeoutMs,
      () =>
        new LinkLocalServiceError(
          'contact-not-seen',
          `no contact ${JSON.stringify(name)} on the network after ${timeoutMs} ms (${listNames(this.contacts.list().map((c) => c.name), 'contacts')})`,
        ),
    );
  }

  /** Resolves with the room's address as soon as a room of that name is advertised on the link; gives up after 5000 ms unless told otherwise. */
  waitForRoom(name: string, options: WaitOptions = {}): Promise<RoomAddress> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
    return this.waitFor(
      () => this.rooms.get(name),
      ['room-added', 'room-updated'],
      options.signal,
      timeoutMs,
      () =>
        new LinkLocalServiceError(
          'room-not-seen',
          `no room ${JSON.stringify(name)} advertised on the network after ${timeoutMs} ms (${listNames(this.rooms.list().map((r) => r.name), 'rooms')})`,
        ),
    );
  }

  /**
   * Sends a 1-1 message (§6.7): `kind` 'action' is `/me …`, 'notice' is
   * type="normal". Resolves once written to the contact's TCP stream.
   */
  sendMessage(contact: string | Contact, text: string, options: { kind?: TextMessageKind } = {}): Promise<void> {
    return this.deliver(contactName(contact), () => this.messenger.sendMessage(contact, text, options));
  }

  /** Sends a Clique room invitation (§5.1). Resolves once written. */
  sendInvitation(contact: string | Contact, invitation: InvitationRequest): Promise<void> {
    const toSend: InvitationToSend = { room: invitation.room, address: invitation.address, port: invitation.port };
    if (invitation.reason !== undefined) toSend.reason = invitation.reason;
    return this.deliver(contactName(contact), () => this.messenger.sendInvitation(contact, toSend));
  }

  /**
   * Sends an iq request to a contact and resolves with its `result` answer
   * (rejects with IqErrorAnswer on an `error` answer, or a LinkError).
   */
  requestIq(contact: string | Contact, request: XmlElement, options: IqRequestOptions = {}): Promise<XmlElement> {
    return this.messenger.requestIq(contact, request, options);
  }

  /** Adds a handler for incoming iq requests (tubes, files); returns the function that removes it. */
  handleIq(handler: IqHandler): () => void {
    return this.messenger.handleIq(handler);
  }

  /**
   * The addresses of an open XEP-0174 stream with a contact: `remote` is where
   * the contact's connections come from (§7.5 step 7), `local` the host of
   * URLs we hand it (§8.1). Undefined while no stream is open.
   */
  streamAddresses(contact: string | Contact): { local: string; remote: string } | undefined {
    return this.messenger.streamAddresses(contact);
  }

  /** Keeps the stream to a contact open until the returned function is called. */
  holdStream(contact: string | Contact): () => void {
    return this.messenger.holdStream(contact);
  }

  /** Incoming 1-1 messages; the iterator ends at `stop()` or when `signal` aborts. */
  messages(signal?: AbortSignal): AsyncGenerator<ChatMessageEvent> {
    return this.messenger.messages(signal);
  }

  /** Incoming invitations; the iterator ends at `stop()` or when `signal` aborts. */
  invitations(signal?: AbortSignal): AsyncGenerator<InvitationEvent> {
    return this.messenger.invitations(signal);
  }

  /** Publishes a new status and sets (or, without a message, removes) the status message. */
  setStatus(status: PresenceStatus, message?: string): void {
    this.presence.setStatus(status, message);
  }

  /** Publishes a nickname, or removes it with undefined/''. */
  setNick(nick: string | undefined): void {
    this.presence.setNick(nick);
  }

  /**
   * Goes offline: closes every TCP stream gracefully (so messages already
   * written are read by the peers before they see us leave), then sends mDNS
   * goodbyes for our presence and our advertised rooms.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Waits still pending end with this reason (see waitFor).
      this.lifetime.abort(new LinkLocalServiceError('stopped', 'the link-local service stopped while waiting'));
      await this.messenger.stop();
      await this.presence.stop();
      await this.rooms.close();
      await this.responder.close();
      this.removeAllListeners();
    })();
    return this.stopping;
  }

  /**
   * Runs one send; if the contact refused the stream before opening it
   * (typically: it has not seen our announcement yet, so it cannot tell who
   * we are), tries again for a while. Nothing was written to a stream that
   * never opened, so a retry cannot duplicate the stanza; as soon as any
   * stream with the contact has opened, failures are final.
   */
  private async deliver(to: string, send: () => Promise<void>): Promise<void> {
    const deadline = Date.now() + this.retryMs;
    for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
      let opened = false;
      const onOpened = (event: StreamEvent): void => {
        if (event.contact === to) opened = true;
      };
      this.messenger.on('stream-opened', onOpened);
      try {
        await send();
        return;
      } catch (error) {
        const retry =
          error instanceof LinkError &&
          error.code === 'stream-closed' &&
          !opened &&
          !this.lifetime.signal.aborted &&
          Date.now() + delay < deadline;
        if (!retry) throw error;
        this.logger.debug('stream refused before it opened; the contact may not know us yet, retrying', { to, delay });
      } finally {
        this.messenger.off('stream-opened', onOpened);
      }
      await sleep(delay, this.lifetime.signal);
    }
  }

  /** The base `waitFor` on our events, also ended by `stop()` (with the 'stopped' error the lifetime signal carries). */
  private waitFor<T>(
    find: () => T | undefined,
    events: Array<keyof LinkLocalServiceEvents>,
    signal: AbortSignal | undefined,
    timeoutMs: number,
    notSeen: () => LinkLocalServiceError,
  ): Promise<T> {
    if (this.lifetime.signal.aborted) {
      const found = find();
      return found !== undefined ? Promise.resolve(found) : Promise.reject(new LinkLocalServiceError('stopped', 'the link-local service is stopped'));
    }
    return waitFor({
      emitter: this,
      check: find,
      events,
      timeoutMs,
      timeoutError: notSeen,
      signal: signal === undefined ? this.lifetime.signal : AbortSignal.any([signal, this.lifetime.signal]),
    });
  }

  private emitError(error: CliqueError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.logger.debug('error', { code: error.code, error: error.message });
  }
}

function contactName(contact: string | Contact): string {
  return typeof contact === 'string' ? contact : contact.name;
}

function listNames(names: string[], what: string): string {
  if (names.length === 0) return `no ${what} seen`;
  const sorted = [...names].sort();
  const shown = sorted.slice(0, MAX_NAMES_IN_ERROR).join(', ');
  return sorted.length > MAX_NAMES_IN_ERROR ? `${what} seen: ${shown} and ${sorted.length - MAX_NAMES_IN_ERROR} more` : `${what} seen: ${shown}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

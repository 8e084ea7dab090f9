import { EventEmitter } from 'node:events';
import net from 'node:net';
import { errorText } from '../base/error-text.js';
import { emitSafely } from '../base/emit-safely.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { CryptoRandom, randomInRange, type RandomSource } from '../base/random.js';
import type { IqAnswer } from '../linklocal/iq-router.js';
import { buildIq, buildIqError } from '../xml/stanzas.js';
import type { XmlElement } from '../xml/xml-element.js';
import { buildContactTubeClose, buildContactTubeOffer, isContactTubeIq, readContactTubeIq, type ContactTubeOffer } from './contact-tube-iq.js';
import { RoomTubesError } from './room-tubes-error.js';
import { ConnectionBudget, isAdvertisedAddress } from './stream-tube-guard.js';
import { TcpRelay } from './tcp-relay.js';
import { connectHalfOpen, type TubeLink } from './tube-link.js';
import type { TubeParameter, TubeParameters } from './tube-types.js';

/** An open 1-1 stream tube. */
export interface ContactTubeInfo {
  contact: string;
  id: number;
  service: string;
  /** `outgoing`: we offered our service; `incoming`: we accepted the contact's. */
  direction: 'outgoing' | 'incoming';
  parameters: TubeParameters;
  /** outgoing: where the contact connects (our port); incoming: where our applications connect. */
  host: string;
  port: number;
}

/** A tube a contact offers us, waiting for accept() or decline(). */
export interface ContactTubeInvite {
  contact: string;
  id: number;
  service: string;
  parameters: TubeParameters;
  receivedAt: Date;
}

export type ContactTubeCloseReason = 'closed' | 'closed-by-contact' | 'stopped';

export interface ContactStreamTubesEvents {
  'tube-offered': [invite: ContactTubeInvite];
  'tube-closed': [tube: ContactTubeInfo, reason: ContactTubeCloseReason];
}

export interface ContactStreamTubesOptions {
  logger?: Logger;
  random?: RandomSource;
  /** Where we listen for a contact's connections to our offers (default: the link's interface address). */
  listenHost?: string;
  /** How long an offer waits for the contact's answer, and an invite for ours (default 5 minutes). */
  answerTimeoutMs?: number;
  /** Invites waiting for an answer at once, from everyone (default 32): a flood of offers costs only this. */
  maxInvites?: number;
  /** Connections through one tube at once (default 64). */
  maxConnectionsPerTube?: number;
  /** For each TCP connection we make (default 10 s). */
  connectTimeoutMs?: number;
}

export interface OfferContactTubeOptions {
  service: string;
  /** The local service the contact reaches. */
  target: { host: string; port: number };
  parameters?: TubeParameters | Readonly<Record<string, TubeParameter>>;
  signal?: AbortSignal;
}

interface OpenTube {
  info: ContactTubeInfo;
  /** Lets the XML stream with the contact close again (it is held while the tube is open). */
  release: () => void;
  server: net.Server;
  relays: Set<TcpRelay>;
  budget: ConnectionBudget;
}

interface PendingInvite {
  invite: ContactTubeInvite;
  port: number;
  answer: (reply: XmlElement) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * 1-1 stream tubes (spec §7.6, the documented iq form), both directions.
 * Offering listens on our interface for the contact (only from its
 * advertised addresses) and relays each connection to a local service;
 * accepting listens locally and relays each application connection to the
 * contact's port at the address of our XML stream with it (never anywhere
 * else). Salut compiles this protocol but leaves it disabled, so its
 * members answer `service-unavailable`; between clique peers it works.
 *
 *   const tubes = new ContactStreamTubes(link);
 *   tubes.on('tube-offered', (invite) => tubes.accept(invite.contact, invite.id));
 *   const info = await tubes.offer('bob@desk', { service: 'vnc', target: { host: '127.0.0.1', port: 5900 } });
 */
export class ContactStreamTubes extends EventEmitter<ContactStreamTubesEvents> {
  private readonly open = new Map<string, OpenTube>();
  private readonly invites = new Map<string, PendingInvite>();
  private readonly logger: Logger;
  private readonly random: RandomSource;
  private readonly answerTimeoutMs: number;
  private readonly removeHandler: () => void;
  private stopped = false;

  constructor(
    private readonly link: TubeLink & { readonly interfaceAddress?: string },
    private readonly options: ContactStreamTubesOptions = {},
  ) {
    super();
    this.logger = (options.logger ?? silentLogger).child('contact-tubes');
    this.random = options.random ?? new CryptoRandom();
    this.answerTimeoutMs = options.answerTimeoutMs ?? 5 * 60_000;
    this.removeHandler = link.handleIq((request, from) => (isContactTubeIq(request) ? this.onIq(request, from) : undefined));
  }

  /** Open tubes, both directions. */
  tubes(): ContactTubeInfo[] {
    return [...this.open.values()].map((t) => ({ ...t.info }));
  }

  /** Offers waiting for our answer. */
  pendingInvites(): ContactTubeInvite[] {
    return [...this.invites.values()].map((p) => p.invite);
  }

  /**
   * Offers a local service to a contact; resolves once the contact accepts.
   * Rejects with the contact's IqErrorAnswer (declined, or `service-unavailable`
   * from salut), or a LinkError (no answer in time, unreachable).
   */
  async offer(contact: string, options: OfferContactTubeOptions): Promise<ContactTubeInfo> {
    this.mustRun();
    if (typeof options.service !== 'string' || options.service === '') throw new RoomTubesError('bad-argument', 'a stream tube needs a service');
    const parameters: TubeParameters = options.parameters instanceof Map ? new Map(options.parameters) : new Map(Object.entries(options.parameters ?? {}));
    let id: number;
    do id = randomInRange(this.random, 1, 2_147_483_647);
    while (this.open.has(key(contact, id)));
    const server = await this.listen(this.options.listenHost ?? this.link.interfaceAddress ?? '0.0.0.0', 0);
    const bound = server.address() as net.AddressInfo;
    const info: ContactTubeInfo = { contact, id, service: options.service, direction: 'outgoing', parameters, host: bound.address, port: bound.port };
    const tube: OpenTube = { info, server, relays: new Set(), budget: this.budget(), release: () => undefined };
    server.on('connection', (socket) => void this.onContactConnection(tube, socket, options.target));
    const offer: ContactTubeOffer = { id, service: options.service, port: bound.port, parameters };
    try {
      await this.link.requestIq(contact, buildContactTubeOffer(offer), { timeoutMs: this.answerTimeoutMs, ...(options.signal !== undefined ? { signal: options.signal } : {}) });
    } catch (error) {
      server.close();
      throw error;
    }
    if (this.stopped) {
      server.close();
      throw new RoomTubesError('closed', 'stopped while the offer waited');
    }
    tube.release = this.link.holdStream?.(contact) ?? (() => undefined);
    this.open.set(key(contact, id), tube);
    this.logger.debug('1-1 tube accepted by the contact', { contact, id, service: options.service, port: bound.port });
    return { ...info };
  }

  /** Accepts a contact's offer: listens locally (default 127.0.0.1, any port) and answers `result`. */
  async accept(contact: string, id: number, listen: { host?: string; port?: number } = {}): Promise<ContactTubeInfo> {
    this.mustRun();
    const pending = this.invites.get(key(contact, id));
    if (pending === undefined) throw new RoomTubesError('unknown-tube', `${contact} offers no tube ${id}`);
    const server = await this.listen(listen.host ?? '127.0.0.1', listen.port ?? 0);
    if (this.invites.get(key(contact, id)) !== pending) {
      server.close();
      throw new RoomTubesError('unknown-tube', `the offer of tube ${id} by ${contact} expired`);
    }
    this.forgetInvite(pending);
    const bound = server.address() as net.AddressInfo;
    const info: ContactTubeInfo = { contact, id, service: pending.invite.service, direction: 'incoming', parameters: pending.invite.parameters, host: bound.address, port: bound.port };
    const tube: OpenTube = { info, server, relays: new Set(), budget: this.budget(), release: this.link.holdStream?.(contact) ?? (() => undefined) };
    server.on('connection', (socket) => void this.onApplicationConnection(tube, socket, pending.port));
    this.open.set(key(contact, id), tube);
    pending.answer(buildIq({ type: 'result', from: this.link.name, to: contact }));
    return { ...info };
  }

  /** Declines a contact's offer (`forbidden`, "Offer declined"). */
  decline(contact: string, id: number): boolean {
    const pending = this.invites.get(key(contact, id));
    if (pending === undefined) return false;
    this.forgetInvite(pending);
    pending.answer(buildIqError({ from: this.link.name, to: contact, condition: 'forbidden', errorType: 'cancel', text: 'Offer declined' }));
    return true;
  }

  /** Closes an open tube here and tells the contact (its answer is not awaited beyond the send). */
  async close(contact: string, id: number): Promise<boolean> {
    const tube = this.open.get(key(contact, id));
    if (tube === undefined) return false;
    this.teardown(tube, 'closed');
    await this.link.requestIq(contact, buildContactTubeClose(id), { timeoutMs: 10_000 }).catch((error: unknown) => {
      this.logger.debug('close not acknowledged', { contact, id, error: errorText(error) });
    });
    return true;
  }

  /** Closes everything (no close iqs: the streams are going away too). */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.removeHandler();
    for (const pending of [...this.invites.values()]) {
      this.forgetInvite(pending);
      pending.answer(buildIqError({ from: this.link.name, to: pending.invite.contact, condition: 'service-unavailable', errorType: 'cancel' }));
    }
    for (const tube of [...this.open.values()]) this.teardown(tube, 'stopped');
  }

  private onIq(request: XmlElement, from: string): IqAnswer {
    if (this.stopped) return undefined;
    const read = readContactTubeIq(request);
    if (read.kind === 'bad-request') {
      this.logger.debug('bad 1-1 tube iq', { from, why: read.why });
      return buildIqError({ from: this.link.name, to: from, condition: 'bad-request', errorType: 'modify' });
    }
    if (read.kind === 'close') {
      const tube = this.open.get(key(from, read.id));
      const invite = this.invites.get(key(from, read.id));
      if (tube === undefined && invite === undefined) return buildIqError({ from: this.link.name, to: from, condition: 'item-not-found', errorType: 'cancel' });
      if (tube !== undefined) this.teardown(tube, 'closed-by-contact');
      if (invite !== undefined) {
        this.forgetInvite(invite);
        invite.answer(buildIqError({ from: this.link.name, to: from, condition: 'item-not-found', errorType: 'cancel' }));
      }
      return buildIq({ type: 'result', from: this.link.name, to: from });
    }
    const { offer } = read;
    const k = key(from, offer.id);
    if (this.open.has(k) || this.invites.has(k)) return buildIqError({ from: this.link.name, to: from, condition: 'conflict', errorType: 'cancel', text: `tube ${offer.id} is already in use` });
    if (this.invites.size >= (this.options.maxInvites ?? 32)) return buildIqError({ from: this.link.name, to: from, condition: 'resource-constraint', errorType: 'wait', text: 'Too many offers waiting' });
    const invite: ContactTubeInvite = { contact: from, id: offer.id, service: offer.service, parameters: offer.parameters, receivedAt: new Date() };
    return new Promise<XmlElement>((resolve) => {
      const pending: PendingInvite = {
        invite,
        port: offer.port,
        answer: resolve,
        timer: setTimeout(() => {
          if (this.invites.get(k) !== pending) return;
          this.forgetInvite(pending);
          resolve(buildIqError({ from: this.link.name, to: from, condition: 'forbidden', errorType: 'cancel', text: 'Offer not answered' }));
        }, this.answerTimeoutMs),
      };
      this.invites.set(k, pending);
      this.logger.debug('1-1 tube offered to us', { from, id: offer.id, service: offer.service });
      emitSafely(this, this.logger, 'tube-offered', invite);
    });
  }

  /** The contact connects to our offer: only from its advertised addresses, then to our service. */
  private async onContactConnection(tube: OpenTube, socket: net.Socket, target: { host: string; port: number }): Promise<void> {
    socket.on('error', () => undefined);
    const advertised = this.link.contacts.get(tube.info.contact)?.addresses ?? [];
    if (socket.remoteAddress === undefined || !isAdvertisedAddress(socket.remoteAddress, advertised) || !this.open.has(key(tube.info.contact, tube.info.id))) {
      this.logger.info('dropping a 1-1 tube connection from an address the contact never advertised', { contact: tube.info.contact, from: socket.remoteAddress });
      socket.destroy();
      return;
    }
    await this.relayTo(tube, socket, target.host, target.port);
  }

  /** Our application connects: to the contact's port, at the address of our XML stream with it (§7.6). */
  private async onApplicationConnection(tube: OpenTube, socket: net.Socket, port: number): Promise<void> {
    socket.on('error', () => undefined);
    // Only the address of our stream with the contact: the offer names a port, never a host (§7.6).
    const stream = this.link.streamAddresses(tube.info.contact);
    if (stream === undefined) {
      this.logger.info('no XML stream with the contact; cannot reach its tube', { contact: tube.info.contact, id: tube.info.id });
      socket.destroy();
      return;
    }
    await this.relayTo(tube, socket, stream.remote, port, stream.local);
  }

  private async relayTo(tube: OpenTube, socket: net.Socket, host: string, port: number, localAddress?: string): Promise<void> {
    if (!tube.budget.tryTake()) {
      socket.destroy();
      return;
    }
    try {
      const other = await connectHalfOpen(host, port, this.options.connectTimeoutMs ?? 10_000, localAddress !== undefined ? { localAddress } : {});
      if (!this.open.has(key(tube.info.contact, tube.info.id))) {
        other.destroy();
        socket.destroy();
        return;
      }
      const relay = new TcpRelay(socket, other);
      tube.relays.add(relay);
      await relay.done;
      tube.relays.delete(relay);
    } catch (error) {
      this.logger.info('1-1 tube connection failed', { contact: tube.info.contact, id: tube.info.id, error: errorText(error) });
      socket.destroy();
    } finally {
      tube.budget.release();
    }
  }

  private teardown(tube: OpenTube, reason: ContactTubeCloseReason): void {
    if (!this.open.delete(key(tube.info.contact, tube.info.id))) return;
    tube.server.close();
    tube.release();
    for (const relay of tube.relays) relay.stop();
    emitSafely(this, this.logger, 'tube-closed', { ...tube.info }, reason);
  }

  private forgetInvite(pending: PendingInvite): void {
    clearTimeout(pending.timer);
    this.invites.delete(key(pending.invite.contact, pending.invite.id));
  }

  private budget(): ConnectionBudget {
    return new ConnectionBudget(this.options.maxConnectionsPerTube ?? 64);
  }

  private listen(host: string, port: number): Promise<net.Server> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, () => {
        server.off('error', reject);
        resolve(server);
      });
    });
  }

  private mustRun(): void {
    if (this.stopped) throw new RoomTubesError('closed', '1-1 tubes are stopped');
  }
}

function key(contact: string, id: number): string {
  return `${contact}\n${id}`;
}


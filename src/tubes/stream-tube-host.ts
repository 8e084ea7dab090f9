import type net from 'node:net';
import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import type { IqAnswer } from '../linklocal/iq-router.js';
import { buildIq, buildIqError } from '../xml/stanzas.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { RoomTubes } from './room-tubes.js';
import { RoomTubesError } from './room-tubes-error.js';
import type { RoomTubeInfo, TubeCloseReason } from './room-tubes-types.js';
import { ConnectionBudget } from './stream-tube-guard.js';
import { buildSiError, buildSiResult, NS_SI, oobSid, readOobPort, readSiRequest, type SiAnswerRefusal } from './stream-tube-si.js';
import { TcpRelay } from './tcp-relay.js';
import { connectHalfOpen, type TubeLink } from './tube-link.js';

/** Where the shared service listens (on this machine, usually loopback). */
export interface StreamTubeTarget {
  host: string;
  port: number;
}

export interface StreamTubeHostOptions {
  logger?: Logger;
  /** Connections one tube holds at once, set-ups included (default 64): a flood of SI requests costs only this. */
  maxConnectionsPerTube?: number;
  /** From our SI answer to the requester's OOB iq (default 30 s); a requester that never sends it frees its slot. */
  setupTimeoutMs?: number;
  /** For each TCP connection we make, to the shared service and to the requester (default 10 s). */
  connectTimeoutMs?: number;
}

export interface ShareOptions {
  /** Who may connect (e.g. the room's members); default everyone the link knows. */
  mayConnect?: (contact: string) => boolean;
}

/** A connection being set up: our socket to the shared service, waiting for the requester's OOB iq. */
interface PendingConnection {
  share: SharedTube;
  service: net.Socket;
  timer: ReturnType<typeof setTimeout>;
}

interface SharedTube {
  tubes: RoomTubes;
  tubeId: number;
  target: StreamTubeTarget;
  mayConnect: (contact: string) => boolean;
  budget: ConnectionBudget;
  relays: Set<TcpRelay>;
  pending: Set<PendingConnection>;
  unlisten: () => void;
}

export interface StreamTubeHostStats {
  siAccepted: number;
  siRefused: Record<SiAnswerRefusal, number>;
  connections: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * The offerer's side of room stream tubes (spec §7.5): shares a local TCP
 * service through tubes we offered. For each SI request from a member it
 * connects to the service, answers, then — on the member's OOB iq — connects
 * to the member at the address of our XML stream with it (the URL's host is
 * ignored, so an OOB URL cannot point us anywhere else) and relays bytes.
 *
 * Checks salut makes, plus ours: the tube must be one we offered and still
 * share; the requester may be limited (e.g. to room members); each tube holds
 * a bounded number of connections, and set-ups that never complete time out.
 *
 *   const host = new StreamTubeHost(link, { logger });
 *   const tube = tubes.offerStreamTube({ service: 'http' });
 *   host.share(tubes, tube.id, { host: '127.0.0.1', port: 8080 });
 */
export class StreamTubeHost {
  readonly stats: StreamTubeHostStats = {
    siAccepted: 0,
    siRefused: { 'bad-request': 0, 'no-valid-streams': 0, 'bad-profile': 0, declined: 0, busy: 0, unreachable: 0 },
    connections: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  private readonly shares = new Map<string, SharedTube>();
  /** Set-ups waiting for an OOB iq, by requester and SI id. */
  private readonly pending = new Map<string, PendingConnection>();
  private readonly logger: Logger;
  private readonly limit: number;
  private readonly setupTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly removeHandler: () => void;
  private closed = false;

  constructor(
    private readonly link: TubeLink,
    options: StreamTubeHostOptions = {},
  ) {
    this.logger = (options.logger ?? silentLogger).child('stream-tube-host');
    this.limit = options.maxConnectionsPerTube ?? 64;
    this.setupTimeoutMs = options.setupTimeoutMs ?? 30_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.removeHandler = link.handleIq((request, from) => this.onIq(request, from));
  }

  /** Shares a stream tube we offered: its connections go to `target`, until `unshare`, the tube's close or `close()`. */
  share(tubes: RoomTubes, tubeId: number, target: StreamTubeTarget, options: ShareOptions = {}): void {
    if (this.closed) throw new RoomTubesError('closed', 'the stream tube host is closed');
    const tube = tubes.tube(tubeId);
    if (tube === undefined) throw new RoomTubesError('unknown-tube', `no tube ${tubeId} in ${tubes.room}`);
    if (tube.type !== 'stream' || !tube.requested || tube.state !== 'open') throw new RoomTubesError('wrong-state', `tube ${tubeId} is not an open stream tube of ours`);
    if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) throw new RoomTubesError('bad-argument', `port ${target.port} is not in 1..65535`);
    const key = shareKey(tubes.room, tubeId);
    if (this.shares.has(key)) throw new RoomTubesError('wrong-state', `tube ${tubeId} is already shared`);
    const onClosed = (info: RoomTubeInfo, reason: TubeCloseReason): void => {
      if (info.id === tubeId) {
        this.logger.debug('shared tube closed', { room: tubes.room, tube: tubeId, reason });
        this.unshare(tubes.room, tubeId);
      }
    };
    tubes.on('tube-closed', onClosed);
    this.shares.set(key, {
      tubes,
      tubeId,
      target: { ...target },
      mayConnect: options.mayConnect ?? (() => true),
      budget: new ConnectionBudget(this.limit),
      relays: new Set(),
      pending: new Set(),
      unlisten: () => tubes.off('tube-closed', onClosed),
    });
  }

  /** Stops sharing: every connection of the tube is cut (the joiners see "connection lost", §7.5 step 9). */
  unshare(room: string, tubeId: number): boolean {
    const key = shareKey(room, tubeId);
    const share = this.shares.get(key);
    if (share === undefined) return false;
    this.shares.delete(key);
    share.unlisten();
    for (const p of [...share.pending]) this.dropPending(p);
    for (const relay of share.relays) relay.stop();
    return true;
  }

  /** Connections open now through a tube (set-ups included). */
  connectionsOf(room: string, tubeId: number): number {
    return this.shares.get(shareKey(room, tubeId))?.budget.open ?? 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.removeHandler();
    for (const share of [...this.shares.values()]) this.unshare(share.tubes.room, share.tubeId);
  }

  private onIq(request: XmlElement, from: string): IqAnswer {
    if (request.getChild('si', NS_SI) !== undefined) return this.onSi(request, from);
    const sid = oobSid(request);
    // Other OOB queries (file offers, §8.1) carry no sid: not ours.
    if (sid !== undefined && request.getAttr('type') === 'set') return this.onOob(request, from, sid);
    return undefined;
  }

  private async onSi(request: XmlElement, from: string): Promise<XmlElement> {
    const refuse = (refusal: SiAnswerRefusal, why: string): XmlElement => {
      this.stats.siRefused[refusal]++;
      this.logger.debug('SI request refused', { from, refusal, why });
      return buildSiError(request, refusal, this.link.name);
    };
    const read = readSiRequest(request);
    if (!read.ok) return refuse(read.refusal, 'malformed');
    const si = read.request;
    if (si.from !== from) return refuse('bad-request', 'from is not the stream peer');
    const share = this.shares.get(shareKey(si.room, si.tubeId));
    // Salut declines a tube it did not initiate, and says nothing of tubes it does not have: one answer for both.
    if (share === undefined || share.tubes.tube(si.tubeId)?.state !== 'open') return refuse('declined', 'not a tube we share');
    if (!share.mayConnect(from)) return refuse('declined', 'requester may not connect');
    const key = pendingKey(from, si.siId);
    if (this.pending.has(key)) return refuse('bad-request', 'SI id already in use by this requester');
    if (!share.budget.tryTake()) return refuse('busy', `${this.limit} connections already`);
    let service: net.Socket;
    try {
      service = await connectHalfOpen(share.target.host, share.target.port, this.connectTimeoutMs);
    } catch (error) {
      share.budget.release();
      this.logger.info('shared service refused a tube connection', { room: si.room, tube: si.tubeId, error: errorText(error) });
      return refuse('unreachable', errorText(error));
    }
    if (this.shares.get(shareKey(si.room, si.tubeId)) !== share || this.pending.has(key)) {
      // Unshared (or raced by a duplicate) while we connected.
      service.destroy();
      share.budget.release();
      return refuse('declined', 'tube gone while connecting');
    }
    // Nothing is read from the service until the relay starts: its first bytes wait in the kernel.
    service.pause();
    service.on('error', () => undefined);
    const pending: PendingConnection = {
      share,
      service,
      timer: setTimeout(() => {
        this.logger.debug('no OOB iq after our SI answer; dropping the connection', { from, sid: si.siId });
        this.dropPending(pending);
      }, this.setupTimeoutMs),
    };
    this.pending.set(key, pending);
    share.pending.add(pending);
    this.stats.siAccepted++;
    this.logger.debug('SI accepted', { from, room: si.room, tube: si.tubeId, sid: si.siId });
    return buildSiResult(this.link.name, from, si.iqId);
  }

  /** The requester tells where it listens: connect there, via the address of its XML stream only (§7.5 step 7). */
  private async onOob(request: XmlElement, from: string, sid: string): Promise<XmlElement> {
    const key = pendingKey(from, sid);
    const pending = this.pending.get(key);
    if (pending === undefined) return buildIqError({ from: this.link.name, to: request.getAttr('from'), condition: 'item-not-found', errorType: 'cancel' });
    this.pending.delete(key);
    pending.share.pending.delete(pending);
    clearTimeout(pending.timer);
    const port = readOobPort(request, sid);
    const stream = this.link.streamAddresses(from);
    if (port === undefined || stream === undefined) {
      this.release(pending.share, pending.service);
      return buildIqError({ from: this.link.name, to: request.getAttr('from'), condition: 'bad-request', errorType: 'modify' });
    }
    let peer: net.Socket;
    try {
      peer = await connectHalfOpen(stream.remote, port, this.connectTimeoutMs, { localAddress: stream.local });
    } catch (error) {
      this.release(pending.share, pending.service);
      this.logger.info('could not connect to a tube requester', { from, remote: stream.remote, port, error: errorText(error) });
      return buildIqError({ from: this.link.name, to: request.getAttr('from'), condition: 'remote-server-not-found', errorType: 'cancel' });
    }
    const share = pending.share;
    if (!this.shares.has(shareKey(share.tubes.room, share.tubeId))) {
      peer.destroy();
      this.release(share, pending.service);
      return buildIqError({ from: this.link.name, to: request.getAttr('from'), condition: 'item-not-found', errorType: 'cancel' });
    }
    const relay = new TcpRelay(pending.service, peer);
    share.relays.add(relay);
    this.stats.connections++;
    this.logger.debug('tube connection open', { from, room: share.tubes.room, tube: share.tubeId });
    const outcome = await relay.done;
    share.relays.delete(relay);
    share.budget.release();
    this.stats.bytesIn += outcome.bToA;
    this.stats.bytesOut += outcome.aToB;
    this.logger.debug('tube connection closed', { from, tube: share.tubeId, sent: outcome.aToB, received: outcome.bToA, error: outcome.error?.message });
    // The bytestream ended: answer the OOB iq now, as salut does (§7.5 step 8).
    return buildIq({ type: 'result', from: this.link.name, to: from });
  }

  private dropPending(pending: PendingConnection): void {
    clearTimeout(pending.timer);
    for (const [key, value] of this.pending) if (value === pending) this.pending.delete(key);
    pending.share.pending.delete(pending);
    this.release(pending.share, pending.service);
  }

  private release(share: SharedTube, service: net.Socket): void {
    service.destroy();
    share.budget.release();
  }
}

function shareKey(room: string, tubeId: number): string {
  return `${room}\n${tubeId}`;
}

function pendingKey(contact: string, sid: string): string {
  return `${contact}\n${sid}`;
}


import net from 'node:net';
import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { CryptoRandom, type RandomSource } from '../base/random.js';
import { IqErrorAnswer } from '../linklocal/iq-router.js';
import type { RoomTubes } from './room-tubes.js';
import { RoomTubesError } from './room-tubes-error.js';
import type { RoomTubeInfo } from './room-tubes-types.js';
import { ConnectionBudget, isAdvertisedAddress, pickSiId } from './stream-tube-guard.js';
import { buildOobIq, buildSiRequest } from './stream-tube-si.js';
import { TcpRelay } from './tcp-relay.js';
import type { TubeLink } from './tube-link.js';

export interface StreamTubeAcceptorOptions {
  logger?: Logger;
  /** Picks SI ids; default CryptoRandom. */
  random?: RandomSource;
  /** Where our applications connect (default 127.0.0.1, any free port). */
  listenHost?: string;
  listenPort?: number;
  /** Connections through the tube at once, set-ups included (default 64). */
  maxConnections?: number;
  /** For the initiator's answer to our SI request (default 30 s). */
  siTimeoutMs?: number;
  /** For the initiator's TCP connection after our OOB iq (default 30 s). */
  connectWaitMs?: number;
  /** The host in our `x-tcp://` URL (salut puts its mDNS host name; the initiator ignores it). Default `<host of our name>.local`. */
  urlHost?: string;
}

export interface StreamTubeAcceptorStats {
  /** Application connections relayed end to end. */
  connections: number;
  /** Application connections that never got through (SI refused, no TCP connection from the initiator). */
  failed: number;
  /** TCP connections to our OOB port from addresses the initiator never advertised, dropped (§7.5 step 7). */
  foreignSources: number;
  bytesSent: number;
  bytesReceived: number;
}

const FOREVER_MS = 2 ** 31 - 1;

/**
 * The joiner's side of a room stream tube (spec §7.5): accepts another
 * member's stream tube and listens locally; each application connection
 * becomes an SI request to the initiator, then an OOB iq naming a fresh port
 * of ours, then one TCP connection from the initiator, relayed to the
 * application. That port takes a connection only from the initiator's
 * advertised addresses, once, and only for a bounded time.
 *
 *   const tube = await StreamTubeAcceptor.open(link, tubes, id, { listenPort: 5900 });
 *   // connect to tube.address.host:tube.address.port
 *   await tube.close();
 */
export class StreamTubeAcceptor {
  readonly stats: StreamTubeAcceptorStats = { connections: 0, failed: 0, foreignSources: 0, bytesSent: 0, bytesReceived: 0 };
  private readonly budget: ConnectionBudget;
  private readonly sockets = new Set<net.Socket>();
  private readonly sids = new Set<string>();
  private readonly lifetime = new AbortController();
  private readonly logger: Logger;
  private readonly random: RandomSource;
  private unlisten: () => void = () => undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly link: TubeLink,
    private readonly tubes: RoomTubes,
    readonly tube: RoomTubeInfo,
    private readonly server: net.Server,
    private readonly options: StreamTubeAcceptorOptions,
  ) {
    this.logger = (options.logger ?? silentLogger).child('stream-tube');
    this.random = options.random ?? new CryptoRandom();
    // SI ids are 1..254 per requester: never more connections than ids.
    this.budget = new ConnectionBudget(Math.min(options.maxConnections ?? 64, 254));
  }

  /**
   * Accepts tube `tubeId` of `tubes` (if still pending) and listens for
   * applications. Throws RoomTubesError ('unknown-tube', 'wrong-state' for a
   * D-Bus tube or one of ours) or the listen error.
   */
  static async open(link: TubeLink, tubes: RoomTubes, tubeId: number, options: StreamTubeAcceptorOptions = {}): Promise<StreamTubeAcceptor> {
    let tube = tubes.tube(tubeId);
    if (tube === undefined) throw new RoomTubesError('unknown-tube', `no tube ${tubeId} in ${tubes.room}`);
    if (tube.type !== 'stream' || tube.requested) throw new RoomTubesError('wrong-state', `tube ${tubeId} is not another member's stream tube`);
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.listenHost ?? '127.0.0.1', port: options.listenPort ?? 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    if (tube.state === 'local-pending') tube = tubes.acceptTube(tubeId);
    const acceptor = new StreamTubeAcceptor(link, tubes, tube, server, options);
    acceptor.start();
    return acceptor;
  }

  /** Where applications connect. */
  get address(): { host: string; port: number } {
    const bound = this.server.address() as net.AddressInfo;
    return { host: bound.address, port: bound.port };
  }

  /** Stops listening and cuts every connection; the tube itself is closed by the caller if it wishes. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.unlisten();
      this.lifetime.abort();
      for (const socket of this.sockets) socket.destroy();
      await new Promise<void>((resolve) => this.server.close(() => resolve()));
    })();
    return this.closing;
  }

  private start(): void {
    const onClosed = (info: RoomTubeInfo): void => {
      if (info.id === this.tube.id) void this.close();
    };
    this.tubes.on('tube-closed', onClosed);
    this.unlisten = () => this.tubes.off('tube-closed', onClosed);
    this.server.on('connection', (socket) => void this.onApplication(socket));
    this.server.on('error', (error) => this.logger.warn('tube listener failed', { tube: this.tube.id, error: errorText(error) }));
  }

  private async onApplication(app: net.Socket): Promise<void> {
    app.on('error', () => undefined);
    if (this.closing !== undefined || !this.budget.tryTake()) {
      this.logger.debug('application connection refused', { tube: this.tube.id, open: this.budget.open });
      app.destroy();
      return;
    }
    this.sockets.add(app);
    const sid = this.freeSid();
    this.sids.add(sid);
    try {
      const relay = await this.connect(app, sid);
      this.stats.connections++;
      const outcome = await relay.done;
      this.stats.bytesSent += outcome.aToB;
      this.stats.bytesReceived += outcome.bToA;
    } catch (error) {
      this.stats.failed++;
      this.logger.info('tube connection failed', { tube: this.tube.id, initiator: this.tube.initiator, error: errorText(error) });
      app.destroy();
    } finally {
      this.sids.delete(sid);
      this.sockets.delete(app);
      this.budget.release();
    }
  }

  /** SI request, then our OOB port and iq, then the initiator's connection: the relay, or a throw. */
  private async connect(app: net.Socket, sid: string): Promise<TcpRelay> {
    const initiator = this.tube.initiator;
    const self = this.link.name;
    const signal = this.lifetime.signal;
    await this.link.requestIq(initiator, buildSiRequest({ from: self, to: initiator, iqId: '', siId: sid, room: this.tubes.room, tubeId: this.tube.id }), {
      timeoutMs: this.options.siTimeoutMs ?? 30_000,
      signal,
    });
    const stream = this.link.streamAddresses(initiator);
    if (stream === undefined) throw new Error(`no XML stream with ${initiator}`);
    const oob = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    await new Promise<void>((resolve, reject) => {
      oob.once('error', reject);
      // The address the initiator reaches us on (salut listens on every interface; one is enough).
      oob.listen({ host: stream.local, port: 0 }, () => {
        oob.off('error', reject);
        resolve();
      });
    });
    try {
      const connected = new AbortController();
      const peer = this.awaitInitiator(oob, initiator, signal);
      const port = (oob.address() as net.AddressInfo).port;
      const urlHost = this.options.urlHost ?? `${self.slice(self.lastIndexOf('@') + 1)}.local`;
      // Its answer comes when the bytestream ends (§7.5 step 8); an error answer means it gave up.
      const answered = this.link.requestIq(initiator, buildOobIq(self, initiator, '', sid, urlHost, port), {
        timeoutMs: FOREVER_MS,
        signal: AbortSignal.any([signal, connected.signal]),
      });
      const refused = answered.then(
        () => undefined,
        (error: unknown) => {
          if (error instanceof IqErrorAnswer) throw error;
        },
      );
      const socket = await Promise.race([peer, refused.then(() => peer)]);
      this.sockets.add(socket);
      socket.once('close', () => {
        this.sockets.delete(socket);
        connected.abort();
      });
      app.resume();
      return new TcpRelay(app, socket);
    } finally {
      oob.close();
    }
  }

  /** The first connection to our OOB port from the initiator's advertised addresses; others are dropped. */
  private awaitInitiator(oob: net.Server, initiator: string, signal: AbortSignal): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        oob.off('connection', onConnection);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${initiator} did not connect within ${this.options.connectWaitMs ?? 30_000} ms`));
      }, this.options.connectWaitMs ?? 30_000);
      timer.unref();
      const onAbort = (): void => {
        finish();
        reject(new Error('tube closed'));
      };
      const onConnection = (socket: net.Socket): void => {
        socket.on('error', () => undefined);
        const advertised = this.link.contacts.get(initiator)?.addresses ?? [];
        if (socket.remoteAddress === undefined || !isAdvertisedAddress(socket.remoteAddress, advertised)) {
          this.stats.foreignSources++;
          this.logger.info('dropping a tube connection from an address the initiator never advertised', { initiator, from: socket.remoteAddress });
          socket.destroy();
          return;
        }
        finish();
        resolve(socket);
      };
      oob.on('connection', onConnection);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private freeSid(): string {
    // 254 ids (§7.5 step 3) and at most maxConnections in use: a free one is found quickly.
    for (;;) {
      const sid = pickSiId(this.random);
      if (!this.sids.has(sid)) return sid;
    }
  }
}

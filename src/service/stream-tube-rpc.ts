import { errorText } from '../base/error-text.js';
import type { Logger } from '../base/logger.js';
import type { LinkLocalService } from '../linklocal/link-local-service.js';
import type { Room } from '../rooms/room.js';
import type { RoomTubes } from '../tubes/room-tubes.js';
import { RoomTubesError } from '../tubes/room-tubes-error.js';
import type { RoomTubeInfo } from '../tubes/room-tubes-types.js';
import { StreamTubeAcceptor } from '../tubes/stream-tube-acceptor.js';
import { StreamTubeHost } from '../tubes/stream-tube-host.js';
import { ParamReader, type StreamTubeJson } from './control-protocol.js';
import type { JsonValue, RpcParams } from './json-rpc.js';
import { RpcFault } from './rpc-fault.js';

/** What the service holds of a room, for its stream tubes. */
export interface TubeMembership {
  room: Room;
  tubes: RoomTubes;
}

const DEFAULT_ACCEPT_WAIT_MS = 10_000;

/**
 * The service's room stream tubes (`tubes.offer`, `tubes.accept`,
 * `tubes.close`, spec §7.5): one StreamTubeHost for the tubes we share, one
 * StreamTubeAcceptor per tube we accepted. They live in the service, so a
 * tube stays offered (or accepted) after the command that made it exits,
 * until `tubes.close`, the room is left, or the service stops.
 */
export class ServiceStreamTubes {
  private host: StreamTubeHost | undefined;
  private readonly shared = new Map<string, StreamTubeJson>();
  private readonly accepted = new Map<string, { acceptor: StreamTubeAcceptor; json: StreamTubeJson }>();

  constructor(
    private readonly link: LinkLocalService | undefined,
    private readonly membership: (room: string) => TubeMembership,
    private readonly logger: Logger,
  ) {}

  async handle(method: string, params: RpcParams | undefined): Promise<JsonValue> {
    switch (method) {
      case 'tubes.offer':
        return this.offer(new ParamReader(params, ['room', 'service', 'port', 'host']));
      case 'tubes.accept':
        return this.accept(new ParamReader(params, ['room', 'service', 'id', 'listenPort', 'waitMs']));
      case 'tubes.close':
        return this.close(new ParamReader(params, ['room', 'id']));
      default:
        throw new RpcFault('method-not-found', `no method ${JSON.stringify(method)}`, -32601);
    }
  }

  /** Cuts every tube connection (the service stops). */
  async stop(): Promise<void> {
    this.host?.close();
    await Promise.all([...this.accepted.values()].map((a) => a.acceptor.close()));
    this.accepted.clear();
    this.shared.clear();
  }

  private offer(reader: ParamReader): StreamTubeJson {
    const link = this.mustHaveLink();
    const m = this.membership(reader.string('room', { maxLength: 256 }));
    const service = reader.string('service', { maxLength: 256 });
    const port = reader.optionalInteger('port', 1, 65535);
    if (port === undefined) throw new RpcFault('invalid-params', 'port (1..65535) is required', -32602);
    const host = reader.optionalString('host', { maxLength: 256 }) ?? '127.0.0.1';
    this.host ??= new StreamTubeHost(link, { logger: this.logger });
    const tube = tubeCall(() => m.tubes.offerStreamTube({ service }));
    // Only the room's members may connect: the tube was offered to the room, not to the LAN.
    this.host.share(m.tubes, tube.id, { host, port }, { mayConnect: (name) => m.room.member(name) !== undefined });
    const json: StreamTubeJson = { room: m.room.name, id: tube.id, service, initiator: tube.initiator, host, port };
    this.shared.set(key(m.room.name, tube.id), json);
    this.forgetOnClose(m.tubes, tube.id);
    this.logger.info('stream tube offered', { room: m.room.name, id: tube.id, service, host, port });
    return json;
  }

  private async accept(reader: ParamReader): Promise<StreamTubeJson> {
    const link = this.mustHaveLink();
    const m = this.membership(reader.string('room', { maxLength: 256 }));
    const service = reader.optionalString('service', { maxLength: 256 });
    const id = reader.optionalInteger('id', 1, 4_294_967_295);
    const listenPort = reader.optionalInteger('listenPort', 0, 65535) ?? 0;
    const waitMs = reader.optionalInteger('waitMs', 0, 600_000) ?? DEFAULT_ACCEPT_WAIT_MS;
    if ((service === undefined) === (id === undefined)) throw new RpcFault('invalid-params', 'give the tube\'s service or its id (one of them)', -32602);
    const pick = (): RoomTubeInfo | undefined =>
      m.tubes.tubes().find((t) => t.type === 'stream' && !t.requested && (id !== undefined ? t.id === id : t.service === service));
    const tube = pick() ?? (await this.waitForTube(m.tubes, pick, waitMs, id !== undefined ? `tube ${id}` : `a stream tube for ${JSON.stringify(service)}`));
    const existing = this.accepted.get(key(m.room.name, tube.id));
    if (existing !== undefined) return existing.json;
    let acceptor: StreamTubeAcceptor;
    try {
      acceptor = await StreamTubeAcceptor.open(link, m.tubes, tube.id, { listenPort, logger: this.logger });
    } catch (error) {
      if (error instanceof RoomTubesError) throw new RpcFault(error.code, error.message);
      throw new RpcFault('listen-failed', `cannot listen on 127.0.0.1:${listenPort}: ${errorText(error)}`);
    }
    const json: StreamTubeJson = { room: m.room.name, id: tube.id, service: tube.service, initiator: tube.initiator, ...acceptor.address };
    this.accepted.set(key(m.room.name, tube.id), { acceptor, json });
    this.forgetOnClose(m.tubes, tube.id);
    this.logger.info('stream tube accepted', { room: m.room.name, id: tube.id, service: tube.service, port: json.port });
    return json;
  }

  private close(reader: ParamReader): { closed: boolean } {
    const m = this.membership(reader.string('room', { maxLength: 256 }));
    const id = reader.optionalInteger('id', 1, 4_294_967_295);
    if (id === undefined) throw new RpcFault('invalid-params', 'id is required', -32602);
    if (m.tubes.tube(id) === undefined) return { closed: false };
    // The tube's close event cuts the connections (host) and stops the listener (acceptor).
    tubeCall(() => m.tubes.closeTube(id));
    return { closed: true };
  }

  private waitForTube(tubes: RoomTubes, pick: () => RoomTubeInfo | undefined, waitMs: number, what: string): Promise<RoomTubeInfo> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        tubes.off('tube-offered', onOffered);
        reject(new RpcFault('no-such-tube', `nobody in ${tubes.room} offers ${what} (waited ${waitMs} ms)`));
      }, waitMs);
      const onOffered = (): void => {
        const found = pick();
        if (found === undefined) return;
        clearTimeout(timer);
        tubes.off('tube-offered', onOffered);
        resolve(found);
      };
      tubes.on('tube-offered', onOffered);
    });
  }

  private forgetOnClose(tubes: RoomTubes, id: number): void {
    const onClosed = (info: RoomTubeInfo): void => {
      if (info.id !== id) return;
      tubes.off('tube-closed', onClosed);
      const k = key(tubes.room, id);
      this.shared.delete(k);
      const accepted = this.accepted.get(k);
      this.accepted.delete(k);
      void accepted?.acceptor.close();
    };
    tubes.on('tube-closed', onClosed);
  }

  private mustHaveLink(): LinkLocalService {
    if (this.link === undefined) throw new RpcFault('no-presence', 'stream tubes need the service\'s presence (XEP-0174)');
    return this.link;
  }
}

function key(room: string, id: number): string {
  return `${room}\n${id}`;
}

/** RoomTubes refusals become faults with the same code. */
function tubeCall<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    if (error instanceof RoomTubesError) throw new RpcFault(error.code, error.message);
    throw error;
  }
}

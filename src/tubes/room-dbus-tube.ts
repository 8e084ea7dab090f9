import type { Logger } from '../base/logger.js';
import { DBusTube } from './dbus-tube.js';
import type { RoomTubes } from './room-tubes.js';
import type { RoomTubeInfo, TubeDataEvent, TubeMemberEvent } from './room-tubes-types.js';

/**
 * A room's open D-Bus tube as a DBusTube (issue 11, spec §7.4): the pure
 * D-Bus side (names, serials, sender and destination checks, local delivery,
 * the 4 MiB queue) fed by the room's tube table. Its messages go out through
 * `RoomTubes.sendDBusMessage` (one rMulticast message on our stream id for the
 * tube), members come and go with the tube lists, accepted stream data comes
 * in, and it closes with the tube.
 *
 *   const info = tubes.offerDBusTube({ service: 'org.example.Chess' });
 *   const bus = openRoomDBusTube(tubes, info.id);
 *   bus.on('signal', (s) => ...);
 *   await bus.callMethod({ destination, path: '/', member: 'Move', ... });
 */
export function openRoomDBusTube(tubes: RoomTubes, tubeId: number, options: { logger?: Logger } = {}): DBusTube {
  const info = tubes.tube(tubeId);
  if (info === undefined || info.type !== 'dbus' || info.state !== 'open') {
    throw new TypeError(`tube ${tubeId} is not an open D-Bus tube of this room (offer or accept it first)`);
  }
  const self = info.members.find((m) => m.self);
  if (self === undefined) throw new TypeError(`tube ${tubeId} has no entry for ourselves`);
  let closed = false;
  const bus = new DBusTube({
    selfName: self.name,
    link: {
      send: (bytes) => {
        if (closed) return;
        // The bus sends synchronously; a send the room refuses (left, queue full) costs that message, logged.
        tubes.sendDBusMessage(tubeId, bytes).catch((error: unknown) => options.logger?.warn('D-Bus tube message not sent', { tubeId, error: String(error) }));
      },
    },
    ...(options.logger !== undefined ? { logger: options.logger } : {}),
  });
  for (const member of info.members) {
    if (!member.self && member.dbusName !== undefined) bus.memberJoinedTube(member.name, member.dbusName);
  }
  const joined = (event: TubeMemberEvent): void => {
    if (event.tubeId === tubeId && event.dbusName !== undefined) bus.memberJoinedTube(event.member, event.dbusName);
  };
  const left = (event: TubeMemberEvent): void => {
    if (event.tubeId === tubeId) bus.memberLeftTube(event.member);
  };
  const data = (event: TubeDataEvent): void => {
    if (event.tubeId === tubeId) bus.received(event.sender, event.bytes);
  };
  const tubeClosed = (tube: RoomTubeInfo): void => {
    if (tube.id === tubeId) stop();
  };
  const stop = (): void => {
    if (closed) return;
    closed = true;
    tubes.off('tube-member-joined', joined);
    tubes.off('tube-member-left', left);
    tubes.off('tube-data', data);
    tubes.off('tube-closed', tubeClosed);
    bus.close();
  };
  tubes.on('tube-member-joined', joined);
  tubes.on('tube-member-left', left);
  tubes.on('tube-data', data);
  tubes.on('tube-closed', tubeClosed);
  bus.once('closed', stop);
  return bus;
}

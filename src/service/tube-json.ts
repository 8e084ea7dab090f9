import type { RoomTubes } from '../tubes/room-tubes.js';
import type { RoomTubeInfo } from '../tubes/room-tubes-types.js';
import type { TubeParameter } from '../tubes/tube-types.js';
import type { ControlMethods, TubeJson, TubeParameterJson } from './control-protocol.js';

/** The `rooms.tubes` result. */
export function tubesOf(tubes: RoomTubes): ControlMethods['rooms.tubes']['result'] {
  return { room: tubes.room, tubes: tubes.tubes().map(tubeJson) };
}

/** A row of a room's tube table as `rooms.tubes` returns it (docs/control-protocol.md). */
export function tubeJson(tube: RoomTubeInfo): TubeJson {
  return {
    id: tube.id,
    type: tube.type,
    service: tube.service,
    initiator: tube.initiator,
    state: tube.state,
    requested: tube.requested,
    streamId: tube.streamId ?? null,
    dbusName: tube.dbusName ?? null,
    parameters: Object.fromEntries([...tube.parameters].map(([name, parameter]) => [name, parameterJson(parameter)])),
    members: tube.members.map((m) => ({ member: m.name, self: m.self, dbusName: m.dbusName ?? null, streamId: m.streamId ?? null })),
  };
}

/** `bytes` values travel as standard base64, as on the wire (§7.1). */
function parameterJson(parameter: TubeParameter): TubeParameterJson {
  if (parameter.type === 'bytes') return { type: 'bytes', value: Buffer.from(parameter.value).toString('base64') };
  return { type: parameter.type, value: parameter.value };
}

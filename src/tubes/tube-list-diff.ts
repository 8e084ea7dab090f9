import type { AnnouncedTube, TubeList, TubeListReading, TubeParameter, TubeParameters } from './tube-types.js';

/**
 * A member's lists are full state (§7.2); what changed is the difference
 * between its previous list and its new one (§7.3). How the room acts on
 * each part, following salut:
 * - `added`: a tube id the room does not know yet becomes a new,
 *   not-requested, local-pending tube channel (a stream tube's initiator is
 *   the sender, a D-Bus tube's is its `initiator`); a known id means the
 *   member now takes part in it, and for a D-Bus tube its `dbus-name` and
 *   `stream-id` are recorded as that member's name and data stream;
 * - `removed`: for a D-Bus tube the member's name and stream mapping go (the
 *   channel stays); a stream tube is never closed by a list, it lingers until
 *   the local user closes it;
 * - `changed`: the same tube id with other attributes or parameters (salut
 *   keeps what it recorded first; the room decides);
 * - `retained`: the member still mentions the tube but its new entry was
 *   dropped as unreadable, so the previous entry stays in force.
 */

export type TubeField = 'type' | 'service' | 'initiator' | 'stream-id' | 'dbus-name' | 'parameters';

export interface TubeChange {
  before: AnnouncedTube;
  after: AnnouncedTube;
  fields: TubeField[];
}

export interface TubeListDiff {
  added: AnnouncedTube[];
  removed: AnnouncedTube[];
  changed: TubeChange[];
  retained: AnnouncedTube[];
  /** The member's state after this list: the new tubes plus the retained ones, by id. */
  state: ReadonlyMap<number, AnnouncedTube>;
}

/** The member's state before its first list. */
export const NO_TUBES: ReadonlyMap<number, AnnouncedTube> = new Map();

export function diffTubeLists(previous: ReadonlyMap<number, AnnouncedTube>, next: TubeList): TubeListDiff {
  const added: AnnouncedTube[] = [];
  const changed: TubeChange[] = [];
  const state = new Map<number, AnnouncedTube>();
  for (const [id, after] of next.tubes) {
    state.set(id, after);
    const before = previous.get(id);
    if (before === undefined) {
      added.push(after);
      continue;
    }
    const fields = changedFields(before, after);
    if (fields.length > 0) changed.push({ before, after, fields });
  }
  const removed: AnnouncedTube[] = [];
  const retained: AnnouncedTube[] = [];
  for (const [id, before] of previous) {
    if (next.tubes.has(id)) continue;
    if (next.unreadable.has(id)) {
      retained.push(before);
      state.set(id, before);
    } else {
      removed.push(before);
    }
  }
  return { added, removed, changed, retained, state };
}

/**
 * The diff for any reading of a member's stanza: a stanza without a list,
 * or a list rejected as garbage, changes nothing.
 */
export function applyTubeListReading(previous: ReadonlyMap<number, AnnouncedTube>, reading: TubeListReading): TubeListDiff {
  if (reading.kind === 'list') return diffTubeLists(previous, reading.list);
  return { added: [], removed: [], changed: [], retained: [], state: previous };
}

export function changedFields(before: AnnouncedTube, after: AnnouncedTube): TubeField[] {
  const fields: TubeField[] = [];
  if (before.type !== after.type) fields.push('type');
  if (before.service !== after.service) fields.push('service');
  if (before.initiator !== after.initiator) fields.push('initiator');
  const streamBefore = before.type === 'dbus' ? before.streamId : undefined;
  const streamAfter = after.type === 'dbus' ? after.streamId : undefined;
  if (streamBefore !== streamAfter) fields.push('stream-id');
  const nameBefore = before.type === 'dbus' ? before.dbusName : undefined;
  const nameAfter = after.type === 'dbus' ? after.dbusName : undefined;
  if (nameBefore !== nameAfter) fields.push('dbus-name');
  if (!sameParameters(before.parameters, after.parameters)) fields.push('parameters');
  return fields;
}

/** Same names with the same typed values; order does not matter. */
export function sameParameters(a: TubeParameters, b: TubeParameters): boolean {
  if (a.size !== b.size) return false;
  for (const [name, value] of a) {
    const other = b.get(name);
    if (other === undefined || !sameParameter(value, other)) return false;
  }
  return true;
}

function sameParameter(a: TubeParameter, b: TubeParameter): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'bytes' && b.type === 'bytes') {
    return a.value.byteLength === b.value.byteLength && a.value.every((byte, i) => byte === b.value[i]);
  }
  return a.value === b.value;
}

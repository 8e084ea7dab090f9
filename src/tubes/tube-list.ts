import { NS_CLIENT, NS_TUBES } from '../xml/namespaces.js';
import { XmlElement } from '../xml/xml-element.js';
import { tubeDBusName } from './tube-dbus-name.js';
import { TubeListError } from './tube-list-error.js';
import { buildParametersElement, isXmlSafe, localParameterProblem, readParameters, utf8Length } from './tube-parameters.js';
import {
  DEFAULT_TUBE_LIST_LIMITS,
  MAX_TUBE_ID,
  MAX_TUBE_STREAM_ID,
  MIN_TUBE_ID,
  MIN_TUBE_STREAM_ID,
  type AnnouncedTube,
  type LocalTube,
  type TubeList,
  type TubeListLimits,
  type TubeListProblem,
  type TubeListReading,
  type TubeProblemReason,
} from './tube-types.js';

/**
 * The tube list on stream 0 (spec §7.2, §7.3): each member announces its own
 * view of the room's open tubes as one body-less
 * `<message type="groupchat"><tubes xmlns="…/xmpp/tubes">…</tubes></message>`,
 * always as full state. The builder writes salut's exact shape; the reader
 * takes a received list apart entry by entry, so one bad tube or parameter
 * costs only itself, and a list that is garbage as a whole costs only that
 * list.
 */

export function resolveTubeListLimits(limits: Partial<TubeListLimits> = {}): TubeListLimits {
  const merged = { ...DEFAULT_TUBE_LIST_LIMITS };
  for (const key of Object.keys(merged) as Array<keyof TubeListLimits>) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`tube list limit ${key} must be a positive integer, got ${value}`);
    merged[key] = value;
  }
  return merged;
}

// ------------------------------------------------------------------ building

/**
 * Which rows of our table salut's rules put in our list (§7.2): open tubes
 * only; every open D-Bus tube we take part in; only the stream tubes we
 * initiated. Where salut gives up on the whole list when it holds an open
 * stream tube someone else offered (quirk 3), we leave out that one tube.
 */
export function tubesToAnnounce(self: string, tubes: Iterable<LocalTube>): LocalTube[] {
  return [...tubes].filter((tube) => tube.state === 'open' && (tube.type === 'dbus' || tube.initiator === self));
}

/** Why a row of our own table would not arrive intact at a peer reading with `limits` (undefined: it would). */
export function localTubeProblem(tube: LocalTube, limits: Partial<TubeListLimits> = {}): string | undefined {
  const bounds = resolveTubeListLimits(limits);
  if (!Number.isInteger(tube.id) || tube.id < MIN_TUBE_ID || tube.id > MAX_TUBE_ID) return `tube id ${tube.id} is not in ${MIN_TUBE_ID}..${MAX_TUBE_ID}`;
  if (tube.service === '' || tube.service.length > bounds.maxServiceLength || !isXmlSafe(tube.service)) return `tube ${tube.id}: service is empty, too long or not XML text`;
  if (tube.type === 'dbus') {
    if (!Number.isInteger(tube.streamId) || tube.streamId < MIN_TUBE_STREAM_ID || tube.streamId > MAX_TUBE_STREAM_ID) {
      return `tube ${tube.id}: stream id ${tube.streamId} is not in ${MIN_TUBE_STREAM_ID}..${MAX_TUBE_STREAM_ID}`;
    }
    const problem = memberNameProblem(tube.initiator, bounds);
    if (problem !== undefined) return `tube ${tube.id}: initiator ${problem}`;
  } else if (tube.type !== 'stream') {
    return `tube ${(tube as { id: unknown }).id}: unknown type ${JSON.stringify((tube as { type: unknown }).type)}`;
  }
  if (tube.parameters.size > bounds.maxParameters) return `tube ${tube.id}: more than ${bounds.maxParameters} parameters`;
  for (const [name, parameter] of tube.parameters) {
    const problem = localParameterProblem(name, parameter, bounds);
    if (problem !== undefined) return `tube ${tube.id}: ${problem}`;
  }
  return undefined;
}

function memberNameProblem(name: string, limits: TubeListLimits): string | undefined {
  if (name === '') return 'is empty';
  if (utf8Length(name) > limits.maxMemberNameBytes) return `exceeds ${limits.maxMemberNameBytes} bytes`;
  return isXmlSafe(name) ? undefined : 'is not XML text';
}

/**
 * Our `<tubes>` element from our tube table: the rows `tubesToAnnounce`
 * picks, each as `<tube>` with salut's attributes in salut's order
 * (`service`, `id`, `type`, then for D-Bus `stream-id`, `initiator`,
 * `dbus-name`) and an always-present `<parameters>`. Our D-Bus name is
 * derived from `self` (§7.4). Throws TubeListError for a table that breaks
 * the rules the reader applies, so we never send what a peer would drop.
 */
export function buildTubesElement(self: string, tubes: Iterable<LocalTube>, limits: Partial<TubeListLimits> = {}): XmlElement {
  const bounds = resolveTubeListLimits(limits);
  const selfProblem = memberNameProblem(self, bounds);
  if (selfProblem !== undefined) throw new TubeListError('invalid-tube', `our member name ${selfProblem}`);
  const announced = tubesToAnnounce(self, tubes);
  if (announced.length > bounds.maxTubes) throw new TubeListError('too-many-tubes', `${announced.length} tubes to announce, peers keep ${bounds.maxTubes}`);
  const ids = new Set<number>();
  const streamIds = new Set<number>();
  const dbusName = tubeDBusName(self);
  const list = new XmlElement('tubes', NS_TUBES);
  for (const tube of announced) {
    const problem = localTubeProblem(tube, bounds);
    if (problem !== undefined) throw new TubeListError('invalid-tube', problem);
    if (ids.has(tube.id)) throw new TubeListError('invalid-tube', `tube id ${tube.id} appears twice`);
    ids.add(tube.id);
    const attrs: Record<string, string> = { service: tube.service, id: String(tube.id), type: tube.type };
    if (tube.type === 'dbus') {
      if (streamIds.has(tube.streamId)) throw new TubeListError('invalid-tube', `stream id ${tube.streamId} is used by two tubes`);
      streamIds.add(tube.streamId);
      attrs['stream-id'] = String(tube.streamId);
      attrs.initiator = tube.initiator;
      attrs['dbus-name'] = dbusName;
    }
    list.child('tube', NS_TUBES, attrs).append(buildParametersElement(tube.parameters));
  }
  return list;
}

export interface TubeListMessageOptions {
  /** Our rMulticast name in the room. */
  from: string;
  room: string;
  tubes: Iterable<LocalTube>;
  limits?: Partial<TubeListLimits>;
}

/**
 * The stream-0 stanza carrying our list (§7.2): a body-less
 * `<message type="groupchat" from to>` (attributes in salut's order), so
 * that no peer displays it.
 */
export function buildTubeListMessage(options: TubeListMessageOptions): XmlElement {
  const message = new XmlElement('message', NS_CLIENT, { type: 'groupchat', from: options.from, to: options.room });
  return message.append(buildTubesElement(options.from, options.tubes, options.limits));
}

// ------------------------------------------------------------------ reading

const DECIMAL = /^[0-9]+$/;
/** More digits than this cannot be in range, whatever the leading zeros: refused before converting. */
const MAX_DECIMAL_LENGTH = 20;

function readDecimal(text: string | undefined, min: number, max: number): number | 'missing' | 'bad' {
  if (text === undefined || text === '') return 'missing';
  if (text.length > MAX_DECIMAL_LENGTH || !DECIMAL.test(text)) return 'bad';
  const value = Number(text);
  return value >= min && value <= max ? value : 'bad';
}

class ProblemLog {
  readonly problems: TubeListProblem[] = [];
  omitted = 0;

  constructor(private readonly max: number) {}

  add(problem: TubeListProblem): void {
    if (this.problems.length < this.max) this.problems.push(problem);
    else this.omitted++;
  }
}

/**
 * Reads the tube list a member sent (§7.3), as the full state of that
 * member's view. `sender` is the rMulticast sender (never the XML `from`):
 * it is the initiator of every stream tube listed, and its D-Bus name must
 * be the one derived from it (§7.4; salut checks this only for `:2.` names,
 * we for every name, so no member can claim another's name).
 *
 * Never throws. Returns `none` when the stanza is not a tube list (not a
 * `<message type="groupchat">` in jabber:client, or no `<tubes>` in the
 * tubes namespace), `rejected` when the list is garbage as a whole (it then
 * changes nothing), else the list with every bad tube and parameter dropped
 * and reported. Whether `sender` is ourselves (salut ignores its own lists)
 * is the caller's check.
 */
export function readTubeList(stanza: XmlElement, sender: string, limits: Partial<TubeListLimits> = {}): TubeListReading {
  if (!stanza.is('message', NS_CLIENT) || stanza.getAttr('type') !== 'groupchat') return { kind: 'none' };
  const lists = stanza.getChildren('tubes', NS_TUBES);
  const [list] = lists;
  if (list === undefined) return { kind: 'none' };
  if (lists.length > 1) return { kind: 'rejected', reason: 'multiple-lists', detail: `${lists.length} <tubes> lists in one stanza` };
  const bounds = resolveTubeListLimits(limits);
  const entries = list.getChildren('tube');
  if (entries.length > bounds.maxEntries) {
    return { kind: 'rejected', reason: 'too-many-entries', detail: `${entries.length} <tube> entries, at most ${bounds.maxEntries}` };
  }
  const log = new ProblemLog(bounds.maxProblems);

  // Ids first: the tubes kept are the first maxTubes distinct ids; an id given twice is ambiguous.
  const byId = new Map<number, XmlElement[]>();
  for (const entry of entries) {
    const id = readDecimal(entry.getAttr('id'), MIN_TUBE_ID, MAX_TUBE_ID);
    if (id === 'missing' || id === 'bad') {
      log.add({ reason: id === 'missing' ? 'missing-id' : 'bad-id' });
      continue;
    }
    const same = byId.get(id);
    if (same !== undefined) same.push(entry);
    else if (byId.size < bounds.maxTubes) byId.set(id, [entry]);
    else log.add({ reason: 'too-many-tubes', tubeId: id });
  }

  const tubes = new Map<number, AnnouncedTube>();
  const unreadable = new Set<number>();
  const ownName = tubeDBusName(sender);
  for (const [id, [entry, ...others]] of byId) {
    if (entry === undefined) continue;
    if (others.length > 0) {
      log.add({ reason: 'duplicate-id', tubeId: id });
      unreadable.add(id);
      continue;
    }
    const tube = readEntry(entry, id, sender, ownName, bounds, log);
    if (typeof tube === 'string') {
      log.add({ reason: tube, tubeId: id });
      unreadable.add(id);
    } else {
      tubes.set(id, tube);
    }
  }

  // One stream of a member carries one tube's data (§7.4): a stream id claimed twice is ambiguous.
  const byStream = new Map<number, number[]>();
  for (const tube of tubes.values()) {
    if (tube.type === 'dbus') byStream.set(tube.streamId, [...(byStream.get(tube.streamId) ?? []), tube.id]);
  }
  for (const ids of byStream.values()) {
    if (ids.length < 2) continue;
    for (const id of ids) {
      tubes.delete(id);
      unreadable.add(id);
      log.add({ reason: 'duplicate-stream-id', tubeId: id });
    }
  }

  const result: TubeList = { tubes, unreadable, problems: log.problems, problemsOmitted: log.omitted };
  return { kind: 'list', list: result };
}

function readEntry(entry: XmlElement, id: number, sender: string, ownName: string, limits: TubeListLimits, log: ProblemLog): AnnouncedTube | TubeProblemReason {
  const service = entry.getAttr('service');
  if (service === undefined || service === '') return 'missing-service';
  if (service.length > limits.maxServiceLength) return 'bad-service';
  const type = entry.getAttr('type');
  if (type === undefined || type === '') return 'missing-type';
  if (type !== 'stream' && type !== 'dbus') return 'unknown-type';

  let dbus: { initiator: string; streamId: number; dbusName: string } | undefined;
  if (type === 'dbus') {
    const initiator = entry.getAttr('initiator');
    if (initiator === undefined || initiator === '') return 'missing-initiator';
    if (utf8Length(initiator) > limits.maxMemberNameBytes) return 'bad-initiator';
    // A missing stream-id crashes salut (quirk 18); here it costs the entry.
    const streamId = readDecimal(entry.getAttr('stream-id'), MIN_TUBE_STREAM_ID, MAX_TUBE_STREAM_ID);
    if (streamId === 'missing') return 'missing-stream-id';
    if (streamId === 'bad') return 'bad-stream-id';
    const dbusName = entry.getAttr('dbus-name');
    if (dbusName === undefined || dbusName === '') return 'missing-dbus-name';
    if (dbusName !== ownName) return 'dbus-name-mismatch';
    dbus = { initiator, streamId, dbusName };
  }

  // Parameter problems are logged only for a tube that survives the checks above.
  const parameters = readParameters(entry.getChild('parameters'), limits, (problem) => log.add({ ...problem, tubeId: id }));
  if (dbus === undefined) return { type: 'stream', id, service, initiator: sender, parameters };
  return { type: 'dbus', id, service, initiator: dbus.initiator, parameters, streamId: dbus.streamId, dbusName: dbus.dbusName };
}

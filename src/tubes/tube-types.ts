/**
 * The data of a room's tube list (spec §7.1–§7.3): what one member announces
 * on stream 0, what we keep of another member's announcement, and the bounds
 * that make a hostile list cheap. Pure data, no I/O.
 */

export type TubeType = 'dbus' | 'stream';

/** A tube parameter as salut types it on the wire (§7.1). */
export type TubeParameter =
  | { type: 'str'; value: string }
  /** Signed 32-bit. */
  | { type: 'int'; value: number }
  /** Unsigned 32-bit. */
  | { type: 'uint'; value: number }
  /** Standard base64 on the wire. */
  | { type: 'bytes'; value: Uint8Array }
  /** `1`/`0` on the wire. */
  | { type: 'bool'; value: boolean };

export type TubeParameterType = TubeParameter['type'];
export const TUBE_PARAMETER_TYPES: readonly TubeParameterType[] = ['str', 'int', 'uint', 'bytes', 'bool'];

/** Parameters by name, in document order. */
export type TubeParameters = ReadonlyMap<string, TubeParameter>;

interface TubeCommon {
  /** Chosen by the initiator; every member uses it; the key of a tube within a room (§7.1). */
  id: number;
  service: string;
  /** Instance name of the member that offered the tube. */
  initiator: string;
  parameters: TubeParameters;
}

export interface StreamTubeEntry extends TubeCommon {
  type: 'stream';
}

export interface DBusTubeEntry extends TubeCommon {
  type: 'dbus';
  /** The announcing member's own rMulticast stream (1..65535) for this tube's data (§7.4). */
  streamId: number;
  /** The announcing member's tube-local unique name (`:2.` + …, §7.4). */
  dbusName: string;
}

/**
 * One tube as one member announces it: its own view. A member lists only the
 * stream tubes it initiated, so for a received stream tube the initiator is
 * the sender (§7.3).
 */
export type AnnouncedTube = StreamTubeEntry | DBusTubeEntry;

/** Telepathy's tube channel states; only `open` tubes are announced (§7.2). */
export type TubeChannelState = 'not-offered' | 'local-pending' | 'remote-pending' | 'open';

/**
 * A row of our own tube table, as the list builder reads it. The D-Bus name
 * is not stored: ours is always derived from our member name (§7.4).
 */
export type LocalTube =
  | (StreamTubeEntry & { state: TubeChannelState })
  | (Omit<DBusTubeEntry, 'dbusName'> & { state: TubeChannelState });

export const MIN_TUBE_ID = 1;
/** `id` is read as an unsigned 32-bit decimal; salut's own ids stay within 1..2147483646 (§0). */
export const MAX_TUBE_ID = 0xffff_ffff;
/** Stream 0 carries XML; D-Bus tube data uses 1..65535 (§0, §7.4). */
export const MIN_TUBE_STREAM_ID = 1;
export const MAX_TUBE_STREAM_ID = 65535;

/**
 * Bounds for reading one member's list. Salut's lists hold a handful of tubes
 * with a few short parameters; these leave ample room for that and keep a
 * hostile list to a bounded cost (the stanza itself is already bounded by the
 * XML limits, 1 MiB).
 */
export interface TubeListLimits {
  /** Tubes kept from one list (entries with a readable id count, in document order). */
  maxTubes: number;
  /** `<tube>` entries in one list; more makes the whole list garbage. */
  maxEntries: number;
  /** Parameters kept per tube. */
  maxParameters: number;
  /** UTF-8 bytes of a `str` value, decoded bytes of a `bytes` value. */
  maxParameterValueBytes: number;
  /** Length of a parameter name, in UTF-16 code units. */
  maxParameterNameLength: number;
  /** Length of a service name, in UTF-16 code units (D-Bus names stop at 255). */
  maxServiceLength: number;
  /** UTF-8 bytes of a member name (`initiator`); rMulticast names stay below 255 bytes. */
  maxMemberNameBytes: number;
  /** Problems recorded per list; further ones are only counted. */
  maxProblems: number;
}

export const DEFAULT_TUBE_LIST_LIMITS: Readonly<TubeListLimits> = Object.freeze({
  maxTubes: 64,
  maxEntries: 1024,
  maxParameters: 32,
  maxParameterValueBytes: 8192,
  maxParameterNameLength: 255,
  maxServiceLength: 255,
  maxMemberNameBytes: 254,
  maxProblems: 32,
});

/** Why one tube entry or one parameter of a received list was dropped. */
export type TubeProblemReason =
  // the tube entry
  | 'missing-id'
  | 'bad-id'
  | 'duplicate-id'
  | 'too-many-tubes'
  | 'missing-service'
  | 'bad-service'
  | 'missing-type'
  | 'unknown-type'
  | 'missing-initiator'
  | 'bad-initiator'
  | 'missing-stream-id'
  | 'bad-stream-id'
  | 'duplicate-stream-id'
  | 'missing-dbus-name'
  | 'dbus-name-mismatch'
  // one parameter (the tube is kept without it)
  | 'missing-parameter-name'
  | 'bad-parameter-name'
  | 'missing-parameter-type'
  | 'unknown-parameter-type'
  | 'bad-parameter-value'
  | 'parameter-too-large'
  | 'duplicate-parameter'
  | 'too-many-parameters';

export interface TubeListProblem {
  reason: TubeProblemReason;
  /** The entry's id when it could be read. */
  tubeId?: number;
  /** The parameter's name (cut to 64 characters) for parameter problems. */
  parameter?: string;
}

/** Why a whole list was refused: it costs that list, and the member's previous list stays in force. */
export type TubeListRejection =
  /** Two or more `<tubes>` in one stanza: which one is the full state? */
  | 'multiple-lists'
  /** More `<tube>` entries than `maxEntries`: a flood, not a list. */
  | 'too-many-entries';

/** A received list, cleaned: the full state the member announced, minus what was dropped. */
export interface TubeList {
  /** Valid tubes by id, in document order. */
  tubes: ReadonlyMap<number, AnnouncedTube>;
  /**
   * Ids of entries dropped for a bad field. The member still mentions these
   * tubes (as salut counts a known id as "still in it", §7.3 step 2), so a
   * diff keeps the member's previous entry for them instead of removing it.
   */
  unreadable: ReadonlySet<number>;
  problems: readonly TubeListProblem[];
  /** Problems beyond `maxProblems`, counted only. */
  problemsOmitted: number;
}

export type TubeListReading =
  /** The stanza carries no tube list (§7.3: only `<message type="groupchat">` in jabber:client). */
  | { kind: 'none' }
  | { kind: 'rejected'; reason: TubeListRejection; detail: string }
  | { kind: 'list'; list: TubeList };

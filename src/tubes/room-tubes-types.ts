import type { TubeListProblem, TubeListRejection, TubeParameters, TubeType } from './tube-types.js';

/**
 * What RoomTubes (room-tubes.ts) shows its application: the room's tube
 * table as data, its events, its counters and its errors.
 */

/** `local-pending`: offered to us, not accepted; `open`: ours, or accepted. Closed tubes leave the table. */
export type RoomTubeState = 'local-pending' | 'open';

/** A member taking part in a tube: it lists the tube (§7.2), or it is us with the tube open. */
export interface RoomTubeMember {
  /** rMulticast name (XEP-0174 instance name). */
  name: string;
  self: boolean;
  /** D-Bus tubes: the member's tube-local unique name (`:2.…`, §7.4). */
  dbusName: string | undefined;
  /** D-Bus tubes: the member's own rMulticast stream for this tube's data. */
  streamId: number | undefined;
}

/** One row of the room's tube table, as `RoomTubes.tubes()` lists it. */
export interface RoomTubeInfo {
  room: string;
  /** Chosen by the initiator, the same for every member (§7.1). */
  id: number;
  type: TubeType;
  service: string;
  initiator: string;
  parameters: TubeParameters;
  state: RoomTubeState;
  /** We offered it. */
  requested: boolean;
  /** D-Bus tubes while open: our stream id for its data. */
  streamId: number | undefined;
  /** D-Bus tubes while open: our tube-local unique name. */
  dbusName: string | undefined;
  /** Ourselves (while open) and the members whose lists mention it. */
  members: RoomTubeMember[];
}

/** Why a tube left the table. */
export type TubeCloseReason =
  /** Closed by our application. */
  | 'closed'
  /** Offered to us and never accepted, and no member lists it any more. */
  | 'withdrawn'
  /** The room was left (or RoomTubes was closed). */
  | 'room-left';

export interface TubeMemberEvent {
  room: string;
  tubeId: number;
  member: string;
  /** D-Bus tubes: the member's tube-local name and data stream. */
  dbusName: string | undefined;
  streamId: number | undefined;
}

/** One message of D-Bus tube data from another member, accepted (announced stream, open tube). */
export interface TubeDataEvent {
  room: string;
  tubeId: number;
  sender: string;
  /** The sender's tube-local unique name, as it announced it. */
  dbusName: string;
  bytes: Uint8Array;
}

/** Why stream data of another member was dropped. */
export type TubeDataDropReason =
  /** No open-or-pending tube of ours maps this (sender, stream) (§7.4). */
  | 'unannounced-stream'
  /** The stream belongs to a tube we have not accepted (yet) (§7.4: earlier data is dropped). */
  | 'tube-not-open';

/** Why one entry of a member's list was not taken into our table (beyond what the reader drops). */
export type TubeEntryRefusal =
  /** The id is a tube we know with another type, service or initiator. */
  | 'conflicting-tube'
  /** The member's data stream is already that of another of its tubes. */
  | 'stream-id-in-use'
  /** The member announced another stream id or name for a tube it is in: the first stays (salut's rule). */
  | 'changed-entry'
  /** A tube we closed (ours or accepted), still listed by a member that had not heard yet. */
  | 'closed-here'
  /** Our table is full. */
  | 'too-many-tubes';

/** What went wrong with a member's list: a problem the reader found, or our refusal of an entry. */
export type TubeListIssue =
  | { kind: 'list-rejected'; room: string; sender: string; reason: TubeListRejection; detail: string }
  | { kind: 'entry-dropped'; room: string; sender: string; problem: TubeListProblem }
  | { kind: 'entry-refused'; room: string; sender: string; tubeId: number; reason: TubeEntryRefusal };

export interface RoomTubesEvents {
  /** Another member offers a tube we did not know (state local-pending). */
  'tube-offered': [tube: RoomTubeInfo];
  /** A tube opened here (our offer, or our accept). */
  'tube-opened': [tube: RoomTubeInfo];
  'tube-closed': [tube: RoomTubeInfo, reason: TubeCloseReason];
  /** A member now takes part in a tube (its list mentions it). */
  'tube-member-joined': [event: TubeMemberEvent];
  /** A member's list no longer mentions a tube, or the member left the room. */
  'tube-member-left': [event: TubeMemberEvent];
  'tube-data': [event: TubeDataEvent];
  /** Problems of received lists (each costs only that list or entry). Also logged and counted. */
  'list-issue': [issue: TubeListIssue];
}

export interface RoomTubesStats {
  listsSent: number;
  listsReceived: number;
  listsRejected: number;
  entriesDropped: number;
  entriesRefused: number;
  dataSent: number;
  dataAccepted: number;
  dataDropped: Record<TubeDataDropReason, number>;
}

/** Tunables; defaults in DEFAULT_ROOM_TUBES_LIMITS. */
export interface RoomTubesLimits {
  /** Tubes in our table (ours and others'). */
  maxTubes: number;
  /** Closed tube ids remembered, so that lists still naming them do not bring them back. */
  maxClosedIds: number;
  /**
   * Bytes of our own list stanza: an offer or accept that would make it
   * larger is refused, so the list always fits the room's stanza limit
   * (256 KiB by default) and always goes out.
   */
  maxListBytes: number;
}

export const DEFAULT_ROOM_TUBES_LIMITS: Readonly<RoomTubesLimits> = Object.freeze({ maxTubes: 256, maxClosedIds: 1024, maxListBytes: 192 * 1024 });

import { DATA_HEADER_SIZE, HEADER_SIZE, MAX_LIST_ENTRIES, RELIABLE_PREFIX_SIZE, SENDER_POSITION_SIZE } from '../wire/packet.js';

/**
 * Every list the engine puts on the wire fits it (issue 15): a u8 count (at
 * most 255 entries) and the datagram limit (1440 bytes on UDP). Layouts, spec
 * rmulticast.md §2: DATA 24 + 8n + payload, control packets (FAILURE,
 * ATTEMPT_JOIN, JOIN) 18 + 8n + 4k, SESSION 13 + 8n.
 *
 * Who is left out when a list is too long is decided by the caller, which
 * orders its candidates best first (see SenderTable.depends and
 * Membership's id lists); these functions only say how many fit.
 */

const ID_SIZE = 4;
/** Control packets: the reliable prefix plus the id list's count byte. */
const CONTROL_FIXED = RELIABLE_PREFIX_SIZE + 1;
/**
 * Room kept for the id list of a control packet before the depends list takes
 * the rest: a FAILURE or JOIN that cannot name anybody would be useless.
 */
const ID_LIST_RESERVE = 64;

/** Depends entries that fit a DATA packet that still carries one payload byte (176 at 1440 bytes). */
export function dependsLimit(maxDatagram: number): number {
  return clamp(Math.floor((maxDatagram - DATA_HEADER_SIZE - 1) / SENDER_POSITION_SIZE));
}

/** Positions that fit a SESSION packet (178 at 1440 bytes). */
export function sessionLimit(maxDatagram: number): number {
  return clamp(Math.floor((maxDatagram - HEADER_SIZE - 1) / SENDER_POSITION_SIZE));
}

/**
 * How many of `depends` depends entries and `ids` list entries a control
 * packet carries: ids keep up to ID_LIST_RESERVE places, depends take what is
 * left of the datagram, and ids then take whatever remains after the depends.
 */
export function fitControlLists(depends: number, ids: number, maxDatagram: number): { depends: number; ids: number } {
  const room = maxDatagram - CONTROL_FIXED;
  const reserved = Math.min(ids, ID_LIST_RESERVE, clamp(Math.floor(room / ID_SIZE)));
  const d = Math.min(depends, clamp(Math.floor((room - ID_SIZE * reserved) / SENDER_POSITION_SIZE)));
  const k = Math.min(ids, clamp(Math.floor((room - SENDER_POSITION_SIZE * d) / ID_SIZE)));
  return { depends: d, ids: k };
}

function clamp(n: number): number {
  return Math.max(0, Math.min(MAX_LIST_ENTRIES, n));
}

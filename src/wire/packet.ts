/**
 * In-memory form of the ten rMulticast packet types (spec rmulticast.md §2).
 * All ids are unsigned 32-bit integers held as non-negative JS numbers.
 * Decoded `payload` fields are views into the received datagram (no copy).
 */

/** Type byte (offset 7) of each packet type. */
export const PacketTypeCode = {
  'whois-request': 0x00,
  'whois-reply': 0x01,
  'repair-request': 0x02,
  session: 0x03,
  data: 0x0f,
  'no-data': 0x10,
  failure: 0x11,
  'attempt-join': 0x12,
  join: 0x13,
  bye: 0x14,
} as const;

export type PacketTypeName = keyof typeof PacketTypeCode;

export const PACKET_PREFIX = new Uint8Array([0x43, 0x6c, 0x69, 0x71, 0x75, 0x65]); // "Clique"
export const PROTOCOL_VERSION = 1;
export const HEADER_SIZE = 12;
/** Header + packet id + depends count: the smallest reliable packet. */
export const RELIABLE_PREFIX_SIZE = 17;
/** Reliable prefix + flags + stream id + total size: DATA overhead with no depends. */
export const DATA_HEADER_SIZE = 24;
export const SENDER_POSITION_SIZE = 8;
/** The original's UDP limit; also its fragment size. */
export const DEFAULT_MAX_DATAGRAM = 1440;
/** The original test harness (`test-r-multicast-transport-io`) uses 1500. */
export const HARNESS_MAX_DATAGRAM = 1500;
/** WHOIS names must be shorter than 255 bytes (the original aborts otherwise). */
export const MAX_NAME_BYTES = 254;
export const MAX_LIST_ENTRIES = 255;

export const DataFlags = { START: 0x01, END: 0x02 } as const;

/** `(sender, packet id)`: in depends "processed everything below", in SESSION "received up to id-1". */
export interface SenderPosition {
  senderId: number;
  packetId: number;
}

export interface WhoisRequestPacket {
  type: 'whois-request';
  /** Requester, or 0 while probing for an id. */
  sender: number;
  queriedId: number;
}

export interface WhoisReplyPacket {
  type: 'whois-reply';
  /** The id being named (not necessarily the transmitting node). */
  sender: number;
  name: string;
}

export interface RepairRequestPacket {
  type: 'repair-request';
  /** The requester. */
  sender: number;
  originalSender: number;
  packetId: number;
}

export interface SessionPacket {
  type: 'session';
  sender: number;
  positions: SenderPosition[];
}

interface ReliableFields {
  sender: number;
  packetId: number;
  depends: SenderPosition[];
}

export interface DataPacket extends ReliableFields {
  type: 'data';
  /** Raw flags byte; bit 0 START, bit 1 END, other bits ignored. */
  flags: number;
  streamId: number;
  /** Length of the whole reassembled message (u32), the same in every fragment. */
  totalSize: number;
  payload: Uint8Array;
}

export interface NoDataPacket extends ReliableFields {
  type: 'no-data';
}

export interface ByePacket extends ReliableFields {
  type: 'bye';
}

/** FAILURE: ids declared failed. ATTEMPT_JOIN: ids whose start is wanted. JOIN: ids failed at this join. */
export interface IdListPacket extends ReliableFields {
  type: 'failure' | 'attempt-join' | 'join';
  ids: number[];
}

export type ReliablePacket = DataPacket | NoDataPacket | ByePacket | IdListPacket;
export type UnreliablePacket = WhoisRequestPacket | WhoisReplyPacket | RepairRequestPacket | SessionPacket;
export type Packet = ReliablePacket | UnreliablePacket;

export function isReliable(packet: Packet): packet is ReliablePacket {
  return (
    packet.type === 'data' ||
    packet.type === 'no-data' ||
    packet.type === 'bye' ||
    packet.type === 'failure' ||
    packet.type === 'attempt-join' ||
    packet.type === 'join'
  );
}

export function isStart(packet: DataPacket): boolean {
  return (packet.flags & DataFlags.START) !== 0;
}

export function isEnd(packet: DataPacket): boolean {
  return (packet.flags & DataFlags.END) !== 0;
}

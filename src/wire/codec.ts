import { allocateDatagram } from './datagram-slab.js';
import { PacketError } from './packet-error.js';
import {
  DATA_HEADER_SIZE,
  HEADER_SIZE,
  MAX_LIST_ENTRIES,
  MAX_NAME_BYTES,
  PACKET_PREFIX,
  PROTOCOL_VERSION,
  PacketTypeCode,
  RELIABLE_PREFIX_SIZE,
  SENDER_POSITION_SIZE,
  type DataPacket,
  type IdListPacket,
  type Packet,
  type PacketTypeName,
  type SenderPosition,
} from './packet.js';

const TYPE_BY_CODE = new Map<number, PacketTypeName>(
  Object.entries(PacketTypeCode).map(([name, code]) => [code, name as PacketTypeName]),
);

// ignoreBOM: a leading U+FEFF is part of the name, not a marker to strip (the original keeps the bytes).
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();
/** With the `u` flag a surrogate range only matches unpaired halves. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** Name of a type byte, or undefined when it is not a valid type. For logs. */
export function packetTypeName(code: number): PacketTypeName | undefined {
  return TYPE_BY_CODE.get(code);
}

/**
 * Cheap header peek (type and sender) without a full decode; undefined when the
 * datagram is not a Clique packet. Used by drivers and logs.
 */
export function peekHeader(datagram: Uint8Array): { type: PacketTypeName; sender: number } | undefined {
  if (datagram.length < HEADER_SIZE || !hasPrefix(datagram) || datagram[6] !== PROTOCOL_VERSION) return undefined;
  const type = TYPE_BY_CODE.get(datagram[7]!);
  if (type === undefined) return undefined;
  const view = new DataView(datagram.buffer, datagram.byteOffset, datagram.byteLength);
  return { type, sender: view.getUint32(8) };
}

const ID_LIST_NAMES = { failure: 'failure id list', 'attempt-join': 'attempt-join id list', join: 'join id list' } as const;

function hasPrefix(bytes: Uint8Array): boolean {
  for (let i = 0; i < PACKET_PREFIX.length; i++) if (bytes[i] !== PACKET_PREFIX[i]) return false;
  return true;
}

/** Big-endian unsigned 32-bit read (callers check bounds); no DataView per datagram on the hot path. */
function readU32(bytes: Uint8Array, o: number): number {
  return ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0;
}

/**
 * Bounds-checked big-endian reader over one datagram. Field names for error
 * messages come in two parts so the message is only built when one is thrown.
 */
class Reader {
  offset = HEADER_SIZE;

  constructor(private readonly bytes: Uint8Array) {}

  private need(n: number, what: string, part = ''): void {
    if (this.offset + n > this.bytes.length) {
      throw new PacketError('truncated', `${what}${part} at offset ${this.offset} runs past the end (${this.bytes.length} bytes)`);
    }
  }
  u8(what: string, part = ''): number {
    this.need(1, what, part);
    return this.bytes[this.offset++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = (this.bytes[this.offset]! << 8) | this.bytes[this.offset + 1]!;
    this.offset += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = readU32(this.bytes, this.offset);
    this.offset += 4;
    return v;
  }
  bytesView(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
  rest(): Uint8Array {
    const v = this.bytes.subarray(this.offset);
    this.offset = this.bytes.length;
    return v;
  }
  positions(what: string): SenderPosition[] {
    const count = this.u8(what, ' count');
    // Check the whole list fits before allocating anything for it.
    this.need(count * SENDER_POSITION_SIZE, what, ' entries');
    const list: SenderPosition[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const senderId = readU32(this.bytes, this.offset);
      const packetId = readU32(this.bytes, this.offset + 4);
      this.offset += 8;
      list[i] = { senderId, packetId };
    }
    return list;
  }
  ids(what: string): number[] {
    const count = this.u8(what, ' count');
    this.need(count * 4, what, ' entries');
    const list: number[] = new Array(count);
    for (let i = 0; i < count; i++) {
      list[i] = readU32(this.bytes, this.offset);
      this.offset += 4;
    }
    return list;
  }
  end(): void {
    if (this.offset !== this.bytes.length) {
      throw new PacketError('trailing-bytes', `${this.bytes.length - this.offset} unexpected bytes after the body`);
    }
  }
}

/**
 * Parse one datagram. Never reads past it, never allocates more than it holds
 * (lists are size-checked before they are built), and throws only PacketError.
 */
export function decodePacket(datagram: Uint8Array): Packet {
  // The bulk of traffic: read in place, without a Reader (each field is known to fit).
  if (isWellFormedData(datagram)) return decodeWellFormedData(datagram);
  if (datagram.length < HEADER_SIZE) {
    throw new PacketError('too-short', `datagram of ${datagram.length} bytes is shorter than the 12-byte header`);
  }
  if (!hasPrefix(datagram)) throw new PacketError('bad-prefix', 'datagram does not start with "Clique"');
  const version = datagram[6]!;
  if (version !== PROTOCOL_VERSION) throw new PacketError('bad-version', `unsupported protocol version ${version}`);
  const code = datagram[7]!;
  const type = TYPE_BY_CODE.get(code);
  if (type === undefined) throw new PacketError('bad-type', `unknown packet type 0x${code.toString(16).padStart(2, '0')}`);

  const r = new Reader(datagram);
  const sender = readU32(datagram, 8);
  let packet: Packet;
  switch (type) {
    case 'whois-request':
      packet = { type, sender, queriedId: r.u32('queried id') };
      break;
    case 'whois-reply': {
      const len = r.u8('name length');
      let raw = r.bytesView(len, 'name');
      // The original reads the name as a C string: it ends at an embedded NUL.
      const nul = raw.indexOf(0);
      if (nul >= 0) raw = raw.subarray(0, nul);
      let name: string;
      try {
        name = utf8Decoder.decode(raw);
      } catch {
        throw new PacketError('bad-name', 'WHOIS_REPLY name is not valid UTF-8');
      }
      packet = { type, sender, name };
      break;
    }
    case 'repair-request':
      packet = { type, sender, originalSender: r.u32('original sender'), packetId: r.u32('packet id') };
      break;
    case 'session':
      packet = { type, sender, positions: r.positions('session') };
      break;
    default: {
      const packetId = r.u32('packet id');
      const depends = r.positions('depends');
      switch (type) {
        case 'data': {
          const flags = r.u8('flags');
          const streamId = r.u16('stream id');
          const totalSize = r.u32('total size');
          packet = { type, sender, packetId, depends, flags, streamId, totalSize, payload: r.rest() };
          break;
        }
        case 'no-data':
        case 'bye':
          packet = { type, sender, packetId, depends };
          break;
        case 'failure':
        case 'attempt-join':
        case 'join':
          packet = { type, sender, packetId, depends, ids: r.ids(ID_LIST_NAMES[type]) };
          break;
      }
    }
  }
  r.end();
  return packet;
}

/**
 * Whether `decodePacket(datagram)` would succeed, without building the packet:
 * undefined when it would, else the PacketError it would throw. DATA packets
 * (the bulk of traffic) are checked in place with no allocation; anything else,
 * and every failure, goes through decodePacket itself, so the answer (and the
 * error's code) is always exactly decodePacket's.
 */
export function checkPacket(datagram: Uint8Array): PacketError | undefined {
  if (isWellFormedData(datagram)) return undefined;
  try {
    decodePacket(datagram);
    return undefined;
  } catch (error) {
    if (error instanceof PacketError) return error;
    throw error;
  }
}

const DATA_CODE = PacketTypeCode.data;

/** decodePacket of a datagram isWellFormedData accepted: the same packet, read straight from the bytes. */
function decodeWellFormedData(d: Uint8Array): DataPacket {
  const count = d[RELIABLE_PREFIX_SIZE - 1]!;
  const depends: SenderPosition[] = new Array(count);
  let o = RELIABLE_PREFIX_SIZE;
  for (let i = 0; i < count; i++, o += SENDER_POSITION_SIZE) {
    depends[i] = { senderId: readU32(d, o), packetId: readU32(d, o + 4) };
  }
  return {
    type: 'data',
    sender: readU32(d, 8),
    packetId: readU32(d, 12),
    depends,
    flags: d[o]!,
    streamId: (d[o + 1]! << 8) | d[o + 2]!,
    totalSize: readU32(d, o + 3),
    payload: d.subarray(o + 7),
  };
}

/** A DATA packet is well formed iff its header is and its depends list and fixed fields fit; the payload is the rest. */
function isWellFormedData(d: Uint8Array): boolean {
  return (
    d.length >= RELIABLE_PREFIX_SIZE &&
    d[7] === DATA_CODE &&
    d[6] === PROTOCOL_VERSION &&
    hasPrefix(d) &&
    d.length >= DATA_HEADER_SIZE + SENDER_POSITION_SIZE * d[RELIABLE_PREFIX_SIZE - 1]!
  );
}

/** `what` and `part` name the field; joined only when an error is thrown (no string built per field). */
function checkU32(value: number, what: string, part = ''): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new PacketError('bad-field', `${what}${part} must be an unsigned 32-bit integer, got ${value}`);
  }
}

function checkCount(count: number, what: string): void {
  if (count > MAX_LIST_ENTRIES) throw new PacketError('bad-field', `${what} has ${count} entries; at most 255 fit`);
}

/** Encoded size of a packet in bytes (without encoding it). */
export function encodedSize(packet: Packet): number {
  switch (packet.type) {
    case 'whois-request':
      return HEADER_SIZE + 4;
    case 'whois-reply':
      return HEADER_SIZE + 1 + utf8Encoder.encode(packet.name).length;
    case 'repair-request':
      return HEADER_SIZE + 8;
    case 'session':
      return HEADER_SIZE + 1 + SENDER_POSITION_SIZE * packet.positions.length;
    case 'data':
      return DATA_HEADER_SIZE + SENDER_POSITION_SIZE * packet.depends.length + packet.payload.length;
    case 'no-data':
    case 'bye':
      return RELIABLE_PREFIX_SIZE + SENDER_POSITION_SIZE * packet.depends.length;
    case 'failure':
    case 'attempt-join':
    case 'join':
      return RELIABLE_PREFIX_SIZE + SENDER_POSITION_SIZE * packet.depends.length + 1 + 4 * packet.ids.length;
  }
}

/**
 * Serialise a packet. Throws PacketError('bad-field') for values that cannot be
 * represented and PacketError('too-large') when `maxSize` is given and exceeded.
 */
export function encodePacket(packet: Packet, maxSize?: number): Uint8Array {
  checkU32(packet.sender, 'sender');
  let nameBytes: Uint8Array | undefined;
  if (packet.type === 'whois-reply') {
    nameBytes = utf8Encoder.encode(packet.name);
    if (nameBytes.length > MAX_NAME_BYTES) {
      throw new PacketError('bad-field', `name is ${nameBytes.length} bytes; names must be under 255 bytes`);
    }
    if (nameBytes.includes(0)) throw new PacketError('bad-field', 'name contains a NUL byte');
    // TextEncoder would silently turn a lone surrogate into U+FFFD: a different name on the wire.
    if (LONE_SURROGATE.test(packet.name)) throw new PacketError('bad-field', 'name contains a lone UTF-16 surrogate');
  }
  const size =
    packet.type === 'whois-reply' ? HEADER_SIZE + 1 + nameBytes!.length : encodedSize(packet);
  if (maxSize !== undefined && size > maxSize) {
    throw new PacketError('too-large', `${packet.type} packet of ${size} bytes exceeds the ${maxSize}-byte datagram limit`);
  }
  const out = allocateDatagram(size);
  out.set(PACKET_PREFIX, 0);
  out[6] = PROTOCOL_VERSION;
  out[7] = PacketTypeCode[packet.type];
  writeU32(out, 8, packet.sender);
  let o = HEADER_SIZE;
  switch (packet.type) {
    case 'whois-request':
      checkU32(packet.queriedId, 'queried id');
      writeU32(out, o, packet.queriedId);
      break;
    case 'whois-reply':
      out[o++] = nameBytes!.length;
      out.set(nameBytes!, o);
      break;
    case 'repair-request':
      checkU32(packet.originalSender, 'original sender');
      checkU32(packet.packetId, 'packet id');
      writeU32(out, o, packet.originalSender);
      writeU32(out, o + 4, packet.packetId);
      break;
    case 'session':
      encodePositions(packet.positions, 'session', out, o);
      break;
    default: {
      checkU32(packet.packetId, 'packet id');
      writeU32(out, o, packet.packetId);
      o = encodePositions(packet.depends, 'depends', out, o + 4);
      if (packet.type === 'data') encodeDataBody(packet, out, o);
      else if (packet.type !== 'no-data' && packet.type !== 'bye') encodeIdList(packet, out, o);
    }
  }
  return out;
}

/** Big-endian unsigned 32-bit write (the value is checked); no DataView per datagram on the hot path. */
function writeU32(out: Uint8Array, o: number, value: number): void {
  out[o] = value >>> 24;
  out[o + 1] = value >>> 16;
  out[o + 2] = value >>> 8;
  out[o + 3] = value;
}

/** A count byte and the list at `o`; returns the offset after it. */
function encodePositions(list: SenderPosition[], what: string, out: Uint8Array, o: number): number {
  checkCount(list.length, what);
  out[o++] = list.length;
  for (let i = 0; i < list.length; i++) {
    const p = list[i]!;
    checkU32(p.senderId, what, ' sender id');
    checkU32(p.packetId, what, ' packet id');
    writeU32(out, o, p.senderId);
    writeU32(out, o + 4, p.packetId);
    o += 8;
  }
  return o;
}

function encodeDataBody(packet: DataPacket, out: Uint8Array, o: number): void {
  if (!Number.isInteger(packet.flags) || packet.flags < 0 || packet.flags > 0xff) {
    throw new PacketError('bad-field', `flags must be a byte, got ${packet.flags}`);
  }
  if (!Number.isInteger(packet.streamId) || packet.streamId < 0 || packet.streamId > 0xffff) {
    throw new PacketError('bad-field', `stream id must be 0..65535, got ${packet.streamId}`);
  }
  checkU32(packet.totalSize, 'total size');
  out[o] = packet.flags;
  out[o + 1] = packet.streamId >>> 8;
  out[o + 2] = packet.streamId;
  writeU32(out, o + 3, packet.totalSize);
  out.set(packet.payload, o + 7);
}

function encodeIdList(packet: IdListPacket, out: Uint8Array, o: number): void {
  checkCount(packet.ids.length, `${packet.type} id list`);
  out[o++] = packet.ids.length;
  for (const id of packet.ids) {
    checkU32(id, packet.type, ' id');
    writeU32(out, o, id);
    o += 4;
  }
}

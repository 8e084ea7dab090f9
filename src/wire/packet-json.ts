import { errorText } from '../base/error-text.js';
import { PacketJsonError } from './packet-json-error.js';
import {
  DataFlags,
  PROTOCOL_VERSION,
  PacketTypeCode,
  type Packet,
  type PacketTypeName,
  type SenderPosition,
} from './packet.js';

/**
 * JSON form of a packet, shared by `clique packet`, the stdio driver and logs.
 * Ids are plain numbers; DATA payloads are base64. Reading is strict: unknown
 * keys and missing fields are errors, so a typo never yields a different packet.
 *
 * This module checks each value's JSON type and range; limits that concern the
 * packet as a whole (255 list entries, name rules, datagram size) stay with
 * encodePacket, which throws PacketError for them.
 */

export interface SenderPositionJson {
  senderId: number;
  packetId: number;
}

/** Keys in output order; which optional ones are present depends on `type`. */
export interface PacketJson {
  type: PacketTypeName;
  typeCode: number;
  version: number;
  sender: number;
  /** whois-request */
  queriedId?: number;
  /** whois-reply */
  name?: string;
  /** repair-request */
  originalSender?: number;
  /** repair-request and every reliable type */
  packetId?: number;
  /** session */
  positions?: SenderPositionJson[];
  /** every reliable type */
  depends?: SenderPositionJson[];
  /** data: raw flags byte, and its START / END bits spelled out */
  flags?: number;
  start?: boolean;
  end?: boolean;
  streamId?: number;
  totalSize?: number;
  /** data, base64 */
  payload?: string;
  /** failure, attempt-join, join */
  ids?: number[];
}

const COMMON_KEYS = ['type', 'typeCode', 'version', 'sender'] as const;
const RELIABLE_KEYS = ['packetId', 'depends'] as const;

const KEYS_BY_TYPE: Record<PacketTypeName, readonly string[]> = {
  'whois-request': [...COMMON_KEYS, 'queriedId'],
  'whois-reply': [...COMMON_KEYS, 'name'],
  'repair-request': [...COMMON_KEYS, 'originalSender', 'packetId'],
  session: [...COMMON_KEYS, 'positions'],
  data: [...COMMON_KEYS, ...RELIABLE_KEYS, 'flags', 'start', 'end', 'streamId', 'totalSize', 'payload'],
  'no-data': [...COMMON_KEYS, ...RELIABLE_KEYS],
  bye: [...COMMON_KEYS, ...RELIABLE_KEYS],
  failure: [...COMMON_KEYS, ...RELIABLE_KEYS, 'ids'],
  'attempt-join': [...COMMON_KEYS, ...RELIABLE_KEYS, 'ids'],
  join: [...COMMON_KEYS, ...RELIABLE_KEYS, 'ids'],
};

function positionsToJson(list: SenderPosition[]): SenderPositionJson[] {
  return list.map((p) => ({ senderId: p.senderId, packetId: p.packetId }));
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Plain-object JSON form of a packet (key order as in {@link PacketJson}). */
export function packetToJson(packet: Packet): PacketJson {
  const json: PacketJson = {
    type: packet.type,
    typeCode: PacketTypeCode[packet.type],
    version: PROTOCOL_VERSION,
    sender: packet.sender,
  };
  switch (packet.type) {
    case 'whois-request':
      json.queriedId = packet.queriedId;
      break;
    case 'whois-reply':
      json.name = packet.name;
      break;
    case 'repair-request':
      json.originalSender = packet.originalSender;
      json.packetId = packet.packetId;
      break;
    case 'session':
      json.positions = positionsToJson(packet.positions);
      break;
    default:
      json.packetId = packet.packetId;
      json.depends = positionsToJson(packet.depends);
      switch (packet.type) {
        case 'data':
          json.flags = packet.flags;
          json.start = (packet.flags & DataFlags.START) !== 0;
          json.end = (packet.flags & DataFlags.END) !== 0;
          json.streamId = packet.streamId;
          json.totalSize = packet.totalSize;
          json.payload = toBase64(packet.payload);
          break;
        case 'failure':
        case 'attempt-join':
        case 'join':
          json.ids = [...packet.ids];
          break;
        case 'no-data':
        case 'bye':
          break;
      }
  }
  return json;
}

/** One-line JSON text of a packet. */
export function formatPacketJson(packet: Packet): string {
  return JSON.stringify(packetToJson(packet));
}

/** Parse JSON text describing one packet. Throws PacketJsonError. */
export function parsePacketJson(text: string): Packet {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new PacketJsonError('bad-json', `not valid JSON: ${errorText(error)}`);
  }
  return packetFromJson(value);
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Short description of a JSON value for error messages; never calls the value's own methods. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const HEX_INTEGER = /^0[xX][0-9a-fA-F]{1,8}$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;

/** An unsigned integer ≤ max, given as a JSON number or a "0x…" string. */
function integerValue(value: unknown, max: number, path: string): number {
  let n: number;
  if (typeof value === 'number') {
    n = value;
  } else if (typeof value === 'string' && HEX_INTEGER.test(value)) {
    n = Number.parseInt(value.slice(2), 16);
  } else {
    throw new PacketJsonError('bad-value', `${path} must be an integer or a "0x…" hex string, got ${describeValue(value)}`);
  }
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new PacketJsonError('bad-value', `${path} must be an integer in 0..${max}, got ${describeValue(value)}`);
  }
  return n + 0; // turns -0 into 0
}

class FieldReader {
  constructor(
    private readonly object: JsonObject,
    private readonly path: string,
  ) {}

  private required(key: string): unknown {
    if (!Object.hasOwn(this.object, key) || this.object[key] === undefined) {
      throw new PacketJsonError('missing-field', `${this.path}${key} is missing`);
    }
    return this.object[key];
  }

  has(key: string): boolean {
    return Object.hasOwn(this.object, key);
  }

  u32(key: string): number {
    return integerValue(this.required(key), 0xffffffff, `${this.path}${key}`);
  }
  u16(key: string): number {
    return integerValue(this.required(key), 0xffff, `${this.path}${key}`);
  }
  u8(key: string): number {
    return integerValue(this.required(key), 0xff, `${this.path}${key}`);
  }
  boolean(key: string): boolean {
    const value = this.required(key);
    if (typeof value !== 'boolean') throw new PacketJsonError('bad-value', `${this.path}${key} must be true or false, got ${describeValue(value)}`);
    return value;
  }
  string(key: string): string {
    const value = this.required(key);
    if (typeof value !== 'string') throw new PacketJsonError('bad-value', `${this.path}${key} must be a string, got ${describeValue(value)}`);
    return value;
  }
  array(key: string): unknown[] {
    const value = this.required(key);
    if (!Array.isArray(value)) throw new PacketJsonError('bad-value', `${this.path}${key} must be an array, got ${describeValue(value)}`);
    return value;
  }
  positions(key: string): SenderPosition[] {
    return this.array(key).map((entry, i) => {
      const path = `${this.path}${key}[${i}]`;
      if (!isObject(entry)) throw new PacketJsonError('bad-value', `${path} must be an object {senderId, packetId}, got ${describeValue(entry)}`);
      rejectUnknownKeys(entry, ['senderId', 'packetId'], `${path}.`);
      const reader = new FieldReader(entry, `${path}.`);
      return { senderId: reader.u32('senderId'), packetId: reader.u32('packetId') };
    });
  }
  ids(key: string): number[] {
    return this.array(key).map((entry, i) => integerValue(entry, 0xffffffff, `${this.path}${key}[${i}]`));
  }
  payload(key: string): Uint8Array {
    const text = this.string(key);
    if (!BASE64.test(text)) throw new PacketJsonError('bad-value', `${this.path}${key} is not valid base64`);
    return new Uint8Array(Buffer.from(text, 'base64'));
  }
}

function rejectUnknownKeys(object: JsonObject, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) {
      throw new PacketJsonError('unknown-field', `unknown field ${path}${key} (allowed: ${allowed.join(', ')})`);
    }
  }
}

function isTypeName(value: string): value is PacketTypeName {
  return Object.hasOwn(PacketTypeCode, value);
}

/** DATA flags from `flags` and/or `start`/`end`; when both are given they must agree. */
function dataFlags(r: FieldReader): number {
  const start = r.has('start') ? r.boolean('start') : undefined;
  const end = r.has('end') ? r.boolean('end') : undefined;
  if (r.has('flags')) {
    const flags = r.u8('flags');
    if (start !== undefined && start !== ((flags & DataFlags.START) !== 0)) {
      throw new PacketJsonError('bad-value', `start=${start} contradicts flags=0x${flags.toString(16)}`);
    }
    if (end !== undefined && end !== ((flags & DataFlags.END) !== 0)) {
      throw new PacketJsonError('bad-value', `end=${end} contradicts flags=0x${flags.toString(16)}`);
    }
    return flags;
  }
  if (start === undefined || end === undefined) {
    throw new PacketJsonError('missing-field', 'data needs flags, or both start and end');
  }
  return (start ? DataFlags.START : 0) | (end ? DataFlags.END : 0);
}

/** Build a Packet from a parsed JSON value (as produced by packetToJson). Throws PacketJsonError. */
export function packetFromJson(value: unknown): Packet {
  if (!isObject(value)) throw new PacketJsonError('bad-json', `a packet must be a JSON object, got ${describeValue(value)}`);
  const r = new FieldReader(value, '');
  const type = r.string('type');
  if (!isTypeName(type)) {
    throw new PacketJsonError('bad-value', `unknown packet type ${JSON.stringify(type)} (one of: ${Object.keys(PacketTypeCode).join(', ')})`);
  }
  rejectUnknownKeys(value, KEYS_BY_TYPE[type], '');
  if (r.has('typeCode')) {
    const code = r.u8('typeCode');
    if (code !== PacketTypeCode[type]) {
      throw new PacketJsonError('bad-value', `typeCode ${code} does not match type ${type} (${PacketTypeCode[type]})`);
    }
  }
  if (r.has('version')) {
    const version = r.u8('version');
    if (version !== PROTOCOL_VERSION) throw new PacketJsonError('bad-value', `version must be ${PROTOCOL_VERSION}, got ${version}`);
  }
  const sender = r.u32('sender');
  switch (type) {
    case 'whois-request':
      return { type, sender, queriedId: r.u32('queriedId') };
    case 'whois-reply':
      return { type, sender, name: r.string('name') };
    case 'repair-request':
      return { type, sender, originalSender: r.u32('originalSender'), packetId: r.u32('packetId') };
    case 'session':
      return { type, sender, positions: r.positions('positions') };
    default: {
      const packetId = r.u32('packetId');
      const depends = r.positions('depends');
      switch (type) {
        case 'data':
          return {
            type,
            sender,
            packetId,
            depends,
            flags: dataFlags(r),
            streamId: r.u16('streamId'),
            totalSize: r.u32('totalSize'),
            payload: r.payload('payload'),
          };
        case 'no-data':
        case 'bye':
          return { type, sender, packetId, depends };
        case 'failure':
        case 'attempt-join':
        case 'join':
          return { type, sender, packetId, depends, ids: r.ids('ids') };
      }
    }
  }
}

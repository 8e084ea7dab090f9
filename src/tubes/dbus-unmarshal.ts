import { DBusError } from './dbus-error.js';
import { checkHeaderFields, HEADER_FIELDS } from './dbus-header.js';
import {
  DBUS_DEFAULT_MAX_MESSAGE_BYTES,
  DBUS_MAX_DEPTH,
  DBUS_SPEC_MAX_ARRAY_BYTES,
  DBUS_SPEC_MAX_MESSAGE_BYTES,
  type DBusDecodeLimits,
  type DBusHeaderFields,
  type DBusMessage,
  type DBusMessageType,
  type DBusValue,
} from './dbus-message.js';
import { isObjectPath } from './dbus-names.js';
import { alignmentOf, parseSignature, parseSingleType, type DBusType } from './dbus-signature.js';

const TYPES: readonly (DBusMessageType | undefined)[] = [undefined, 'method_call', 'method_return', 'error', 'signal'];
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function malformed(message: string): never {
  throw new DBusError('dbus-malformed', message);
}

/**
 * Reads within [pos, end): every read checks the bytes are there first, so no
 * untrusted length is used before it is compared with what remains.
 */
class Reader {
  pos = 0;
  end: number;
  private readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    private readonly little: boolean,
    private readonly maxArrayBytes: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.end = bytes.length;
  }

  take(count: number): number {
    if (count > this.end - this.pos) malformed(`needs ${count} bytes at offset ${this.pos}, ${this.end - this.pos} left`);
    const at = this.pos;
    this.pos += count;
    return at;
  }

  pad(alignment: number): void {
    const extra = (alignment - (this.pos % alignment)) % alignment;
    const at = this.take(extra);
    for (let i = at; i < at + extra; i++) if (this.bytes[i] !== 0) malformed(`nonzero padding at offset ${i}`);
  }

  u8(): number {
    return this.view.getUint8(this.take(1));
  }
  u16(): number {
    this.pad(2);
    return this.view.getUint16(this.take(2), this.little);
  }
  i16(): number {
    this.pad(2);
    return this.view.getInt16(this.take(2), this.little);
  }
  u32(): number {
    this.pad(4);
    return this.view.getUint32(this.take(4), this.little);
  }
  i32(): number {
    this.pad(4);
    return this.view.getInt32(this.take(4), this.little);
  }
  u64(): bigint {
    this.pad(8);
    return this.view.getBigUint64(this.take(8), this.little);
  }
  i64(): bigint {
    this.pad(8);
    return this.view.getBigInt64(this.take(8), this.little);
  }
  f64(): number {
    this.pad(8);
    return this.view.getFloat64(this.take(8), this.little);
  }

  /** `length` bytes then a NUL; no NUL inside, valid UTF-8. */
  text(length: number): string {
    if (length > this.end - this.pos - 1) malformed(`string of ${length} bytes runs past the end`);
    const at = this.take(length + 1);
    const raw = this.bytes.subarray(at, at + length);
    if (this.bytes[at + length] !== 0) malformed(`string at offset ${at} is not NUL-terminated`);
    if (raw.includes(0)) malformed(`string at offset ${at} contains NUL`);
    try {
      return UTF8.decode(raw);
    } catch (cause) {
      throw new DBusError('dbus-malformed', `string at offset ${at} is not valid UTF-8`, { cause });
    }
  }

  signature(): string {
    return this.text(this.u8());
  }

  value(type: DBusType, depth: number): DBusValue {
    switch (type.kind) {
      case 'basic':
        return this.basic(type.code);
      case 'variant': {
        deeper(depth);
        const signature = this.signature();
        return { signature, value: this.value(parseSingleType(signature), depth + 1) };
      }
      case 'struct':
      case 'dict-entry': {
        deeper(depth);
        this.pad(8);
        const fields = type.kind === 'struct' ? type.fields : [type.key, type.value];
        return fields.map((field) => this.value(field, depth + 1));
      }
      case 'array':
        return this.array(type.element, depth);
    }
  }

  private array(element: DBusType, depth: number): DBusValue {
    deeper(depth);
    const length = this.u32();
    if (length > this.maxArrayBytes) throw new DBusError('dbus-too-large', `array of ${length} bytes exceeds the limit`);
    this.pad(alignmentOf(element));
    if (length > this.end - this.pos) malformed(`array of ${length} bytes runs past the end`);
    if (element.kind === 'basic' && element.code === 'y') return this.bytes.slice(this.pos, (this.pos += length));
    const outerEnd = this.end;
    this.end = this.pos + length;
    const items: DBusValue[] = [];
    // every element takes at least one byte, so this loop ends
    while (this.pos < this.end) items.push(this.value(element, depth + 1));
    this.end = outerEnd;
    return items;
  }

  private basic(code: string): DBusValue {
    switch (code) {
      case 'y':
        return this.u8();
      case 'b': {
        const value = this.u32();
        if (value > 1) malformed(`boolean holds ${value}`);
        return value === 1;
      }
      case 'n':
        return this.i16();
      case 'q':
        return this.u16();
      case 'i':
        return this.i32();
      case 'u':
      case 'h':
        return this.u32();
      case 'x':
        return this.i64();
      case 't':
        return this.u64();
      case 'd':
        return this.f64();
      case 's':
        return this.text(this.u32());
      case 'o': {
        const path = this.text(this.u32());
        if (!isObjectPath(path)) malformed(`not an object path: ${JSON.stringify(path)}`);
        return path;
      }
      case 'g': {
        const signature = this.signature();
        parseSignature(signature);
        return signature;
      }
    }
    return malformed(`unknown basic type ${code}`);
  }
}

function deeper(depth: number): void {
  if (depth + 1 > DBUS_MAX_DEPTH) throw new DBusError('dbus-too-large', 'containers nested deeper than 64');
}

function limitsOf(limits: DBusDecodeLimits): { maxMessageBytes: number; maxArrayBytes: number } {
  return {
    maxMessageBytes: Math.min(limits.maxMessageBytes ?? DBUS_DEFAULT_MAX_MESSAGE_BYTES, DBUS_SPEC_MAX_MESSAGE_BYTES),
    maxArrayBytes: Math.min(limits.maxArrayBytes ?? DBUS_SPEC_MAX_ARRAY_BYTES, DBUS_SPEC_MAX_ARRAY_BYTES),
  };
}

/**
 * The whole message's length from its first 16 bytes (for framing a byte stream),
 * or undefined when fewer than 16 bytes are given. Throws DBusError for a bad
 * endian byte or a length beyond the limit, so a reader never waits for 4 GiB.
 */
export function dbusMessageLength(prefix: Uint8Array, limits: DBusDecodeLimits = {}): number | undefined {
  if (prefix.length < 16) return undefined;
  const endian = prefix[0];
  if (endian !== 0x6c && endian !== 0x42) malformed(`endian byte ${endian} is neither 'l' nor 'B'`);
  const view = new DataView(prefix.buffer, prefix.byteOffset, 16);
  const little = endian === 0x6c;
  const bodyLength = view.getUint32(4, little);
  const fieldsLength = view.getUint32(12, little);
  const total = 16 + fieldsLength + ((8 - (fieldsLength % 8)) % 8) + bodyLength;
  const { maxMessageBytes } = limitsOf(limits);
  if (total > maxMessageBytes) throw new DBusError('dbus-too-large', `message of ${total} bytes exceeds the limit of ${maxMessageBytes}`);
  return total;
}

/**
 * Decodes exactly one whole message. Throws only DBusError: 'dbus-malformed',
 * 'dbus-header', 'dbus-signature' or 'dbus-too-large'.
 */
export function decodeDBusMessage(bytes: Uint8Array, limits: DBusDecodeLimits = {}): DBusMessage {
  const bounds = limitsOf(limits);
  const total = dbusMessageLength(bytes, limits);
  if (total === undefined) malformed(`${bytes.length} bytes is shorter than a message header`);
  if (total !== bytes.length) malformed(`header says ${total} bytes, blob has ${bytes.length}`);
  const r = new Reader(bytes, bytes[0] === 0x6c, bounds.maxArrayBytes);
  r.take(1);
  const type = TYPES[r.u8()];
  if (type === undefined) malformed(`unknown message type ${bytes[1]}`);
  const flags = r.u8();
  if (r.u8() !== 1) malformed(`protocol version ${bytes[3]} is not 1`);
  r.u32(); // body length, already checked by dbusMessageLength
  const serial = r.u32();
  if (serial === 0) malformed('serial is zero');
  const fields = readHeaderFields(r, bounds.maxArrayBytes);
  r.pad(8);
  checkHeaderFields(type, fields);
  const bodyLength = bytes.length - r.pos;
  const types = parseSignature(fields.signature ?? '');
  if (types.length === 0 && bodyLength > 0) malformed(`body of ${bodyLength} bytes without a signature`);
  const body = types.map((t) => r.value(t, 0));
  if (r.pos !== bytes.length) malformed(`body is ${bodyLength} bytes but its values end after ${r.pos - (bytes.length - bodyLength)}`);
  return { type, flags, serial, fields, body };
}

function readHeaderFields(r: Reader, maxArrayBytes: number): DBusHeaderFields {
  const length = r.u32();
  if (length > maxArrayBytes) throw new DBusError('dbus-too-large', `header fields of ${length} bytes exceed the limit`);
  if (length > r.end - r.pos) malformed('header fields run past the end');
  const outerEnd = r.end;
  r.end = r.pos + length;
  const fields: Record<string, DBusValue> = {};
  while (r.pos < r.end) {
    r.pad(8);
    const code = r.u8();
    const signature = r.signature();
    const value = r.value(parseSingleType(signature), 2); // inside a(yv): array and struct already open
    const spec = HEADER_FIELDS.find((f) => f.code === code);
    if (spec === undefined) continue; // the spec says unknown fields are ignored
    if (signature !== spec.type) throw new DBusError('dbus-header', `header field ${spec.name} holds ${signature}, not ${spec.type}`);
    if (spec.name in fields) throw new DBusError('dbus-header', `header field ${spec.name} appears twice`);
    fields[spec.name] = value;
  }
  r.end = outerEnd;
  return fields as DBusHeaderFields;
}

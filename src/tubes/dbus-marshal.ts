import { DBusError } from './dbus-error.js';
import {
  DBUS_MAX_DEPTH,
  DBUS_MESSAGE_TYPE_CODES,
  DBUS_SPEC_MAX_ARRAY_BYTES,
  DBUS_SPEC_MAX_MESSAGE_BYTES,
  type DBusEndian,
  type DBusMessage,
  type DBusValue,
  type DBusVariant,
} from './dbus-message.js';
import { checkHeaderFields, HEADER_FIELDS } from './dbus-header.js';
import { alignmentOf, parseSignature, parseSingleType, type DBusType } from './dbus-signature.js';
import { isObjectPath } from './dbus-names.js';

const LONE_SURROGATE = /\p{Cs}/u;
const UTF8 = new TextEncoder();

/** Grows as it writes; offsets (and so alignment) count from the message's first byte. */
class Writer {
  private bytes = new Uint8Array(256);
  private view = new DataView(this.bytes.buffer);
  length = 0;

  constructor(private readonly little: boolean) {}

  private reserve(count: number): number {
    const at = this.length;
    const needed = at + count;
    if (needed > DBUS_SPEC_MAX_MESSAGE_BYTES) throw new DBusError('dbus-too-large', 'message would exceed 128 MiB');
    if (needed > this.bytes.length) {
      const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    this.length = needed;
    return at;
  }

  pad(alignment: number): void {
    const extra = (alignment - (this.length % alignment)) % alignment;
    this.reserve(extra); // new bytes are zero: a fresh or grown buffer is zero-filled and never reused
  }

  u8(value: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, value);
  }
  u16(value: number): void {
    this.pad(2);
    const at = this.reserve(2);
    this.view.setUint16(at, value, this.little);
  }
  i16(value: number): void {
    this.pad(2);
    const at = this.reserve(2);
    this.view.setInt16(at, value, this.little);
  }
  u32(value: number): void {
    this.pad(4);
    const at = this.reserve(4);
    this.view.setUint32(at, value, this.little);
  }
  i32(value: number): void {
    this.pad(4);
    const at = this.reserve(4);
    this.view.setInt32(at, value, this.little);
  }
  u64(value: bigint): void {
    this.pad(8);
    const at = this.reserve(8);
    this.view.setBigUint64(at, value, this.little);
  }
  i64(value: bigint): void {
    this.pad(8);
    const at = this.reserve(8);
    this.view.setBigInt64(at, value, this.little);
  }
  f64(value: number): void {
    this.pad(8);
    const at = this.reserve(8);
    this.view.setFloat64(at, value, this.little);
  }
  raw(data: Uint8Array): void {
    const at = this.reserve(data.length);
    this.bytes.set(data, at);
  }
  patchU32(at: number, value: number): void {
    this.view.setUint32(at, value, this.little);
  }
  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

function fail(message: string): never {
  throw new DBusError('dbus-value', message);
}

function integer(value: DBusValue, min: number, max: number, code: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${code} needs an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

function bigInteger(value: DBusValue, min: bigint, max: bigint, code: string): bigint {
  if (typeof value !== 'bigint' || value < min || value > max) fail(`${code} needs a bigint in [${min}, ${max}], got ${String(value)}`);
  return value;
}

function text(value: DBusValue, code: string): string {
  if (typeof value !== 'string') fail(`${code} needs a string, got ${typeof value}`);
  if (value.includes('\0')) fail(`${code} must not contain NUL`);
  if (LONE_SURROGATE.test(value)) fail(`${code} holds a lone surrogate (not encodable as UTF-8)`);
  return value;
}

function writeString(w: Writer, value: string): void {
  const bytes = UTF8.encode(value);
  w.u32(bytes.length);
  w.raw(bytes);
  w.u8(0);
}

function writeSignature(w: Writer, value: string): void {
  parseSignature(value); // throws dbus-signature
  w.u8(value.length); // a valid signature is ASCII, so length is its byte count
  w.raw(UTF8.encode(value));
  w.u8(0);
}

function isVariant(value: DBusValue): value is DBusVariant {
  // checked at run time too: JavaScript callers can hand in null or plain objects
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array) && typeof (value as { signature?: unknown }).signature === 'string';
}

function writeValue(w: Writer, type: DBusType, value: DBusValue, depth: number): void {
  switch (type.kind) {
    case 'basic':
      return writeBasic(w, type.code, value);
    case 'variant': {
      if (!isVariant(value)) fail('v needs { signature, value }');
      if (depth + 1 > DBUS_MAX_DEPTH) throw new DBusError('dbus-too-large', 'containers nested deeper than 64');
      const inner = parseSingleType(value.signature);
      writeSignature(w, value.signature);
      return writeValue(w, inner, value.value, depth + 1);
    }
    case 'struct':
    case 'dict-entry': {
      const fields = type.kind === 'struct' ? type.fields : [type.key, type.value];
      if (!Array.isArray(value) || value.length !== fields.length) fail(`${type.kind} needs an array of ${fields.length} values`);
      if (depth + 1 > DBUS_MAX_DEPTH) throw new DBusError('dbus-too-large', 'containers nested deeper than 64');
      w.pad(8);
      fields.forEach((field, i) => writeValue(w, field, (value as readonly DBusValue[])[i]!, depth + 1));
      return;
    }
    case 'array': {
      if (depth + 1 > DBUS_MAX_DEPTH) throw new DBusError('dbus-too-large', 'containers nested deeper than 64');
      const element = type.element;
      let items: readonly DBusValue[];
      if (value instanceof Uint8Array) {
        if (element.kind !== 'basic' || element.code !== 'y') fail('a Uint8Array encodes only ay');
        if (value.length > DBUS_SPEC_MAX_ARRAY_BYTES) throw new DBusError('dbus-too-large', 'array longer than 64 MiB');
        w.u32(value.length); // bytes need no padding after the length
        w.raw(value);
        return;
      } else if (Array.isArray(value)) {
        items = value;
      } else {
        fail('a needs an array');
      }
      w.u32(0);
      const lengthAt = w.length - 4;
      w.pad(alignmentOf(element)); // the padding after the length is not part of the array's length
      const start = w.length;
      for (const item of items) writeValue(w, element, item, depth + 1);
      const size = w.length - start;
      if (size > DBUS_SPEC_MAX_ARRAY_BYTES) throw new DBusError('dbus-too-large', 'array longer than 64 MiB');
      w.patchU32(lengthAt, size);
      return;
    }
  }
}

function writeBasic(w: Writer, code: string, value: DBusValue): void {
  switch (code) {
    case 'y':
      return w.u8(integer(value, 0, 0xff, code));
    case 'b':
      if (typeof value !== 'boolean') fail(`b needs a boolean, got ${typeof value}`);
      return w.u32(value ? 1 : 0);
    case 'n':
      return w.i16(integer(value, -0x8000, 0x7fff, code));
    case 'q':
      return w.u16(integer(value, 0, 0xffff, code));
    case 'i':
      return w.i32(integer(value, -0x8000_0000, 0x7fff_ffff, code));
    case 'u':
    case 'h':
      return w.u32(integer(value, 0, 0xffff_ffff, code));
    case 'x':
      return w.i64(bigInteger(value, -(2n ** 63n), 2n ** 63n - 1n, code));
    case 't':
      return w.u64(bigInteger(value, 0n, 2n ** 64n - 1n, code));
    case 'd':
      if (typeof value !== 'number') fail(`d needs a number, got ${typeof value}`);
      return w.f64(value);
    case 's':
      return writeString(w, text(value, code));
    case 'o': {
      const path = text(value, code);
      if (!isObjectPath(path)) fail(`not an object path: ${JSON.stringify(path)}`);
      return writeString(w, path);
    }
    case 'g':
      return writeSignature(w, text(value, code));
  }
  fail(`unknown basic type ${code}`);
}

/**
 * Encodes a message. Throws DBusError: 'dbus-value' when a value does not fit its
 * type, 'dbus-signature' for a bad signature, 'dbus-header' for missing or invalid
 * header fields, 'dbus-too-large' beyond the spec's limits.
 */
export function encodeDBusMessage(message: DBusMessage, options: { endian?: DBusEndian } = {}): Uint8Array {
  const little = (options.endian ?? 'little') === 'little';
  checkHeaderFields(message.type, message.fields);
  if (!Number.isInteger(message.serial) || message.serial < 1 || message.serial > 0xffff_ffff) fail('serial must be a nonzero u32');
  if (!Number.isInteger(message.flags) || message.flags < 0 || message.flags > 0xff) fail('flags must be a byte');
  const signature = message.fields.signature ?? '';
  const types = parseSignature(signature);
  if (types.length !== message.body.length) fail(`signature ${JSON.stringify(signature)} has ${types.length} types, body has ${message.body.length} values`);

  const w = new Writer(little);
  w.u8(little ? 0x6c : 0x42);
  w.u8(DBUS_MESSAGE_TYPE_CODES[message.type]);
  w.u8(message.flags);
  w.u8(1);
  w.u32(0); // body length, patched below
  w.u32(message.serial);
  w.u32(0); // header field array length, patched below
  const fieldsStart = w.length; // 16: already 8-aligned
  for (const field of HEADER_FIELDS) {
    const value = message.fields[field.name];
    if (value === undefined || (field.name === 'signature' && value === '')) continue;
    w.pad(8);
    w.u8(field.code);
    writeSignature(w, field.type);
    writeBasic(w, field.type, value);
  }
  w.patchU32(12, w.length - fieldsStart);
  w.pad(8);
  const bodyStart = w.length;
  types.forEach((type, i) => writeValue(w, type, message.body[i]!, 0));
  w.patchU32(4, w.length - bodyStart);
  return w.result();
}

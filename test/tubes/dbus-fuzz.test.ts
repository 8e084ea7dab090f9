import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DBusError } from '../../src/tubes/dbus-error.js';
import type { DBusMessage } from '../../src/tubes/dbus-message.js';
import { encodeDBusMessage } from '../../src/tubes/dbus-marshal.js';
import { decodeDBusMessage } from '../../src/tubes/dbus-unmarshal.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';
import { dbusMessage } from './dbus-arbitrary.js';

const seed = propertySeed();

/** Decoding hostile bytes gives a message or a DBusError, never another throw. */
function decodeOrDBusError(bytes: Uint8Array): DBusMessage | DBusError {
  try {
    return decodeDBusMessage(bytes);
  } catch (error) {
    if (error instanceof DBusError) return error;
    throw error;
  }
}

function code(bytes: Uint8Array, limits = {}): string {
  try {
    decodeDBusMessage(bytes, limits);
  } catch (error) {
    if (error instanceof DBusError) return error.code;
    throw error;
  }
  return 'accepted';
}

const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const le32 = (n: number): string => Buffer.from(Uint32Array.of(n).buffer).toString('hex');

/** A little-endian method call (type 1, serial 1) from header field and body bytes, lengths and padding computed. */
function blob(fields: string, body: string): Uint8Array {
  const fieldBytes = hex(fields);
  const pad = (8 - (fieldBytes.length % 8)) % 8;
  return hex(`6c 01 00 01 ${le32(hex(body).length)} 01000000 ${le32(fieldBytes.length)} ${fields} ${'00'.repeat(pad)} ${body}`);
}

/** The call "/a" "M" with a signature and body: the fixture for most hostile variants. */
function call(signature: string, body: string): Uint8Array {
  const pathAndMember = '01 01 6f 00 02000000 2f 61 00 0000000000 03 01 73 00 01000000 4d 00';
  if (signature === '') return blob(pathAndMember, body);
  const length = signature.length.toString(16).padStart(2, '0');
  return blob(`${pathAndMember} 000000000000 08 01 67 00 ${length} ${Buffer.from(signature).toString('hex')} 00`, body);
}

export const HOSTILE: Record<string, Uint8Array> = {
  'empty': new Uint8Array(0),
  'bad endian byte': (() => { const b = call('u', '07000000'); b[0] = 0x78; return b; })(),
  'protocol version 2': (() => { const b = call('u', '07000000'); b[3] = 2; return b; })(),
  'message type 0': (() => { const b = call('u', '07000000'); b[1] = 0; return b; })(),
  'serial 0': (() => { const b = call('u', '07000000'); b[8] = 0; return b; })(),
  'truncated body': call('u', '07000000').subarray(0, 58),
  'body length past the end': (() => { const b = call('u', '07000000'); b[4] = 0xff; b[7] = 0x7f; return b; })(),
  'boolean 2': call('b', '02000000'),
  'string without NUL': call('s', '01000000 41 41'),
  'string with NUL inside': call('s', '02000000 41 00 00'),
  'string with invalid UTF-8': call('s', '02000000 c3 28 00'),
  'string length 4 GiB': call('s', 'ffffffff 41 00'),
  'array length 4 GiB': call('ai', 'ffffffff 00000000'),
  'array length not a whole element': call('ai', '03000000 00000000'),
  'bad object path': call('o', '03000000 2f 61 2f 00'),
  'bad signature value': call('g', '01 28 00'),
  'variant with two types': call('v', '02 69 69 00 07000000'),
  'body without signature': call('', '07000000'),
  'body longer than its values': call('y', '07 00 00 00'),
  'nonzero padding': call('yu', '07 01 00 00 07000000'),
  'method call without member': blob('01 01 6f 00 02000000 2f 61 00', ''),
  'duplicate path field': blob('01 01 6f 00 02000000 2f 61 00 0000000000 01 01 6f 00 02000000 2f 62 00 0000000000 03 01 73 00 01000000 4d 00', ''),
  'field array ends inside a field': (() => { const b = call('u', '07000000'); b[12] -= 1; return b; })(),
  'signature with 33 nested arrays': call('a'.repeat(33) + 'y', '00000000'),
  'variants nested 65 deep': call('v', '01 76 00 '.repeat(65) + '01 79 00 07'),
  'header path holds a string': blob('01 01 73 00 02000000 2f 61 00 0000000000 03 01 73 00 01000000 4d 00', ''),
};

describe('D-Bus decoder on hostile input', () => {
  it('refuses every hand-made hostile blob with a DBusError', () => {
    for (const [name, bytes] of Object.entries(HOSTILE)) expect(code(bytes), name).toMatch(/^dbus-/);
  });

  it('accepts the valid fixture the hostile blobs are made from', () => {
    expect(decodeDBusMessage(call('u', '07000000')).body).toEqual([7]);
    expect(decodeDBusMessage(call('', '')).fields).toEqual({ path: '/a', member: 'M' });
    expect(decodeDBusMessage(call('v', '01 76 00 '.repeat(20) + '01 79 00 07')).body).toHaveLength(1);
  });

  it('applies its size limits before reading', () => {
    const big = call('ay', `00000100 ${'00'.repeat(65536)}`);
    expect(code(big)).toBe('accepted');
    expect(code(big, { maxMessageBytes: 65536 })).toBe('dbus-too-large');
    expect(code(big, { maxArrayBytes: 65535 })).toBe('dbus-too-large');
    // a header that claims 100 MiB is refused from its first 16 bytes under the 4 MiB default
    const claims = call('u', '07000000');
    claims[7] = 0x06;
    expect(code(claims)).toBe('dbus-too-large');
  });

  it(`any bytes decode to a message or a DBusError, nothing else (seed ${seed})`, () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodeOrDBusError(bytes);
      }),
      seed,
      { numRuns: 2000 },
    );
  });

  it(`any valid message cut, or with bytes changed, decodes or fails with a DBusError (seed ${seed})`, () => {
    const mutated = fc
      .tuple(dbusMessage, fc.constantFrom('little' as const, 'big' as const))
      .map(([message, endian]) => encodeDBusMessage(message, { endian }))
      .chain((bytes) =>
        fc.tuple(
          fc.constant(bytes),
          fc.array(fc.tuple(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          fc.option(fc.nat({ max: bytes.length }), { nil: undefined }),
        ),
      );
    assertProperty(
      fc.property(mutated, ([bytes, changes, cut]) => {
        const copy = bytes.slice(0, cut ?? bytes.length);
        for (const [at, value] of changes) if (at < copy.length) copy[at] = value;
        const result = decodeOrDBusError(copy);
        if (changes.length === 0 && cut !== undefined && cut < bytes.length) expect(result).toBeInstanceOf(DBusError);
      }),
      seed,
      { numRuns: 1500 },
    );
  });
});

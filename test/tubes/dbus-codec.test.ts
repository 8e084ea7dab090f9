import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DBusError } from '../../src/tubes/dbus-error.js';
import type { DBusMessage } from '../../src/tubes/dbus-message.js';
import { encodeDBusMessage } from '../../src/tubes/dbus-marshal.js';
import { parseSignature, typeSignature } from '../../src/tubes/dbus-signature.js';
import { dbusMessageLength, decodeDBusMessage } from '../../src/tubes/dbus-unmarshal.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';
import { dbusMessage, dbusType } from './dbus-arbitrary.js';

const seed = propertySeed();
const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

function dbusErrorCode(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof DBusError) return error.code;
    throw error;
  }
  throw new Error('expected a DBusError, nothing was thrown');
}

/** method_call path "/a", member "M", signature "u", body [7], serial 1: laid out by hand from the spec. */
const CALL: DBusMessage = { type: 'method_call', flags: 0, serial: 1, fields: { path: '/a', member: 'M', signature: 'u' }, body: [7] };
const CALL_LITTLE = hex(`
  6c 01 00 01  04000000  01000000  27000000
  01 01 6f 00  02000000  2f 61 00  00 00 00 00 00
  03 01 73 00  01000000  4d 00  00 00 00 00 00 00
  08 01 67 00  01 75 00  00
  07000000`);
const CALL_BIG = hex(`
  42 01 00 01  00000004  00000001  00000027
  01 01 6f 00  00000002  2f 61 00  00 00 00 00 00
  03 01 73 00  00000001  4d 00  00 00 00 00 00 00
  08 01 67 00  01 75 00  00
  00000007`);

describe('D-Bus signatures', () => {
  it('parse and print back', () => {
    for (const sig of ['', 'y', 'a{sv}', '(ia(yv))', 'aaai', 'a{oa{sa{sv}}}', 'sogh', 'vvx']) {
      expect(parseSignature(sig).map(typeSignature).join('')).toBe(sig);
    }
  });

  it('refuse bad ones with dbus-signature', () => {
    const bad = ['(', ')', '()', 'a', '{sv}', 'a{vs}', 'a{s}', 'a{sss}', 'z', '(i', 'a'.repeat(33) + 'i', '('.repeat(33) + 'i' + ')'.repeat(33), 'i'.repeat(256)];
    for (const sig of bad) expect(dbusErrorCode(() => parseSignature(sig)), sig).toBe('dbus-signature');
    expect(parseSignature('a'.repeat(32) + 'i')).toHaveLength(1);
    expect(parseSignature('('.repeat(32) + 'i' + ')'.repeat(32))).toHaveLength(1);
  });

  it(`any generated type prints to a signature that parses back to it (seed ${seed})`, () => {
    assertProperty(
      fc.property(dbusType(4), (type) => {
        expect(parseSignature(typeSignature(type))).toEqual([type]);
      }),
      seed,
    );
  });
});

describe('D-Bus messages', () => {
  it('encode to the golden bytes, both endians, and decode back', () => {
    expect(toHex(encodeDBusMessage(CALL, { endian: 'little' }))).toBe(toHex(CALL_LITTLE));
    expect(toHex(encodeDBusMessage(CALL, { endian: 'big' }))).toBe(toHex(CALL_BIG));
    expect(decodeDBusMessage(CALL_LITTLE)).toEqual(CALL);
    expect(decodeDBusMessage(CALL_BIG)).toEqual(CALL);
    expect(dbusMessageLength(CALL_LITTLE.subarray(0, 16))).toBe(CALL_LITTLE.length);
    expect(dbusMessageLength(CALL_LITTLE.subarray(0, 15))).toBeUndefined();
  });

  it('lay out containers with their alignment: a{sv} holding a struct and a u64', () => {
    const message: DBusMessage = {
      type: 'signal',
      flags: 1,
      serial: 9,
      fields: { path: '/', interface: 'a.b', member: 'S', signature: 'ya{sv}' },
      body: [1, [['k', { signature: '(yt)', value: [2, 3n] }]]],
    };
    const bytes = encodeDBusMessage(message);
    const body = bytes.subarray(bytes.length - 40);
    // y, pad to 4, array length 32, pad to 8 (none), dict entry: "k", variant "(yt)", pad to 8, y, pad to 8, t
    expect(toHex(body)).toBe(
      '01000000' + '20000000' + '01000000' + '6b00' + '04' + '28797429' + '00' + '00000000' + '02' + '00000000000000' + '0300000000000000',
    );
    expect(decodeDBusMessage(bytes)).toEqual(message);
  });

  it(`any message round-trips through both endians (seed ${seed})`, () => {
    assertProperty(
      fc.property(dbusMessage, fc.constantFrom('little' as const, 'big' as const), (message, endian) => {
        const bytes = encodeDBusMessage(message, { endian });
        expect(bytes.length - dbusMessageLength(bytes.subarray(0, 16))!).toBe(0);
        expect(dbusMessageLength(bytes)).toBe(bytes.length);
        expect(decodeDBusMessage(bytes)).toEqual(message);
      }),
      seed,
      { numRuns: 400 },
    );
  });

  it('refuse to encode values that do not fit their type', () => {
    const call = (signature: string, ...body: DBusMessage['body']): DBusMessage => ({ ...CALL, fields: { ...CALL.fields, signature }, body });
    for (const [signature, value] of [
      ['y', 256], ['y', -1], ['n', 0x8000], ['q', 1.5], ['i', 2 ** 31], ['u', -1], ['x', 2n ** 63n], ['t', -1n], ['x', 1],
      ['b', 1], ['d', 1n], ['s', 'a\0b'], ['s', '\ud800'], ['o', 'a/b'], ['o', '/a/'], ['o', '//'], ['g', '(('], ['v', 3],
      ['(is)', [1]], ['a{sv}', [['k']]], ['ai', new Uint8Array(2)], ['ai', 3], ['v', null as never], ['v', {} as never], ['(i)', [undefined as never]],
    ] as const) {
      expect(dbusErrorCode(() => encodeDBusMessage(call(signature, value))), `${signature} ${String(value)}`).toMatch(/^dbus-(value|signature)$/);
    }
    expect(dbusErrorCode(() => encodeDBusMessage(call('ii', 1)))).toBe('dbus-value');
    expect(dbusErrorCode(() => encodeDBusMessage({ ...CALL, serial: 0 }))).toBe('dbus-value');
  });

  it('refuse to encode headers a message type needs or that are malformed', () => {
    expect(dbusErrorCode(() => encodeDBusMessage({ ...CALL, fields: { member: 'M' } }))).toBe('dbus-header');
    expect(dbusErrorCode(() => encodeDBusMessage({ ...CALL, type: 'signal' }))).toBe('dbus-header');
    expect(dbusErrorCode(() => encodeDBusMessage({ ...CALL, type: 'error', fields: { errorName: 'x.y' } }))).toBe('dbus-header');
    expect(dbusErrorCode(() => encodeDBusMessage({ ...CALL, fields: { ...CALL.fields, member: 'a.b' } }))).toBe('dbus-header');
    expect(dbusErrorCode(() => encodeDBusMessage({ ...CALL, fields: { ...CALL.fields, interface: 'nodot' } }))).toBe('dbus-header');
    expect(dbusErrorCode(() => encodeDBusMessage({ ...CALL, fields: { ...CALL.fields, destination: 'a..b' } }))).toBe('dbus-header');
  });
});

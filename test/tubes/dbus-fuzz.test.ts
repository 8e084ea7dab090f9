import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DBusError } from '../../src/tubes/dbus-error.js';
import type { DBusMessage } from '../../src/tubes/dbus-message.js';
import { encodeDBusMessage } from '../../src/tubes/dbus-marshal.js';
import { decodeDBusMessage } from '../../src/tubes/dbus-unmarshal.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';
import { dbusMessage } from './dbus-arbitrary.js';
import { call, HOSTILE } from './dbus-hostile-blobs.js';

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

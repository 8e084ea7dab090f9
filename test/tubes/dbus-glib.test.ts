import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DBusError } from '../../src/tubes/dbus-error.js';
import type { DBusMessage, DBusValue, DBusVariant } from '../../src/tubes/dbus-message.js';
import { encodeDBusMessage } from '../../src/tubes/dbus-marshal.js';
import { decodeDBusMessage } from '../../src/tubes/dbus-unmarshal.js';
import { alignmentOf, parseSingleType, parseSignature, typeSignature, type DBusType } from '../../src/tubes/dbus-signature.js';
import { propertySeed } from '../support/fast-check-seed.js';
import { dbusMessage } from './dbus-arbitrary.js';
import { hex, HOSTILE } from './dbus-hostile-blobs.js';

/**
 * GLib's D-Bus parser (Gio.DBusMessage.new_from_blob / to_blob through python3-gi) as an
 * independent implementation of the wire format: it must read what we write, we must read
 * what it writes, and both must refuse the hostile blobs.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(import.meta.dirname, 'glib-dbus.py');
const haveGi = spawnSync(PYTHON, ['-c', 'import gi; gi.require_version("Gio", "2.0"); from gi.repository import Gio'], { stdio: 'ignore' }).status === 0;
if (!haveGi) console.log(`dbus-glib: skipped, ${PYTHON} has no gi with Gio 2.0 (install python3-gi)`);

const seed = propertySeed();
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

type Parsed = { ok: true; blob: string; text: string } | { ok: false; error: string };
interface GlibAnswer {
  parsed: Parsed[];
  built: Record<string, string>;
  own: Array<{ body: string; reread: true | string }>;
}

interface GlibText {
  signature: string;
  text: string;
  order: 'little' | 'big';
}

function askGlib(blobs: Uint8Array[], texts: GlibText[] = []): GlibAnswer {
  const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify({ blobs: blobs.map(toHex), texts }), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`glib-dbus.py failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as GlibAnswer;
}

function refusal(bytes: Uint8Array): string | undefined {
  try {
    decodeDBusMessage(bytes);
    return undefined;
  } catch (error) {
    if (error instanceof DBusError) return error.code;
    throw error;
  }
}

/** What GLib's composed messages (glib-dbus.py built()) hold. */
const CALL: DBusMessage = {
  type: 'method_call',
  flags: 1,
  serial: 42,
  fields: { path: '/org/example/Obj', interface: 'org.example.Iface', member: 'Frob', destination: ':1.7', signature: 'sa{sv}(ynqiiux)d' },
  body: [
    'héllo ☃',
    [
      ['k', { signature: 'ay', value: Uint8Array.of(0, 1, 255) }],
      ['n', { signature: 'as', value: ['a', 'b'] }],
    ],
    [255, -32768, 65535, 2147483647, -2147483648, 4294967295, -(2n ** 63n)],
    -1.5,
  ],
};
const BUILT: Record<string, DBusMessage> = {
  call: CALL,
  reply: {
    type: 'method_return',
    flags: 1,
    serial: 43,
    fields: { replySerial: 42, signature: 'taoagbv' },
    body: [2n ** 64n - 1n, ['/', '/a/b_1'], ['a{sv}', '(ii)'], true, { signature: 'v', value: { signature: 'i', value: 5 } }],
  },
  error: { type: 'error', flags: 1, serial: 44, fields: { errorName: 'org.example.Error.Nope', replySerial: 42, signature: 's' }, body: ['no'] },
  signal: { type: 'signal', flags: 1, serial: 45, fields: { path: '/', interface: 'org.example.Iface', member: 'Changed' }, body: [] },
  // the shape GLib 2.74 cannot read back (see hitsGlibEmptyArrayBug): its encoder agrees with ours
  quirk: {
    type: 'method_call',
    flags: 0,
    serial: 46,
    fields: { path: '/a', member: 'M', signature: 'a(v)y' },
    body: [[[{ signature: 'ax', value: [] }], [{ signature: 'y', value: 2 }]], 5],
  },
};

/**
 * Hostile blobs GLib 2.74 (Debian 12) reads anyway, where the spec says otherwise: it takes a
 * zero serial, a boolean of 2, a string with NUL inside (cut at the NUL), nonzero padding, a
 * duplicate or mistyped header field, 33 nested arrays, and looks at the blob's own length rather
 * than the header's body length. We refuse them all; newer GLib may too, so GLib is not held to these.
 */
const GLIB_LENIENT = new Set([
  'serial 0',
  'body length past the end',
  'boolean 2',
  'string with NUL inside',
  'body longer than its values',
  'nonzero padding',
  'duplicate path field',
  'field array ends inside a field',
  'signature with 33 nested arrays',
  'header path holds a string',
]);

/**
 * GLib 2.74's parser loses track after a variant that holds (at any depth) an empty array of
 * 8-aligned elements when more follows in the same array: it re-reads its own to_blob of
 * `(a(v)y)` with `[(<@ax []>,), (<byte 2>,)]` as one element. Those messages are left out of
 * the GLib comparison (GLib's encoder lays them out as we do: see the bodies test).
 */
function hitsGlibEmptyArrayBug(type: DBusType, value: DBusValue, inVariant: boolean): boolean {
  switch (type.kind) {
    case 'basic':
      return false;
    case 'variant': {
      const inner = value as DBusVariant;
      return hitsGlibEmptyArrayBug(parseSingleType(inner.signature), inner.value, true);
    }
    case 'array': {
      const items = value instanceof Uint8Array ? [] : (value as readonly DBusValue[]);
      if (inVariant && items.length === 0 && alignmentOf(type.element) === 8) return true;
      return items.some((item) => hitsGlibEmptyArrayBug(type.element, item, inVariant));
    }
    case 'struct':
      return type.fields.some((field, i) => hitsGlibEmptyArrayBug(field, (value as readonly DBusValue[])[i]!, inVariant));
    case 'dict-entry': {
      const [k, v] = value as readonly DBusValue[];
      return hitsGlibEmptyArrayBug(type.key, k!, inVariant) || hitsGlibEmptyArrayBug(type.value, v!, inVariant);
    }
  }
}


/** The body bytes of an encoded message (after the header, padded to 8). */
function bodyOf(blob: Uint8Array): Uint8Array {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const little = blob[0] === 0x6c;
  const bodyLength = view.getUint32(4, little);
  const start = Math.ceil((16 + view.getUint32(12, little)) / 8) * 8;
  return blob.subarray(start, start + bodyLength);
}

const GLIB_TYPE_NAME: Record<string, string> = { y: 'byte', n: 'int16', q: 'uint16', i: 'int32', u: 'uint32', x: 'int64', t: 'uint64', h: 'handle', o: 'objectpath', g: 'signature' };

/** A message body in GVariant text form (what GLib.Variant.parse reads), every value typed. */
function glibText(message: DBusMessage): string {
  const types = parseSignature(message.fields.signature ?? '');
  const parts = types.map((type, i) => valueText(type, message.body[i]!));
  return `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`;
}

function valueText(type: DBusType, value: DBusValue): string {
  switch (type.kind) {
    case 'basic':
      switch (type.code) {
        case 's':
          return JSON.stringify(value);
        case 'b':
          return value ? 'true' : 'false';
        case 'd':
          return `double ${(value as number).toExponential()}`;
        case 'o':
        case 'g':
          return `${GLIB_TYPE_NAME[type.code]} ${JSON.stringify(value)}`;
        default:
          return `${GLIB_TYPE_NAME[type.code]} ${String(value)}`;
      }
    case 'variant': {
      const inner = value as DBusVariant;
      return `<${valueText(parseSingleType(inner.signature), inner.value)}>`;
    }
    case 'array': {
      const items = value instanceof Uint8Array ? [...value] : (value as readonly DBusValue[]);
      const signature = typeSignature(type);
      if (type.element.kind === 'dict-entry') {
        const entry = type.element;
        return `@${signature} {${items.map((e) => { const [k, v] = e as readonly DBusValue[]; return `${valueText(entry.key, k!)}: ${valueText(entry.value, v!)}`; }).join(', ')}}`;
      }
      return `@${signature} [${items.map((item) => valueText(type.element, item as DBusValue)).join(', ')}]`;
    }
    case 'struct': {
      const fields = value as readonly DBusValue[];
      return `(${type.fields.map((field, i) => valueText(field, fields[i]!)).join(', ')}${type.fields.length === 1 ? ',' : ''})`;
    }
    case 'dict-entry':
      throw new Error('a dict entry stands only in an array');
  }
}

describe.skipIf(!haveGi)('D-Bus codec against GLib', () => {
  it(`GLib reads every message we encode, both endians, to the same values (seed ${seed})`, () => {
    // unix_fds must equal the number of descriptors passed alongside, and a blob carries none
    const messages = fc.sample(dbusMessage, { numRuns: 300, seed }).map((m) => ({ ...m, fields: { ...m.fields, unixFds: undefined } }));
    for (const m of messages) delete m.fields.unixFds;
    const compared = messages.filter((m) => !m.body.some((v, i) => hitsGlibEmptyArrayBug(parseSignature(m.fields.signature!)[i]!, v, false)));
    console.log(`dbus-glib: ${messages.length - compared.length} of ${messages.length} messages left out (GLib 2.74 misreads an empty 8-aligned array inside a variant)`);
    expect(compared.length).toBeGreaterThan(messages.length / 2);
    const blobs = compared.map((message, i) => encodeDBusMessage(message, { endian: i % 2 === 0 ? 'little' : 'big' }));
    const answer = askGlib(blobs);
    // GLib 2.74 also fails to read back some bodies it encoded itself (seen: a few nested
    // variants holding arrays of dict entries and empty signatures). For a message GLib
    // refuses, GLib encodes the same body from its text form: if its bytes are ours and it
    // refuses its own blob as well, the refusal is GLib's and the message is not counted.
    const refused = compared.flatMap((message, i) => (answer.parsed[i]!.ok ? [] : [i]));
    const texts = refused.map((i): GlibText => ({
      signature: compared[i]!.fields.signature ?? '',
      text: glibText(compared[i]!),
      order: i % 2 === 0 ? 'little' : 'big',
    }));
    const own = texts.length > 0 ? askGlib([], texts).own : [];
    const glibsOwnBug = new Set<number>();
    refused.forEach((i, k) => {
      const parsed = answer.parsed[i]!;
      const context = `message ${i} (replay with CLIQUE_SEED=${seed}): ${toHex(blobs[i]!)}`;
      expect(own[k]!.body, `${context}: GLib encodes this body differently`).toBe(toHex(bodyOf(blobs[i]!)));
      expect(own[k]!.reread, `${context}: GLib reads its own encoding but not ours`).toBe(parsed.ok ? 'accepted' : parsed.error);
      glibsOwnBug.add(i);
    });
    if (glibsOwnBug.size > 0) console.log(`dbus-glib: ${glibsOwnBug.size} message(s) GLib cannot read back from its own encoding either (same bytes as ours)`);
    compared.forEach((message, i) => {
      if (glibsOwnBug.has(i)) return;
      const parsed = answer.parsed[i]!;
      const context = `message ${i} (replay with CLIQUE_SEED=${seed}): ${toHex(blobs[i]!)}`;
      expect(parsed.ok ? 'accepted' : parsed.error, context).toBe('accepted');
      if (parsed.ok) expect(decodeDBusMessage(hex(parsed.blob)), context).toEqual(message);
    });
  });

  it('we decode the messages GLib composes, both endians', () => {
    const { built } = askGlib([]);
    for (const [name, expected] of Object.entries(BUILT)) {
      for (const endian of ['little', 'big'] as const) {
        const blob = hex(built[`${name}-${endian}`]!);
        expect(decodeDBusMessage(blob), `${name}-${endian}`).toEqual(expected);
        // GLib orders header fields its own way, so compare the bodies byte for byte (both start 8-aligned)
        const ours = encodeDBusMessage(expected, { endian });
        const bodyLength = new DataView(blob.buffer, blob.byteOffset).getUint32(4, endian === 'little');
        expect(toHex(ours.subarray(ours.length - bodyLength)), `${name}-${endian} body`).toBe(toHex(blob.subarray(blob.length - bodyLength)));
        expect(ours.length - bodyLength, `${name}-${endian}: same header size`).toBe(blob.length - bodyLength);
      }
    }
  });

  it('GLib and we both refuse the hostile blobs (we also refuse those GLib 2.74 lets through)', () => {
    const names = Object.keys(HOSTILE);
    const answer = askGlib(Object.values(HOSTILE));
    const verdicts = names.map((name, i) => ({ name, glib: answer.parsed[i]!.ok ? 'accepted' : 'refused', ours: refusal(HOSTILE[name]!) ?? 'accepted' }));
    expect(verdicts.filter((v) => v.ours === 'accepted')).toEqual([]);
    expect(verdicts.filter((v) => v.glib === 'accepted' && !GLIB_LENIENT.has(v.name))).toEqual([]);
    const lenient = verdicts.filter((v) => v.glib === 'accepted').map((v) => v.name);
    if (lenient.length > 0) console.log(`dbus-glib: GLib accepts, we refuse: ${lenient.join('; ')}`);
    expect(verdicts.filter((v) => v.glib === 'refused').length).toBeGreaterThanOrEqual(names.length - GLIB_LENIENT.size);
  });
});

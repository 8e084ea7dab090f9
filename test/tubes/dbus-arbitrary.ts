import fc from 'fast-check';
import type { DBusMessage, DBusValue } from '../../src/tubes/dbus-message.js';
import { typeSignature, type DBusBasicCode, type DBusType } from '../../src/tubes/dbus-signature.js';

/** Arbitrary D-Bus types and values for them, for the codec's properties. */

const BASIC_CODES: DBusBasicCode[] = ['y', 'b', 'n', 'q', 'i', 'u', 'x', 't', 'd', 's', 'o', 'g', 'h'];

export const basicType: fc.Arbitrary<DBusType> = fc.constantFrom(...BASIC_CODES).map((code) => ({ kind: 'basic', code }));

/** A complete type nested at most `depth` containers deep. */
export function dbusType(depth = 3): fc.Arbitrary<DBusType> {
  if (depth <= 0) return fc.oneof(basicType, fc.constant<DBusType>({ kind: 'variant' }));
  const inner = dbusType(depth - 1);
  return fc.oneof(
    { weight: 3, arbitrary: basicType },
    { weight: 1, arbitrary: fc.constant<DBusType>({ kind: 'variant' }) },
    { weight: 1, arbitrary: inner.map((element): DBusType => ({ kind: 'array', element })) },
    {
      weight: 1,
      arbitrary: fc.tuple(basicType, inner).map(([key, value]): DBusType => ({ kind: 'array', element: { kind: 'dict-entry', key, value } })),
    },
    { weight: 1, arbitrary: fc.array(inner, { minLength: 1, maxLength: 4 }).map((fields): DBusType => ({ kind: 'struct', fields })) },
  );
}

const text = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => !s.includes('\0') && !/\p{Cs}/u.test(s));
const objectPath = fc
  .array(fc.stringMatching(/^[A-Za-z0-9_]{1,6}$/), { maxLength: 3 })
  .map((parts) => (parts.length === 0 ? '/' : `/${parts.join('/')}`));
const signatureText = fc.array(dbusType(2), { maxLength: 3 }).map((types) => types.map(typeSignature).join(''));

export function dbusValue(type: DBusType, variantDepth = 2): fc.Arbitrary<DBusValue> {
  switch (type.kind) {
    case 'basic':
      switch (type.code) {
        case 'y':
          return fc.integer({ min: 0, max: 0xff });
        case 'b':
          return fc.boolean();
        case 'n':
          return fc.integer({ min: -0x8000, max: 0x7fff });
        case 'q':
          return fc.integer({ min: 0, max: 0xffff });
        case 'i':
          return fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });
        case 'u':
        case 'h':
          return fc.integer({ min: 0, max: 0xffff_ffff });
        case 'x':
          return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
        case 't':
          return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
        case 'd':
          return fc.double();
        case 's':
          return text;
        case 'o':
          return objectPath;
        case 'g':
          return signatureText;
      }
      throw new Error(`unknown basic ${type.code}`);
    case 'variant': {
      const innerType = variantDepth > 0 ? dbusType(1) : basicType;
      return innerType.chain((inner) => dbusValue(inner, variantDepth - 1).map((value) => ({ signature: typeSignature(inner), value })));
    }
    case 'array':
      if (type.element.kind === 'basic' && type.element.code === 'y') return fc.uint8Array({ maxLength: 16 });
      return fc.array(dbusValue(type.element, variantDepth), { maxLength: 4 });
    case 'struct':
      return fc.tuple(...type.fields.map((field) => dbusValue(field, variantDepth)));
    case 'dict-entry':
      return fc.tuple(dbusValue(type.key, variantDepth), dbusValue(type.value, variantDepth));
  }
}

/** A body: its signature and one value per complete type. */
export const dbusBody: fc.Arbitrary<{ signature: string; values: DBusValue[] }> = fc
  .array(dbusType(3), { maxLength: 4 })
  .chain((types) => fc.tuple(...types.map((t) => dbusValue(t))).map((values) => ({ signature: types.map(typeSignature).join(''), values })));

const interfaceName = fc.array(fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,5}$/), { minLength: 2, maxLength: 3 }).map((p) => p.join('.'));
const memberName = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/);
const busName = fc.oneof(interfaceName, fc.nat({ max: 999 }).map((n) => `:1.${n}`));
const u32 = fc.integer({ min: 1, max: 0xffff_ffff });

/** Any valid message: required fields for its type, optional ones sometimes. */
export const dbusMessage: fc.Arbitrary<DBusMessage> = fc
  .record({
    type: fc.constantFrom('method_call', 'method_return', 'error', 'signal') as fc.Arbitrary<DBusMessage['type']>,
    flags: fc.integer({ min: 0, max: 7 }),
    serial: u32,
    path: objectPath,
    interface: interfaceName,
    member: memberName,
    errorName: interfaceName,
    replySerial: u32,
    destination: fc.option(busName, { nil: undefined }),
    sender: fc.option(busName, { nil: undefined }),
    unixFds: fc.option(fc.nat({ max: 16 }), { nil: undefined }),
    withInterface: fc.boolean(),
    body: dbusBody,
  })
  .map((m): DBusMessage => {
    const fields: DBusMessage['fields'] = {};
    if (m.type === 'method_call' || m.type === 'signal') Object.assign(fields, { path: m.path, member: m.member });
    if (m.type === 'signal' || (m.type === 'method_call' && m.withInterface)) fields.interface = m.interface;
    if (m.type === 'error') fields.errorName = m.errorName;
    if (m.type === 'error' || m.type === 'method_return') fields.replySerial = m.replySerial;
    if (m.destination !== undefined) fields.destination = m.destination;
    if (m.sender !== undefined) fields.sender = m.sender;
    if (m.unixFds !== undefined) fields.unixFds = m.unixFds;
    if (m.body.signature !== '') fields.signature = m.body.signature;
    return { type: m.type, flags: m.flags, serial: m.serial, fields, body: m.body.values };
  });

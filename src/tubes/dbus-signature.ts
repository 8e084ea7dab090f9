import { DBusError } from './dbus-error.js';

/** A parsed complete type. */
export type DBusType =
  | { readonly kind: 'basic'; readonly code: DBusBasicCode }
  | { readonly kind: 'array'; readonly element: DBusType }
  | { readonly kind: 'struct'; readonly fields: readonly DBusType[] }
  | { readonly kind: 'dict-entry'; readonly key: DBusType; readonly value: DBusType }
  | { readonly kind: 'variant' };

export type DBusBasicCode = 'y' | 'b' | 'n' | 'q' | 'i' | 'u' | 'x' | 't' | 'd' | 's' | 'o' | 'g' | 'h';

const BASIC = new Set<string>(['y', 'b', 'n', 'q', 'i', 'u', 'x', 't', 'd', 's', 'o', 'g', 'h']);
export const DBUS_MAX_SIGNATURE_LENGTH = 255;
const MAX_ARRAY_NESTING = 32;
const MAX_STRUCT_NESTING = 32;

const ALIGNMENT: Readonly<Record<string, number>> = {
  y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, s: 4, o: 4, g: 1, h: 4, a: 4, '(': 8, '{': 8, v: 1,
};

export function isBasicCode(code: string): code is DBusBasicCode {
  return BASIC.has(code);
}

export function alignmentOf(type: DBusType): number {
  switch (type.kind) {
    case 'basic':
      return ALIGNMENT[type.code]!;
    case 'array':
      return 4;
    case 'struct':
    case 'dict-entry':
      return 8;
    case 'variant':
      return 1;
  }
}

/** Text form of a parsed type (the inverse of parsing). */
export function typeSignature(type: DBusType): string {
  switch (type.kind) {
    case 'basic':
      return type.code;
    case 'array':
      return `a${typeSignature(type.element)}`;
    case 'struct':
      return `(${type.fields.map(typeSignature).join('')})`;
    case 'dict-entry':
      return `{${typeSignature(type.key)}${typeSignature(type.value)}}`;
    case 'variant':
      return 'v';
  }
}

/** Parses a signature (zero or more complete types); throws DBusError 'dbus-signature'. */
export function parseSignature(signature: string): DBusType[] {
  if (signature.length > DBUS_MAX_SIGNATURE_LENGTH) {
    throw new DBusError('dbus-signature', `signature longer than ${DBUS_MAX_SIGNATURE_LENGTH} bytes`);
  }
  const state = { at: 0 };
  const types: DBusType[] = [];
  while (state.at < signature.length) types.push(parseOne(signature, state, 0, 0, false));
  return types;
}

/** Parses a signature that must hold exactly one complete type (a variant's). */
export function parseSingleType(signature: string): DBusType {
  const types = parseSignature(signature);
  if (types.length !== 1) throw new DBusError('dbus-signature', `expected one complete type, got ${JSON.stringify(signature)}`);
  return types[0]!;
}

function parseOne(sig: string, state: { at: number }, arrays: number, structs: number, inArray: boolean): DBusType {
  const code = sig[state.at];
  if (code === undefined) throw new DBusError('dbus-signature', `signature ${JSON.stringify(sig)} ends inside a type`);
  state.at += 1;
  if (isBasicCode(code)) return { kind: 'basic', code };
  if (code === 'v') return { kind: 'variant' };
  if (code === 'a') {
    if (arrays + 1 > MAX_ARRAY_NESTING) throw new DBusError('dbus-signature', 'more than 32 nested arrays');
    return { kind: 'array', element: parseOne(sig, state, arrays + 1, structs, true) };
  }
  if (code === '(') {
    if (structs + 1 > MAX_STRUCT_NESTING) throw new DBusError('dbus-signature', 'more than 32 nested structs');
    const fields: DBusType[] = [];
    while (sig[state.at] !== ')') {
      if (state.at >= sig.length) throw new DBusError('dbus-signature', `unclosed struct in ${JSON.stringify(sig)}`);
      fields.push(parseOne(sig, state, arrays, structs + 1, false));
    }
    state.at += 1;
    if (fields.length === 0) throw new DBusError('dbus-signature', 'empty struct');
    return { kind: 'struct', fields };
  }
  if (code === '{') {
    if (!inArray) throw new DBusError('dbus-signature', 'dict entry outside an array');
    if (structs + 1 > MAX_STRUCT_NESTING) throw new DBusError('dbus-signature', 'more than 32 nested structs');
    const key = parseOne(sig, state, arrays, structs + 1, false);
    if (key.kind !== 'basic') throw new DBusError('dbus-signature', 'dict entry key must be a basic type');
    const value = parseOne(sig, state, arrays, structs + 1, false);
    if (sig[state.at] !== '}') throw new DBusError('dbus-signature', 'dict entry must hold exactly a key and a value');
    state.at += 1;
    return { kind: 'dict-entry', key, value };
  }
  throw new DBusError('dbus-signature', `unexpected ${JSON.stringify(code)} in signature ${JSON.stringify(sig)}`);
}

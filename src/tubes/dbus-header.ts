import { DBusError } from './dbus-error.js';
import type { DBusHeaderFields, DBusMessageType } from './dbus-message.js';
import { isBusName, isInterfaceName, isMemberName, isObjectPath } from './dbus-names.js';
import { parseSignature } from './dbus-signature.js';

export interface HeaderFieldSpec {
  readonly name: keyof DBusHeaderFields;
  readonly code: number;
  /** the single basic type the field's variant must hold */
  readonly type: 'o' | 's' | 'u' | 'g';
}

/** The fields the spec defines, in code order; codes not listed are ignored on decode. */
export const HEADER_FIELDS: readonly HeaderFieldSpec[] = [
  { name: 'path', code: 1, type: 'o' },
  { name: 'interface', code: 2, type: 's' },
  { name: 'member', code: 3, type: 's' },
  { name: 'errorName', code: 4, type: 's' },
  { name: 'replySerial', code: 5, type: 'u' },
  { name: 'destination', code: 6, type: 's' },
  { name: 'sender', code: 7, type: 's' },
  { name: 'signature', code: 8, type: 'g' },
  { name: 'unixFds', code: 9, type: 'u' },
];

const REQUIRED: Readonly<Record<DBusMessageType, readonly (keyof DBusHeaderFields)[]>> = {
  method_call: ['path', 'member'],
  method_return: ['replySerial'],
  error: ['errorName', 'replySerial'],
  signal: ['path', 'interface', 'member'],
};

function bad(message: string): never {
  throw new DBusError('dbus-header', message);
}

/** Checks presence and syntax of the header fields for a message type; throws 'dbus-header'. */
export function checkHeaderFields(type: DBusMessageType, fields: DBusHeaderFields): void {
  for (const name of REQUIRED[type]) if (fields[name] === undefined) bad(`a ${type} needs the ${name} header field`);
  const { path, interface: iface, member, errorName, replySerial, destination, sender, signature, unixFds } = fields;
  if (path !== undefined && (typeof path !== 'string' || !isObjectPath(path))) bad(`path ${JSON.stringify(path)} is not an object path`);
  if (iface !== undefined && (typeof iface !== 'string' || !isInterfaceName(iface))) bad(`interface ${JSON.stringify(iface)} is not valid`);
  if (member !== undefined && (typeof member !== 'string' || !isMemberName(member))) bad(`member ${JSON.stringify(member)} is not valid`);
  if (errorName !== undefined && (typeof errorName !== 'string' || !isInterfaceName(errorName))) bad(`error name ${JSON.stringify(errorName)} is not valid`);
  if (destination !== undefined && (typeof destination !== 'string' || !isBusName(destination))) bad(`destination ${JSON.stringify(destination)} is not a bus name`);
  if (sender !== undefined && (typeof sender !== 'string' || !isBusName(sender))) bad(`sender ${JSON.stringify(sender)} is not a bus name`);
  for (const [name, value] of [['replySerial', replySerial], ['unixFds', unixFds]] as const) {
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffff_ffff)) bad(`${name} must be a u32`);
  }
  if (replySerial === 0) bad('reply serial must not be zero');
  if (signature !== undefined) {
    if (typeof signature !== 'string') bad('signature must be a string');
    parseSignature(signature);
  }
}

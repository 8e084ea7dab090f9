import { createHash } from 'node:crypto';

/**
 * A member's tube-local D-Bus unique name (spec §7.4): `:2.` followed by the
 * standard base64 of the member name's UTF-8 bytes, with `+`→`_`, `/`→`-`
 * and `=`→`A` so the result is a valid bus name element. Names longer than
 * 186 bytes are replaced by their first 169 bytes plus the 20-byte SHA-1 of
 * the whole name (189 bytes, 252 base64 characters), which keeps the unique
 * name within D-Bus's 255-character limit.
 */
export const TUBE_DBUS_NAME_PREFIX = ':2.';
const LONG_NAME_BYTES = 186;
const LONG_NAME_KEPT_BYTES = 169;

export function tubeDBusName(member: string): string {
  let bytes = Buffer.from(member, 'utf8');
  if (bytes.length > LONG_NAME_BYTES) {
    const digest = createHash('sha1').update(bytes).digest();
    bytes = Buffer.concat([bytes.subarray(0, LONG_NAME_KEPT_BYTES), digest]);
  }
  return TUBE_DBUS_NAME_PREFIX + bytes.toString('base64').replace(/[+/=]/g, (c) => (c === '+' ? '_' : c === '/' ? '-' : 'A'));
}

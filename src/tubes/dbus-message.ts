/**
 * The D-Bus message model (D-Bus specification, "Message Format"). Values are
 * typed by a signature, not by themselves: `i` and `u` are both a number, so the
 * body carries its signature in `fields.signature`.
 *
 * Value mapping: y n q i u h d → number; x t → bigint; b → boolean; s o g → string;
 * `ay` → Uint8Array (number[] also accepted when encoding); other arrays → DBusValue[];
 * struct → DBusValue[] (one per field); dict entry `{kv}` → [key, value], so `a{sv}`
 * is an array of pairs; variant → { signature, value }.
 */
export type DBusValue = number | bigint | boolean | string | Uint8Array | DBusVariant | readonly DBusValue[];

export interface DBusVariant {
  /** exactly one complete type */
  readonly signature: string;
  readonly value: DBusValue;
}

export type DBusMessageType = 'method_call' | 'method_return' | 'error' | 'signal';

export const DBUS_MESSAGE_TYPE_CODES: Readonly<Record<DBusMessageType, number>> = {
  method_call: 1,
  method_return: 2,
  error: 3,
  signal: 4,
};

/** Header flag bits; unknown bits are kept as received (the spec says to ignore them). */
export const DBUS_FLAG_NO_REPLY_EXPECTED = 0x1;
export const DBUS_FLAG_NO_AUTO_START = 0x2;
export const DBUS_FLAG_ALLOW_INTERACTIVE_AUTHORIZATION = 0x4;

export interface DBusHeaderFields {
  path?: string; // 1, o
  interface?: string; // 2, s
  member?: string; // 3, s
  errorName?: string; // 4, s
  replySerial?: number; // 5, u
  destination?: string; // 6, s
  sender?: string; // 7, s
  /** 8, g: the body's signature; absent means an empty body */
  signature?: string;
  unixFds?: number; // 9, u
}

export interface DBusMessage {
  type: DBusMessageType;
  /** bit set of DBUS_FLAG_* */
  flags: number;
  /** nonzero u32 */
  serial: number;
  fields: DBusHeaderFields;
  /** one value per complete type of fields.signature */
  body: DBusValue[];
}

export type DBusEndian = 'little' | 'big';

export interface DBusDecodeLimits {
  /** whole message in bytes; default 4 MiB, never above the spec's 128 MiB */
  maxMessageBytes?: number;
  /** one array's byte length; default and ceiling the spec's 64 MiB */
  maxArrayBytes?: number;
}

export const DBUS_SPEC_MAX_MESSAGE_BYTES = 128 * 1024 * 1024;
export const DBUS_SPEC_MAX_ARRAY_BYTES = 64 * 1024 * 1024;
export const DBUS_DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** 32 arrays + 32 structs, and variants count toward the total too */
export const DBUS_MAX_DEPTH = 64;

import { CliqueError } from '../base/clique-error.js';

export type DBusErrorCode =
  | 'dbus-signature' // a type signature is not valid (syntax, nesting, length, dict entry outside an array)
  | 'dbus-value' // a value to encode does not fit its type (range, string with NUL or lone surrogate, bad path)
  | 'dbus-malformed' // a blob is not a valid message (truncated, bad padding, bad string, bad boolean, trailing bytes)
  | 'dbus-header' // a header field is missing, of the wrong type or not valid for the message type
  | 'dbus-too-large'; // a length exceeds the limits (message, array, nesting depth)

export class DBusError extends CliqueError {
  declare readonly code: DBusErrorCode;

  constructor(code: DBusErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

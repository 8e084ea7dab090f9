import { CliqueError } from '../base/clique-error.js';
import { splitSelfName } from '../linklocal/link-local-service.js';
import { checkRoomName } from '../rooms/clique.js';
import { UsageError } from './usage-error.js';

/**
 * Names are checked while the command line is parsed, so a bad one is a
 * usage error (exit 2) before anything touches the network or starts the
 * service. What they may be: any UTF-8 text of 1–63 bytes without control
 * characters, dots and spaces included (one DNS-SD instance label, RFC 6763 §4.3).
 *
 * The errors are ours, not commander's: commander would echo the whole value
 * (a pasted paragraph as a room name, control characters raw), where ours
 * quote only its start and say the limit.
 */
export const MAX_NAME_BYTES = 63;
/** How much of a refused name an error message quotes. */
const QUOTED_CHARS = 24;

/** `<room>`: a room name. */
export function parseRoomName(value: string): string {
  checkLength('room name', value);
  try {
    checkRoomName(value);
  } catch (error) {
    throw new UsageError(error instanceof CliqueError ? error.message : String(error));
  }
  return value;
}

/** `--name <user@host>`: an XEP-0174 name, each part and the whole one publishable label. */
export function parseSelfName(value: string): string {
  if (value === '') throw new UsageError('--name: name must not be empty');
  checkLength('--name', value);
  const at = value.lastIndexOf('@');
  if (at < 0) {
    throw new UsageError(`--name: ${quotedStart(value)} is not user@host (XEP-0174 names are user@host, e.g. alice@laptop; leave --name out for <login>@<host>)`);
  }
  try {
    splitSelfName(value);
  } catch (error) {
    throw new UsageError(`--name: ${error instanceof CliqueError ? error.message : String(error)}`);
  }
  return value;
}

function checkLength(what: string, value: string): void {
  const bytes = Buffer.byteLength(value);
  if (bytes > MAX_NAME_BYTES) {
    throw new UsageError(`${what} ${quotedStart(value)} is ${bytes} bytes, longer than ${MAX_NAME_BYTES} bytes of UTF-8 (the limit)`);
  }
}

/** `"the first words of it…"`: JSON-quoted (control characters escaped), cut to a few characters. */
export function quotedStart(value: string, chars = QUOTED_CHARS): string {
  const codePoints = [...value];
  return codePoints.length <= chars ? JSON.stringify(value) : `${JSON.stringify(codePoints.slice(0, chars).join(''))}…`;
}

import { InvalidArgumentError } from 'commander';
import { CliqueError } from '../base/clique-error.js';
import { splitSelfName } from '../linklocal/link-local-service.js';
import { checkRoomName } from '../rooms/clique.js';

/**
 * Names are checked while the command line is parsed, so a bad one is a
 * usage error (exit 2) before anything touches the network or starts the
 * service. What they may be: any UTF-8 text of 1–63 bytes without control
 * characters, dots and spaces included (one DNS-SD instance label, RFC 6763 §4.3).
 */

/** `<room>`: a room name. */
export function parseRoomName(value: string): string {
  try {
    checkRoomName(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof CliqueError ? error.message : String(error));
  }
  return value;
}

/** `--name <user@host>` (or `user`): each part, and the whole `user@host`, one publishable label. */
export function parseSelfName(value: string): string {
  try {
    splitSelfName(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof CliqueError ? error.message : String(error));
  }
  return value;
}

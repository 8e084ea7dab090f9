import { isIPv4 } from 'node:net';
import { checkRoomName } from '../rooms/clique.js';

/**
 * The command line that accepts an invitation: `clique join ROOM --address A
 * --port P` (the group and port it names, so an unadvertised room works too),
 * with `--interface` when the invitation came in on one the user chose.
 * Undefined when `join` could not take it (a room name `join` refuses, an
 * IPv6 group: `join --address` takes IPv4 groups): the invitation is still
 * shown, without a command.
 */
export function acceptCommand(invitation: { room: string; address: string; port: number }, interfaceAddress: string | undefined): string | undefined {
  try {
    checkRoomName(invitation.room);
  } catch {
    return undefined;
  }
  if (!isIPv4(invitation.address)) return undefined;
  const words = ['clique', 'join', shellWord(invitation.room), '--address', invitation.address, '--port', String(invitation.port)];
  if (interfaceAddress !== undefined) words.push('--interface', interfaceAddress);
  return words.join(' ');
}

/** One word for a POSIX shell: bare when safe, else in single quotes (a peer chose the text). */
export function shellWord(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

import { printable } from '../terminal-text.js';

/** A member as far as naming goes: its identity (`user@host`) and its nick, if any. */
export interface NamedMember {
  name: string;
  nick: string | null | undefined;
}

/**
 * Nicks are free text chosen by each member, so two can pick the same one
 * (or one can pick another's `user@host`). Compared the way a reader would
 * confuse them: compatibility-normalised, case folded, outer spaces ignored.
 */
function fold(text: string): string {
  return text.normalize('NFKC').trim().toLowerCase();
}

/**
 * What to call `name` in a line when it goes by `nick`: the nick alone while
 * nobody else in `members` (ourselves included) shows under it or has it as
 * identity; `nick (user@host)` when they do, so the two can be told apart.
 * Without a nick a member shows as its identity, which is unique in a room.
 * Plain text: pass it through `printable` (or `shownName`) before printing.
 */
export function nameInRoom(name: string, nick: string | null | undefined, members: Iterable<NamedMember>): string {
  if (nick === undefined || nick === null || nick === '' || nick === name) return name;
  const shown = fold(nick);
  for (const other of members) {
    if (other.name === name) continue;
    const otherNick = other.nick === null || other.nick === undefined || other.nick === '' ? undefined : fold(other.nick);
    if (otherNick === shown || fold(other.name) === shown) return `${nick} (${name})`;
  }
  return nick;
}

/** `nameInRoom` for a member by identity, with the nick it has in `members` (its identity if it is not there). */
export function memberNameInRoom(name: string, members: Iterable<NamedMember>): string {
  const all = [...members];
  return nameInRoom(name, all.find((m) => m.name === name)?.nick, all);
}

/** `nameInRoom`, safe for the terminal: the nick and the identity each made printable on its own. */
export function shownName(name: string, nick: string | null | undefined, members: Iterable<NamedMember>): string {
  const plain = nameInRoom(name, nick, members);
  if (plain === name) return printable(name);
  // Each peer-supplied part on its own, so a right-to-left nick is isolated from the identity beside it.
  return plain === nick ? printable(nick) : `${printable(nick!)} (${printable(name)})`;
}

/** The line announcing a nick change, each side named as the room showed it then and shows it now. */
export function nickChangeLine(before: string, after: string): string {
  return `* ${before} is now known as ${after}`;
}

/** What `/nick name` (or `/nick --clear`, nick undefined) answers once it took effect. */
export function ownNickLine(self: string, nick: string | null | undefined, members: Iterable<NamedMember>): string {
  if (nick === undefined || nick === null || nick === '') return `* nick cleared: you show as ${printable(self)}`;
  return `* you are now ${printable(nick)}${sharedNote(self, nick, members)}`;
}

/** What `/nick` alone answers. */
export function showOwnNick(self: string, nick: string | null | undefined, members: Iterable<NamedMember>): string {
  if (nick === undefined || nick === null || nick === '') return `* you have no nick here: you show as ${printable(self)} (/nick <name> sets one)`;
  return `* your nick here is ${printable(nick)} (you are ${printable(self)})${sharedNote(self, nick, members)}`;
}

function sharedNote(self: string, nick: string, members: Iterable<NamedMember>): string {
  const all = [...members];
  return nameInRoom(self, nick, all) === nick ? '' : `; someone else here goes by it too, so your lines show as ${shownName(self, nick, all)}`;
}

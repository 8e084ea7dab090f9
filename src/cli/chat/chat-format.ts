import type { RoomAddress } from '../../linklocal/room-advertiser.js';
import type { HistoryEntry } from '../../rooms/history-store.js';
import type { MemberLeftReason, RoomMember, RoomMessage, RoomWarning, TopicChange } from '../../rooms/room-types.js';
import type { WarningJson } from '../../rooms/room-warning.js';
import { printable } from '../terminal-text.js';
import { shownName, type NamedMember } from './display-names.js';

/** How lines look in `clique join`: `12:03 <bob> hi`, `12:03 * bob waves`, `12:03 -bob- notice`. */
export function clock(time: Date): string {
  return `${String(time.getHours()).padStart(2, '0')}:${String(time.getMinutes()).padStart(2, '0')}`;
}

export function formatText(time: Date, who: string, kind: 'normal' | 'action' | 'notice', text: string, paintName?: (shown: string) => string): string {
  return formatShownText(time, printable(who), kind, text, paintName);
}

/**
 * As formatText, for a sender name already made printable (display-names.ts
 * `shownName`). `paintName` dresses the name (a colour). A multi-line message
 * shows as several rows, the later ones indented under the first's text.
 */
export function formatShownText(time: Date, name: string, kind: 'normal' | 'action' | 'notice', text: string, paintName: (shown: string) => string = (shown) => shown): string {
  const [first = '', ...rest] = text.split('\n').map(printable);
  const who = paintName(name);
  const head =
    kind === 'action' ? `${clock(time)} * ${who} ${first}` : kind === 'notice' ? `${clock(time)} -${who}- ${first}` : `${clock(time)} <${who}> ${first}`;
  if (rest.length === 0) return head;
  const indent = ' '.repeat(clock(time).length + 1);
  return [head, ...rest.map((row) => indent + row)].join('\n');
}

/**
 * A room line under the name its sender had when it arrived (`senderName`),
 * with its identity beside it when someone else in `members` goes by that
 * name too (display-names.ts).
 */
export function formatMessage(
  message: Pick<RoomMessage, 'time' | 'delayedFrom' | 'sender' | 'senderName' | 'kind' | 'text'>,
  members: Iterable<NamedMember> = [],
  paintName?: (shown: string) => string,
): string {
  const nick = message.senderName === message.sender ? undefined : message.senderName;
  // A line sent again after we were cut off from its author shows when it was said.
  return formatShownText(message.delayedFrom ?? message.time, shownName(message.sender, nick, members), message.kind, message.text, paintName);
}

/** How a member left: BYE, or lost by silence. */
export function formatLeft(label: string, reason: MemberLeftReason | string | undefined): string {
  return `* ${label} left${reason === 'timed-out' ? ' (timed out)' : ''}`;
}

/**
 * An entry of the local history, under the name its author had then (the
 * stored nick); entries stored without one fall back to `displayName`
 * (today's nick of a member, else the identity).
 */
export function formatHistory(entry: HistoryEntry, displayName: (name: string) => string, paintName?: (shown: string) => string): string {
  const who = entry.senderName ?? displayName(entry.sender);
  if (entry.kind === 'topic') {
    return entry.text === ''
      ? `${clock(entry.time)} * ${printable(who)} cleared the topic`
      : `${clock(entry.time)} * ${printable(who)} set the topic: ${printable(entry.text)}`;
  }
  return formatText(entry.time, who, entry.kind, entry.text, paintName);
}

export function formatTopic(change: Pick<TopicChange, 'topic' | 'setBy' | 'setAt' | 'replay'>, displayName: (name: string) => string): string {
  const who = printable(displayName(change.setBy));
  if (change.topic === '') return `${clock(change.setAt)} * ${who} cleared the topic`;
  return change.replay
    ? `* topic: ${printable(change.topic)} (set by ${who} at ${clock(change.setAt)})`
    : `${clock(change.setAt)} * ${who} set the topic: ${printable(change.topic)}`;
}

/** Where a room is: its group and port (a RoomAddress, or a service event's fields). */
export interface RoomPlace {
  name?: string;
  address: string;
  port: number;
}

/** The room moved: we had created it alone at `from` while it already existed (or was being created) at `to`. */
export function formatMoved(to: RoomPlace, from: RoomPlace): string {
  return `* joined the existing room at ${to.address}:${to.port} (ours at ${from.address}:${from.port} had nobody else)`;
}

/** A warning about the room (RoomWarning, or the service's room.warning event), as one chat line. */
export function formatWarning(warning: RoomWarning | WarningJson): string {
  if (warning.kind === 'group-reset') {
    return `! our membership of the room started over (${printable(warning.reason)}); rejoining. Your recent lines go out again to whoever missed them`;
  }
  if (warning.kind === 'lines-may-be-lost') {
    const since = typeof warning.since === 'string' ? new Date(warning.since) : warning.since;
    return `! some of your lines since ${since.toISOString().slice(11, 19)} UTC may not have reached ${warning.members.map(printable).join(', ')} (more than could be kept to send again)`;
  }
  const who = warning.sender === undefined || warning.sender === null ? `sender id ${warning.senderId}` : printable(warning.sender);
  return `! someone on the network forges packets under ${who}'s id; the forged copies were dropped`;
}

export function memberLabel(member: RoomMember): string {
  // Each peer-supplied part on its own, so a right-to-left nick is isolated from the name and status beside it.
  const shown = member.displayName === member.name ? printable(member.name) : `${printable(member.displayName)} (${printable(member.name)})`;
  const status = member.status === 'avail' ? '' : ` [${member.status}${member.statusMessage ? `: ${printable(member.statusMessage)}` : ''}]`;
  return `${shown}${member.self ? ' (you)' : ''}${status}`;
}

export function formatWho(members: RoomMember[]): string[] {
  const sorted = [...members].sort((a, b) => Number(b.self) - Number(a.self) || a.displayName.localeCompare(b.displayName));
  return [`* ${sorted.length} member${sorted.length === 1 ? '' : 's'}:`, ...sorted.map((m) => `*   ${memberLabel(m)}`)];
}

import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { HistoryEntry } from '../../rooms/history-store.js';
import type { RoomMember, RoomMessage, TopicChange } from '../../rooms/room-types.js';
import { addRoomScriptOptions, joinScriptRoom, memberJson, startScriptClique, stdoutFlushed, type RoomScriptOptions } from '../room-script-session.js';
import { printable } from '../terminal-text.js';
import { wholeNumberParser } from '../number-options.js';
import type { MemberJson, RoomSnapshot } from '../../service/control-protocol.js';
import { checkRoomNameForCli, connectService, warnOneShotOnly, noServiceOption, serviceUsageError } from '../service-session.js';
import { UsageError } from '../usage-error.js';
import { formatLeft, formatWarning } from '../chat/chat-format.js';
import { nickChangeLine, shownName, type NamedMember } from '../chat/display-names.js';
import { warningJson } from '../../rooms/room-warning.js';
import { parseRoomName } from '../name-options.js';
import { LogClock } from '../log-clock.js';
import { writeEvent, type CliEvent } from '../json-output.js';

interface ListenOptions extends RoomScriptOptions {
  history: number;
  /** False with --no-service. */
  service: boolean;
  /** Receive every file shared into the room (and every 1-1 offer) into this directory while listening. */
  acceptFiles?: string;
}

/**
 * `clique listen <room>`: for scripts and logs. Through the person's service
 * (started on demand): the service joins the room (or creates it) and holds
 * it while we listen, shared with every other client of the person (each
 * sees every line once, our own sends included); `--no-service` joins as a
 * separate member. Prints messages, joins, leaves and topic changes until Ctrl-C
 * (SIGINT/SIGTERM: BYE, then a clean exit 0). `--json` prints one object per
 * line; `--history N` first prints what the local history kept of the room.
 */
export function registerListenCommand(program: Command): void {
  const command = program
    .command('listen')
    .description('print what happens in a chat room until Ctrl-C (through the clique service, which joins it or creates it)')
    .argument('<room>', 'room name: any text up to 63 bytes', parseRoomName)
    .option('--history <n>', 'first print the last N entries of the local history of this room', countUpTo10000, 0)
    .option('--accept-files <dir>', 'receive every file shared into the room (and offered to us) into this directory while listening (through the service)')
    .addOption(noServiceOption());
  addRoomScriptOptions(command)
    .addHelpText(
      'after',
      '\nOutput (text): each line starts with the local time HH:MM:SS; a "--- Sat 2026-11-28 (UTC+01:00)" line gives the date\n' +
        'first, and "--- Day changed: Sun 2026-11-29" each new day (the layout of irssi and weechat logs). Lines:\n' +
        '"<sender> text", "* sender action", "-sender- notice", "* x joined", "* x left" (said goodbye),\n' +
        '"* x left (timed out)" (lost by silence), "* a is now known as b", "* topic: ..."; a nick two members share\n' +
        'shows as "nick (user@host)".\n' +
        'Output (--json), one object per line, "event" is one of: history, joined, ready, member-joined, member-left\n' +
        '(with "reason": "left" or "timed-out"), member-updated, message, topic, typing, moved, left, file-offered and file\n' +
        '(with --accept-files), rejected (only\n' +
        'with --no-service); each also has "time" (ISO 8601, UTC). Fields: docs/events.md, or `clique help json`.\n' +
        "The person's own sends come as messages with \"outgoing\": true.\n\n" +
        'Example:\n  clique listen Witchcraft --json --interface 127.0.0.1',
    )
    .action(async (roomName: string, options: ListenOptions) => {
      if (options.service) await runServiceListen(roomName, options);
      else if (options.acceptFiles !== undefined) throw new UsageError('--accept-files needs the service (leave out --no-service)');
      else await runListen(roomName, options);
    });
}

async function runListen(roomName: string, options: ListenOptions): Promise<void> {
  const json = options.json === true;
  const clique = await startScriptClique(options);
  const room = await joinScriptRoom(clique, roomName, options);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await room.leave();
      await clique.stop();
    })();
    return stopping;
  };
  // Output gone (a closed pipe): leave politely instead of dying on EPIPE.
  process.stdout.on('error', () => void stop());
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  const clock = new LogClock();
  if (options.history > 0) {
    for (const entry of room.history(options.history)) {
      if (json) writeEvent({ event: 'history', ...historyJson(entry) });
      else process.stdout.write(`${clock.stamp(historyLine(entry), entry.time)}\n`);
    }
  }
  const { address, port } = room.roomAddress;
  const say = (line: string, value: CliEvent): void => {
    if (json) writeEvent(value);
    else process.stdout.write(`${clock.stamp(line)}\n`);
  };
  say(`* joined ${printable(roomName)} (${address}:${port}) as ${printable(room.selfName)}`, { event: 'joined', room: roomName, address, port, self: room.selfName, creator: room.creator });

  const onReady = (): void => {
    const others = room.members.filter((m) => !m.self);
    say(`* members: ${others.length === 0 ? 'nobody else yet' : others.map(memberLabel).join(', ')}`, {
      event: 'ready',
      members: others.map((m) => m.name),
    });
  };
  if (room.joined) onReady();
  else room.once('ready', onReady);
  room.on('member-joined', (m) => say(`* ${memberLabel(m)} joined`, { event: 'member-joined', ...memberJson(m) }));
  room.on('member-left', (m, reason) => say(formatLeft(memberLabel(m), reason), { event: 'member-left', ...memberJson(m), reason }));
  const named = (): NamedMember[] => room.members.map((m) => ({ name: m.name, nick: m.nick }));
  room.on('member-updated', (m, before) => {
    const status = `* ${memberLabel(m)} is ${m.status}${m.statusMessage !== undefined ? ` (${printable(m.statusMessage)})` : ''}`;
    if (m.displayName === before.displayName) return say(status, { event: 'member-updated', ...memberJson(m) });
    const then = named().map((x) => (x.name === m.name ? { name: x.name, nick: before.nick } : x));
    const renamed = nickChangeLine(shownName(before.name, before.nick, then), shownName(m.name, m.nick, named()));
    say(m.status === before.status && m.statusMessage === before.statusMessage ? renamed : `${renamed}\n${status}`, { event: 'member-updated', ...memberJson(m) });
  });
  room.on('message', (m) => say(messageLine(m, named()), { event: 'message', ...messageJson(m) }));
  room.on('topic', (t) => say(topicLine(t), { event: 'topic', ...topicJson(t) }));
  room.on('warning', (w) => say(formatWarning(w), { event: 'warning', ...warningJson(w) }));
  room.on('typing', (t) => {
    if (json) writeEvent({ event: 'typing', member: t.member, state: t.state });
  });
  room.on('rejected', (error, sender) => {
    if (json) writeEvent({ event: 'rejected', sender, code: error.code, error: error.message });
  });
  room.on('error', (error) => process.stderr.write(`clique: ${printable(error.message)} (${error.code})\n`));

  const reason = await new Promise<string>((resolve) => room.once('left', resolve));
  await stop();
  say(reason === 'left' || reason === 'stopped' ? '* left' : `* disconnected (${reason})`, { event: 'left', reason });
  await stdoutFlushed();
  process.exit(0);
}

async function runServiceListen(roomName: string, options: ListenOptions): Promise<void> {
  checkRoomNameForCli(roomName);
  if ((options.address === undefined) !== (options.port === undefined)) throw new UsageError('--address and --port go together (a private room)');
  const json = options.json === true;
  warnOneShotOnly(options);
  const { client } = await connectService(options);
  const clock = new LogClock();
  const say = (line: string, value: CliEvent, at?: Date): void => {
    if (json) writeEvent(value);
    else process.stdout.write(`${clock.stamp(line, at)}\n`);
  };
  let snapshot: RoomSnapshot;
  try {
    // Held while this connection is open; the service lingers in the room afterwards.
    await client.request('rooms.join', {
      room: roomName,
      hold: 'client',
      create: true,
      ...(options.nick !== undefined ? { nick: options.nick } : {}),
      ...(options.address !== undefined && options.port !== undefined ? { address: options.address, port: options.port } : {}),
      ...(options.failureTimeoutMs !== undefined ? { failureTimeoutMs: options.failureTimeoutMs } : {}),
    });
    snapshot = await client.request('rooms.subscribe', { room: roomName });
    if (options.acceptFiles !== undefined) {
      // Held by this connection: the service stops taking files when we stop listening.
      await client.request('files.subscribe', {});
      await client.request('files.auto-accept', { dir: resolve(options.acceptFiles), hold: 'client' });
    }
    if (options.history > 0) {
      const { entries } = await client.request('rooms.history', { room: roomName, limit: options.history });
      for (const entry of entries as unknown as HistoryJson[]) say(historyJsonLine(entry), { event: 'history', ...entry }, new Date(entry.time));
    }
  } catch (error) {
    client.close();
    throw serviceUsageError(error);
  }
  let finished = false;
  const finish = async (reason: string, code: number): Promise<void> => {
    if (finished) return;
    finished = true;
    client.close();
    say(reason === 'left' || reason === 'stopped' ? '* left' : `* disconnected (${reason})`, { event: 'left', reason });
    await stdoutFlushed();
    process.exit(code);
  };
  process.stdout.on('error', () => void finish('left', 0));
  process.once('SIGINT', () => void finish('left', 0));
  process.once('SIGTERM', () => void finish('left', 0));

  const { address, port } = snapshot;
  say(`* joined ${printable(roomName)} (${address}:${port}) as ${printable(snapshot.self)}`, { event: 'joined', room: roomName, address, port, self: snapshot.self, creator: snapshot.creator });
  // Who is in the room, to tell apart members that go by the same nick in text lines.
  const members = new Map<string, MemberJson>(snapshot.members.map((m) => [m.member, m]));
  let selfNick = snapshot.nick;
  const named = (): NamedMember[] => [{ name: snapshot.self, nick: selfNick }, ...[...members.values()].map((m) => ({ name: m.member, nick: m.nick }))];
  const ready = (list: MemberJson[]): void => {
    for (const m of list) members.set(m.member, m);
    say(`* members: ${list.length === 0 ? 'nobody else yet' : list.map(memberJsonLabel).join(', ')}`, { event: 'ready', members: list.map((m) => m.member) });
  };
  if (snapshot.joined) ready(snapshot.members);
  client.on('event', (e) => {
    if (!('room' in e.params) || e.params.room !== roomName) return;
    switch (e.event) {
      case 'room.ready':
        return ready(e.params.members);
      case 'room.message': {
        const { room: _room, ...m } = e.params;
        if (m.outgoing) selfNick = m.senderName === m.sender ? null : m.senderName;
        return say(messageJsonLine(m.kind, shownName(m.sender, m.senderName === m.sender ? undefined : m.senderName, named()), m.text), { event: 'message', ...m });
      }
      case 'room.member-joined': {
        const { room: _room, ...m } = e.params;
        members.set(m.member, m);
        return say(`* ${memberJsonLabel(m)} joined`, { event: 'member-joined', ...m });
      }
      case 'room.member-left': {
        const { room: _room, reason, ...m } = e.params;
        members.delete(m.member);
        return say(formatLeft(memberJsonLabel(m), reason), { event: 'member-left', ...m, reason });
      }
      case 'room.member-updated': {
        const { room: _room, ...m } = e.params;
        const before = members.get(m.member);
        const then = named();
        members.set(m.member, m);
        const status = `* ${memberJsonLabel(m)} is ${m.status}${m.statusMessage !== null ? ` (${printable(m.statusMessage)})` : ''}`;
        if (before === undefined || before.nick === m.nick) return say(status, { event: 'member-updated', ...m });
        const renamed = nickChangeLine(shownName(before.member, before.nick, then), shownName(m.member, m.nick, named()));
        return say(before.status === m.status && before.statusMessage === m.statusMessage ? renamed : `${renamed}\n${status}`, { event: 'member-updated', ...m });
      }
      case 'room.topic': {
        const { room: _room, ...t } = e.params;
        return say(`* ${t.topic === '' ? 'topic cleared' : `topic: ${printable(t.topic)}`} (set by ${printable(t.setBy)})`, { event: 'topic', ...t });
      }
      case 'room.warning':
        return say(formatWarning(e.params), { event: 'warning', ...e.params });
      case 'room.typing':
        if (json) writeEvent({ event: 'typing', member: e.params.member, state: e.params.state });
        return;
      case 'room.moved':
        return say(`* the room moved to ${e.params.address}:${e.params.port}`, { event: 'moved', address: e.params.address, port: e.params.port });
      case 'room.left':
        return void finish(e.params.reason, 0);
      case 'file.offered': {
        const t = e.params;
        return say(`* ${printable(t.peer)} shares ${printable(t.name)} (${t.size ?? '?'} bytes)`, { event: 'file-offered', id: t.id, from: t.peer, room: t.room, name: t.name, size: t.size, sha256: t.sha256 });
      }
      case 'file.done': {
        const t = e.params;
        if (t.direction !== 'in') return;
        const line = t.state === 'received' ? `* received ${printable(t.name)} from ${printable(t.peer)}: ${printable(t.path ?? '')}` : `* file ${printable(t.name)} from ${printable(t.peer)}: ${t.state}${t.error !== null ? ` (${printable(t.error)})` : ''}`;
        return say(line, { event: 'file', id: t.id, from: t.peer, room: t.room, name: t.name, state: t.state, path: t.path, error: t.error });
      }
      default:
        return;
    }
  });
  client.once('close', () => void finish('the service stopped', 1));
}

interface HistoryJson {
  sender: string;
  senderName: string | null;
  kind: string;
  text: string;
  time: string;
}

/** A history entry's line; the log clock stamps it with the entry's own time. */
function historyJsonLine(e: HistoryJson): string {
  const who = printable(e.senderName ?? e.sender);
  const text = printable(e.text);
  return e.kind === 'topic' ? `* topic: ${text} (set by ${who})` : messageJsonLine(e.kind, who, e.text);
}

/** `who` is already printable (shownName). */
function messageJsonLine(kind: string, who: string, text: string): string {
  const body = printable(text);
  return kind === 'action' ? `* ${who} ${body}` : kind === 'notice' ? `-${who}- ${body}` : `<${who}> ${body}`;
}

function memberJsonLabel(m: MemberJson): string {
  return m.nick === null ? printable(m.member) : `${printable(m.member)} (${printable(m.nick)})`;
}

function memberLabel(member: RoomMember): string {
  return member.nick === undefined ? printable(member.name) : `${printable(member.name)} (${printable(member.nick)})`;
}

function messageLine(m: RoomMessage, members: NamedMember[]): string {
  const who = shownName(m.sender, m.senderName === m.sender ? undefined : m.senderName, members);
  const text = printable(m.text);
  return m.kind === 'action' ? `* ${who} ${text}` : m.kind === 'notice' ? `-${who}- ${text}` : `<${who}> ${text}`;
}

function messageJson(m: RoomMessage): Record<string, unknown> {
  return { id: m.id, sender: m.sender, senderName: m.senderName, kind: m.kind, text: m.text, time: m.time.toISOString(), replyTo: m.replyTo?.id ?? null, delayedFrom: m.delayedFrom?.toISOString() ?? null };
}

function topicLine(t: TopicChange): string {
  const what = t.topic === '' ? 'topic cleared' : `topic: ${printable(t.topic)}`;
  return `* ${what} (set by ${printable(t.setBy)})`;
}

function topicJson(t: TopicChange): Record<string, unknown> {
  return { topic: t.topic, setBy: t.setBy, setAt: t.setAt.toISOString(), announcedBy: t.announcedBy, replay: t.replay, id: t.id };
}

/** A history entry's line; the log clock stamps it with the entry's own time. */
function historyLine(e: HistoryEntry): string {
  const who = printable(e.senderName ?? e.sender);
  const text = printable(e.text);
  return e.kind === 'topic' ? `* topic: ${text} (set by ${who})` : e.kind === 'action' ? `* ${who} ${text}` : e.kind === 'notice' ? `-${who}- ${text}` : `<${who}> ${text}`;
}

function historyJson(e: HistoryEntry): Record<string, unknown> {
  return { id: e.id, sender: e.sender, senderName: e.senderName ?? null, kind: e.kind, text: e.text, time: e.time.toISOString(), outgoing: e.outgoing, replyTo: e.replyTo ?? null };
}

const countUpTo10000 = wholeNumberParser(10000);

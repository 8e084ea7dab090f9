import type { Command } from 'commander';
import type { HistoryEntry } from '../../rooms/history-store.js';
import type { RoomMember, RoomMessage, TopicChange } from '../../rooms/room-types.js';
import { addRoomScriptOptions, joinScriptRoom, memberJson, startScriptClique, stdoutFlushed, writeJsonLine, type RoomScriptOptions } from '../room-script-session.js';
import { printable } from '../terminal-text.js';
import { wholeNumberParser } from '../number-options.js';

interface ListenOptions extends RoomScriptOptions {
  history: number;
}

/**
 * `clique listen <room>`: for scripts and logs. Joins the room (or creates
 * it) and prints messages, joins, leaves and topic changes until Ctrl-C
 * (SIGINT/SIGTERM: BYE, then a clean exit 0). `--json` prints one object per
 * line; `--history N` first prints what the local history kept of the room.
 */
export function registerListenCommand(program: Command): void {
  const command = program
    .command('listen')
    .description('join a chat room and print what happens in it until Ctrl-C')
    .argument('<room>', 'room name')
    .option('--history <n>', 'first print the last N entries of the local history of this room', countUpTo10000, 0);
  addRoomScriptOptions(command)
    .addHelpText(
      'after',
      '\nOutput (text): "<sender> text", "* sender action", "-sender- notice", "* x joined/left", "* topic: ..."\n' +
        'Output (--json), one object per line, "event" is one of: history, joined, ready, member-joined, member-left,\n' +
        'member-updated, message, topic, typing, rejected, left.\n\n' +
        'Example:\n  clique listen Witchcraft --json --interface 127.0.0.1',
    )
    .action(async (roomName: string, options: ListenOptions) => {
      await runListen(roomName, options);
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

  if (options.history > 0) {
    for (const entry of room.history(options.history)) {
      if (json) writeJsonLine({ event: 'history', ...historyJson(entry) });
      else process.stdout.write(`${historyLine(entry)}\n`);
    }
  }
  const { address, port } = room.roomAddress;
  if (json) writeJsonLine({ event: 'joined', room: roomName, address, port, self: room.selfName, creator: room.creator });
  else process.stdout.write(`* joined ${printable(roomName)} (${address}:${port}) as ${printable(room.selfName)}\n`);

  const say = (line: string, value: Record<string, unknown>): void => {
    if (json) writeJsonLine(value);
    else process.stdout.write(`${line}\n`);
  };
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
  room.on('member-left', (m) => say(`* ${memberLabel(m)} left`, { event: 'member-left', ...memberJson(m) }));
  room.on('member-updated', (m) => say(`* ${memberLabel(m)} is ${m.status}${m.statusMessage !== undefined ? ` (${printable(m.statusMessage)})` : ''}`, { event: 'member-updated', ...memberJson(m) }));
  room.on('message', (m) => say(messageLine(m), { event: 'message', ...messageJson(m) }));
  room.on('topic', (t) => say(topicLine(t), { event: 'topic', ...topicJson(t) }));
  room.on('typing', (t) => {
    if (json) writeJsonLine({ event: 'typing', member: t.member, state: t.state });
  });
  room.on('rejected', (error, sender) => {
    if (json) writeJsonLine({ event: 'rejected', sender, code: error.code, error: error.message });
  });
  room.on('error', (error) => process.stderr.write(`clique: ${printable(error.message)} (${error.code})\n`));

  const reason = await new Promise<string>((resolve) => room.once('left', resolve));
  await stop();
  say(reason === 'left' || reason === 'stopped' ? '* left' : `* disconnected (${reason})`, { event: 'left', reason });
  await stdoutFlushed();
  process.exit(0);
}

function memberLabel(member: RoomMember): string {
  return member.nick === undefined ? printable(member.name) : `${printable(member.name)} (${printable(member.nick)})`;
}

function messageLine(m: RoomMessage): string {
  const who = printable(m.senderName);
  const text = printable(m.text);
  return m.kind === 'action' ? `* ${who} ${text}` : m.kind === 'notice' ? `-${who}- ${text}` : `<${who}> ${text}`;
}

function messageJson(m: RoomMessage): Record<string, unknown> {
  return { id: m.id, sender: m.sender, senderName: m.senderName, kind: m.kind, text: m.text, time: m.time.toISOString(), replyTo: m.replyTo?.id ?? null };
}

function topicLine(t: TopicChange): string {
  const what = t.topic === '' ? 'topic cleared' : `topic: ${printable(t.topic)}`;
  return `* ${what} (set by ${printable(t.setBy)})`;
}

function topicJson(t: TopicChange): Record<string, unknown> {
  return { topic: t.topic, setBy: t.setBy, setAt: t.setAt.toISOString(), announcedBy: t.announcedBy, replay: t.replay, id: t.id };
}

function historyLine(e: HistoryEntry): string {
  const time = e.time.toISOString().replace('T', ' ').slice(0, 19);
  const who = printable(e.senderName ?? e.sender);
  const text = printable(e.text);
  const body = e.kind === 'topic' ? `* topic: ${text} (set by ${who})` : e.kind === 'action' ? `* ${who} ${text}` : e.kind === 'notice' ? `-${who}- ${text}` : `<${who}> ${text}`;
  return `[${time}] ${body}`;
}

function historyJson(e: HistoryEntry): Record<string, unknown> {
  return { id: e.id, sender: e.sender, senderName: e.senderName ?? null, kind: e.kind, text: e.text, time: e.time.toISOString(), outgoing: e.outgoing, replyTo: e.replyTo ?? null };
}

const countUpTo10000 = wholeNumberParser(10000);

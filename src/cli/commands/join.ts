import type { Command } from 'commander';
import { errorText } from '../../base/error-text.js';
import { Logger, levelFromEnv } from '../../base/logger.js';
import { escapeUnsafeChars, safeJsonStringify } from '../../base/safe-text.js';
import { Clique } from '../../rooms/clique.js';
import type { Room } from '../../rooms/room.js';
import { CHAT_HELP, parseChatInput, type ChatInput } from '../chat/chat-commands.js';
import { formatHistory, formatLeft, formatMessage, formatMoved, formatTopic, formatWarning, formatWho, memberLabel } from '../chat/chat-format.js';
import { memberNameInRoom, nickChangeLine, ownNickLine, showOwnNick, shownName, type NamedMember } from '../chat/display-names.js';
import { ChatScreen, handleScreenInput } from '../chat/chat-screen.js';
import { addRoomScriptOptions, asUsageError, type RoomScriptOptions } from '../room-script-session.js';
import { printable } from '../terminal-text.js';
import { UsageError } from '../usage-error.js';
import { wholeNumberParser } from '../number-options.js';
import { checkRoomNameForCli, noServiceOption, warnOneShotOnly } from '../service-session.js';
import { runServiceChat } from './join-service.js';
import { parseRoomName } from '../name-options.js';

interface JoinCommandOptions extends RoomScriptOptions {
  history: number;
  /** False with --no-service. */
  service: boolean;
}

/**
 * `clique join <room>`: the interactive chat. Joins (or creates) the room,
 * shows what the local history kept from earlier visits, then members, the
 * topic and messages as they come; lines typed are sent, `/help` lists commands.
 */
export function registerJoinCommand(program: Command): void {
  const command = program
    .command('join')
    .description('join (or create) a chat room and chat interactively, through the clique service (/help inside for commands)')
    .argument('<room>', 'room name: any text up to 63 bytes, e.g. Witchcraft or "team.alpha"', parseRoomName);
  addRoomScriptOptions(command, { json: false })
    .option('--history <n>', 'earlier messages to show on joining (0 = none)', countUpTo10000, 20)
    .addOption(noServiceOption())
    .addHelpText(
      'after',
      '\nThrough the clique service (started on demand; stop it with `clique down`): your other join/listen windows on\n' +
        'the room share one membership, each showing every line once; 1-1 messages and invitations show here too.\n' +
        'When your last join window on the room closes (and no listen holds it), the service leaves the room.\n' +
        `\nExample (two terminals on one machine):\n  clique join Witchcraft --nick alice --interface 127.0.0.1\n  clique join Witchcraft --nick bob --interface 127.0.0.1\n\nInside the chat:\n${CHAT_HELP.map((l) => '  ' + l).join('\n')}`,
    )
    .action(async (roomName: string, options: JoinCommandOptions) => {
      if ((options.address === undefined) !== (options.port === undefined)) {
        throw new UsageError('--address and --port go together (a private room)');
      }
      if (options.service) {
        checkRoomNameForCli(roomName);
        warnOneShotOnly(options);
        await runServiceChat(roomName, options);
      } else await runChat(roomName, options);
    });
}

async function runChat(roomName: string, options: JoinCommandOptions): Promise<void> {
  // Log records go through the chat screen, not raw to stderr over the prompt.
  let screenRef: ChatScreen | undefined;
  const logger = new Logger({
    level: options.logLevel ?? levelFromEnv(),
    sink: (record) => {
      const line = `! ${record.level}: ${record.message}${record.fields ? ' ' + safeJsonStringify(record.fields) : ''}`;
      if (screenRef !== undefined) screenRef.print(printable(line));
      else process.stderr.write(escapeUnsafeChars(line) + '\n');
    },
  });
  let clique: Clique;
  try {
    clique = await Clique.start({
      ...(options.name !== undefined ? { name: options.name, rename: false } : {}),
      ...(options.nick !== undefined ? { nick: options.nick } : {}),
      ...(options.interface !== undefined ? { interface: options.interface } : {}),
      ...(options.failureTimeoutMs !== undefined ? { failureTimeoutMs: options.failureTimeoutMs } : {}),
      history: options.historyFile === false ? false : options.historyFile !== undefined ? { path: options.historyFile } : {},
      lookupWaitMs: options.lookupMs,
      logger,
    });
  } catch (error) {
    throw asUsageError(error);
  }
  const out = process.stdout;
  let room: Room | undefined;
  let leaving: Promise<void> | undefined;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const leave = (): Promise<void> => {
    leaving ??= (async () => {
      screen.print('* leaving…');
      try {
        await room?.leave();
      } finally {
        await clique.stop();
      }
    })().finally(finished);
    return leaving;
  };
  /** Lines typed (or piped) before the join completed, sent once we are in. */
  const early: ChatInput[] = [];
  // Input that ends before we are in (a script piping lines) is still sent first.
  let inputEnded = false;
  const screen = new ChatScreen(process.stdin, out, `[${roomName}] `, (line) => void handle(parseChatInput(line)), () => {
    if (room === undefined) inputEnded = true;
    else void leave();
  });
  screenRef = screen;
  process.once('SIGTERM', () => screen.close());
  /** Everyone in the room as far as naming goes (ourselves included once we are a member). */
  const named = (): NamedMember[] => (room?.members ?? []).map((m) => ({ name: m.name, nick: m.nick }));
  const displayName = (name: string): string => memberNameInRoom(name, named());
  /** Our nick as last set here (the room knows it only once we are a member). */
  let myNick = options.nick;

  const handle = async (input: ChatInput): Promise<void> => {
    const current = room;
    if (handleScreenInput(screen, input)) return;
    try {
      if (current === undefined) {
        early.push(input);
        return;
      }
      switch (input.kind) {
        case 'say': {
          const sent = await current.send(input.text);
          screen.print(formatMessage(sent, named()));
          return;
        }
        case 'action': {
          const sent = await current.sendAction(input.text);
          screen.print(formatMessage(sent, named()));
          return;
        }
        case 'topic':
          if (input.text === undefined) {
            const topic = current.topic;
            screen.print(topic === undefined || topic.topic === '' ? '* no topic' : formatTopic({ ...topic, replay: true }, displayName));
          } else {
            const change = await current.setTopic(input.text);
            screen.print(formatTopic(change, displayName));
          }
          return;
        case 'invite':
          await current.invite(input.contact, input.reason);
          screen.print(`* invited ${printable(input.contact)}`);
          return;
        case 'who':
          for (const line of formatWho(current.members)) screen.print(line);
          return;
        case 'nick':
          await current.setNick(input.nick);
          myNick = input.nick;
          screen.print(ownNickLine(current.selfName, input.nick, named()));
          return;
        case 'show-nick':
          screen.print(showOwnNick(current.selfName, current.member(current.selfName)?.nick ?? myNick, named()));
          return;
        case 'accept':
        case 'decline':
          screen.print('! files in `clique join` need the clique service (this one runs with --no-service)');
          return;
        case 'msg':
        case 'query':
          screen.print('! 1-1 chat in `clique join` needs the clique service (this one runs with --no-service; use clique say)');
          return;
        case 'history': {
          const entries = current.history(input.limit);
          if (entries.length === 0) screen.print('* no local history for this room');
          for (const entry of entries) screen.print(formatHistory(entry, displayName));
          return;
        }
      }
    } catch (error) {
      screen.print(`! ${printable(errorText(error))}`);
    }
  };

  clique.on('invitation', (inv) => {
    const reason = inv.reason === '' ? '' : `: ${inv.reason}`;
    screen.print(`* ${printable(inv.from)} invites you to ${printable(inv.room)} (${inv.address}:${inv.port})${printable(reason)} — run: clique join ${printable(inv.room)} --address ${inv.address} --port ${inv.port}`);
  });
  clique.on('error', (error) => screen.print(`! ${printable(error.message)}`));
  // Someone announced our name (RFC 6762 §9): we keep it unless they answer our probes, but the user should know.
  clique.link?.on('name-contested', (name, from) => screen.print(`! warning: ${printable(from)} announced our name ${printable(name)}; defending it`));

  screen.print(`* joining ${printable(roomName)} as ${printable(clique.name)}…`);
  try {
    room = await clique.join(roomName, {
      ...(options.nick !== undefined ? { nick: options.nick } : {}),
      ...(options.address !== undefined && options.port !== undefined ? { address: options.address, port: options.port } : {}),
    });
  } catch (error) {
    screen.close();
    await clique.stop();
    throw asUsageError(error);
  }
  const earlier = options.history > 0 ? room.history(options.history) : [];
  if (earlier.length > 0) {
    screen.print(`* --- ${earlier.length} earlier message${earlier.length === 1 ? '' : 's'} (local history) ---`);
    for (const entry of earlier) screen.print(formatHistory(entry, displayName));
    screen.print('* --- now ---');
  }
  const { address, port } = room.roomAddress;
  screen.print(`* in ${printable(roomName)} (${address}:${port}); waiting for the other members… (/help for commands)`);
  const joined = room;
  const showMembers = (): void => {
    const others = joined.members.filter((m) => !m.self);
    screen.print(others.length === 0 ? '* you are alone here for now' : `* members: ${others.map(memberLabel).join(', ')}`);
    const topic = joined.topic;
    if (topic !== undefined && topic.topic !== '') screen.print(formatTopic({ ...topic, replay: true }, displayName));
  };
  // A room's creator is a member at once: 'ready' may have fired already.
  if (joined.state === 'joined') showMembers();
  else joined.once('ready', showMembers);
  room.on('message', (message) => screen.print(formatMessage(message, named())));
  room.on('member-joined', (member) => screen.print(`* ${memberLabel(member)} joined`));
  room.on('member-left', (member, reason) => screen.print(formatLeft(memberLabel(member), reason)));
  room.on('member-updated', (member, before) => {
    if (member.displayName === before.displayName) return;
    const now = named();
    const then = now.map((m) => (m.name === member.name ? { name: m.name, nick: before.nick } : m));
    screen.print(nickChangeLine(shownName(before.name, before.nick, then), shownName(member.name, member.nick, now)));
  });
  room.on('moved', (to, from) => screen.print(formatMoved(to, from)));
  room.on('warning', (w) => screen.print(formatWarning(w)));
  room.on('topic', (change) => screen.print(formatTopic(change, displayName)));
  room.on('error', (error) => screen.print(`! ${error.message}`));
  room.on('left', (reason) => {
    if (reason !== 'left') screen.print(`* disconnected from the room (${reason})`);
    screen.close();
  });
  for (const input of early.splice(0)) await handle(input);
  if (inputEnded) void leave();
  await done;
  await new Promise<void>((resolve) => out.write('', () => resolve()));
  process.exit(0);
}

const countUpTo10000 = wholeNumberParser(10000);

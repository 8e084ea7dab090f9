import { InvalidArgumentError, type Command } from 'commander';
import { LineSplitter } from '../../net/line-splitter.js';
import { RoomError } from '../../rooms/room-error.js';
import type { RoomMessage } from '../../rooms/room-types.js';
import type { TextMessageKind } from '../../xml/stanzas.js';
import { addRoomScriptOptions, joinScriptRoom, startScriptClique, stdoutFlushed, type RoomScriptOptions } from '../room-script-session.js';
import { printable } from '../terminal-text.js';
import type { SendResult } from '../../service/control-protocol.js';
import { checkRoomNameForCli, connectService, warnOneShotOnly, LINGER_TEXT, noServiceOption, serviceUsageError } from '../service-session.js';
import { UsageError } from '../usage-error.js';
import { wholeNumberParser } from '../number-options.js';
import { parseRoomName } from '../name-options.js';
import { writeEvent } from '../json-output.js';

interface SendOptions extends RoomScriptOptions {
  waitMembers: number;
  timeout: number;
  me?: boolean;
  notice?: boolean;
  /** False with --no-service. */
  service: boolean;
  create?: boolean;
}

const DEFAULT_WAIT_MS = 30_000;
/** Lines read from stdin with `-`: each at most this long, at most this many. */
const MAX_LINE_BYTES = 64 * 1024;
const MAX_LINES = 10_000;

/**
 * `clique send <room> <text...>`: for scripts. Through the person's service
 * (started on demand): in a room the service is in, the line goes out at
 * once; otherwise the service joins (only an advertised room, unless
 * `--create`) and stays for its linger time so the next sends are instant.
 * `--no-service`: join as a one-shot member, send, and leave (the old way).
 * Waits until `--wait-members` other members are in; with `-` as the text,
 * each line of stdin is one message. Exit status 1 if fewer members showed up
 * than asked for (the message is sent anyway) or the room is not advertised.
 */
export function registerSendCommand(program: Command): void {
  const command = program
    .command('send')
    .description(`send a message (or each line of stdin with -) to a room, through the clique service (it stays in the room for ${LINGER_TEXT} after the last send)`)
    .argument('<room>', 'room name: any text up to 63 bytes', parseRoomName)
    .argument('<text...>', 'the message (words are joined with spaces), or - to read lines from stdin')
    .option('--me', 'send as an action (/me TEXT)')
    .option('--notice', 'send as a notice')
    .option('-w, --wait-members <n>', 'wait until this many other members are in the room before sending (0 = do not wait)', countUpTo1000, 1)
    .option('-t, --timeout <ms>', 'how long to wait for them', parsePositiveMs, DEFAULT_WAIT_MS)
    .option('--create', 'create the room if nobody advertises it (otherwise that is an error, exit 1)')
    .addOption(noServiceOption());
  addRoomScriptOptions(command)
    .addHelpText(
      'after',
      `\nThrough the service (the default, started on demand like tmux's server): when the service is in the room, the line\n` +
        `goes out at once, with no join or leave; otherwise the service joins and stays in the room for ${LINGER_TEXT} after\n` +
        `the last send (\`clique up --linger-ms\` changes it), so the next sends are instant. --name/--nick apply when it starts;\n` +
        `its history is kept in the service's database (--history-file applies to --no-service).\n` +
        '\nExamples:\n  clique send Witchcraft "the cauldron is ready" --interface 127.0.0.1\n  printf "one\\ntwo\\n" | clique send Witchcraft - --wait-members 2 --json',
    )
    .action(async (roomName: string, words: string[], options: SendOptions) => {
      if (options.me && options.notice) throw new UsageError('--me and --notice exclude each other');
      const kind: TextMessageKind = options.me ? 'action' : options.notice ? 'notice' : 'normal';
      const texts = words.length === 1 && words[0] === '-' ? await readStdinLines() : [words.join(' ')];
      if (texts.length === 0 || texts.every((t) => t.trim() === '')) throw new UsageError('the message is empty');
      const lines = texts.filter((t) => t !== '');
      if (options.service) await runServiceSend(roomName, lines, kind, options);
      else await runSend(roomName, lines, kind, options);
    });
}

async function runSend(roomName: string, texts: string[], kind: TextMessageKind, options: SendOptions): Promise<void> {
  const clique = await startScriptClique(options);
  // Seeing nobody within --timeout, we become a member alone, so the send below does not wait for salut's 60 s.
  const room = await joinScriptRoom(clique, roomName, options, options.timeout);
  let shortBy: number | undefined;
  const sent: RoomMessage[] = [];
  let members: string[];
  try {
    if (options.waitMembers > 0) {
      try {
        await room.waitForMembers(options.waitMembers, { timeoutMs: options.timeout });
      } catch (error) {
        if (!(error instanceof RoomError && error.code === 'timeout')) throw error;
        shortBy = options.waitMembers - room.members.filter((m) => !m.self).length;
      }
    }
    members = room.members.filter((m) => !m.self).map((m) => m.name);
    for (const text of texts) sent.push(await room.send(text, { kind }));
    // Everything handed to rMulticast; leaving then still repairs it during the BYEs.
    await room.flush({ timeoutMs: 10_000 });
  } finally {
    await room.leave();
    await clique.stop();
  }
  const { address, port } = room.roomAddress;
  if (options.json) {
    for (const m of sent) writeEvent({ event: 'sent', room: roomName, address, port, self: room.selfName, id: m.id, kind: m.kind, text: m.text, members });
  } else {
    const to = members.length === 0 ? 'nobody' : members.map(printable).join(', ');
    process.stdout.write(`sent ${sent.length} message${sent.length === 1 ? '' : 's'} to ${printable(roomName)} (${to})\n`);
  }
  await stdoutFlushed();
  if (shortBy !== undefined) {
    throw new RoomError('timeout', `${shortBy} of the ${options.waitMembers} awaited members did not join within ${options.timeout} ms (sent anyway)`);
  }
}

async function runServiceSend(roomName: string, texts: string[], kind: TextMessageKind, options: SendOptions): Promise<void> {
  checkRoomNameForCli(roomName);
  if ((options.address === undefined) !== (options.port === undefined)) throw new UsageError('--address and --port go together (a private room)');
  warnOneShotOnly(options);
  const { client } = await connectService(options);
  let result: SendResult;
  try {
    result = await client.request(
      'rooms.send',
      {
        room: roomName,
        texts,
        kind,
        create: options.create === true,
        waitMembers: options.waitMembers,
        timeoutMs: options.timeout,
        ...(options.nick !== undefined ? { nick: options.nick } : {}),
        ...(options.address !== undefined && options.port !== undefined ? { address: options.address, port: options.port } : {}),
        ...(options.failureTimeoutMs !== undefined ? { failureTimeoutMs: options.failureTimeoutMs } : {}),
      },
      // The service may have to join and wait for members first.
      { timeoutMs: options.timeout * 2 + 60_000 },
    );
  } catch (error) {
    throw serviceUsageError(error);
  } finally {
    client.close();
  }
  const { address, port, self, members } = result;
  if (options.json) {
    for (const m of result.sent) writeEvent({ event: 'sent', room: roomName, address, port, self, id: m.id, kind: m.kind, text: m.text, members });
  } else {
    const to = members.length === 0 ? 'nobody' : members.map(printable).join(', ');
    process.stdout.write(`sent ${result.sent.length} message${result.sent.length === 1 ? '' : 's'} to ${printable(roomName)} (${to})\n`);
  }
  await stdoutFlushed();
  if (result.shortBy > 0) {
    throw new RoomError('timeout', `${result.shortBy} of the ${options.waitMembers} awaited members did not join within ${options.timeout} ms (sent anyway)`);
  }
}

/** All lines of stdin (bounded), without line ends. */
function readStdinLines(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let failure: UsageError | undefined;
    const splitter = new LineSplitter(
      MAX_LINE_BYTES,
      (line) => {
        if (lines.length >= MAX_LINES) failure ??= new UsageError(`more than ${MAX_LINES} lines on stdin`);
        else lines.push(line);
      },
      () => (failure ??= new UsageError(`a line on stdin is longer than ${MAX_LINE_BYTES} bytes`)),
    );
    process.stdin.on('data', (chunk: Buffer) => splitter.push(chunk));
    process.stdin.once('end', () => {
      splitter.end();
      if (failure !== undefined) reject(failure);
      else resolve(lines);
    });
    process.stdin.once('error', reject);
  });
}

function parsePositiveMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n)) throw new InvalidArgumentError('must be a positive number of milliseconds');
  return n;
}

const countUpTo1000 = wholeNumberParser(1000);

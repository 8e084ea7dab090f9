import { resolve } from 'node:path';
import { errorText } from '../../base/error-text.js';
import { formatBytes } from './files.js';
import type { HistoryKind } from '../../rooms/history-store.js';
import type { ContactJson, ControlEvents, MemberJson, RoomSnapshot } from '../../service/control-protocol.js';
import { parseChatInput, type ChatInput } from '../chat/chat-commands.js';
import { clock, formatHistory, formatLeft, formatMessage, formatMoved, formatText, formatTopic, formatWarning } from '../chat/chat-format.js';
import { memberNameInRoom, nickChangeLine, ownNickLine, showOwnNick, shownName, type NamedMember } from '../chat/display-names.js';
import { ChatScreen, handleScreenInput } from '../chat/chat-screen.js';
import { chatStyleFor, mentions } from '../chat/chat-style.js';
import { DayLines } from '../chat/day-lines.js';
import { completeChatLine } from '../chat/tab-completion.js';
import { lookUpPerson } from '../chat/person-lookup.js';
import { connectService, serviceUsageError } from '../service-session.js';
import { printable } from '../terminal-text.js';
import type { RoomScriptOptions } from '../room-script-session.js';

export interface ServiceChatOptions extends RoomScriptOptions {
  history: number;
}

type Kind = 'normal' | 'action' | 'notice';

/**
 * `clique join` as a client of the person's service: the service holds the
 * one membership (shared with the person's other `join`/`listen` clients,
 * each seeing every line once, our own lines echoed by the service), and
 * shows 1-1 messages and invitations. When the person's last chat on the
 * room closes, the service leaves it (BYE).
 */
export async function runServiceChat(roomName: string, options: ServiceChatOptions): Promise<void> {
  const { client } = await connectService(options);
  const self = client.identity.name;
  const out = process.stdout;
  let snapshot: RoomSnapshot;
  out.write(`* joining ${printable(roomName)} as ${printable(self)}…\n`);
  try {
    await client.request('chat.subscribe', {});
    await client.request('files.subscribe', {});
    await client.request('rooms.join', {
      room: roomName,
      hold: 'client',
      release: 'leave',
      create: true,
      ...(options.nick !== undefined ? { nick: options.nick } : {}),
      ...(options.address !== undefined && options.port !== undefined ? { address: options.address, port: options.port } : {}),
      ...(options.failureTimeoutMs !== undefined ? { failureTimeoutMs: options.failureTimeoutMs } : {}),
    });
    snapshot = await client.request('rooms.subscribe', { room: roomName });
  } catch (error) {
    client.close();
    throw serviceUsageError(error);
  }

  const members = new Map<string, MemberJson>(snapshot.members.map((m) => [m.member, m]));
  let myNick: string | null = snapshot.nick ?? options.nick ?? null;
  let topic: { topic: string; setBy: string; setAt: Date } | undefined =
    snapshot.topic !== null ? { topic: snapshot.topic.topic, setBy: snapshot.topic.setBy, setAt: new Date() } : undefined;
  let query: string | undefined;
  /** File offers to us shown here and not yet answered, oldest first (`/accept` alone takes the latest). */
  const fileOffers: string[] = [];
  /** Everyone in the room as far as naming goes, ourselves included. */
  const named = (): NamedMember[] => [{ name: self, nick: myNick }, ...[...members.values()].map((m) => ({ name: m.member, nick: m.nick }))];
  const displayName = (name: string): string => memberNameInRoom(name, named());
  const label = (m: MemberJson): string => (m.nick === null || m.nick === m.member ? printable(m.member) : `${printable(m.nick)} (${printable(m.member)})`);
  const roomPrompt = `[${roomName}] `;
  let basePrompt = roomPrompt;
  const style = chatStyleFor(out);
  const paintFor = (name: string) => (shown: string) => style.name(shown, name);
  const days = new DayLines();
  /** A line stamped `time`: after a day-change line when its day is not the last one shown. */
  const printAt = (time: Date, line: string): void => {
    const separator = days.before(time);
    if (separator !== undefined) screen.print(separator);
    screen.print(line);
  };
  /** Members typing now (XEP-0085 composing), shown in the prompt. */
  const typing = new Set<string>();
  const showPrompt = (): void => {
    const who = [...typing].map((name) => style.name(printable(displayName(name)), name));
    screen.setPrompt(who.length === 0 ? basePrompt : `${basePrompt}(${who.join(', ')} typing) `);
  };
  let knownRooms: string[] = [];
  const refreshRooms = (): void =>
    void client.request('rooms.list', {}).then(
      (r) => (knownRooms = r.rooms.map((x) => x.room)),
      () => undefined,
    );
  /** A paste of several lines waiting for the person's answer, or the lines of `/paste` mode. */
  let pendingPaste: string[] | undefined;
  let pasteMode: string[] | undefined;

  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  let closing = false;
  // Lines are handled one after another (a script piping lines gets them sent in order), and all before we go.
  let queue = Promise.resolve();
  const onLine = (line: string): void => {
    queue = queue.then(() => typed(line));
  };
  const screen = new ChatScreen(
    process.stdin,
    out,
    roomPrompt,
    onLine,
    () => {
      if (closing) return;
      closing = true;
      void queue.then(() => {
        screen.print('* leaving…');
        // Our hold ends with the connection; the last chat of the person on this room makes the service leave it.
        client.close();
        finished();
      });
    },
    {
      complete: (line) =>
        completeChatLine(line, { nicks: [...members.values()].flatMap((m) => (m.nick !== null && m.nick !== m.member ? [m.nick, m.member] : [m.member])), rooms: knownRooms }),
      onTyping: (state) => {
        if (query === undefined) void client.request('rooms.typing', { room: roomName, state }).catch(() => undefined);
      },
      onPaste: (lines, continued) => {
        if (continued && pendingPaste !== undefined) {
          // The rest of a paste that came in several reads: still one paste, still one question.
          pendingPaste.push(...lines);
          screen.print(`* … ${pendingPaste.length} lines now`);
          return;
        }
        // In /paste mode (or while a paste waits for its answer) lines are taken one by one as usual.
        if (pasteMode !== undefined || pendingPaste !== undefined) {
          for (const line of lines) onLine(line);
          return;
        }
        pendingPaste = lines;
        screen.print(`* you pasted ${lines.length} lines: y (or Enter) sends them as one message, s sends ${lines.length} separate lines, n drops them`);
        screen.setPrompt('[paste: y/s/n] ');
      },
    },
  );
  refreshRooms();
  const roomsTimer = setInterval(refreshRooms, 15_000);
  roomsTimer.unref();
  /** A line typed (or the answer to a paste question, or a line of /paste mode). */
  const typed = async (line: string): Promise<void> => {
    if (pendingPaste !== undefined) {
      const lines = pendingPaste;
      pendingPaste = undefined;
      showPrompt();
      const answer = line.trim().toLowerCase();
      if (answer === '' || answer === 'y' || answer === 'yes') return handle({ kind: 'say', text: lines.join('\n') });
      if (answer === 's') {
        for (const l of lines) await handle(parseChatInput(l));
        return;
      }
      screen.print(`* ${lines.length} pasted lines dropped`);
      return;
    }
    if (pasteMode !== undefined) {
      if (line === '.') {
        const lines = pasteMode;
        pasteMode = undefined;
        showPrompt();
        if (lines.length > 0) await handle({ kind: 'say', text: lines.join('\n') });
        return;
      }
      if (line.trim() === '/cancel') {
        pasteMode = undefined;
        showPrompt();
        screen.print('* paste mode cancelled; nothing sent');
        return;
      }
      pasteMode.push(line);
      return;
    }
    if (line.trim() === '/paste') {
      pasteMode = [];
      screen.print('* paste mode: the lines you type or paste make one message; a line with a single . sends it, /cancel drops it');
      screen.setPrompt('[paste] ');
      return;
    }
    return handle(parseChatInput(line));
  };
  process.once('SIGTERM', () => screen.close());

  const contacts = async (): Promise<ContactJson[]> => (await client.request('contacts.list', {})).contacts;
  /** The person `who` names, or undefined after saying why not. */
  const person = async (who: string): Promise<string | undefined> => {
    const found = lookUpPerson(who, await contacts(), [...members.values()]);
    if (found.kind === 'found') return found.name;
    if (found.kind === 'ambiguous') screen.print(`! ${printable(who)} is ambiguous: ${found.candidates.map(printable).join(', ')} (use the full name; nothing sent)`);
    else screen.print(`! nobody called ${printable(who)} here or on the LAN (see /who and clique contacts; nothing sent)`);
    return undefined;
  };
  const privately = async (to: string, text: string, kind: Kind): Promise<void> => {
    await client.request('chat.send', { contact: to, text, kind });
    printAt(new Date(), privateLine(new Date(), `to ${to}`, displayName(self), kind, text));
  };
  const sendToRoom = async (texts: string[], kind: Kind): Promise<void> => {
    // The service echoes our line back as a room.message (outgoing): it is shown from there, once.
    await client.request('rooms.send', { room: roomName, texts, kind });
  };

  const handle = async (input: ChatInput): Promise<void> => {
    if (handleScreenInput(screen, input)) return;
    try {
      switch (input.kind) {
        case 'say':
        case 'action':
          if (query !== undefined) await privately(query, input.text, input.kind === 'say' ? 'normal' : 'action');
          else await sendToRoom([input.text], input.kind === 'say' ? 'normal' : 'action');
          return;
        case 'msg': {
          const to = await person(input.to);
          if (to !== undefined) await privately(to, input.text, 'normal');
          return;
        }
        case 'query': {
          if (input.to === undefined) {
            screen.print(query === undefined ? '* no query open; lines go to the room' : `* query with ${printable(query)} closed; lines go to the room`);
            query = undefined;
            basePrompt = roomPrompt;
            showPrompt();
            return;
          }
          const to = await person(input.to);
          if (to === undefined) return;
          query = to;
          screen.print(`* lines now go 1-1 to ${printable(to)} (/query alone: back to ${printable(roomName)})`);
          basePrompt = `[${roomName} → ${printable(to)}] `;
          showPrompt();
          return;
        }
        case 'topic':
          if (input.text === undefined) {
            screen.print(topic === undefined || topic.topic === '' ? '* no topic' : formatTopic({ ...topic, replay: true }, displayName));
          } else {
            // Shown when the service echoes it as room.topic.
            await client.request('rooms.topic', { room: roomName, topic: input.text });
          }
          return;
        case 'invite': {
          const to = await person(input.contact);
          if (to === undefined) return;
          await client.request('invite', { contact: to, room: roomName, ...(input.reason !== undefined ? { reason: input.reason } : {}) });
          screen.print(`* invited ${printable(to)}`);
          return;
        }
        case 'who': {
          const all = [...members.values()].sort((a, b) => (a.nick ?? a.member).localeCompare(b.nick ?? b.member));
          screen.print(`* ${all.length + 1} member${all.length === 0 ? '' : 's'}:`);
          screen.print(`*   ${myNick !== null && myNick !== self ? `${printable(myNick)} (${printable(self)})` : printable(self)} (you)`);
          for (const m of all) screen.print(`*   ${label(m)}${m.status === 'avail' ? '' : ` [${printable(m.status)}${m.statusMessage ? `: ${printable(m.statusMessage)}` : ''}]`}`);
          return;
        }
        case 'nick': {
          const { nick } = await client.request('rooms.nick', { room: roomName, ...(input.nick !== undefined ? { nick: input.nick } : {}) });
          myNick = nick;
          screen.print(ownNickLine(self, nick, named()));
          return;
        }
        case 'show-nick': {
          // Asked of the service: another window of ours may have changed it.
          const { rooms } = await client.request('status', {});
          const here = rooms.find((r) => r.room === roomName);
          if (here !== undefined && here.joined) myNick = here.nick;
          screen.print(showOwnNick(self, myNick, named()));
          return;
        }
        case 'accept':
        case 'decline': {
          const id = input.id ?? fileOffers.at(-1);
          if (id === undefined) return screen.print('* no file offer waiting (see clique files)');
          if (input.kind === 'decline') {
            const t = await client.request('files.decline', { id });
            screen.print(`* declined ${printable(t.name)} from ${printable(t.peer)}`);
          } else {
            const t = await client.request('files.accept', { id, dir: resolve(input.dir ?? '.') });
            screen.print(`* receiving ${printable(t.name)} from ${printable(t.peer)}…`);
          }
          fileOffers.splice(fileOffers.indexOf(id), 1);
          return;
        }
        case 'history': {
          const { entries } = await client.request('rooms.history', { room: roomName, limit: input.limit });
          if (entries.length === 0) screen.print('* no local history for this room');
          for (const entry of entries as unknown as HistoryJson[]) printAt(new Date(entry.time), historyLine(entry, displayName, paintFor(entry.sender)));
          return;
        }
      }
    } catch (error) {
      screen.print(`! ${printable(errorText(error))}`);
    }
  };

  client.on('event', (e) => {
    switch (e.event) {
      case 'chat.message':
        printAt(new Date(e.params.time), privateLine(new Date(e.params.time), `from ${e.params.from}`, e.params.from, asKind(e.params.kind), e.params.text));
        screen.bell(); // a 1-1 message is for us, as a mention is
        return;
      case 'chat.invitation': {
        const i = e.params;
        const reason = i.reason === '' ? '' : `: ${i.reason}`;
        screen.print(`* ${printable(i.from)} invites you to ${printable(i.room)} (${i.address}:${i.port})${printable(reason)} — run: clique join ${printable(i.room)} --address ${i.address} --port ${i.port}`);
        return;
      }
      case 'file.offered': {
        const t = e.params;
        fileOffers.push(t.id);
        const size = t.size !== null ? ` (${formatBytes(t.size)})` : '';
        const desc = t.desc !== null ? `: ${printable(t.desc)}` : '';
        const where = t.room !== null ? ` in ${printable(t.room)}` : '';
        screen.print(`* ${printable(t.peer)} offers you a file${where}, ${printable(t.name)}${size}${desc} — /accept ${t.id} [dir] or /decline ${t.id}`);
        return;
      }
      case 'file.done': {
        const t = e.params;
        if (t.direction !== 'in') return;
        const waiting = fileOffers.indexOf(t.id);
        if (waiting >= 0) fileOffers.splice(waiting, 1);
        if (t.state === 'received') screen.print(`* received ${printable(t.name)} from ${printable(t.peer)}: ${printable(t.path ?? '')}`);
        else if (t.state !== 'declined') screen.print(`! file ${printable(t.name)} from ${printable(t.peer)}: ${t.state}${t.error !== null ? ` (${printable(t.error)})` : ''}`);
        return;
      }
      case 'service.stopping':
        screen.print(`* the clique service is stopping (${printable(e.params.reason)})`);
        return;
      case 'presence.name-contested':
        screen.print(`! warning: ${printable(e.params.from)} announced our name ${printable(e.params.name)}; defending it`);
        return;
    }
    if (!('room' in e.params) || e.params.room !== roomName) return;
    roomEvent(e as RoomEvent);
  });
  const roomEvent = (e: RoomEvent): void => {
    switch (e.event) {
      case 'room.ready':
        for (const m of e.params.members) members.set(m.member, m);
        return showMembers();
      case 'room.message': {
        const m = e.params;
        const time = new Date(m.time);
        const line = formatMessage({ time, sender: m.sender, senderName: m.senderName, kind: asKind(m.kind), text: m.text }, named(), paintFor(m.sender));
        if (typing.delete(m.sender)) showPrompt();
        const mentioned = !m.outgoing && m.sender !== self && mentions(m.text, self, myNick);
        printAt(time, mentioned ? style.mention(line) : line);
        if (mentioned) screen.bell();
        return;
      }
      case 'room.typing': {
        if (e.params.member === self) return;
        let changed: boolean;
        if (e.params.state === 'composing') {
          changed = !typing.has(e.params.member);
          typing.add(e.params.member);
        } else {
          changed = typing.delete(e.params.member);
        }
        if (changed) showPrompt();
        return;
      }
      case 'room.member-joined': {
        const { room: _r, ...m } = e.params;
        members.set(m.member, m);
        return screen.print(`* ${label(m)} joined`);
      }
      case 'room.member-left': {
        const { room: _r, reason, ...m } = e.params;
        members.delete(m.member);
        if (typing.delete(m.member)) showPrompt();
        return screen.print(formatLeft(label(m), reason));
      }
      case 'room.member-updated': {
        const { room: _r, ...m } = e.params;
        const before = members.get(m.member);
        const then = named();
        members.set(m.member, m);
        if (before !== undefined && before.nick !== m.nick) screen.print(nickChangeLine(shownName(before.member, before.nick, then), shownName(m.member, m.nick, named())));
        return;
      }
      case 'room.topic': {
        const t = { topic: e.params.topic, setBy: e.params.setBy, setAt: new Date(e.params.setAt) };
        topic = t;
        const line = formatTopic({ ...t, replay: e.params.replay }, displayName);
        return e.params.replay ? screen.print(line) : printAt(t.setAt, line);
      }
      case 'room.warning':
        return screen.print(formatWarning(e.params));
      case 'room.moved':
        return screen.print(formatMoved({ address: e.params.address, port: e.params.port }, { address: e.params.previousAddress, port: e.params.previousPort }));
      case 'room.left':
        if (e.params.reason !== 'left') screen.print(`* disconnected from the room (${printable(e.params.reason)})`);
        return screen.close();
      default:
        return;
    }
  };
  client.once('close', () => {
    if (closing) return;
    screen.print('* the clique service went away');
    screen.close();
  });

  if (options.history > 0) {
    try {
      const { entries } = await client.request('rooms.history', { room: roomName, limit: options.history });
      if (entries.length > 0) {
        screen.print(`* --- ${entries.length} earlier message${entries.length === 1 ? '' : 's'} (local history) ---`);
        for (const entry of entries as unknown as HistoryJson[]) printAt(new Date(entry.time), historyLine(entry, displayName, paintFor(entry.sender)));
        screen.print('* --- now ---');
      }
    } catch (error) {
      screen.print(`! history: ${printable(errorText(error))}`);
    }
  }
  screen.print(`* in ${printable(roomName)} (${snapshot.address}:${snapshot.port}); waiting for the other members… (/help for commands)`);
  function showMembers(): void {
    const others = [...members.values()];
    screen.print(others.length === 0 ? '* you are alone here for now' : `* members: ${others.map(label).join(', ')}`);
    if (topic !== undefined && topic.topic !== '') screen.print(formatTopic({ ...topic, replay: true }, displayName));
  }
  if (snapshot.joined) showMembers();
  await done;
  await new Promise<void>((resolve) => out.write('', () => resolve()));
  process.exit(0);
}

type RoomEvent = { [K in keyof ControlEvents]: { event: K; params: ControlEvents[K] } }[keyof ControlEvents];

interface HistoryJson {
  id: string;
  sender: string;
  senderName: string | null;
  kind: HistoryKind;
  text: string;
  time: string;
  outgoing: boolean;
}

function historyLine(e: HistoryJson, displayName: (name: string) => string, paintName?: (shown: string) => string): string {
  return formatHistory(
    { room: '', id: e.id, sender: e.sender, ...(e.senderName !== null ? { senderName: e.senderName } : {}), kind: e.kind, text: e.text, time: new Date(e.time), outgoing: e.outgoing },
    displayName,
    paintName,
  );
}

function asKind(kind: string): Kind {
  return kind === 'action' || kind === 'notice' ? kind : 'normal';
}

/** A 1-1 line: `12:03 [from bob@desk] <bob@desk> hi`, `12:03 [to bob@desk] * alice waves`. */
export function privateLine(time: Date, direction: string, who: string, kind: Kind, text: string): string {
  const line = formatText(time, who, kind, text);
  const stamp = clock(time);
  return `${stamp} [${printable(direction)}]${line.slice(stamp.length)}`;
}

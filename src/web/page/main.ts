import type { MemberJson, RoomSnapshot } from '../../service/control-protocol.js';
import { Connection, RequestError, type PageEvent } from './connection.js';
import { mentions, parseComposer, shown } from './format.js';
import { isActive, newRoom, newState, targetKey, type Line, type RoomState, type Target } from './state.js';
import { buildFilesPanel, type FilesPanel } from './files-panel.js';
import { appendLine, buildLayout, renderConversation, renderMembers, renderSidebar, renderTyping, setConnection, type Actions } from './view.js';

/**
 * The page: a client of the clique service through the web server's relay.
 * State lives here; the service is the truth, fetched again on reconnect.
 */
const state = newState();
let connection: Connection | null = null;
const HISTORY_LINES = 200;
const TYPING_MS = 30_000;
const LAN_POLL_MS = 3000;

/** An entry of rooms.history (the service's history store). */
interface HistoryEntry {
  id: string;
  sender: string;
  senderName: string | null;
  kind: string;
  text: string;
  time: string;
  outgoing: boolean;
}

// The token has done its work (it is now a cookie): keep it out of the address bar and history.
if (new URL(location.href).searchParams.has('token')) history.replaceState(null, '', '/');

const actions: Actions = {
  open(target) {
    state.active = target;
    filesPanel?.setTarget(target);
    if (target.kind === 'room') {
      const room = state.rooms.get(target.name);
      if (room !== undefined) room.unread = 0;
    } else {
      const chat = state.chats.get(target.name) ?? { contact: target.name, lines: [], unread: 0 };
      chat.unread = 0;
      state.chats.set(target.name, chat);
    }
    renderAll();
    document.getElementById('message-input')?.focus();
  },
  join(room) {
    void guarded(() => joinRoom(room, {}));
  },
  create(room) {
    void guarded(() => joinRoom(room, { create: true }));
  },
  leave(room) {
    void guarded(async () => {
      await request().request('rooms.leave', { room });
      forgetRoom(room);
    });
  },
  acceptInvitation(index) {
    const inv = state.invitations[index];
    if (inv === undefined) return;
    state.invitations.splice(index, 1);
    void guarded(() => joinRoom(inv.room, { address: inv.address, port: inv.port }));
  },
  dismissInvitation(index) {
    state.invitations.splice(index, 1);
    renderSidebar(state, actions);
  },
  send(line) {
    ourTyping.sent();
    void guarded(() => send(line));
  },
  setTopic(topic) {
    const active = state.active;
    if (active?.kind !== 'room') return;
    void guarded(async () => void (await request().request('rooms.topic', { room: active.name, topic })));
  },
  setStatus(status) {
    void guarded(async () => void (await request().request('presence.set', { status })));
  },
  enableNotifications() {
    if (typeof Notification !== 'undefined') void Notification.requestPermission();
  },
  lastLine() {
    return state.active === null ? undefined : state.lastSent.get(targetKey(state.active));
  },
  typed(hasText) {
    ourTyping.typed(hasText);
  },
};

/**
 * Our chat state in the open room (XEP-0085), as `clique join` sends it:
 * composing when the composer gets text, paused after 5 s without a key,
 * active when it is emptied unsent; sending a line resets it quietly.
 */
const ourTyping = (() => {
  let mine: 'active' | 'composing' | 'paused' = 'active';
  let room: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tell = (next: 'active' | 'composing' | 'paused'): void => {
    mine = next;
    if (room !== undefined && connection !== null) void connection.request('rooms.typing', { room, state: next }).catch(() => undefined);
  };
  return {
    typed(hasText: boolean): void {
      const active = state.active;
      clearTimeout(timer);
      if (active?.kind !== 'room') return;
      if (room !== active.name) {
        room = active.name;
        mine = 'active';
      }
      if (!hasText) {
        if (mine !== 'active') tell('active');
        return;
      }
      if (mine !== 'composing') tell('composing');
      timer = setTimeout(() => tell('paused'), 5000);
    },
    sent(): void {
      clearTimeout(timer);
      mine = 'active';
    },
  };
})();

function request(): Connection {
  if (connection === null) throw new RequestError('disconnected', 'not connected to the page server');
  return connection;
}

/** Runs an action; a refusal is shown in the open conversation rather than lost. */
async function guarded(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    note(error instanceof Error ? error.message : String(error));
  }
}

/** A line said by the page itself (errors, joins, leaves) in the open conversation. */
function note(text: string, target: Target | null = state.active): void {
  const line: Line = { id: null, kind: 'event', sender: '', senderName: '', text, time: new Date().toISOString(), outgoing: false, mention: false };
  if (target?.kind === 'room') state.rooms.get(target.name)?.lines.push(line);
  else if (target?.kind === 'chat') state.chats.get(target.name)?.lines.push(line);
  if (target !== null && isActive(state, target)) appendLine(line);
}

async function joinRoom(room: string, how: { create?: boolean; address?: string; port?: number }): Promise<void> {
  const snapshot = await request().request('rooms.join', { room, hold: 'stay', ...how });
  await attachRoom(snapshot);
  actions.open({ kind: 'room', name: room });
}

/** Subscribes to a room the service is in and loads its history. */
async function attachRoom(known: RoomSnapshot): Promise<void> {
  const snapshot = await request().request('rooms.subscribe', { room: known.room });
  const room = state.rooms.get(snapshot.room) ?? newRoom(snapshot.room, snapshot.self, snapshot.nick);
  state.rooms.set(room.name, room);
  room.self = snapshot.self;
  room.nick = snapshot.nick;
  room.joined = snapshot.joined;
  room.topic = snapshot.topic?.topic ?? null;
  room.members = new Map(snapshot.members.map((m) => [m.member, m]));
  const { entries } = await request().request('rooms.history', { room: room.name, limit: HISTORY_LINES });
  const history = (entries as unknown as HistoryEntry[]).map((e) => toLine(room, { ...e, senderName: e.senderName ?? e.sender }));
  // Lines that came live while the history was asked for are in both: keep one.
  const live = room.lines.filter((l) => l.id === null || !history.some((h) => h.id === l.id));
  room.lines = [...history, ...live];
  for (const l of room.lines) if (l.id !== null) room.seenIds.add(l.id);
  renderAll();
}

function forgetRoom(name: string): void {
  state.rooms.delete(name);
  if (state.active?.kind === 'room' && state.active.name === name) state.active = null;
  renderAll();
}

function myNames(room: RoomState | null): Array<string | null> {
  const id = state.identity;
  return [room?.nick ?? null, id?.nick ?? null, id?.name.split('@')[0] ?? null];
}

function toLine(room: RoomState, m: { id: string; sender: string; senderName: string; kind: string; text: string; time: string; outgoing: boolean }): Line {
  return { id: m.id, kind: m.kind, sender: m.sender, senderName: m.senderName, text: m.text, time: m.time, outgoing: m.outgoing, mention: !m.outgoing && m.kind !== 'topic' && mentions(m.text, myNames(room)) };
}

async function send(raw: string): Promise<void> {
  const active = state.active;
  if (active === null) throw new Error('pick a room or a person first');
  const input = parseComposer(raw);
  state.lastSent.set(targetKey(active), raw);
  if (input.kind === 'join') return input.room === '' ? note('/join needs a room name') : joinRoom(input.room, { create: true });
  if (input.kind === 'unknown') return note(`no command /${input.command} (// sends a line starting with /)`);
  if (active.kind === 'chat') {
    if (input.kind !== 'say' && input.kind !== 'action') return note('in a 1-1 chat: lines and /me only');
    await request().request('chat.send', { contact: active.name, text: input.text, kind: input.kind === 'action' ? 'action' : 'normal' });
    const line: Line = { id: null, kind: input.kind === 'action' ? 'action' : 'normal', sender: state.identity?.name ?? '', senderName: shown(state.identity?.name ?? 'me', state.identity?.nick), text: input.text, time: new Date().toISOString(), outgoing: true, mention: false };
    state.chats.get(active.name)?.lines.push(line);
    if (isActive(state, active)) appendLine(line);
    return;
  }
  const room = active.name;
  switch (input.kind) {
    case 'say':
      await request().request('rooms.send', { room, texts: [input.text] });
      return;
    case 'action':
      await request().request('rooms.send', { room, texts: [input.text], kind: 'action' });
      return;
    case 'topic':
      await request().request('rooms.topic', { room, topic: input.text });
      return;
    case 'nick': {
      const { nick } = await request().request('rooms.nick', { room, nick: input.text });
      const r = state.rooms.get(room);
      if (r !== undefined) r.nick = nick;
      renderMembers(state);
      return;
    }
    case 'leave':
      return actions.leave(room);
  }
}

function roomLine(room: RoomState, line: Line): void {
  room.lines.push(line);
  const target: Target = { kind: 'room', name: room.name };
  if (isActive(state, target) && !document.hidden) appendLine(line);
  else if (isActive(state, target)) {
    appendLine(line);
    if (line.kind !== 'event') room.unread++;
  } else if (line.kind !== 'event' && !line.outgoing) room.unread++;
  if (line.mention) notify(`${line.senderName} in ${room.name}`, line.text);
}

function notify(title: string, body: string): void {
  if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
  if (!document.hidden && document.hasFocus()) return;
  new Notification(title, { body: body.slice(0, 200) });
}

function memberName(room: RoomState, m: MemberJson): string {
  return shown(m.member, m.nick ?? room.members.get(m.member)?.nick);
}

let filesPanel: FilesPanel | undefined;

function onEvent(e: PageEvent): void {
  switch (e.event) {
    case 'file.offered':
    case 'file.progress':
    case 'file.done':
      if (e.event === 'file.offered' && e.params.direction === 'in') notify(`${e.params.peer} offers a file`, e.params.name);
      return filesPanel?.onEvent(e.params);
    case 'web.hello':
      state.identity = e.params.service;
      return renderSidebar(state, actions);
    case 'contact.added':
    case 'contact.updated':
      state.contacts.set(e.params.name, e.params);
      return renderSidebar(state, actions);
    case 'contact.removed':
      state.contacts.delete(e.params.name);
      return renderSidebar(state, actions);
    case 'chat.message': {
      const p = e.params;
      const chat = state.chats.get(p.from) ?? { contact: p.from, lines: [], unread: 0 };
      state.chats.set(p.from, chat);
      const contact = state.contacts.get(p.from);
      const line: Line = { id: null, kind: p.kind, sender: p.from, senderName: shown(p.from, contact?.alias), text: p.text, time: p.time, outgoing: false, mention: false };
      chat.lines.push(line);
      if (isActive(state, { kind: 'chat', name: p.from })) appendLine(line);
      else chat.unread++;
      notify(`${line.senderName} (1-1)`, p.text);
      return renderSidebar(state, actions);
    }
    case 'chat.invitation':
      state.invitations.push(e.params);
      notify(`${e.params.from} invites you`, e.params.room);
      return renderSidebar(state, actions);
    case 'service.stopping':
      return setConnection('the clique service is stopping');
    default:
      break;
  }
  const room = 'room' in e.params && typeof e.params.room === 'string' ? state.rooms.get(e.params.room) : undefined;
  if (room === undefined) return;
  const active = isActive(state, { kind: 'room', name: room.name });
  const event = (text: string): Line => ({ id: null, kind: 'event', sender: '', senderName: '', text, time: new Date().toISOString(), outgoing: false, mention: false });
  switch (e.event) {
    case 'room.message': {
      if (room.seenIds.has(e.params.id)) return;
      room.seenIds.add(e.params.id);
      room.typing.delete(e.params.sender);
      roomLine(room, toLine(room, e.params));
      break;
    }
    case 'room.ready':
      room.joined = true;
      room.members = new Map(e.params.members.map((m) => [m.member, m]));
      break;
    case 'room.member-joined': {
      const { room: _r, ...m } = e.params;
      room.members.set(m.member, m);
      roomLine(room, event(`${memberName(room, m)} joined`));
      break;
    }
    case 'room.member-left': {
      const { room: _r, reason, ...m } = e.params;
      room.members.delete(m.member);
      room.typing.delete(m.member);
      roomLine(room, event(`${memberName(room, m)} left${reason === 'timed-out' ? ' (timed out)' : ''}`));
      break;
    }
    case 'room.member-updated': {
      const { room: _r, ...m } = e.params;
      const before = room.members.get(m.member);
      room.members.set(m.member, m);
      if (before !== undefined && before.nick !== m.nick) roomLine(room, event(`${shown(m.member, before.nick)} is now known as ${shown(m.member, m.nick)}`));
      break;
    }
    case 'room.topic':
      if (e.params.replay && room.topic === e.params.topic) break;
      room.topic = e.params.topic;
      roomLine(room, { id: null, kind: 'topic', sender: e.params.setBy, senderName: e.params.setBy, text: e.params.topic, time: e.params.setAt, outgoing: false, mention: false });
      if (active) renderConversation(state, actions);
      break;
    case 'room.typing':
      if (e.params.state === 'composing') room.typing.set(e.params.member, Date.now() + TYPING_MS);
      else room.typing.delete(e.params.member);
      if (active) renderTyping(state);
      return;
    case 'room.warning':
      roomLine(room, event(warningText(e.params)));
      break;
    case 'room.moved':
      roomLine(room, event(`the room moved to ${e.params.address}:${e.params.port}`));
      break;
    case 'room.left':
      note(`left ${room.name} (${e.params.reason})`);
      return forgetRoom(room.name);
    default:
      return;
  }
  if (active) renderMembers(state);
  renderSidebar(state, actions);
}

function warningText(w: Extract<PageEvent, { event: 'room.warning' }>['params']): string {
  switch (w.kind) {
    case 'group-reset':
      return `the room's group was reset (${w.reason})`;
    case 'spoof-suspected':
      return `someone may be sending as ${w.sender ?? 'an unknown member'}`;
    case 'lines-may-be-lost':
      return `lines from ${w.members.join(', ')} may be lost`;
  }
}

function renderAll(): void {
  renderSidebar(state, actions);
  renderConversation(state, actions);
}

async function refreshLanRooms(): Promise<void> {
  if (connection === null) return;
  try {
    const { rooms } = await connection.request('rooms.list', {});
    const names = [...new Set(rooms.map((r) => r.room))];
    if (names.join('\n') !== state.lanRooms.join('\n')) {
      state.lanRooms = names;
      renderSidebar(state, actions);
    }
  } catch {
    // The connection is going; connect() starts over.
  }
}

async function connect(): Promise<void> {
  setConnection('connecting…');
  try {
    connection = await Connection.open(onEvent, () => {
      connection = null;
      setConnection('disconnected; trying again…');
      setTimeout(() => void connect(), 2000);
    });
  } catch {
    setConnection('cannot reach the page server; trying again…');
    setTimeout(() => void connect(), 2000);
    return;
  }
  try {
    const contacts = await connection.request('contacts.subscribe', {});
    state.contacts = new Map(contacts.contacts.map((c) => [c.name, c]));
    await connection.request('chat.subscribe', {});
    await filesPanel?.connected(connection);
    const status = await connection.request('status', {});
    state.rooms.clear();
    for (const r of status.rooms) await attachRoom(r);
    state.loaded = true;
    await refreshLanRooms();
    setConnection('connected');
    document.body.dataset['ready'] = 'true';
    renderAll();
  } catch (error) {
    setConnection(`trouble talking to the service: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function start(): void {
  buildLayout(actions);
  filesPanel = buildFilesPanel(note);
  renderAll();
  setInterval(() => void refreshLanRooms(), LAN_POLL_MS);
  setInterval(() => {
    if (state.active?.kind === 'room') renderTyping(state);
  }, 1000);
  void connect();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

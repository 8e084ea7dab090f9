import type { ContactJson } from '../../service/control-protocol.js';
import { append, button, byId, el, isolated, replaceChildren } from './dom.js';
import { clockLabel, dayKey, dayLabel, shown } from './format.js';
import { isActive, type Line, type PageState, type Target } from './state.js';

/** What the page's controls do (main.ts). */
export interface Actions {
  open(target: Target): void;
  join(room: string): void;
  create(room: string): void;
  leave(room: string): void;
  acceptInvitation(index: number): void;
  dismissInvitation(index: number): void;
  send(line: string): void;
  setTopic(topic: string): void;
  setStatus(status: 'avail' | 'away' | 'dnd'): void;
  enableNotifications(): void;
  /** The last line sent in the open conversation (Up brings it back to edit). */
  lastLine(): string | undefined;
  /** The composer's text changed (for our typing indicator: empty or not). */
  typed(hasText: boolean): void;
}

/** The page's frame: built once; the lists and the conversation are filled by the render functions. */
export function buildLayout(actions: Actions): void {
  const status = el('select', { id: 'status-select' });
  for (const [value, label] of [['avail', 'Available'], ['away', 'Away'], ['dnd', 'Busy']] as const) append(status, el('option', { 'data-value': value }, label));
  for (const option of status.options) option.value = option.dataset['value'] ?? '';
  status.addEventListener('change', () => actions.setStatus(status.value as 'avail' | 'away' | 'dnd'));

  const newRoom = el('input', { id: 'new-room', type: 'text' });
  newRoom.maxLength = 63;
  newRoom.autocomplete = 'off';
  const createForm = el('form', { id: 'create-room', class: 'inline-form' }, el('label', { for: 'new-room' }, 'New room'), newRoom, el('button', { type: 'submit' }, 'Create'));
  createForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const name = newRoom.value.trim();
    if (name === '') return;
    newRoom.value = '';
    actions.create(name);
  });

  const topicInput = el('input', { id: 'topic-input', type: 'text' });
  topicInput.autocomplete = 'off';
  const topicForm = el('form', { id: 'topic-form', class: 'inline-form' }, el('label', { for: 'topic-input' }, 'Topic'), topicInput, el('button', { type: 'submit' }, 'Set'));
  topicForm.addEventListener('submit', (e) => {
    e.preventDefault();
    actions.setTopic(topicInput.value);
  });

  const message = el('input', { id: 'message-input', type: 'text', 'aria-describedby': 'composer-help' });
  message.autocomplete = 'off';
  message.maxLength = 65536;
  const composer = el(
    'form',
    { id: 'composer' },
    el('label', { for: 'message-input' }, 'Message'),
    message,
    el('button', { type: 'submit' }, 'Send'),
    el('p', { id: 'composer-help', class: 'help' }, 'Enter sends; Up brings back your last line; /me does an action, /topic, /nick, /join, /leave.'),
  );
  composer.addEventListener('submit', (e) => {
    e.preventDefault();
    const line = message.value;
    if (line.trim() === '') return;
    message.value = '';
    actions.send(line);
  });

  // The room lists the server wrote into the HTML stay until the service's own answer replaces them.
  const joinedList = document.getElementById('joined-rooms') ?? el('ul', { id: 'joined-rooms' });
  const lanList = document.getElementById('lan-rooms') ?? el('ul', { id: 'lan-rooms' });
  replaceChildren(
    byId('app'),
    el(
      'header',
      { class: 'top' },
      el('h1', {}, 'clique'),
      el('p', { id: 'me' }),
      el('label', { for: 'status-select', class: 'status-label' }, 'Status'),
      status,
      button('Enable notifications', () => actions.enableNotifications(), { id: 'notify-button' }),
      el('p', { id: 'connection', role: 'status' }, 'connecting…'),
    ),
    el(
      'nav',
      { id: 'sidebar', 'aria-label': 'Rooms and people' },
      el('section', { 'aria-labelledby': 'joined-title' }, el('h2', { id: 'joined-title' }, 'Your rooms'), joinedList),
      el('section', { 'aria-labelledby': 'lan-title' }, el('h2', { id: 'lan-title' }, 'Rooms on the network'), lanList, createForm),
      el('section', { 'aria-labelledby': 'people-title' }, el('h2', { id: 'people-title' }, 'People'), el('ul', { id: 'contacts' })),
      el('section', { 'aria-labelledby': 'invitations-title' }, el('h2', { id: 'invitations-title' }, 'Invitations'), el('ul', { id: 'invitations' })),
    ),
    el(
      'main',
      { id: 'conversation', 'aria-labelledby': 'conversation-title' },
      el('div', { class: 'conversation-head' }, el('h2', { id: 'conversation-title' }, 'Pick a room or a person'), el('p', { id: 'conversation-topic' }), topicForm, el('div', { id: 'conversation-tools' })),
      el('div', { id: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: '0' }),
      el('p', { id: 'typing', 'aria-live': 'polite' }),
      composer,
    ),
    el('aside', { id: 'members', 'aria-labelledby': 'members-title' }, el('h2', { id: 'members-title' }, 'Members'), el('ul', { id: 'member-list' })),
  );
  message.addEventListener('input', () => actions.typed(message.value !== ''));
  message.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowUp' && message.value === '') {
      const last = actions.lastLine();
      if (last === undefined) return;
      e.preventDefault();
      message.value = last;
    }
  });
}

function badge(count: number): HTMLElement | null {
  return count > 0 ? el('span', { class: 'badge', 'aria-label': `${count} unread` }, String(count)) : null;
}

/** Where the keyboard focus is in the lists (list, item, control), so a re-render can put it back. */
function focusPlace(): [string, number, number] | undefined {
  const active = document.activeElement;
  const item = active?.closest('li');
  const list = item?.parentElement;
  if (active === null || item === null || item === undefined || list === null || list === undefined || list.id === '') return undefined;
  return [list.id, [...list.children].indexOf(item), [...item.querySelectorAll('button')].indexOf(active as HTMLButtonElement)];
}

function restoreFocus(place: [string, number, number] | undefined): void {
  if (place === undefined || document.activeElement !== document.body) return;
  const [listId, itemIndex, buttonIndex] = place;
  const item = document.getElementById(listId)?.children[Math.max(0, itemIndex)];
  const buttons = item?.querySelectorAll('button');
  const target = buttons?.[Math.min(Math.max(0, buttonIndex), buttons.length - 1)] ?? null;
  target?.focus();
}

export function renderSidebar(state: PageState, actions: Actions): void {
  const place = focusPlace();
  renderLists(state, actions);
  restoreFocus(place);
}

function renderLists(state: PageState, actions: Actions): void {
  const me = byId('me');
  if (state.identity !== null) replaceChildren(me, 'You are ', isolated(shown(state.identity.name, state.identity.nick), 'name'));

  if (!state.loaded) return renderPeople(state, actions);
  const joined = [...state.rooms.values()].sort((a, b) => a.name.localeCompare(b.name));
  replaceChildren(
    byId('joined-rooms'),
    ...(joined.length === 0
      ? [el('li', { class: 'empty' }, 'none yet')]
      : joined.map((r) => {
          const target: Target = { kind: 'room', name: r.name };
          const b = button('', () => actions.open(target), { class: 'room-button', 'data-room': r.name, ...(isActive(state, target) ? { 'aria-current': 'true' } : {}) });
          append(b, isolated(r.name, 'room-name'), badge(r.unread));
          return el('li', { class: 'room-item', 'data-room': r.name }, b);
        })),
  );

  const lan = state.lanRooms.filter((r) => !state.rooms.has(r)).sort((a, b) => a.localeCompare(b));
  replaceChildren(
    byId('lan-rooms'),
    ...(lan.length === 0
      ? [el('li', { class: 'empty' }, state.lanRooms.length === 0 ? 'no rooms found' : 'you are in all of them')]
      : lan.map((r) => el('li', { class: 'room-item', 'data-room': r }, isolated(r, 'room-name'), button('Join', () => actions.join(r), { 'aria-label': `Join ${r}` })))),
  );

  renderPeople(state, actions);
}

function renderPeople(state: PageState, actions: Actions): void {
  const contacts = [...state.contacts.values()].sort((a, b) => contactLabel(a).localeCompare(contactLabel(b)));
  replaceChildren(
    byId('contacts'),
    ...(contacts.length === 0
      ? [el('li', { class: 'empty' }, 'nobody on the network yet')]
      : contacts.map((c) => {
          const target: Target = { kind: 'chat', name: c.name };
          const b = button('', () => actions.open(target), { class: 'contact-button', 'data-contact': c.name, title: c.name, ...(isActive(state, target) ? { 'aria-current': 'true' } : {}) });
          append(b, el('span', { class: `presence ${c.status}`, 'aria-hidden': 'true' }), isolated(contactLabel(c), 'name'), el('span', { class: 'status' }, ` ${statusWord(c.status)}`), c.message !== null ? el('span', { class: 'status' }, ' – ', isolated(c.message, 'status-message')) : null, badge(state.chats.get(c.name)?.unread ?? 0));
          return el('li', {}, b);
        })),
  );

  replaceChildren(
    byId('invitations'),
    ...(state.invitations.length === 0
      ? [el('li', { class: 'empty' }, 'none')]
      : state.invitations.map((inv, i) =>
          el(
            'li',
            { class: 'invitation' },
            isolated(inv.from, 'name'),
            ' invites you to ',
            isolated(inv.room, 'room-name'),
            inv.reason !== '' ? el('span', {}, ': ', isolated(inv.reason, 'reason')) : null,
            ' ',
            button('Join', () => actions.acceptInvitation(i), { 'aria-label': `Join ${inv.room}` }),
            button('Dismiss', () => actions.dismissInvitation(i)),
          ),
        )),
  );
}

function contactLabel(c: ContactJson): string {
  return c.alias !== null && c.alias !== '' ? c.alias : c.name;
}

function statusWord(status: string): string {
  return status === 'avail' ? 'available' : status === 'dnd' ? 'busy' : status;
}

/** The whole conversation pane for the active target. */
export function renderConversation(state: PageState, actions: Actions): void {
  const title = byId('conversation-title');
  const topic = byId('conversation-topic');
  const tools = byId('conversation-tools');
  const topicForm = byId('topic-form');
  const log = byId('log');
  log.replaceChildren();
  replaceChildren(tools);
  const active = state.active;
  if (active === null) {
    replaceChildren(title, 'Pick a room or a person');
    replaceChildren(topic);
    topicForm.hidden = true;
    renderMembers(state);
    return;
  }
  if (active.kind === 'room') {
    const room = state.rooms.get(active.name);
    replaceChildren(title, isolated(active.name, 'room-name'));
    replaceChildren(topic, room?.topic ? isolated(room.topic, 'topic-text') : 'no topic');
    (byId('topic-input') as HTMLInputElement).value = room?.topic ?? '';
    topicForm.hidden = false;
    append(tools, button('Leave', () => actions.leave(active.name), { id: 'leave-button', 'aria-label': `Leave ${active.name}` }));
    for (const line of room?.lines ?? []) appendLine(line);
  } else {
    const contact = state.contacts.get(active.name);
    replaceChildren(title, 'Chat with ', isolated(contact !== undefined ? contactLabel(contact) : active.name, 'name'));
    replaceChildren(topic, isolated(active.name, 'name'));
    topicForm.hidden = true;
    for (const line of state.chats.get(active.name)?.lines ?? []) appendLine(line);
  }
  renderMembers(state);
  renderTyping(state);
}

/** Lines longer than this show their start until asked for the rest. */
const LONG_LINE = 2000;

/** Adds a line at the end of the log (with a day separator when the day changes), keeping the view at the bottom if it was. */
export function appendLine(line: Line): void {
  const log = byId('log');
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const day = dayKey(line.time);
  if (log.dataset['lastDay'] !== day || log.childElementCount === 0) {
    log.dataset['lastDay'] = day;
    append(log, el('div', { class: 'day', role: 'separator' }, dayLabel(line.time)));
  }
  const when = el('time', { class: 'clock' }, clockLabel(line.time));
  when.dateTime = line.time;
  const row = el('div', { class: `line ${line.kind}${line.mention ? ' mention' : ''}${line.outgoing ? ' outgoing' : ''}`, 'data-kind': line.kind }, when, ' ');
  const who = isolated(line.senderName, 'sender');
  who.title = line.sender;
  const text = isolated(line.text.length > LONG_LINE ? line.text.slice(0, LONG_LINE) : line.text, 'text');
  if (line.kind === 'action') append(row, '* ', who, ' ', text);
  else if (line.kind === 'notice') append(row, '-', who, '- ', text);
  else if (line.kind === 'event') append(row, '— ', text);
  else if (line.kind === 'topic') append(row, '— ', who, ' set the topic: ', text);
  else append(row, who, ': ', text);
  if (line.text.length > LONG_LINE) {
    // A huge line stays readable without burying the conversation: its start, and a button for the rest.
    const more = button(`Show all (${line.text.length - LONG_LINE} more characters)`, () => {
      text.textContent = line.text;
      more.remove();
    }, { class: 'show-all' });
    append(row, ' ', more);
  }
  append(log, row);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

export function renderMembers(state: PageState): void {
  const list = byId('member-list');
  const active = state.active;
  const room = active?.kind === 'room' ? state.rooms.get(active.name) : undefined;
  byId('members').hidden = room === undefined;
  if (room === undefined) return list.replaceChildren();
  const me = el('li', { class: 'member self' }, isolated(shown(room.self, room.nick ?? state.identity?.nick), 'name'), ' (you)');
  const others = [...room.members.values()].sort((a, b) => shown(a.member, a.nick).localeCompare(shown(b.member, b.nick)));
  replaceChildren(
    list,
    me,
    ...others.map((m) => {
      const item = el('li', { class: 'member', 'data-member': m.member, title: m.member }, el('span', { class: `presence ${m.status}`, 'aria-hidden': 'true' }), isolated(shown(m.member, m.nick), 'name'), el('span', { class: 'status' }, ` ${statusWord(m.status)}`));
      if (m.statusMessage !== null) append(item, el('span', { class: 'status' }, ' – ', isolated(m.statusMessage, 'status-message')));
      return item;
    }),
  );
}

export function renderTyping(state: PageState): void {
  const active = state.active;
  const room = active?.kind === 'room' ? state.rooms.get(active.name) : undefined;
  const now = Date.now();
  const names = room === undefined ? [] : [...room.typing.entries()].filter(([, until]) => until > now).map(([member]) => shown(member, room.members.get(member)?.nick));
  replaceChildren(byId('typing'), names.length === 0 ? '' : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`);
}

export function setConnection(text: string): void {
  replaceChildren(byId('connection'), text);
}

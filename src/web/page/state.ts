import type { ContactJson, MemberJson, ServiceIdentity } from '../../service/control-protocol.js';

/** One line of a conversation, as the page shows it. */
export interface Line {
  id: string | null;
  /** 'normal' | 'action' | 'notice' | 'topic' | 'event' (joins, leaves, warnings: said by the page). */
  kind: string;
  sender: string;
  senderName: string;
  text: string;
  time: string;
  outgoing: boolean;
  mention: boolean;
}

export interface RoomState {
  name: string;
  self: string;
  nick: string | null;
  joined: boolean;
  members: Map<string, MemberJson>;
  topic: string | null;
  lines: Line[];
  seenIds: Set<string>;
  unread: number;
  /** Members typing now, and when we stop believing it without news. */
  typing: Map<string, number>;
}

export interface ChatState {
  contact: string;
  lines: Line[];
  unread: number;
}

export interface Invitation {
  from: string;
  room: string;
  address: string;
  port: number;
  reason: string;
  time: string;
}

export type Target = { kind: 'room'; name: string } | { kind: 'chat'; name: string };

export interface PageState {
  identity: ServiceIdentity | null;
  lanRooms: string[];
  rooms: Map<string, RoomState>;
  contacts: Map<string, ContactJson>;
  chats: Map<string, ChatState>;
  invitations: Invitation[];
  active: Target | null;
  /** The last line sent in each conversation, for Up. */
  lastSent: Map<string, string>;
  /** The service's rooms have been fetched (until then the lists the server wrote into the HTML stay). */
  loaded: boolean;
}

export function newState(): PageState {
  return { identity: null, lanRooms: [], rooms: new Map(), contacts: new Map(), chats: new Map(), invitations: [], active: null, lastSent: new Map(), loaded: false };
}

export function newRoom(name: string, self: string, nick: string | null): RoomState {
  return { name, self, nick, joined: false, members: new Map(), topic: null, lines: [], seenIds: new Set(), unread: 0, typing: new Map() };
}

export function targetKey(t: Target): string {
  return `${t.kind}:${t.name}`;
}

export function isActive(state: PageState, t: Target): boolean {
  return state.active !== null && state.active.kind === t.kind && state.active.name === t.name;
}

import { RpcFault } from './rpc-fault.js';
import { RpcErrorCode, type JsonValue, type RpcParams } from './json-rpc.js';
import type { WarningJson } from '../rooms/room-warning.js';
import type { MemberLeftReason } from '../rooms/room-types.js';

/**
 * The clique service's control protocol: the types of every method and event
 * (docs/control-protocol.md describes them for other languages). Bump
 * PROTOCOL_VERSION on any incompatible change; additions keep it.
 */
export const PROTOCOL_VERSION = 1;

/** Which rooms a client holds the service in: until rooms.leave ('stay'), or while this connection is open ('client'). */
export type JoinHold = 'stay' | 'client';

export interface ServiceIdentity {
  /** Our XEP-0174 name and rMulticast name in every room, `user@host` (probed; renamed on a conflict). */
  name: string;
  nick: string | null;
  pid: number;
  interface: string | null;
  socket: string;
}

export interface HelloResult {
  protocol: number;
  service: ServiceIdentity;
}

export interface MemberJson {
  [key: string]: JsonValue;
  member: string;
  nick: string | null;
  status: string;
  statusMessage: string | null;
}

export interface RoomSnapshot {
  [key: string]: JsonValue;
  room: string;
  address: string;
  port: number;
  self: string;
  /** Our own nick in the room (null without one, and until we are a member). */
  nick: string | null;
  creator: boolean;
  /** True once we are a member (messages flow); 'room.ready' follows otherwise. */
  joined: boolean;
  /** Other members. */
  members: MemberJson[];
  topic: { topic: string; setBy: string } | null;
}

export interface MessageJson {
  [key: string]: JsonValue;
  room: string;
  id: string;
  sender: string;
  senderName: string;
  kind: string;
  text: string;
  time: string;
  outgoing: boolean;
  replyTo: string | null;
  /** A line sent again after a heal: when its author said it. */
  delayedFrom: string | null;
}

export interface RoomStatusJson extends RoomSnapshot {
  /** Clients holding the room, whether it is held until rooms.leave, and when an idle send-only membership ends. */
  holders: number;
  stay: boolean;
  lingerUntil: string | null;
  subscribers: number;
}

export interface StatusResult {
  [key: string]: JsonValue;
  service: ServiceIdentity & { [key: string]: JsonValue };
  protocol: number;
  startedAt: string;
  clients: number;
  lingerMs: number;
  rooms: RoomStatusJson[];
  contacts: number;
}

export interface SendResult {
  [key: string]: JsonValue;
  room: string;
  address: string;
  port: number;
  self: string;
  /** Other members when the lines went out. */
  members: string[];
  sent: Array<{ id: string; kind: string; text: string }>;
  /** True if this send had to join the room (it then lingers); false if we were in it already. */
  joinedNow: boolean;
  /** How many of `waitMembers` did not show up within `timeoutMs` (the lines were sent anyway); 0 if all did. */
  shortBy: number;
}

/** Methods: params and result. */
export interface ControlMethods {
  hello: { params: { protocol: number; client?: string }; result: HelloResult };
  status: { params: Record<string, never>; result: StatusResult };
  'rooms.list': { params: Record<string, never>; result: { rooms: Array<{ room: string; address: string; port: number }> } };
  'rooms.join': {
    params: { room: string; nick?: string; address?: string; port?: number; create?: boolean; hold?: JoinHold; release?: 'linger' | 'leave'; joinWaitMs?: number; failureTimeoutMs?: number };
    result: RoomSnapshot & { joinedNow: boolean };
  };
  'rooms.leave': { params: { room: string }; result: { left: boolean } };
  'rooms.send': {
    params: {
      room: string;
      texts: string[];
      kind?: 'normal' | 'action' | 'notice';
      create?: boolean;
      address?: string;
      port?: number;
      nick?: string;
      waitMembers?: number;
      timeoutMs?: number;
      failureTimeoutMs?: number;
    };
    result: SendResult;
  };
  'rooms.subscribe': { params: { room: string }; result: RoomSnapshot };
  'rooms.unsubscribe': { params: { room: string }; result: { subscribed: boolean } };
  'rooms.topic': { params: { room: string; topic: string }; result: { topic: string } };
  'rooms.nick': { params: { room: string; nick?: string }; result: { nick: string | null } };
  'rooms.history': { params: { room: string; limit?: number }; result: { entries: JsonValue[] } };
  /** The room's tube table (spec §7): our tubes and those offered to us. */
  'rooms.tubes': { params: { room: string }; result: { room: string; tubes: TubeJson[] } };
  'rooms.typing': { params: { room: string; state: 'active' | 'composing' | 'paused' | 'inactive' | 'gone' }; result: { state: string } };
  'tubes.offer': { params: { room: string; service: string; port: number; host?: string }; result: StreamTubeJson };
  'tubes.accept': { params: { room: string; service?: string; id?: number; listenPort?: number; waitMs?: number }; result: StreamTubeJson };
  'tubes.close': { params: { room: string; id: number }; result: { closed: boolean } };
  'contacts.list': { params: Record<string, never>; result: { contacts: ContactJson[] } };
  'contacts.subscribe': { params: Record<string, never>; result: { contacts: ContactJson[] } };
  'chat.send': { params: { contact: string; text: string; kind?: 'normal' | 'action' | 'notice'; timeoutMs?: number }; result: { to: string } };
  'chat.subscribe': { params: Record<string, never>; result: { subscribed: true } };
  /** The person's link-local presence: status (avail, away, dnd), status message ('' clears), nick ('' clears). */
  'presence.set': { params: { status?: 'avail' | 'away' | 'dnd'; message?: string; nick?: string }; result: { status: string; message: string | null; nick: string | null } };
  invite: {
    params: { contact: string; room: string; reason?: string; address?: string; port?: number; timeoutMs?: number };
    result: { to: string; room: string; address: string; port: number };
  };
  shutdown: { params: Record<string, never>; result: { stopping: true } };
  // Files (issue 12, spec §8): 1-1 transfers; progress and outcomes arrive as file.* events to files.subscribe clients.
  /** `path` absolute, on the service's machine. Resolves once offered; `file.done` tells the outcome. */
  'files.offer': { params: { contact: string; path: string; desc?: string; timeoutMs?: number }; result: FileTransferJson };
  /** Shares a file (absolute path) once to every member of a room the service is in (issue 12 item 2); file.progress/file.done follow. */
  'files.share': { params: { room: string; path: string }; result: FileTransferJson };
  'files.list': { params: Record<string, never>; result: { transfers: FileTransferJson[] } };
  /** Starts receiving into `dir` (absolute); `file.done` tells the outcome. */
  'files.accept': { params: { id: string; dir: string }; result: FileTransferJson };
  'files.decline': { params: { id: string }; result: FileTransferJson };
  'files.cancel': { params: { id: string }; result: { cancelled: boolean } };
  'files.subscribe': { params: Record<string, never>; result: { transfers: FileTransferJson[] } };
  /** Receive every offer into `dir` (null: ask again); 'client' only while this connection is open. */
  'files.auto-accept': { params: { dir: string | null; hold?: 'stay' | 'client' }; result: { dir: string | null } };
}

/** One file transfer, in or out (offered to us, or by us). */
export interface FileTransferJson {
  [key: string]: JsonValue;
  direction: 'in' | 'out';
  id: string;
  /** The other side: who offered it (in) or whom we offered it to (out); for a room share we sent, the room. */
  peer: string;
  /** A room share's room; null for a 1-1 transfer. */
  room: string | null;
  name: string;
  size: number | null;
  sha256: string | null;
  desc: string | null;
  /** 'sending'/'sent': a room share of ours (sent: every chunk handed to rMulticast). */
  state: 'offered' | 'receiving' | 'received' | 'accepted' | 'sending' | 'sent' | 'declined' | 'failed' | 'cancelled';
  /** Bytes moved so far. */
  bytes: number;
  /** Where the received file is (in, once received). */
  path: string | null;
  error: string | null;
}

export type ControlMethod = keyof ControlMethods;

export interface TubeParameterJson {
  [key: string]: JsonValue;
  type: 'str' | 'int' | 'uint' | 'bytes' | 'bool';
  /** `bytes`: standard base64. */
  value: string | number | boolean;
}

export interface TubeJson {
  [key: string]: JsonValue;
  id: number;
  type: 'dbus' | 'stream';
  service: string;
  initiator: string;
  /** 'local-pending': offered to us, not accepted; 'open': ours or accepted. */
  state: 'local-pending' | 'open';
  /** We offered it. */
  requested: boolean;
  /** D-Bus tubes while open: our stream id and tube-local name. */
  streamId: number | null;
  dbusName: string | null;
  parameters: { [name: string]: TubeParameterJson };
  /** Ourselves while open, and the members whose lists mention it. */
  members: Array<{ [key: string]: JsonValue; member: string; self: boolean; dbusName: string | null; streamId: number | null }>;
}

/** A stream tube the service shares (`tubes.offer`: where it connects) or accepted (`tubes.accept`: where applications connect). */
export interface StreamTubeJson {
  [key: string]: JsonValue;
  room: string;
  id: number;
  service: string;
  initiator: string;
  host: string;
  port: number;
}

export interface ContactJson {
  [key: string]: JsonValue;
  name: string;
  alias: string | null;
  status: string;
  message: string | null;
  addresses: string[];
  port: number;
}

/** Events (JSON-RPC notifications from the service): name and params. */
export interface ControlEvents {
  'room.ready': { room: string; members: MemberJson[] };
  'room.message': MessageJson;
  'room.member-joined': { room: string } & MemberJson;
  /** `reason`: 'left' when the member said goodbye (BYE), 'timed-out' when it was lost by silence. */
  'room.member-left': { room: string; reason: MemberLeftReason } & MemberJson;
  'room.member-updated': { room: string } & MemberJson;
  /** Something the person should know although the room carries on (RoomWarning; an unknown sender is null). */
  'room.warning': WarningJson;
  'room.topic': { room: string; topic: string; setBy: string; setAt: string; replay: boolean };
  'room.typing': { room: string; member: string; state: string };
  'room.moved': { room: string; address: string; port: number; previousAddress: string; previousPort: number };
  'room.left': { room: string; reason: string };
  'contact.added': ContactJson;
  'contact.updated': ContactJson;
  'contact.removed': ContactJson;
  'chat.message': { from: string; kind: string; text: string; time: string };
  'chat.invitation': { from: string; room: string; address: string; port: number; reason: string; time: string };
  /** Someone announced our name (to chat subscribers); we defend it by probing again (RFC 6762 §9). */
  'presence.name-contested': { name: string; from: string };
  /** Our name was really taken (a rival answered our probes): we now go by `name`. */
  'presence.name-changed': { name: string; previous: string };
  /** Files (to files.subscribe clients): an offer to us, bytes moved, a transfer ended. */
  'file.offered': FileTransferJson;
  'file.progress': FileTransferJson;
  'file.done': FileTransferJson;
  /** The service is stopping: clients should expect the connection to close. */
  'service.stopping': { reason: string };
}

export type ControlEvent = keyof ControlEvents;


/** Reading params strictly: a wrong type is an 'invalid-params' fault naming the member. */
export class ParamReader {
  private readonly object: { [key: string]: JsonValue };

  constructor(params: RpcParams | undefined, allowed: readonly string[]) {
    if (params === undefined) params = {};
    if (Array.isArray(params)) throw invalidParams('params must be an object');
    for (const key of Object.keys(params)) {
      if (!allowed.includes(key)) throw invalidParams(`unknown parameter ${JSON.stringify(key.slice(0, 40))}`);
    }
    this.object = params;
  }

  string(key: string, options: { maxLength?: number } = {}): string {
    const value = this.optionalString(key, options);
    if (value === undefined) throw invalidParams(`${key} is required`);
    return value;
  }

  optionalString(key: string, { maxLength = 65_536 }: { maxLength?: number } = {}): string | undefined {
    const value = this.object[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw invalidParams(`${key} must be a string`);
    if (value.length > maxLength) throw invalidParams(`${key} is longer than ${maxLength} characters`);
    return value;
  }

  optionalInteger(key: string, min: number, max: number): number | undefined {
    const value = this.object[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw invalidParams(`${key} must be an integer from ${min} to ${max}`);
    return value;
  }

  optionalBoolean(key: string): boolean | undefined {
    const value = this.object[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw invalidParams(`${key} must be true or false`);
    return value;
  }

  optionalChoice<T extends string>(key: string, choices: readonly T[]): T | undefined {
    const value = this.object[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) throw invalidParams(`${key} must be one of ${choices.join(', ')}`);
    return value as T;
  }

  stringArray(key: string, { maxItems, maxLength }: { maxItems: number; maxLength: number }): string[] {
    const value = this.object[key];
    if (!Array.isArray(value) || value.length === 0 || value.length > maxItems) throw invalidParams(`${key} must be an array of 1 to ${maxItems} strings`);
    return value.map((item) => {
      if (typeof item !== 'string' || item.length > maxLength) throw invalidParams(`${key} must hold strings of at most ${maxLength} characters`);
      return item;
    });
  }
}

function invalidParams(message: string): RpcFault {
  return new RpcFault('invalid-params', message, RpcErrorCode.invalidParams);
}

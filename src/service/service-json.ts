import type { Contact } from '../linklocal/contact.js';
import type { HistoryEntry } from '../rooms/history-store.js';
import type { Room } from '../rooms/room.js';
import type { RoomMember, RoomMessage } from '../rooms/room-types.js';
import type { ContactJson, MemberJson, MessageJson, RoomSnapshot } from './control-protocol.js';
import type { JsonValue } from './json-rpc.js';

/** How the service shows rooms, members, messages, contacts and history to its clients (docs/control-protocol.md). */

export function others(room: Room): RoomMember[] {
  return room.members.filter((m) => !m.self);
}

export function memberJson(member: RoomMember): MemberJson {
  return { member: member.name, nick: member.nick ?? null, status: member.status, statusMessage: member.statusMessage ?? null };
}

export function messageJson(m: RoomMessage): MessageJson {
  return {
    room: m.room,
    id: m.id,
    sender: m.sender,
    senderName: m.senderName,
    kind: m.kind,
    text: m.text,
    time: m.time.toISOString(),
    outgoing: m.outgoing,
    replyTo: m.replyTo?.id ?? null,
    delayedFrom: m.delayedFrom?.toISOString() ?? null,
  };
}

export function snapshot(room: Room): RoomSnapshot {
  const { address, port } = room.roomAddress;
  const topic = room.topic;
  return {
    room: room.name,
    address,
    port,
    self: room.selfName,
    nick: room.member(room.selfName)?.nick ?? null,
    creator: room.creator,
    joined: room.joined,
    members: others(room).map(memberJson),
    topic: topic === undefined ? null : { topic: topic.topic, setBy: topic.setBy },
  };
}


export function contactJson(c: Contact): ContactJson {
  return { name: c.name, alias: c.alias ?? null, status: c.status, message: c.message ?? null, addresses: [...c.addresses], port: c.port };
}

export function historyJson(e: HistoryEntry): JsonValue {
  return {
    id: e.id,
    sender: e.sender,
    senderName: e.senderName ?? null,
    kind: e.kind,
    text: e.text,
    time: e.time.toISOString(),
    outgoing: e.outgoing,
    replyTo: e.replyTo ?? null,
  };
}

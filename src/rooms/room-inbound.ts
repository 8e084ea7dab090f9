import { errorText } from '../base/error-text.js';
import type { Logger } from '../base/logger.js';
import { parseStanzaDocument } from '../xml/stanza-document.js';
import { NS_TUBES } from '../xml/namespaces.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { XmlLimits } from '../xml/xml-limits.js';
import { RoomError } from './room-error.js';
import type { GroupMessage } from './group-link.js';
import type { HistoryEntry } from './history-store.js';
import { RecentIds } from './recent-ids.js';
import { extensionElementOf } from './room-extensions.js';
import type { RoomClock } from './room-clock.js';
import type { RoomOutput } from './room-output.js';
import type { Roster } from './room-roster.js';
import { checkAddressing, readRoomStanza, unknownChildren, type ChatState, type RoomStanza } from './room-stanzas.js';
import { receivedTopic } from './room-topic.js';
import type { RoomMember, RoomMessage, TopicChange } from './room-types.js';

const STREAM_XML = 0;

/** A stream-0 message of the group, read: the stanza and what it means, or why it is refused. */
export type Inbound = { stanza: XmlElement; read: RoomStanza } | { refused: RoomError };

/** Parses a stream-0 message and checks it is addressed to this room by its sender (§4). Pure. */
export function readInbound(data: Uint8Array, room: string, sender: string, limits: Partial<XmlLimits>): Inbound {
  let stanza: XmlElement;
  try {
    stanza = parseStanzaDocument(data, limits);
  } catch (error) {
    return { refused: new RoomError('bad-stanza', `unusable stream-0 message of ${data.length} bytes from ${sender}: ${errorText(error)}`, { cause: error }) };
  }
  const misaddressed = checkAddressing(stanza, room, sender);
  if (misaddressed !== undefined) return { refused: misaddressed };
  return { stanza, read: readRoomStanza(stanza) };
}

/** What the inbound pipeline reads and changes of its room. */
export interface InboundHost {
  readonly name: string;
  readonly roster: Roster;
  readonly time: RoomClock;
  readonly logger: Logger;
  readonly stats: { received: number; rejected: number; streamReceived: number };
  /** The room's topic (a `<subject>` changes it). */
  topic: TopicChange | undefined;
  member(name: string): RoomMember | undefined;
  output(output: RoomOutput): void;
}

/**
 * Stream-0 messages of the room's group, read and turned into the room's
 * outputs: messages (each id once per sender), topics, typing, member
 * statuses, and refusals. No I/O.
 */
export class RoomInbound {
  private readonly recentIds = new RecentIds();

  constructor(
    private readonly room: InboundHost,
    private readonly limits: Partial<XmlLimits>,
  ) {}

  received(message: GroupMessage): void {
    const { logger } = this.room;
    if (message.streamId !== STREAM_XML) {
      // Streams 1..65535 are D-Bus tube data (§7.4): which stream means what is the tubes layer's business.
      this.room.stats.streamReceived++;
      this.room.output({ type: 'event', name: 'stream-data', args: [{ room: this.room.name, sender: message.sender, streamId: message.streamId, data: message.data }] });
      return;
    }
    this.room.stats.received++;
    const sender = message.sender;
    const inbound = readInbound(message.data, this.room.name, sender, this.limits);
    if ('refused' in inbound) {
      this.reject(inbound.refused, sender);
      return;
    }
    const { stanza, read } = inbound;
    logger.debug('received', { stanza: stanza.name, kind: read.type, sender });
    switch (read.type) {
      case 'text':
        this.onText(sender, stanza, read);
        return;
      case 'topic':
        this.onTopic(sender, read);
        return;
      case 'chat-state':
        this.typing(sender, read.state);
        return;
      case 'status': {
        const change = this.room.roster.announce(sender, read);
        if (change !== undefined) this.room.output({ type: 'event', name: 'member-updated', args: change });
        return;
      }
      case 'ignored': {
        const element = read.reason === 'tubes' ? stanza.getChild('tubes', NS_TUBES) : undefined;
        if (element !== undefined) {
          this.room.output({ type: 'event', name: 'tubes', args: [{ room: this.room.name, sender, stanza, element }] });
          return;
        }
        // Other body-less extensions (a room share offer, …) are for the layers above to read.
        const extension = read.reason === 'unknown' ? extensionElementOf(stanza) : undefined;
        if (extension !== undefined) this.room.output({ type: 'event', name: 'extension', args: [{ room: this.room.name, sender, stanza, element: extension }] });
        return;
      }
    }
  }

  private onText(sender: string, stanza: XmlElement, read: Extract<RoomStanza, { type: 'text' }>): void {
    if (read.id !== undefined && !this.recentIds.add(sender, read.id)) {
      // A line sent again after a heal (XEP-0203 <delay>) that reached us the first time: expected, not an offence.
      if (read.delayedFrom !== undefined) this.room.logger.debug('already have this line', { sender, id: read.id });
      else this.reject(new RoomError('duplicate', `${sender} sent message id ${JSON.stringify(read.id)} again`), sender);
      return;
    }
    const { room, time } = this;
    const id = read.id ?? `local:${time.newId()}`;
    const message: RoomMessage = {
      room: room.name,
      id,
      sender,
      senderName: room.roster.displayName(sender),
      kind: read.kind,
      text: read.text,
      time: new Date(time.now()),
      outgoing: false,
      replyTo: read.replyTo,
      stanza,
      extensions: unknownChildren(stanza),
      ...(read.delayedFrom !== undefined ? { delayedFrom: read.delayedFrom } : {}),
    };
    // A message ends the author's typing, whatever chat state it carries.
    this.typing(sender, read.chatState ?? 'active');
    room.output({ type: 'store', entry: messageEntry(message) });
    room.output({ type: 'event', name: 'message', args: [message] });
  }

  private onTopic(sender: string, read: Extract<RoomStanza, { type: 'topic' }>): void {
    const { room, time } = this;
    const change = receivedTopic(room.name, sender, read, room.topic, { now: new Date(time.now()), id: () => time.newId() });
    if (change === undefined) return;
    room.topic = change;
    const setter = room.member(change.setBy);
    room.output({
      type: 'store',
      entry: { id: change.id, sender: change.setBy, ...(setter !== undefined ? { senderName: setter.displayName } : {}), kind: 'topic', text: read.topic, time: change.setAt, outgoing: false },
      // A topic re-announced to us is stored once, not on every rejoin.
      ...(change.replay ? { unlessLastTopic: read.topic } : {}),
    });
    room.output({ type: 'event', name: 'topic', args: [{ ...change }] });
  }

  private typing(sender: string, typing: ChatState): void {
    if (this.room.roster.typing(sender, typing)) this.room.output({ type: 'event', name: 'typing', args: [{ room: this.room.name, member: sender, state: typing }] });
  }

  private reject(error: RoomError, sender: string): void {
    this.room.stats.rejected++;
    // Foreign rooms sharing our group are normal (§2.3): not worth a warning.
    if (error.code === 'wrong-room') this.room.logger.debug('stanza refused', { code: error.code, sender, error: error.message });
    else this.room.logger.warn('stanza refused', { code: error.code, sender, error: error.message });
    this.room.output({ type: 'event', name: 'rejected', args: [error, sender] });
  }

  private get time(): RoomClock {
    return this.room.time;
  }
}

/** A message as the history keeps it. */
export function messageEntry(message: RoomMessage): Omit<HistoryEntry, 'room'> {
  const { id, sender, senderName, kind, text, time, outgoing, replyTo } = message;
  return { id, sender, senderName, kind, text, time, outgoing, ...(replyTo !== undefined ? { replyTo: replyTo.id } : {}) };
}

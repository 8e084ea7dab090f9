import type { CliqueError } from '../base/clique-error.js';
import type { Contact, PresenceStatus } from '../linklocal/contact.js';
import type { RoomAddress } from '../linklocal/room-advertiser.js';
import type { TextMessageKind } from '../xml/stanzas.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { RoomError } from './room-error.js';
import type { ChatState, ReplyReference } from './room-stanzas.js';

/** Someone in the room (ourselves included, with `self: true`). */
export interface RoomMember {
  /** rMulticast name = XEP-0174 instance name, `user@host`: the identity. */
  name: string;
  self: boolean;
  /** Nick announced in the room (XEP-0172), else the contact's alias on the link. */
  nick: string | undefined;
  /** What to show: nick, else name. */
  displayName: string;
  /** From the member's in-room status, else its link-local presence; 'avail' when unknown. */
  status: PresenceStatus;
  statusMessage: string | undefined;
  /** XEP-0085 state: 'composing' while typing, 'active' otherwise (the default). */
  typing: ChatState;
  /** The member's XEP-0174 presence, when it is visible on `_presence._tcp` (members need not be). */
  contact: Contact | undefined;
}

/** A text message: received from another member, or one we sent (`outgoing`). */
export interface RoomMessage {
  room: string;
  /**
   * The sender's id (XEP-0359 `<origin-id>` or the `id` attribute). Salut
   * sends none; such messages get a local id starting with `local:`.
   */
  id: string;
  /** The author: the rMulticast sender name (never the XML `from`). */
  sender: string;
  /** The author's display name when the message arrived. */
  senderName: string;
  kind: TextMessageKind;
  /** Without the `/me ` prefix for actions. */
  text: string;
  /** Local receive (or send) time: the protocol carries no timestamps. */
  time: Date;
  outgoing: boolean;
  /** The message this one answers (XEP-0461). */
  replyTo: ReplyReference | undefined;
  /** The whole stanza as received or sent. */
  stanza: XmlElement;
  /** Children we did not interpret (other clients' extensions), preserved for the application. */
  extensions: XmlElement[];
  /**
   * Set on a line its author sends again because we may have missed it (we
   * were lost to each other for a while): when the author said it (XEP-0203).
   */
  delayedFrom?: Date;
}

export interface TopicChange {
  room: string;
  /** '' when the topic was cleared. */
  topic: string;
  /** Who set it (for a topic re-announced to newcomers, the original setter as announced). */
  setBy: string;
  setAt: Date;
  /** The member whose stanza told us (equals `setBy` unless `replay`). */
  announcedBy: string;
  /** True for a topic set before we joined, re-announced to us on arrival. */
  replay: boolean;
  id: string;
}

export interface TypingEvent {
  room: string;
  member: string;
  state: ChatState;
}

/**
 * A body-less stream-0 message of another member carrying a tube list
 * (`<tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes">`, spec §7.2),
 * addressed to this room and checked like every stanza; what it says is for
 * the tubes layer to read.
 */
export interface RoomTubesStanza {
  room: string;
  /** The rMulticast sender (never the XML `from`). */
  sender: string;
  /** The whole `<message>`. */
  stanza: XmlElement;
  /** Its `<tubes>` child. */
  element: XmlElement;
}

/**
 * A body-less stream-0 groupchat message of another member whose child is in
 * a namespace other than jabber:client and tubes (e.g. a room share offer,
 * `urn:x-clique:files:0`), addressed and checked like every stanza.
 */
export interface RoomExtensionStanza {
  room: string;
  /** The rMulticast sender (never the XML `from`). */
  sender: string;
  /** The whole `<message>`. */
  stanza: XmlElement;
  /** Its first child in a foreign namespace. */
  element: XmlElement;
}

/** One rMulticast message of another member on a data stream (1..65535; tube data, spec §7.4). */
export interface RoomStreamData {
  room: string;
  sender: string;
  streamId: number;
  data: Uint8Array;
}

export type RoomState =
  /** rMulticast is choosing our sender id. */
  | 'connecting'
  /** Connected; waiting to see the other members (a joiner, §3.2 step 2). */
  | 'joining'
  /** We are a member: messages flow. */
  | 'joined'
  | 'leaving'
  | 'left';

export type LeaveReason = 'left' | 'disconnected' | 'stopped';

/** Why a member left (RoomEvents 'member-left'). */
export type MemberLeftReason = 'left' | 'timed-out';

export interface RoomEvents {
  /** We became a member (creator: at once; joiner: on first seeing the others, or after the join wait). */
  ready: [];
  /** A text message from another member (our own sends resolve `send()` instead). */
  message: [message: RoomMessage];
  'member-joined': [member: RoomMember];
  /** `reason`: 'left' when the member said goodbye (BYE), 'timed-out' when the group lost it (silence, or our own membership starting over). */
  'member-left': [member: RoomMember, reason: MemberLeftReason];
  /** A member's nick, status or contact details changed. */
  'member-updated': [member: RoomMember, previous: RoomMember];
  /** Another member changed the topic, or it was re-announced to us on joining. */
  topic: [change: TopicChange];
  /** Another member's XEP-0085 chat state changed (typing started or stopped). */
  typing: [event: TypingEvent];
  /** Another member's tube list (stream 0, spec §7.2); ours are never reported. */
  tubes: [announcement: RoomTubesStanza];
  /** Another member's body-less extension element on stream 0 (not a tube list); ours are never reported. */
  extension: [extension: RoomExtensionStanza];
  /** Another member's message on a data stream 1..65535 (tube data, spec §7.4). */
  'stream-data': [data: RoomStreamData];
  /** Stream-0 input we refused (broken XML, wrong room, forged `from`, duplicate id). Also logged. */
  rejected: [error: RoomError, sender: string];
  /** Operational problems: socket errors, history store failures. Emitted only if someone listens. */
  error: [error: CliqueError];
  /**
   * The room moved to another group of the same name: we had joined it by
   * name, were alone in our group, and the room is advertised at that other
   * group (typically two people created it at the same moment; rule in
   * room-merge.ts). `room.address`/`port` now give the new group; listeners
   * and readers carry on, and sends made meanwhile go out there.
   */
  moved: [room: RoomAddress, previous: RoomAddress];
  /** Something the person should know about although the room carries on (see RoomWarning). */
  warning: [warning: RoomWarning];
  /** The room is closed; nothing more will happen. */
  left: [reason: LeaveReason];
}

/**
 * Things that do not stop the room but that its user should hear of:
 * - 'group-reset': our rMulticast membership started over under a new sender
 *   id (the others declared us failed, or an internal error was caught); we
 *   rejoin by ourselves, and lines in flight at that moment may not have
 *   reached everyone.
 * - 'lines-may-be-lost': `members` were lost (a failure, a partition, our
 *   reset) and came back; the lines we said since `since` are sent to them
 *   again, but some of those were already dropped from the bounded buffer.
 * - 'spoof-suspected': packets under `sender`'s id conflict with ones we hold
 *   (same packet id, different bytes): somebody on the LAN forges them. The
 *   forged copies are dropped.
 */
export type RoomWarning =
  | { kind: 'group-reset'; room: string; reason: string; detail: string }
  | { kind: 'spoof-suspected'; room: string; sender: string | undefined; senderId: number }
  | { kind: 'lines-may-be-lost'; room: string; members: string[]; since: Date };

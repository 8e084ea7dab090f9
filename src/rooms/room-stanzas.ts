import type { PresenceStatus } from '../linklocal/contact.js';
import { NS_CLIENT, NS_TUBES } from '../xml/namespaces.js';
import { isClientNamespace, isIChatComposingPartial, readTextMessage, buildTextMessage, type TextMessageKind } from '../xml/stanzas.js';
import { XmlElement } from '../xml/xml-element.js';
import { RoomError } from './room-error.js';

/**
 * The XML of stream 0 (spec §4): salut's group chat message, and our
 * additions. Salut sends nothing but `<message type="groupchat">` with a
 * `<body>` (plus `<tubes>` lists); everything we add is a standard XMPP
 * element that salut ignores, and every control stanza we add is body-less
 * (§4.4), so a salut peer never displays it.
 */

/** XEP-0085 chat states. */
export const NS_CHAT_STATES = 'http://jabber.org/protocol/chatstates';
/** XEP-0359 unique and stable stanza ids (`<origin-id>`). */
export const NS_STANZA_ID = 'urn:xmpp:sid:0';
/** XEP-0461 message replies. */
export const NS_REPLY = 'urn:xmpp:reply:0';
/** XEP-0203 delayed delivery (used on a topic re-announced to newcomers). */
export const NS_DELAY = 'urn:xmpp:delay';
/** XEP-0172 user nickname. */
export const NS_NICK = 'http://jabber.org/protocol/nick';

export type ChatState = 'active' | 'composing' | 'paused' | 'inactive' | 'gone';
const CHAT_STATES: ReadonlySet<string> = new Set<ChatState>(['active', 'composing', 'paused', 'inactive', 'gone']);

/** Ids longer than this are ignored (treated as absent): they only serve de-duplication and replies. */
export const MAX_ID_LENGTH = 128;
/** Longer nicks and status messages are cut: they are labels, not content. */
export const MAX_NICK_LENGTH = 64;
export const MAX_STATUS_MESSAGE_LENGTH = 1024;

/** What a reply points at (XEP-0461): the author and the id of the original message. */
export interface ReplyReference {
  id: string;
  /** Author of the original message (its rMulticast name), when given. */
  to?: string;
}

// ------------------------------------------------------------------ building

export interface RoomTextOptions {
  /** Our rMulticast name in this room (salut's `from`). */
  from: string;
  room: string;
  kind: TextMessageKind;
  text: string;
  /** Our message id: the `id` attribute and XEP-0359 `<origin-id>`. */
  id: string;
  replyTo?: ReplyReference;
}

/**
 * A room message in salut's exact shape (§4.2: `type="groupchat"`, or
 * `normal` for notices; `/me ` for actions; `<body>` then the XHTML-IM copy),
 * plus an `id` attribute, `<origin-id>` and an optional `<reply>`, which salut
 * ignores.
 */
export function buildRoomText(options: RoomTextOptions): XmlElement {
  const message = buildTextMessage({ context: 'groupchat', kind: options.kind, text: options.text, from: options.from, to: options.room, id: options.id });
  message.child('origin-id', NS_STANZA_ID, { id: options.id });
  if (options.replyTo !== undefined) message.child('reply', NS_REPLY, { to: options.replyTo.to, id: options.replyTo.id });
  return message;
}

export interface TopicOptions {
  from: string;
  room: string;
  /** '' clears the topic (as in XMPP MUC). */
  topic: string;
  id?: string;
  /** For a topic re-announced to newcomers: who set it and when (XEP-0203 `<delay>`). */
  replay?: { setBy: string; setAt: Date };
}

/** A body-less `<message type="groupchat"><subject>…</subject></message>`: invisible to salut (§4.4). */
export function buildTopic(options: TopicOptions): XmlElement {
  const message = new XmlElement('message', NS_CLIENT, { from: options.from, to: options.room, type: 'groupchat', id: options.id });
  message.child('subject', NS_CLIENT, {}, options.topic);
  if (options.replay !== undefined) {
    message.child('delay', NS_DELAY, { from: options.replay.setBy, stamp: options.replay.setAt.toISOString() });
  }
  return message;
}

/** A body-less groupchat message carrying one XEP-0085 chat state. */
export function buildChatState(options: { from: string; room: string; state: ChatState }): XmlElement {
  const message = new XmlElement('message', NS_CLIENT, { from: options.from, to: options.room, type: 'groupchat' });
  message.child(options.state, NS_CHAT_STATES);
  return message;
}

export interface MemberStatusOptions {
  from: string;
  room: string;
  status: PresenceStatus;
  message?: string;
  nick?: string;
}

/**
 * Our status in the room as a `<presence>` addressed to the room: salut
 * ignores presence without a body (§4.4). `avail` is sent without `<show>`.
 */
export function buildMemberStatus(options: MemberStatusOptions): XmlElement {
  const presence = new XmlElement('presence', NS_CLIENT, { from: options.from, to: options.room });
  if (options.status !== 'avail') presence.child('show', NS_CLIENT, {}, options.status);
  if (options.message !== undefined && options.message !== '') presence.child('status', NS_CLIENT, {}, options.message);
  if (options.nick !== undefined && options.nick !== '') presence.child('nick', NS_NICK, {}, options.nick);
  return presence;
}

// ------------------------------------------------------------------ reading

export type RoomStanza =
  /** A displayable message (§4.3 steps 7-8): any root with a `<body>` child in any namespace. */
  | {
      type: 'text';
      kind: TextMessageKind;
      text: string;
      /** The `type` attribute as received. */
      messageType: string | undefined;
      /** `<origin-id>`, else the `id` attribute; absent for salut's messages. */
      id: string | undefined;
      replyTo: ReplyReference | undefined;
      /** An XEP-0085 state sent along (normally `active`). */
      chatState: ChatState | undefined;
      /** XEP-0203: the author said it then, and sends it again now (after a heal). */
      delayedFrom: Date | undefined;
    }
  | { type: 'topic'; topic: string; id: string | undefined; replay: { setBy: string | undefined; setAt: Date | undefined } | undefined }
  | { type: 'chat-state'; state: ChatState }
  | { type: 'status'; status: PresenceStatus; message: string | undefined; nick: string | undefined }
  /** Accepted but nothing for us: iChat's partial typing messages, tube lists, unknown body-less stanzas. */
  | { type: 'ignored'; reason: 'ichat-partial' | 'tubes' | 'unknown' };

/**
 * Salut's addressing rules, and ours: `to` must be exactly the room name
 * (§4.3 step 1; a missing `to` crashes salut, here it is a drop). The author
 * is always the rMulticast sender; unlike salut, which ignores `from`, we
 * refuse a stanza whose `from` names someone else (salut always sends its
 * own name there), so nobody can put words in another member's mouth in a
 * log that shows `from`. A missing `from` is fine.
 */
export function checkAddressing(stanza: XmlElement, room: string, sender: string): RoomError | undefined {
  const to = stanza.getAttr('to');
  if (to === undefined) return new RoomError('wrong-room', `<${stanza.name}> from ${sender} has no 'to'`);
  if (to !== room) return new RoomError('wrong-room', `<${stanza.name}> from ${sender} is addressed to ${JSON.stringify(to)}, not ${JSON.stringify(room)}`);
  const from = stanza.getAttr('from');
  if (from !== undefined && from !== sender) {
    return new RoomError('forged-from', `<${stanza.name}> sent by ${sender} claims to be from ${JSON.stringify(from)}`);
  }
  return undefined;
}

/**
 * Classifies an addressed stanza (§4.3 steps 5-8, then our body-less
 * additions). Never throws: anything unknown is 'ignored'.
 */
export function readRoomStanza(stanza: XmlElement): RoomStanza {
  // Step 6 comes before the body: iChat's partial messages carry one.
  if (isIChatComposingPartial(stanza)) return { type: 'ignored', reason: 'ichat-partial' };
  const text = readTextMessage(stanza);
  if (text !== undefined) {
    return {
      type: 'text',
      kind: text.kind,
      text: text.text,
      messageType: text.type,
      id: messageId(stanza),
      replyTo: replyOf(stanza),
      chatState: chatStateOf(stanza),
      delayedFrom: parseStamp(stanza.getChild('delay', NS_DELAY)?.getAttr('stamp')),
    };
  }
  if (!isClientNamespace(stanza)) return { type: 'ignored', reason: 'unknown' };
  if (stanza.name === 'message') {
    const subject = stanza.getChild('subject', stanza.namespace);
    if (subject !== undefined) {
      const delay = stanza.getChild('delay', NS_DELAY);
      return {
        type: 'topic',
        topic: subject.text(),
        id: messageId(stanza),
        replay: delay === undefined ? undefined : { setBy: boundedId(delay.getAttr('from')), setAt: parseStamp(delay.getAttr('stamp')) },
      };
    }
    const state = chatStateOf(stanza);
    if (state !== undefined) return { type: 'chat-state', state };
    if (stanza.getChild('tubes', NS_TUBES) !== undefined) return { type: 'ignored', reason: 'tubes' };
    return { type: 'ignored', reason: 'unknown' };
  }
  if (stanza.name === 'presence' && stanza.getAttr('type') === undefined) {
    const show = stanza.getChildText('show', stanza.namespace)?.trim();
    const message = stanza.getChildText('status', stanza.namespace);
    const nick = stanza.getChildText('nick', NS_NICK)?.trim();
    return {
      type: 'status',
      status: show === 'dnd' ? 'dnd' : show === 'away' || show === 'xa' ? 'away' : 'avail',
      message: message === undefined || message === '' ? undefined : message.slice(0, MAX_STATUS_MESSAGE_LENGTH),
      nick: nick === undefined || nick === '' ? undefined : nick.slice(0, MAX_NICK_LENGTH),
    };
  }
  return { type: 'ignored', reason: 'unknown' };
}

/** A copy of `stanza` marked as said earlier (XEP-0203 `<delay>`), for a line sent again. */
export function withDelay(stanza: XmlElement, from: string, at: Date): XmlElement {
  const copy = stanza.clone();
  copy.child('delay', NS_DELAY, { from, stamp: at.toISOString() });
  return copy;
}

/** XEP-0359 `<origin-id>` first (clients keep it stable), else the `id` attribute. */
export function messageId(stanza: XmlElement): string | undefined {
  return boundedId(stanza.getChild('origin-id', NS_STANZA_ID)?.getAttr('id')) ?? boundedId(stanza.getAttr('id'));
}

function replyOf(stanza: XmlElement): ReplyReference | undefined {
  const reply = stanza.getChild('reply', NS_REPLY);
  const id = boundedId(reply?.getAttr('id'));
  if (reply === undefined || id === undefined) return undefined;
  const to = boundedId(reply.getAttr('to'));
  return to === undefined ? { id } : { id, to };
}

function chatStateOf(stanza: XmlElement): ChatState | undefined {
  for (const child of stanza.elements()) {
    if (child.namespace === NS_CHAT_STATES && CHAT_STATES.has(child.name)) return child.name as ChatState;
  }
  return undefined;
}

function boundedId(value: string | undefined): string | undefined {
  return value === undefined || value === '' || value.length > MAX_ID_LENGTH ? undefined : value;
}

function parseStamp(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms) : undefined;
}

/**
 * Children of a received text message that we did not interpret, kept on the
 * message object for applications that know them (salut's XHTML-IM copy is
 * interpreted: it duplicates the body).
 */
export function unknownChildren(stanza: XmlElement): XmlElement[] {
  return stanza.elements().filter((child) => {
    if (child.name === 'body' || child.name === 'html' || child.namespace === NS_CHAT_STATES) return false;
    if (child.is('origin-id', NS_STANZA_ID) || child.is('reply', NS_REPLY)) return false;
    return true;
  });
}

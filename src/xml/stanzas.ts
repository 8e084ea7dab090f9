import { el, XmlElement } from './xml-element.js';
import { NS_CLIENT, NS_STANZA_ERRORS, NS_XHTML, NS_XHTML_IM, NS_X_EVENT } from './namespaces.js';

/**
 * Builders and readers for the stanzas Clique uses: text messages (rooms and
 * 1-1), presence and iq. Builders produce elements in `jabber:client`;
 * readers accept `jabber:client` or no namespace (salut accepts both, §4.1)
 * and ignore anything they do not know, never failing on it.
 */

/** What the user meant: plain text, a `/me` action, or a notice. */
export type TextMessageKind = 'normal' | 'action' | 'notice';
/** Where the message goes: a room (stream 0) or a 1-1 chat (TCP stream). */
export type MessageContext = 'groupchat' | 'chat';

export const ACTION_PREFIX = '/me ';

export interface TextMessageOptions {
  context: MessageContext;
  kind: TextMessageKind;
  /** The text as the user typed it, without the `/me ` prefix for actions. */
  text: string;
  from?: string;
  to?: string;
  id?: string;
  /** Add the XHTML-IM copy of the body, as salut always does (§4.2, quirk 8). Default true. */
  xhtml?: boolean;
}

/**
 * A text message in salut's shape (§4.2, §6.7): `type` is `groupchat`/`chat`
 * for normal and action messages and `normal` for notices; actions carry
 * `/me ` in front of the text in both bodies; the XHTML-IM body holds the same
 * plain text, no markup.
 */
export function buildTextMessage(options: TextMessageOptions): XmlElement {
  const type = options.kind === 'notice' ? 'normal' : options.context;
  const body = options.kind === 'action' ? ACTION_PREFIX + options.text : options.text;
  const message = new XmlElement('message', NS_CLIENT, { from: options.from, to: options.to, type, id: options.id });
  message.child('body', NS_CLIENT, {}, body);
  if (options.xhtml ?? true) {
    message.child('html', NS_XHTML_IM).child('body', NS_XHTML, {}, body);
  }
  return message;
}

export interface ReceivedText {
  kind: TextMessageKind;
  /** Text with the `/me ` prefix removed for actions. */
  text: string;
  /** The stanza's `type` attribute as received. */
  type: string | undefined;
}

/**
 * Salut's receive classification (§4.3 steps 6–9, also used for 1-1 chat):
 * iChat's partial "composing" messages are dropped; the body is the first
 * child named `body` in any namespace; `/me ` is checked first whatever the
 * type; `chat`/`groupchat` are normal; everything else is a notice.
 * Returns undefined when the stanza is not a displayable text message. Like
 * salut, the root element's name is not checked.
 */
export function readTextMessage(stanza: XmlElement): ReceivedText | undefined {
  if (isIChatComposingPartial(stanza)) return undefined;
  const body = stanza.getChild('body');
  if (body === undefined) return undefined;
  const text = body.text();
  const type = stanza.getAttr('type');
  if (text.startsWith(ACTION_PREFIX)) return { kind: 'action', text: text.slice(ACTION_PREFIX.length), type };
  if (type === 'chat' || type === 'groupchat') return { kind: 'normal', text, type };
  return { kind: 'notice', text, type };
}

/**
 * iChat sends the partial text typed so far as messages carrying
 * `<x xmlns="jabber:x:event">` with both `<composing/>` and `<id/>`; the real
 * message has `<composing/>` without `<id/>` (§6.8).
 */
export function isIChatComposingPartial(stanza: XmlElement): boolean {
  return stanza.getChildren('x', NS_X_EVENT).some((x) => x.getChild('composing') !== undefined && x.getChild('id') !== undefined);
}

/** True for the stanza namespaces we accept (`jabber:client`, or none as salut tolerates). */
export function isClientNamespace(element: XmlElement): boolean {
  return element.namespace === NS_CLIENT || element.namespace === '';
}

// ---------------------------------------------------------------- presence

export interface PresenceOptions {
  from?: string;
  to?: string;
  /** Absent = available; `unavailable`, `subscribe`, ... */
  type?: string;
  show?: 'away' | 'chat' | 'dnd' | 'xa';
  status?: string;
}

export function buildPresence(options: PresenceOptions = {}): XmlElement {
  const presence = new XmlElement('presence', NS_CLIENT, { from: options.from, to: options.to, type: options.type });
  if (options.show !== undefined) presence.child('show', NS_CLIENT, {}, options.show);
  if (options.status !== undefined) presence.child('status', NS_CLIENT, {}, options.status);
  return presence;
}

export interface ReceivedPresence {
  type: string | undefined;
  show: string | undefined;
  status: string | undefined;
}

export function readPresence(stanza: XmlElement): ReceivedPresence | undefined {
  if (stanza.name !== 'presence' || !isClientNamespace(stanza)) return undefined;
  return {
    type: stanza.getAttr('type'),
    show: stanza.getChildText('show', stanza.namespace)?.trim(),
    status: stanza.getChildText('status', stanza.namespace),
  };
}

// ---------------------------------------------------------------- iq

export type IqType = 'get' | 'set' | 'result' | 'error';

export interface IqOptions {
  type: IqType;
  /** Omitted on requests sent with requestIq (it stamps a fresh one) and on replies the messenger stamps. */
  id?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

export function buildIq(options: IqOptions, ...payload: XmlElement[]): XmlElement {
  return new XmlElement('iq', NS_CLIENT, { type: options.type, id: options.id, from: options.from, to: options.to }, payload);
}

/** An `<iq type="get|set">` that expects an answer (one without `id` cannot be answered and is ignored). */
export function isIqRequest(stanza: XmlElement): boolean {
  const type = stanza.getAttr('type');
  return stanza.name === 'iq' && isClientNamespace(stanza) && (type === 'get' || type === 'set');
}

export interface IqErrorOptions {
  /** Our own name for `from`. */
  from?: string;
  /** Defined condition (RFC 6120 §8.3.3); default `service-unavailable`. */
  condition?: string;
  /** Error type; default `cancel`. */
  errorType?: 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';
  /** Overrides `to` (default: the request's `from`). */
  to?: string | undefined;
  /** Human-readable `<text>`. */
  text?: string;
}

/**
 * The error answer to an iq request: same id, addressed back to the sender,
 * `<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`
 * by default — what wocky answers to requests nobody handles (§6.4).
 * Returns undefined for a request without `id` (nothing to answer to).
 */
export function buildIqErrorReply(request: XmlElement, options: IqErrorOptions = {}): XmlElement | undefined {
  const id = request.getAttr('id');
  if (id === undefined) return undefined;
  return buildIqError({ ...options, id, to: options.to ?? request.getAttr('from') });
}

/** An `<iq type="error">` (RFC 6120 §8.3); `id` may be left to whoever sends it as an answer (IqRouter). */
export function buildIqError(options: IqErrorOptions & { id?: string | undefined }): XmlElement {
  const error = el('error', NS_CLIENT, { type: options.errorType ?? 'cancel' }, el(options.condition ?? 'service-unavailable', NS_STANZA_ERRORS));
  if (options.text !== undefined) error.append(el('text', NS_STANZA_ERRORS, {}, options.text));
  return buildIq({ type: 'error', id: options.id, from: options.from, to: options.to }, error);
}

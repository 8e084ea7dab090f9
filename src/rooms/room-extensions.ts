import { NS_CLIENT, NS_TUBES } from '../xml/namespaces.js';
import { XmlElement } from '../xml/xml-element.js';
import { RoomError } from './room-error.js';

/*
 * What the layers above a room (tubes, spec §7) may put in it: a body-less
 * groupchat message carrying one element of theirs on stream 0, and data on
 * streams 1..65535. The core queues both like text.
 */

/** Stream 0 carries XML; tube data uses 1..65535 (spec §0, §7.4). */
export const MIN_DATA_STREAM_ID = 1;
export const MAX_DATA_STREAM_ID = 65535;
/** Tube data messages above this are refused unless the settings say otherwise (the rooms' rMulticast message limit). */
export const DEFAULT_MAX_STREAM_MESSAGE_BYTES = 1024 * 1024;
/** Bytes that may wait for the flow-control window unless the settings say otherwise. */
export const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/** `<message type="groupchat" from to>` around a copy of `child`, with no body (salut's attribute order, §7.2). */
export function extensionMessage(from: string, room: string, child: XmlElement): XmlElement {
  if (!(child instanceof XmlElement)) throw new RoomError('bad-argument', 'the child must be an XmlElement');
  return new XmlElement('message', NS_CLIENT, { type: 'groupchat', from, to: room }).append(child.clone());
}

/** Checks a data send and returns a copy of the bytes (the caller may reuse its buffer while the message waits). */
export function streamPayload(streamId: number, data: Uint8Array, limit: number): Uint8Array {
  if (!Number.isInteger(streamId) || streamId < MIN_DATA_STREAM_ID || streamId > MAX_DATA_STREAM_ID) {
    throw new RoomError('bad-argument', `stream id ${streamId} is not in ${MIN_DATA_STREAM_ID}..${MAX_DATA_STREAM_ID}`);
  }
  if (!(data instanceof Uint8Array) || data.length === 0) throw new RoomError('bad-argument', 'stream data must be a non-empty Uint8Array');
  if (data.length > limit) throw new RoomError('too-large', `stream data of ${data.length} bytes exceeds the room limit of ${limit} bytes`);
  return Uint8Array.from(data);
}

/**
 * The element a body-less groupchat message carries for an extension of ours
 * or another client (e.g. a room share, `urn:x-clique:files:0`): its first
 * child outside jabber:client and the tubes namespace (tube lists have their
 * own event). Undefined for anything else.
 */
export function extensionElementOf(stanza: XmlElement): XmlElement | undefined {
  if (stanza.name !== 'message' || stanza.getAttr('type') !== 'groupchat') return undefined;
  if (stanza.getChild('body', stanza.namespace) !== undefined) return undefined;
  return stanza.children.find((child): child is XmlElement => child instanceof XmlElement && child.namespace !== NS_CLIENT && child.namespace !== NS_TUBES && child.namespace !== stanza.namespace);
}

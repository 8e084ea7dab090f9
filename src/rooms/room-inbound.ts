import { errorText } from '../base/error-text.js';
import { parseStanzaDocument } from '../xml/stanza-document.js';
import type { XmlElement } from '../xml/xml-element.js';
import type { XmlLimits } from '../xml/xml-limits.js';
import { RoomError } from './room-error.js';
import { checkAddressing, readRoomStanza, type RoomStanza } from './room-stanzas.js';

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

import { StanzaTreeBuilder } from './stanza-tree-builder.js';
import type { XmlElement } from './xml-element.js';
import { XmlError } from './xml-error.js';
import { resolveLimits, type XmlLimits } from './xml-limits.js';
import { serializeElement } from './xml-serialize.js';

/**
 * Stream 0 of a Clique room carries one self-contained XML document per
 * rMulticast message (spec §4.1). Each message is parsed on its own: unlike
 * salut we never carry parser state from one message to the next (quirk 17).
 */
export function parseStanzaDocument(bytes: Uint8Array, limits: Partial<XmlLimits> = {}): XmlElement {
  const resolved = resolveLimits(limits);
  if (bytes.length === 0) throw new XmlError('empty', 'empty stanza document');
  if (bytes.length > resolved.maxStanzaBytes) {
    throw new XmlError('too-large', `stanza document of ${bytes.length} bytes exceeds ${resolved.maxStanzaBytes}`);
  }
  let root: XmlElement | undefined;
  const builder = new StanzaTreeBuilder('document', resolved, {
    onStanza: (stanza) => {
      root = stanza;
    },
  });
  builder.push(bytes);
  builder.finish();
  if (root === undefined) throw new XmlError('empty', 'no root element');
  return root;
}

/** XML declaration exactly as salut writes it on stream 0 (§4.1). */
export const STANZA_DOCUMENT_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

/**
 * Serializes a stanza in salut's stream-0 form: declaration, newline, the
 * stanza with its namespace declared on the root, newline.
 */
export function serializeStanzaDocument(element: XmlElement): Uint8Array {
  return new TextEncoder().encode(`${STANZA_DOCUMENT_DECLARATION}\n${serializeElement(element, { parentNamespace: '' })}\n`);
}

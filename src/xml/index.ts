/** The xml layer: element model, strict parsers, serializer and Clique stanza helpers. */
export { XmlElement, el, type XmlNode, type XmlNamespacedAttribute } from './xml-element.js';
export { XmlError, type XmlErrorCode } from './xml-error.js';
export { DEFAULT_XML_LIMITS, resolveLimits, type XmlLimits } from './xml-limits.js';
export { escapeAttribute, escapeText, serializeElement, type SerializeOptions } from './xml-serialize.js';
export { parseStanzaDocument, serializeStanzaDocument, STANZA_DOCUMENT_DECLARATION } from './stanza-document.js';
export { XmppStreamParser, type XmppStreamEvent } from './xmpp-stream-parser.js';
export * from './namespaces.js';
export * from './stanzas.js';
export * from './invitation.js';

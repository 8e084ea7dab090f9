/** Namespaces used by Clique and XEP-0174 (verbatim from the spec, §0). */
export const NS_CLIENT = 'jabber:client';
export const NS_STREAM = 'http://etherx.jabber.org/streams';
export const NS_CLIQUE = 'http://telepathy.freedesktop.org/xmpp/clique';
export const NS_TUBES = 'http://telepathy.freedesktop.org/xmpp/tubes';
export const NS_XHTML_IM = 'http://jabber.org/protocol/xhtml-im';
export const NS_XHTML = 'http://www.w3.org/1999/xhtml';
export const NS_X_EVENT = 'jabber:x:event';
export const NS_STANZA_ERRORS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams';
/** Bound to the `xml` prefix by definition (xml:lang). */
export const NS_XML = 'http://www.w3.org/XML/1998/namespace';
export const NS_XMLNS = 'http://www.w3.org/2000/xmlns/';

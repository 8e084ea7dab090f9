import { SPEC_TUBE_LIST_EXAMPLE } from '../support/spec-examples.js';
import { describe, expect, it } from 'vitest';
import { parseStanzaDocument, serializeStanzaDocument } from '../../src/xml/stanza-document.js';
import { XmlElement, el } from '../../src/xml/xml-element.js';
import { XmlError } from '../../src/xml/xml-error.js';
import { serializeElement } from '../../src/xml/xml-serialize.js';
import { NS_CLIENT, NS_TUBES, NS_XHTML, NS_XHTML_IM, NS_XML } from '../../src/xml/namespaces.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function parseError(input: string | Uint8Array): XmlError {
  try {
    parseStanzaDocument(typeof input === 'string' ? utf8(input) : input);
  } catch (error) {
    expect(error).toBeInstanceOf(XmlError);
    return error as XmlError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('parseStanzaDocument: spec examples', () => {
  it('parses the §4.2 group chat message as salut sends it', () => {
    const doc = `<?xml version="1.0" encoding="utf-8"?>
<message xmlns="jabber:client" from="alice@laptop" to="lunch" type="groupchat">
  <body>anyone for pizza?</body>
  <html xmlns="http://jabber.org/protocol/xhtml-im">
    <body xmlns="http://www.w3.org/1999/xhtml">anyone for pizza?</body>
  </html>
</message>
`;
    const message = parseStanzaDocument(utf8(doc));
    expect(message.is('message', NS_CLIENT)).toBe(true);
    expect({ ...message.attrs }).toEqual({ from: 'alice@laptop', to: 'lunch', type: 'groupchat' });
    expect(message.getChildText('body', NS_CLIENT)).toBe('anyone for pizza?');
    const html = message.getChild('html', NS_XHTML_IM);
    expect(html?.getChild('body', NS_XHTML)?.text()).toBe('anyone for pizza?');
    // The first `body` in any namespace is the jabber:client one (document order).
    expect(message.getChild('body')?.namespace).toBe(NS_CLIENT);
  });

  it('parses the §7.2 tube list with its attributes and parameters', () => {
    const doc = SPEC_TUBE_LIST_EXAMPLE;
    const message = parseStanzaDocument(utf8(doc));
    const tubes = message.getChild('tubes', NS_TUBES);
    expect(tubes).toBeDefined();
    const list = tubes!.getChildren('tube', NS_TUBES);
    expect(list.map((t) => t.getAttr('id'))).toEqual(['1234567', '7654321']);
    expect(list[0]!.getAttr('dbus-name')).toBe(':2.Ym9iQGRlc2sA');
    expect(list[0]!.getChild('parameters')!.getChild('parameter')!.text()).toBe('8');
    expect(list[1]!.getChild('parameters')!.children).toEqual([]);
  });

  it('accepts a root without namespace (salut puts it in the empty namespace)', () => {
    const message = parseStanzaDocument(utf8('<message to="lunch"><body>x</body></message>'));
    expect(message.namespace).toBe('');
    expect(message.getChildText('body')).toBe('x');
  });

  it('decodes predefined entities, character references and CDATA', () => {
    const message = parseStanzaDocument(utf8('<m a="&lt;&amp;&gt;&quot;&apos;&#10;"><b>&#x1F600;&#233;<![CDATA[<raw>&]]></b></m>'));
    expect(message.getAttr('a')).toBe('<&>"\'\n');
    expect(message.getChildText('b')).toBe('😀é<raw>&');
  });

  it('keeps namespaced attributes such as xml:lang', () => {
    const message = parseStanzaDocument(utf8('<m xml:lang="fr" xmlns:x="urn:x" x:y="1"/>'));
    expect(message.getAttr('lang', NS_XML)).toBe('fr');
    expect(message.getAttr('y', 'urn:x')).toBe('1');
    expect(message.getAttr('lang')).toBeUndefined();
  });

  it('skips a UTF-8 BOM, comments and processing instructions', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8('<!-- hi --><?pi x?><m><!-- c --><b>t</b></m>')]);
    const message = parseStanzaDocument(bytes);
    expect(message.elements().map((e) => e.name)).toEqual(['b']);
  });
});

describe('serializeStanzaDocument', () => {
  it("writes salut's form: declaration, newline, stanza with xmlns on the root, newline", () => {
    const message = el('message', NS_CLIENT, { from: 'alice@laptop', to: 'lunch', type: 'groupchat' }, el('body', NS_CLIENT, {}, 'hi'));
    expect(text(serializeStanzaDocument(message))).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n<message xmlns="jabber:client" from="alice@laptop" to="lunch" type="groupchat"><body>hi</body></message>\n',
    );
  });

  it('escapes text and attributes so that they round-trip exactly', () => {
    const tricky = 'a<b>&c"d\'e ]]> \t\n\r\u00e9 😀';
    const message = el('message', NS_CLIENT, { to: tricky }, el('body', NS_CLIENT, {}, tricky));
    const back = parseStanzaDocument(serializeStanzaDocument(message));
    expect(back.getAttr('to')).toBe(tricky);
    expect(back.getChildText('body')).toBe(tricky);
  });

  it('replaces characters XML cannot carry with U+FFFD instead of producing a broken document', () => {
    const message = el('message', NS_CLIENT, { to: 'x\u0001' }, el('body', NS_CLIENT, {}, 'a\u0000b\ud800c\uffff'));
    const back = parseStanzaDocument(serializeStanzaDocument(message));
    expect(back.getAttr('to')).toBe('x\ufffd');
    expect(back.getChildText('body')).toBe('a\ufffdb\ufffdc\ufffd');
  });

  it('declares namespaces where they change, including back to none', () => {
    const root = el('a', 'urn:1', {}, el('b', 'urn:1'), el('c', 'urn:2', {}, el('d', 'urn:2')), el('e', ''));
    root.setNsAttr('lang', NS_XML, 'en');
    root.setNsAttr('k', 'urn:attr', 'v', 'p');
    const xml = serializeElement(root);
    expect(xml).toBe('<a xmlns="urn:1" xml:lang="en" xmlns:p="urn:attr" p:k="v"><b/><c xmlns="urn:2"><d/></c><e xmlns=""/></a>');
    const back = parseStanzaDocument(utf8(xml));
    expect(serializeElement(back)).toBe(xml);
    expect(back.getChild('e')!.namespace).toBe('');
  });

  it('refuses invalid names rather than writing malformed XML', () => {
    expect(() => serializeElement(el('bad name'))).toThrow(XmlError);
    expect(() => serializeElement(el('ok', '', { 'a"b': 'x' }))).toThrow(expect.objectContaining({ code: 'invalid-name' }));
  });

  it('round-trips an element with mixed content', () => {
    const original = new XmlElement('message', NS_CLIENT, { type: 'chat' }, ['lead ', el('b', NS_CLIENT, {}, 'x'), ' tail']);
    const back = parseStanzaDocument(serializeStanzaDocument(original));
    expect(back.children).toEqual(original.children);
  });
});

describe('parseStanzaDocument: refused input', () => {
  it.each([
    ['empty', ''],
    ['empty', ' \n '],
    ['multiple-roots', '<a/><b/>'],
    ['truncated', '<a><b>'],
    ['malformed', '<a></b>'],
    ['malformed', '<a><b></a></b>'],
    ['malformed', 'just text'],
    ['malformed', '<a x="1" x="2"/>'],
    ['malformed', '<p:a/>'],
    ['malformed', '<a>\u0001</a>'],
    ['malformed', '<a>&#0;</a>'],
    ['malformed', '<a><?xml version="1.0"?></a>'],
    ['entity-forbidden', '<a>&nbsp;</a>'],
    ['dtd-forbidden', '<!DOCTYPE a><a/>'],
    ['dtd-forbidden', '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'],
    ['dtd-forbidden', '<!DOCTYPE a SYSTEM "file:///etc/passwd"><a>&xxe;</a>'],
    ['dtd-forbidden', '<a><!DOCTYPE a></a>'],
    ['unsupported-encoding', '<?xml version="1.0" encoding="ISO-8859-1"?><a/>'],
  ])('%s: %j', (code, input) => {
    expect(parseError(input).code).toBe(code);
  });

  it('refuses invalid UTF-8', () => {
    expect(parseError(new Uint8Array([0x3c, 0x61, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x61, 0x3e])).code).toBe('invalid-utf8');
    expect(parseError(new Uint8Array([0x3c, 0x61, 0x2f, 0x3e, 0xe2, 0x82])).code).toBe('invalid-utf8');
    // An encoded surrogate (CESU-8) is not UTF-8.
    expect(parseError(new Uint8Array([0x3c, 0x61, 0x3e, 0xed, 0xa0, 0x80, 0x3c, 0x2f, 0x61, 0x3e])).code).toBe('invalid-utf8');
  });

  it('refuses a document over the size limit before parsing it', () => {
    const big = utf8(`<a>${'x'.repeat(2 * 1024 * 1024)}</a>`);
    expect(parseError(big).code).toBe('too-large');
    expect(() => parseStanzaDocument(utf8('<a>xxxxxxxx</a>'), { maxStanzaBytes: 10 })).toThrow(expect.objectContaining({ code: 'too-large' }));
  });

  it('enforces depth, element, attribute and name limits', () => {
    expect(parseError(`${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}`).code).toBe('too-deep');
    expect(() => parseStanzaDocument(utf8('<a><b><c/></b></a>'), { maxDepth: 2 })).toThrow(expect.objectContaining({ code: 'too-deep' }));
    expect(parseStanzaDocument(utf8('<a><b/></a>'), { maxDepth: 2 }).name).toBe('a');
    expect(parseError(`<a>${'<b/>'.repeat(20_000)}</a>`).code).toBe('too-many-elements');
    const attributes = Array.from({ length: 10_000 }, (_, i) => `a${i}="x"`).join(' ');
    expect(parseError(`<a ${attributes}/>`).code).toBe('too-many-attributes');
    const declarations = Array.from({ length: 1000 }, (_, i) => `xmlns:p${i}="urn:${i}"`).join(' ');
    expect(parseError(`<a ${declarations}/>`).code).toBe('too-many-attributes');
    expect(parseError(`<${'n'.repeat(300)}/>`).code).toBe('name-too-long');
    expect(parseError(`<a ${'n'.repeat(300)}="1"/>`).code).toBe('name-too-long');
  });

  it('refuses the billion laughs document without expanding anything', () => {
    const lol = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE lolz [',
      ' <!ENTITY lol "lol">',
      ...Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
      ']>',
      '<lolz>&lol9;</lolz>',
    ].join('\n');
    const before = process.memoryUsage().heapUsed;
    expect(parseError(lol).code).toBe('dtd-forbidden');
    // 10^9 "lol"s would need gigabytes; refusing must not allocate anything like that.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });
});

import { describe, expect, it } from 'vitest';
import { XmppStreamParser, type XmppStreamEvent } from '../../src/xml/xmpp-stream-parser.js';
import { serializeElement } from '../../src/xml/xml-serialize.js';
import { NS_CLIENT, NS_STREAM } from '../../src/xml/namespaces.js';
import type { XmlError } from '../../src/xml/xml-error.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

const HEADER =
  "<?xml version='1.0' encoding='UTF-8'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to=\"bob@desk\" from=\"alice@laptop\" version=\"1.0\">";

/** Events in a comparable form. */
function describeEvents(events: XmppStreamEvent[]): unknown[] {
  return events.map((e) => {
    switch (e.type) {
      case 'open':
        return { open: { ...e.attrs } };
      case 'stanza':
        return { stanza: serializeElement(e.element, { parentNamespace: NS_CLIENT }) };
      case 'close':
        return 'close';
      case 'error':
        return { error: e.error.code };
    }
  });
}

function feed(parser: XmppStreamParser, bytes: Uint8Array, chunk: number): XmppStreamEvent[] {
  const events: XmppStreamEvent[] = [];
  for (let i = 0; i < bytes.length; i += chunk) events.push(...parser.push(bytes.subarray(i, i + chunk)));
  return events;
}

function firstError(events: XmppStreamEvent[]): XmlError | undefined {
  const last = events[events.length - 1];
  return last?.type === 'error' ? last.error : undefined;
}

describe('XmppStreamParser', () => {
  const stream = `${HEADER}<stream:features/>\n <message type="chat" to="bob@desk"><body>h\u00e9 😀</body></message> <iq type="get" id="1"><query xmlns="urn:q"/></iq></stream:stream>`;

  it('emits open, each top-level element, and close', () => {
    const events = new XmppStreamParser().push(utf8(stream));
    expect(describeEvents(events)).toEqual([
      { open: { to: 'bob@desk', from: 'alice@laptop', version: '1.0' } },
      { stanza: `<features xmlns="${NS_STREAM}"/>` },
      { stanza: '<message type="chat" to="bob@desk"><body>hé 😀</body></message>' },
      { stanza: '<iq type="get" id="1"><query xmlns="urn:q"/></iq>' },
      'close',
    ]);
    const message = events[2];
    expect(message?.type === 'stanza' && message.element.namespace).toBe(NS_CLIENT);
  });

  it('gives the same events for every chunk size, including 1-byte chunks that split UTF-8 sequences', () => {
    const whole = describeEvents(new XmppStreamParser().push(utf8(stream)));
    for (const size of [1, 2, 3, 5, 7, 64]) {
      expect(describeEvents(feed(new XmppStreamParser(), utf8(stream), size))).toEqual(whole);
    }
  });

  it('accepts an iChat-style header without from/to, and a header without declaration', () => {
    const events = new XmppStreamParser().push(utf8("<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"));
    expect(describeEvents(events)).toEqual([{ open: {} }]);
  });

  it('reports inStanza only while a stanza is partially received', () => {
    const parser = new XmppStreamParser();
    parser.push(utf8(HEADER));
    expect(parser.inStanza).toBe(false);
    parser.push(utf8('  \n'));
    expect(parser.inStanza).toBe(false);
    parser.push(utf8('<mess'));
    expect(parser.inStanza).toBe(true);
    parser.push(utf8('age><body>x</body>'));
    expect(parser.inStanza).toBe(true);
    expect(describeEvents(parser.push(utf8('</message>')))).toEqual([{ stanza: '<message><body>x</body></message>' }]);
    expect(parser.inStanza).toBe(false);
  });

  it('delivers stanzas completed before the bad bytes, then the error, then stays failed', () => {
    const parser = new XmppStreamParser();
    const events = parser.push(utf8(`${HEADER}<message><body>ok</body></message><a></b>`));
    expect(describeEvents(events)).toEqual([{ open: { to: 'bob@desk', from: 'alice@laptop', version: '1.0' } }, { stanza: '<message><body>ok</body></message>' }, { error: 'malformed' }]);
    expect(describeEvents(parser.push(utf8('<message/>')))).toEqual([{ error: 'malformed' }]);
    expect(parser.error?.code).toBe('malformed');
  });

  it('ignores whatever follows </stream:stream>', () => {
    const parser = new XmppStreamParser();
    expect(describeEvents(parser.push(utf8(`${HEADER}</stream:stream>garbage<<<`))).at(-1)).toBe('close');
    expect(parser.push(utf8('more garbage'))).toEqual([]);
    expect(parser.closed).toBe(true);
  });

  it('stops at </stream:stream> even when the same chunk carries more elements', () => {
    const events = new XmppStreamParser().push(utf8(`${HEADER}<a/></stream:stream><b/><c></d>`));
    expect(describeEvents(events).slice(1)).toEqual([{ stanza: '<a/>' }, 'close']);
  });

  it('reports a connection that ends inside a stanza as truncated', () => {
    const parser = new XmppStreamParser();
    parser.push(utf8(`${HEADER}<message><bo`));
    expect(describeEvents(parser.end())).toEqual([{ error: 'truncated' }]);
  });

  it('reports a connection that ends inside a UTF-8 sequence as invalid-utf8', () => {
    const parser = new XmppStreamParser();
    parser.push(utf8(`${HEADER}<message><body>`));
    parser.push(new Uint8Array([0xf0, 0x9f]));
    expect(describeEvents(parser.end())).toEqual([{ error: 'invalid-utf8' }]);
  });
});

describe('XmppStreamParser: hostile input', () => {
  const refusal = (input: string | Uint8Array, limits = {}, chunk = 1 << 30): string | undefined =>
    firstError(feed(new XmppStreamParser(limits), typeof input === 'string' ? utf8(input) : input, chunk))?.code;

  it.each([
    ['bad-stream', '<message/>'],
    ['bad-stream', "<stream xmlns='http://etherx.jabber.org/streams'/>".replace('stream ', 'x:stream xmlns:x="urn:other" ')],
    ['bad-stream', `${HEADER}hello<message/>`],
    ['dtd-forbidden', '<!DOCTYPE s [<!ENTITY a "b">]><stream:stream xmlns:stream="http://etherx.jabber.org/streams">'],
    ['dtd-forbidden', `${HEADER}<!DOCTYPE x>`],
    ['dtd-forbidden', `${HEADER}<message><!DOCTYPE x [<!ENTITY lol "lol">]></message>`],
    ['dtd-forbidden', '<?xml version="1.0"?><!DOCTYPE stream SYSTEM "http://evil.example/x.dtd"><stream:stream xmlns:stream="http://etherx.jabber.org/streams">'],
    ['entity-forbidden', `${HEADER}<message><body>&lol9;</body></message>`],
    ['malformed', `${HEADER}<message><body></message>`],
    ['malformed', `${HEADER}<!ENTITY a "b">`],
    ['malformed', `${HEADER}</message>`],
    ['malformed', `${HEADER}<a b="1" b="2"/>`],
    ['malformed', `${HEADER}<message><body>x</body></stream:stream>`],
    ['malformed', `${HEADER}<message></other>`],
  ])('%s: %j', (code, input) => {
    expect(refusal(input)).toBe(code);
    expect(refusal(input, {}, 1)).toBe(code);
  });

  it('refuses invalid UTF-8, also when the bad sequence is split across chunks', () => {
    const bytes = new Uint8Array([...utf8(`${HEADER}<message><body>`), 0xe2, 0x28, 0xa1, ...utf8('</body></message>')]);
    expect(refusal(bytes)).toBe('invalid-utf8');
    expect(refusal(bytes, {}, 1)).toBe('invalid-utf8');
    const overlong = new Uint8Array([...utf8(`${HEADER}<message><body>`), 0xc0, 0xbc, ...utf8('</body></message>')]);
    expect(refusal(overlong, {}, 3)).toBe('invalid-utf8');
  });

  it('refuses a 2 MiB stanza (default 1 MiB limit)', () => {
    expect(refusal(`${HEADER}<message><body>${'x'.repeat(2 * 1024 * 1024)}</body></message>`)).toBe('too-large');
  });

  it('accepts a stanza at the size limit and refuses one byte more', () => {
    const stanza = (n: number): string => `<message><body>${'é'.repeat(n)}</body></message>`; // é is 2 bytes
    const overhead = utf8(stanza(0)).length;
    const limit = overhead + 2 * 100;
    const ok = new XmppStreamParser({ maxStanzaBytes: limit }).push(utf8(`${HEADER}${stanza(100)}`));
    expect(ok.at(-1)?.type).toBe('stanza');
    expect(refusal(`${HEADER} ${stanza(100)}`, { maxStanzaBytes: limit })).toBe('too-large');
  });

  it('refuses a huge header', () => {
    expect(refusal(`<stream:stream xmlns:stream="http://etherx.jabber.org/streams" from="${'a'.repeat(20_000)}">`)).toBe('too-large');
  });

  it('refuses 10 000-deep nesting and attribute bombs', () => {
    expect(refusal(`${HEADER}${'<a>'.repeat(10_000)}`, {}, 4096)).toBe('too-deep');
    expect(refusal(`${HEADER}<a ${Array.from({ length: 100_000 }, (_, i) => `a${i}=""`).join(' ')}/>`, {}, 4096)).toBe('too-many-attributes');
    expect(refusal(`${HEADER}<a ${'x'.repeat(100_000)}="1"/>`)).toBe('name-too-long');
  });

  it('refuses a 100 MB stanza fed in 64 KiB chunks after at most limit + one chunk, holding no more than that', () => {
    const limit = 1024 * 1024;
    const chunkSize = 64 * 1024;
    const parser = new XmppStreamParser({ maxStanzaBytes: limit });
    const filler = utf8('x'.repeat(chunkSize));
    let consumed = 0;
    let error: XmlError | undefined;
    error = firstError(parser.push(utf8(`${HEADER}<message><body>`)));
    const heapBefore = process.memoryUsage().heapUsed;
    while (error === undefined && consumed < 100 * 1024 * 1024) {
      consumed += filler.length;
      error = firstError(parser.push(filler));
    }
    expect(error?.code).toBe('too-large');
    // The property that matters and cannot flake: refused before limit + one chunk.
    expect(consumed).toBeLessThanOrEqual(limit + chunkSize);
    // And the heap did not grow by anything near the 100 MB that a buffering parser would need.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(50 * 1024 * 1024);
  });

  it('refuses whitespace flooding between stanzas only at the stanza limit (keepalives are fine)', () => {
    const parser = new XmppStreamParser({ maxStanzaBytes: 1000 });
    parser.push(utf8(HEADER));
    let error: XmlError | undefined;
    let sent = 0;
    while (error === undefined && sent < 100_000) {
      sent += 100;
      error = firstError(parser.push(utf8(' '.repeat(100))));
    }
    expect(error?.code).toBe('too-large');
    expect(sent).toBeLessThanOrEqual(1100);
  });

  it('bounds a billion-laughs attempt inside the stream', () => {
    const entities = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('');
    expect(refusal(`<?xml version="1.0"?><!DOCTYPE stream [<!ENTITY lol "lol">${entities}]><stream:stream xmlns:stream="${NS_STREAM}"><message>&lol9;</message>`)).toBe('dtd-forbidden');
  });
});

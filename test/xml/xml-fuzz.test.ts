import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStanzaDocument, serializeStanzaDocument } from '../../src/xml/stanza-document.js';
import { XmppStreamParser, type XmppStreamEvent } from '../../src/xml/xmpp-stream-parser.js';
import { XmlElement, type XmlNode } from '../../src/xml/xml-element.js';
import { XmlError } from '../../src/xml/xml-error.js';
import { serializeElement } from '../../src/xml/xml-serialize.js';
import { NS_CLIENT, NS_XML } from '../../src/xml/namespaces.js';
import { buildTextMessage } from '../../src/xml/stanzas.js';
import { buildInvitationMessage } from '../../src/xml/invitation.js';
import { cutAt } from '../support/byte-chunks.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();
/** CLIQUE_FUZZ_SCALE=20 runs every property 20 times longer (for soak runs; default 1). */
const SCALE = Math.max(1, Number(process.env['CLIQUE_FUZZ_SCALE'] ?? 1) || 1);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const HEADER = "<?xml version='1.0' encoding='UTF-8'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from=\"a@b\">";
// Small limits so that the fuzzer also reaches the limit checks.
const LIMITS = { maxStanzaBytes: 4096, maxDepth: 6, maxElements: 40, maxAttributes: 6, maxNameLength: 12, maxHeaderBytes: 512 };

// ------------------------------------------------------------ arbitraries

/** Characters XML can carry, biased towards the ones that need escaping. */
const xmlChar = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('<', '>', '&', '"', "'", '\n', '\t', '\r', ' ', ']]>', ';', '#') },
  { weight: 5, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0xa0, max: 0xd7ff }).map((c) => String.fromCodePoint(c)) },
  { weight: 1, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((c) => String.fromCodePoint(c)) },
);
const xmlText = fc.array(xmlChar, { maxLength: 12 }).map((parts) => parts.join(''));
const name = fc.constantFrom('message', 'body', 'x', 'invite', 'a-b', 'n.1', '_u', 'été', 'query');
const namespace = fc.constantFrom(NS_CLIENT, '', 'urn:a', 'http://jabber.org/protocol/xhtml-im');

const elementArb: fc.Arbitrary<XmlElement> = fc.letrec<{ element: XmlElement }>((tie) => ({
  element: fc
    .record({
      name,
      namespace,
      attrs: fc.dictionary(fc.constantFrom('to', 'from', 'type', 'id', 'x-y', 'lang'), xmlText, { maxKeys: 4 }),
      lang: fc.option(xmlText, { nil: undefined }),
      children: fc.array(fc.oneof({ weight: 1, arbitrary: xmlText }, { weight: 1, arbitrary: tie('element') }), { maxLength: 4 }),
    })
    .map(({ name: n, namespace: ns, attrs, lang, children }) => {
      const element = new XmlElement(n, ns, attrs, normalizeChildren(children as XmlNode[]));
      if (lang !== undefined) element.setNsAttr('lang', NS_XML, lang);
      return element;
    }),
})).element;

/** What a parser can give back: no empty text, adjacent text merged. */
function normalizeChildren(children: XmlNode[]): XmlNode[] {
  const out: XmlNode[] = [];
  for (const child of children) {
    const last = out[out.length - 1];
    if (typeof child === 'string') {
      if (child === '') continue;
      if (typeof last === 'string') out[out.length - 1] = last + child;
      else out.push(child);
    } else out.push(child);
  }
  return out;
}

/** Split points for chunked feeding. */
const splits = fc.array(fc.nat(), { maxLength: 12 });

/** Mutations of valid input: byte edits plus hostile snippets spliced in. */
const SNIPPETS = ['<!DOCTYPE x [<!ENTITY a "b">]>', '&lol;', '&#0;', '<', '</', ']]>', '<![CDATA[', '<?xml version="1.0"?>', '\u0000', '</stream:stream>', '<a', '"', 'xmlns:p=""', '\uFFFE'];
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('snippet' as const), at: fc.nat(), snippet: fc.constantFrom(...SNIPPETS) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let bytes = Array.from(input);
  for (const m of mutations) {
    const at = bytes.length === 0 ? 0 : m.at % (bytes.length + 1);
    switch (m.kind) {
      case 'flip':
        if (at < bytes.length) bytes[at] = m.value;
        break;
      case 'delete':
        bytes.splice(at, m.length);
        break;
      case 'insert':
        bytes.splice(at, 0, ...m.bytes);
        break;
      case 'snippet':
        bytes.splice(at, 0, ...utf8(m.snippet));
        break;
      case 'duplicate':
        bytes.splice(at, 0, ...bytes.slice(at, at + m.length));
        break;
    }
  }
  return Uint8Array.from(bytes);
}

const validStanza = fc.oneof(
  elementArb,
  fc.record({ text: xmlText, kind: fc.constantFrom('normal' as const, 'action' as const, 'notice' as const) }).map((o) => buildTextMessage({ context: 'chat', ...o, from: 'a@b', to: 'c@d' })),
  fc.record({ room: xmlText.filter((s) => s !== ''), reason: xmlText }).map((o) => buildInvitationMessage({ ...o, address: '239.255.71.23', port: 40123 })),
);

// ------------------------------------------------------------ helpers

/** parseStanzaDocument must return an element or throw an XmlError, nothing else. */
function parseDocumentSafely(bytes: Uint8Array): XmlElement | XmlError {
  try {
    return parseStanzaDocument(bytes, LIMITS);
  } catch (error) {
    if (error instanceof XmlError) return error;
    throw error;
  }
}

/** Feeds a stream parser; checks the event contract; returns a canonical transcript. */
function runStream(chunks: Uint8Array[], end: boolean, limits: Partial<typeof LIMITS> = LIMITS): string[] {
  const parser = new XmppStreamParser(limits);
  const events: XmppStreamEvent[] = [];
  const failed = (): boolean => events.at(-1)?.type === 'error';
  for (const c of chunks) if (!failed()) events.push(...parser.push(c));
  if (end && !failed()) events.push(...parser.end());
  // A failed parser keeps answering with its error.
  if (failed()) expect(parser.push(utf8('<x/>')).map((e) => e.type)).toEqual(['error']);
  const transcript: string[] = [];
  events.forEach((e, i) => {
    if (e.type === 'error') {
      expect(e.error).toBeInstanceOf(XmlError);
      expect(i).toBe(events.length - 1); // an error is always last
      transcript.push(`error`);
    } else if (e.type === 'open') transcript.push(`open ${JSON.stringify(e.attrs)}`);
    else if (e.type === 'stanza') transcript.push(serializeElement(e.element, { parentNamespace: NS_CLIENT }));
    else transcript.push('close');
  });
  return transcript;
}

// ------------------------------------------------------------ properties

describe(`xml fuzz (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('serialize -> parse is the identity on element trees', () => {
    assertProperty(
      fc.property(elementArb, (element) => {
        const back = parseStanzaDocument(serializeStanzaDocument(element));
        expect(serializeElement(back)).toBe(serializeElement(element));
      }),
      seed,
      { numRuns: 300 * SCALE },
    );
  });

  it('random strings and random bytes give an element or an XmlError', () => {
    assertProperty(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }).map(utf8), fc.uint8Array({ maxLength: 200 }), fc.array(fc.constantFrom('<', '>', 'a', '/', '=', '"', '&', ';', '!', '?', ' ', 'x:', 'xmlns', '[', ']', '-'), { maxLength: 60 }).map((a) => utf8(a.join('')))), (bytes) => {
        parseDocumentSafely(bytes);
        runStream([bytes], true);
        runStream([utf8(HEADER), bytes], true);
      }),
      seed,
      { numRuns: 500 * SCALE },
    );
  });

  it('mutated valid stanzas, whole or in random chunks, give elements or a final XmlError', () => {
    assertProperty(
      fc.property(validStanza, fc.array(mutation, { minLength: 1, maxLength: 4 }), splits, (stanza, mutations, cuts) => {
        const document = mutate(serializeStanzaDocument(stanza), mutations);
        parseDocumentSafely(document);
        const stream = mutate(utf8(`${HEADER}${serializeElement(stanza, { parentNamespace: NS_CLIENT })}</stream:stream>`), mutations);
        const whole = runStream([stream], true);
        const chunked = runStream(cutAt(stream, cuts), true);
        // Chunking never changes the outcome, even for broken input.
        expect(chunked).toEqual(whole);
      }),
      seed,
      { numRuns: 400 * SCALE },
    );
  });

  it('valid streams parse the same whole and in random chunks, and give back what was sent', () => {
    assertProperty(
      fc.property(fc.array(validStanza, { maxLength: 5 }), splits, fc.boolean(), (stanzas, cuts, closeStream) => {
        const body = stanzas.map((s) => serializeElement(s, { parentNamespace: NS_CLIENT })).join(' \n');
        const bytes = utf8(`${HEADER}${body}${closeStream ? '</stream:stream>' : ''}`);
        const whole = runStream([bytes], false, {});
        expect(whole).toEqual([
          `open ${JSON.stringify({ from: 'a@b' })}`,
          ...stanzas.map((s) => serializeElement(s, { parentNamespace: NS_CLIENT })),
          ...(closeStream ? ['close'] : []),
        ]);
        expect(runStream(cutAt(bytes, cuts), false, {})).toEqual(whole);
      }),
      seed,
      { numRuns: 300 * SCALE },
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildOobDecline,
  buildOobFetchFailed,
  buildOobOffer,
  buildOobRefusal,
  buildOobResult,
  isOobOffer,
  readOfferError,
  readOobOffer,
} from '../../src/files/oob-stanzas.js';
import { parseStanzaDocument } from '../../src/xml/stanza-document.js';
import { el } from '../../src/xml/xml-element.js';
import { serializeElement } from '../../src/xml/xml-serialize.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

const seed = propertySeed();
const parse = (xml: string) => parseStanzaDocument(new TextEncoder().encode(xml));

/** The offer of spec §8.1, as salut sends it. */
const SALUT_OFFER = `<iq xmlns="jabber:client" type="set" id="gibber-file-transfer-0" from="alice@laptop" to="bob@desk">
  <query xmlns="jabber:iq:oob">
    <url type="file" mimeType="text/plain" size="1234">http://192.168.1.5:39001/gibber-file-transfer-0/notes%20today.txt</url>
    <desc>my notes</desc>
  </query>
</iq>`;

describe('OOB offers (spec §8.1)', () => {
  it('reads the spec offer: url, name decoded from the last segment, size, mime type, desc', () => {
    const iq = parse(SALUT_OFFER);
    expect(isOobOffer(iq)).toBe(true);
    // A stream tube's OOB iq (a sid, an x-tcp URL, spec §7.5) is not a file offer: the tubes take it.
    expect(isOobOffer(parse('<iq xmlns="jabber:client" type="set" id="q"><query xmlns="jabber:iq:oob" sid="137"><url>x-tcp://desk.local:45678</url></query></iq>'))).toBe(false);
    expect(readOobOffer(iq)).toEqual({
      ok: true,
      offer: {
        url: 'http://192.168.1.5:39001/gibber-file-transfer-0/notes%20today.txt',
        name: 'notes today.txt',
        size: 1234,
        mimeType: 'text/plain',
        desc: 'my notes',
        metadata: {},
      },
    });
  });

  it('builds the same shape salut sends (size omitted when 0), with our hash element after desc', () => {
    const built = buildOobOffer({ url: 'http://192.168.1.5:39001/x/notes%20today.txt', size: 1234, mimeType: 'text/plain', desc: 'my notes' });
    expect(serializeElement(built)).toBe(
      '<iq xmlns="jabber:client" type="set"><query xmlns="jabber:iq:oob">' +
        '<url type="file" mimeType="text/plain" size="1234">http://192.168.1.5:39001/x/notes%20today.txt</url>' +
        '<desc>my notes</desc></query></iq>',
    );
    const empty = buildOobOffer({ url: 'http://h:1/a/b', size: 0 });
    expect(empty.getChild('query')!.getChild('url')!.getAttr('size')).toBeUndefined();
    const sha256 = 'ab'.repeat(32);
    const hashed = buildOobOffer({ url: 'http://h:1/a/b', size: 3, sha256 });
    expect(serializeElement(hashed)).toContain(`<hash xmlns="urn:xmpp:hashes:2" algo="sha-256">${Buffer.from(sha256, 'hex').toString('base64')}</hash>`);
    const read = readOobOffer(parse(serializeElement(hashed)));
    expect(read.ok && read.offer.sha256).toBe(sha256);
  });

  it('reads both metadata forms (service name and multi-valued metadata) and round-trips them', () => {
    const xml = `<iq xmlns="jabber:client" type="set" id="f1"><query xmlns="jabber:iq:oob">
      <url type="file" size="5">http://10.0.0.1:80/a/b.bin</url>
      <x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>http://telepathy.freedesktop.org/xmpp/file-transfer-service</value></field>
        <field var="ServiceName"><value>com.example.Photos</value></field></x>
      <x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>http://telepathy.freedesktop.org/xmpp/file-transfer-metadata</value></field>
        <field var="Tags"><value>cats</value><value>dogs</value></field><field var="Empty"/></x>
    </query></iq>`;
    const read = readOobOffer(parse(xml));
    expect(read).toMatchObject({ ok: true, offer: { serviceName: 'com.example.Photos', metadata: { Tags: ['cats', 'dogs'], Empty: [] } } });
    const rebuilt = buildOobOffer({ url: 'http://10.0.0.1:80/a/b.bin', size: 5, serviceName: 'com.example.Photos', metadata: { Tags: ['cats', 'dogs'] } });
    expect(readOobOffer(parse(serializeElement(rebuilt)))).toMatchObject({ ok: true, offer: { serviceName: 'com.example.Photos', metadata: { Tags: ['cats', 'dogs'] } } });
  });

  it('strips iChat leading newline in the URL text, and takes an offer without from', () => {
    const iq = parse('<iq xmlns="jabber:client" type="set" id="i"><query xmlns="jabber:iq:oob"><url type="file" size="7">\nhttp://[fe80::1]:5000/abc/My%20File.txt</url></query></iq>');
    expect(readOobOffer(iq)).toMatchObject({ ok: true, offer: { url: 'http://[fe80::1]:5000/abc/My%20File.txt', name: 'My File.txt', size: 7 } });
  });

  it('refuses a directory (iChat), and bad URLs or sizes as bad-request', () => {
    const dir = parse('<iq xmlns="jabber:client" type="set" id="d"><query xmlns="jabber:iq:oob"><url type="directory" nfiles="3" posixflags="000001ED">http://h:1/a/dir</url></query></iq>');
    expect(readOobOffer(dir)).toEqual({ ok: false, refusal: 'directory' });
    for (const [url, size] of [
      ['file:///etc/passwd', '1'],
      ['https://h/a', '1'],
      ['not a url', '1'],
      ['http://user:pw@h/a', '1'],
      ['http://h/a', '-1'],
      ['http://h/a', '1e3'],
      ['http://h/a', '99999999999999999'],
      ['', '1'],
    ] as const) {
      const iq = el('iq', 'jabber:client', { type: 'set', id: 'x' }, el('query', 'jabber:iq:oob', {}, el('url', 'jabber:iq:oob', { size }, url)));
      expect(readOobOffer(iq), `${url} size ${size}`).toEqual({ ok: false, refusal: 'bad-request' });
    }
    expect(readOobOffer(el('iq', 'jabber:client', { type: 'set' }, el('query', 'jabber:iq:oob')))).toEqual({ ok: false, refusal: 'bad-request' });
    const badHash = buildOobOffer({ url: 'http://h:1/a/b', size: 1 });
    badHash.getChild('query')!.child('hash', 'urn:xmpp:hashes:2', { algo: 'sha-256' }, 'short');
    expect(readOobOffer(badHash)).toEqual({ ok: false, refusal: 'bad-request' });
  });
});

describe('OOB answers (spec §8.2)', () => {
  const request = parse(SALUT_OFFER);

  it('accept is a bare result with the offer id', () => {
    expect(serializeElement(buildOobResult(request))).toBe('<iq xmlns="jabber:client" type="result" id="gibber-file-transfer-0"/>');
  });

  it('decline echoes the url with code 406 type modify not-acceptable; a failed GET is 404 cancel item-not-found', () => {
    expect(serializeElement(buildOobDecline(request))).toBe(
      '<iq xmlns="jabber:client" type="error" id="gibber-file-transfer-0"><query xmlns="jabber:iq:oob">' +
        '<url>http://192.168.1.5:39001/gibber-file-transfer-0/notes%20today.txt</url></query>' +
        '<error code="406" type="modify"><not-acceptable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>',
    );
    expect(serializeElement(buildOobFetchFailed(request))).toContain(
      '<error code="404" type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>',
    );
    expect(serializeElement(buildOobRefusal(request, 'directory'))).toContain('<feature-not-implemented');
  });

  it('the sender reads 406 in code or in type (iChat) as declined, anything else as a remote error', () => {
    expect(readOfferError(buildOobDecline(request))).toBe('declined');
    expect(readOfferError(parse('<iq xmlns="jabber:client" type="error" id="a"><error type="406"/></iq>'))).toBe('declined');
    expect(readOfferError(parse('<iq xmlns="jabber:client" type="error" id="a"><error code="406"/></iq>'))).toBe('declined');
    expect(readOfferError(buildOobFetchFailed(request))).toBe('remote-error');
    expect(readOfferError(parse('<iq xmlns="jabber:client" type="error" id="a"/>'))).toBe('remote-error');
  });
});

describe('OOB readers against arbitrary input (fast-check)', () => {
  const text = fc.string({ unit: 'grapheme', maxLength: 40 });
  const attrs = fc.dictionary(fc.constantFrom('type', 'size', 'mimeType', 'algo', 'var', 'code'), text, { maxKeys: 4 });
  const node: fc.Arbitrary<ReturnType<typeof el>> = fc.letrec<{ tree: ReturnType<typeof el> }>((tie) => ({
    tree: fc
      .tuple(
        fc.constantFrom('query', 'url', 'desc', 'hash', 'x', 'field', 'value', 'error', 'junk'),
        fc.constantFrom('jabber:iq:oob', 'jabber:x:data', 'urn:xmpp:hashes:2', 'jabber:client', ''),
        attrs,
        fc.array(fc.oneof({ depthSize: 'small' }, text, tie('tree')), { maxLength: 4 }),
      )
      .map(([name, ns, a, children]) => el(name, ns, a, ...children)),
  })).tree;

  it('never throw, and every accepted offer has an http URL, a non-negative safe size and a hex hash', () => {
    assertProperty(
      fc.property(fc.array(node, { maxLength: 4 }), attrs, (children, iqAttrs) => {
        const iq = el('iq', 'jabber:client', { ...iqAttrs, type: 'set' }, ...children);
        const read = readOobOffer(iq);
        readOfferError(iq);
        if (read.ok) {
          expect(new URL(read.offer.url).protocol).toBe('http:');
          if (read.offer.size !== undefined) expect(Number.isSafeInteger(read.offer.size) && read.offer.size > 0).toBe(true);
          if (read.offer.sha256 !== undefined) expect(read.offer.sha256).toMatch(/^[0-9a-f]{64}$/);
        }
      }),
      seed,
      { numRuns: 500 },
    );
  });

  it('every built offer reads back to what was built', () => {
    assertProperty(
      fc.property(
        fc.webPath(),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.option(fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() === s && s.length > 0), { nil: undefined }),
        fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }), { nil: undefined }),
        (path, size, desc, hash) => {
          const url = new URL(`http://10.1.2.3:4567${path.startsWith('/') ? path : `/${path}`}`).href;
          const sha256 = hash === undefined ? undefined : Buffer.from(hash).toString('hex');
          const built = buildOobOffer({ url, size, ...(desc !== undefined ? { desc } : {}), ...(sha256 !== undefined ? { sha256 } : {}) });
          const read = readOobOffer(parse(serializeElement(built)));
          expect(read.ok).toBe(true);
          if (!read.ok) return;
          expect(read.offer.url).toBe(url);
          expect(read.offer.size).toBe(size === 0 ? undefined : size);
          expect(read.offer.sha256).toBe(sha256);
          expect(read.offer.desc).toBe(desc);
        },
      ),
      seed,
      { numRuns: 300 },
    );
  });
});

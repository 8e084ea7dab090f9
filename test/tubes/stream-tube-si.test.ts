import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertySeed } from '../support/fast-check-seed.js';
import { el, type XmlElement } from '../../src/xml/xml-element.js';
import { buildOobIq, buildSiError, buildSiRequest, buildSiResult, oobSid, readOobPort, readSiRequest } from '../../src/tubes/stream-tube-si.js';
import { serializeElement } from '../../src/xml/xml-serialize.js';

const seed = propertySeed();
const REQ = { from: 'bob@desk', to: 'alice@laptop', iqId: 'q1', siId: '137', room: 'lunch', tubeId: 7654321 };

describe('stream tube SI/OOB stanzas (spec §7.5)', () => {
  it('SI request round-trips and carries the spec fields', () => {
    const xml = serializeElement(buildSiRequest(REQ));
    expect(xml).toContain('profile="http://telepathy.freedesktop.org/xmpp/tubes"');
    expect(xml).toContain('<muc-stream xmlns="http://telepathy.freedesktop.org/xmpp/tubes" muc="lunch" tube="7654321"/>');
    expect(readSiRequest(buildSiRequest(REQ))).toEqual({ ok: true, request: REQ });
  });

  it('refuses like salut: missing oob is no-valid-streams, wrong profile bad-profile, bad tube bad-request', () => {
    const noOob = buildSiRequest(REQ);
    const value = noOob.getChild('si')!.getChild('feature')!.getChild('x')!.getChild('field')!.getChild('option')!.getChild('value')!;
    value.children.splice(0, 1, 'http://jabber.org/protocol/bytestreams');
    expect(readSiRequest(noOob)).toEqual({ ok: false, refusal: 'no-valid-streams' });
    const badProfile = buildSiRequest(REQ);
    badProfile.getChild('si')!.setAttr('profile', 'http://jabber.org/protocol/si/profile/file-transfer');
    expect(readSiRequest(badProfile)).toEqual({ ok: false, refusal: 'bad-profile' });
    for (const tube of ['0', '4294967296', 'x', '-1']) {
      const bad = buildSiRequest(REQ);
      bad.getChild('si')!.getChild('muc-stream')!.setAttr('tube', tube);
      expect(readSiRequest(bad)).toEqual({ ok: false, refusal: 'bad-request' });
    }
    const noFrom = buildSiRequest(REQ).setAttr('from', undefined);
    expect(readSiRequest(noFrom)).toEqual({ ok: false, refusal: 'bad-request' });
  });

  it('SI result and OOB iq', () => {
    const result = serializeElement(buildSiResult('alice@laptop', 'bob@desk', 'q1'));
    expect(result).toContain('<value>jabber:iq:oob</value>');
    expect(result).toContain('<tube xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/>');
    const oob = buildOobIq('bob@desk', 'alice@laptop', 'q2', '137', 'desk.local', 45678);
    expect(serializeElement(oob)).toContain('<url>x-tcp://desk.local:45678</url>');
    expect(readOobPort(oob, '137')).toBe(45678);
    expect(readOobPort(oob, '138')).toBeUndefined();
    expect(readOobPort(buildOobIq('b', 'a', 'q', '137', 'h', 0), '137')).toBeUndefined();
  });

  it('refusals are XEP-0095 errors, addressed back with the request id', () => {
    const request = buildSiRequest(REQ);
    const stanza = (refusal: Parameters<typeof buildSiError>[1]): string => serializeElement(buildSiError(request, refusal, 'alice@laptop'));
    const head = '<iq xmlns="jabber:client" type="error" from="alice@laptop" to="bob@desk" id="q1">';
    const stanzas = 'xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"';
    expect(stanza('bad-request')).toBe(`${head}<error type="modify"><bad-request ${stanzas}/></error></iq>`);
    expect(stanza('no-valid-streams')).toBe(`${head}<error type="cancel"><bad-request ${stanzas}/><no-valid-streams xmlns="http://jabber.org/protocol/si"/></error></iq>`);
    expect(stanza('bad-profile')).toBe(`${head}<error type="modify"><bad-request ${stanzas}/><bad-profile xmlns="http://jabber.org/protocol/si"/></error></iq>`);
    expect(stanza('declined')).toBe(`${head}<error type="cancel"><forbidden ${stanzas}/><text ${stanzas}>Offer declined</text></error></iq>`);
    expect(stanza('busy')).toContain('<error type="wait"><resource-constraint');
  });

  it('a stream tube OOB iq has a sid; a file offer (§8.1) has none', () => {
    expect(oobSid(buildOobIq('b', 'a', 'q', '137', 'h', 1))).toBe('137');
    const fileOffer = buildOobIq('b', 'a', 'q', '137', 'h', 1);
    fileOffer.getChild('query')!.setAttr('sid', undefined);
    expect(oobSid(fileOffer)).toBeUndefined();
  });

  it(`readers never throw and only return what they promise, whatever the tree (seed ${seed})`, () => {
    const names = fc.constantFrom('si', 'feature', 'x', 'field', 'option', 'value', 'muc-stream', 'query', 'url', 'iq');
    const namespaces = fc.constantFrom('http://jabber.org/protocol/si', 'http://jabber.org/protocol/feature-neg', 'jabber:x:data', 'jabber:iq:oob', 'http://telepathy.freedesktop.org/xmpp/tubes', '');
    const attrs = fc.dictionary(fc.constantFrom('id', 'from', 'to', 'profile', 'type', 'var', 'muc', 'tube', 'sid'), fc.oneof(fc.string(), fc.constantFrom('137', 'x-tcp://h:1', 'list-single', 'jabber:iq:oob')));
    const tree: fc.Memo<XmlElement> = fc.memo((depth) =>
      fc.tuple(names, namespaces, attrs, depth > 1 ? fc.array(tree(depth - 1), { maxLength: 3 }) : fc.constant([]), fc.option(fc.constantFrom('jabber:iq:oob', 'x-tcp://desk.local:45678', 'x-tcp://h:99999')))
        .map(([name, ns, a, children, text]) => el(name, ns, a, ...children, ...(text !== null ? [text] : []))),
    );
    fc.assert(
      fc.property(tree(5), (root) => {
        const iq = el('iq', 'jabber:client', { type: 'set', from: 'bob@desk', id: 'q' }, root);
        const read = readSiRequest(iq);
        if (read.ok) {
          expect(read.request.tubeId).toBeGreaterThanOrEqual(1);
          expect(read.request.tubeId).toBeLessThanOrEqual(4294967295);
        }
        const port = readOobPort(iq, '137');
        if (port !== undefined) expect(port >= 1 && port <= 65535).toBe(true);
      }),
      { seed, numRuns: 2000 },
    );
  });
});

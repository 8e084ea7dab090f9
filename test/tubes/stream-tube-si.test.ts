import { describe, expect, it } from 'vitest';
import { buildOobIq, buildSiRequest, buildSiResult, readOobPort, readSiRequest } from '../../src/tubes/stream-tube-si.js';
import { serializeElement } from '../../src/xml/xml-serialize.js';

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
});

import { describe, expect, it } from 'vitest';
import { parseStanzaDocument, serializeStanzaDocument } from '../../src/xml/stanza-document.js';
import { el } from '../../src/xml/xml-element.js';
import { serializeElement } from '../../src/xml/xml-serialize.js';
import {
  buildIq,
  buildIqErrorReply,
  buildPresence,
  buildTextMessage,
  isIChatComposingPartial,
  isIqRequest,
  readPresence,
  readTextMessage,
} from '../../src/xml/stanzas.js';
import { buildInvitationMessage, INVITATION_BODY, invitationBody, readInvitation } from '../../src/xml/invitation.js';
import { NS_CLIENT, NS_CLIQUE } from '../../src/xml/namespaces.js';

const parse = (s: string) => parseStanzaDocument(new TextEncoder().encode(s));
const inStream = (e: Parameters<typeof serializeElement>[0]) => serializeElement(e, { parentNamespace: NS_CLIENT });

describe('text messages', () => {
  it('builds the §4.2 group chat message exactly', () => {
    const message = buildTextMessage({ context: 'groupchat', kind: 'normal', text: 'anyone for pizza?', from: 'alice@laptop', to: 'lunch' });
    expect(new TextDecoder().decode(serializeStanzaDocument(message))).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n' +
        '<message xmlns="jabber:client" from="alice@laptop" to="lunch" type="groupchat"><body>anyone for pizza?</body>' +
        '<html xmlns="http://jabber.org/protocol/xhtml-im"><body xmlns="http://www.w3.org/1999/xhtml">anyone for pizza?</body></html></message>\n',
    );
  });

  it.each([
    ['groupchat', 'normal', 'groupchat', 'hi'],
    ['groupchat', 'action', 'groupchat', '/me hi'],
    ['groupchat', 'notice', 'normal', 'hi'],
    ['chat', 'normal', 'chat', 'hi'],
    ['chat', 'action', 'chat', '/me hi'],
    ['chat', 'notice', 'normal', 'hi'],
  ] as const)('%s %s -> type=%s body=%j, and reads back as the same kind', (context, kind, type, body) => {
    const message = buildTextMessage({ context, kind, text: 'hi' });
    expect(message.getAttr('type')).toBe(type);
    expect(message.getChildText('body', NS_CLIENT)).toBe(body);
    expect(message.getChild('html')!.getChild('body')!.text()).toBe(body);
    expect(readTextMessage(parseStanzaDocument(serializeStanzaDocument(message)))).toEqual({ kind, text: 'hi', type });
  });

  it('classifies received stanzas like salut (§4.3 steps 6-9)', () => {
    expect(readTextMessage(parse('<message type="chat"><body>/me waves</body></message>'))).toEqual({ kind: 'action', text: 'waves', type: 'chat' });
    expect(readTextMessage(parse('<message type="error"><body>/me x</body></message>'))?.kind).toBe('action');
    expect(readTextMessage(parse('<message type="headline"><body>x</body></message>'))?.kind).toBe('notice');
    expect(readTextMessage(parse('<message><body>x</body></message>'))?.kind).toBe('notice');
    expect(readTextMessage(parse('<message type="error"><body>x</body></message>'))?.kind).toBe('notice');
    expect(readTextMessage(parse('<message type="chat"><body>/meh</body></message>'))).toEqual({ kind: 'normal', text: '/meh', type: 'chat' });
    // Root name is not checked; the body may be in any namespace.
    expect(readTextMessage(parse('<presence><body xmlns="urn:x">hello</body></presence>'))).toEqual({ kind: 'notice', text: 'hello', type: undefined });
    expect(readTextMessage(parse('<message type="chat"><subject>s</subject></message>'))).toBeUndefined();
    expect(readTextMessage(parse('<message type="chat"><body/></message>'))).toEqual({ kind: 'normal', text: '', type: 'chat' });
  });

  it('drops iChat partial composing messages and keeps the final one', () => {
    const partial = parse('<message to="me" type="chat"><body>hel</body><x xmlns="jabber:x:event"><composing/><id>1</id></x></message>');
    const final = parse('<message to="me"><body>hello</body><x xmlns="jabber:x:event"><composing/></x></message>');
    expect(isIChatComposingPartial(partial)).toBe(true);
    expect(readTextMessage(partial)).toBeUndefined();
    expect(isIChatComposingPartial(final)).toBe(false);
    expect(readTextMessage(final)).toEqual({ kind: 'notice', text: 'hello', type: undefined });
    // The composing and id must be in the jabber:x:event element.
    expect(readTextMessage(parse('<message type="chat"><body>x</body><x xmlns="urn:other"><composing/><id/></x></message>'))?.text).toBe('x');
  });
});

describe('presence and iq', () => {
  it('builds and reads presence', () => {
    const presence = buildPresence({ from: 'a@b', show: 'away', status: 'At the pub' });
    expect(inStream(presence)).toBe('<presence from="a@b"><show>away</show><status>At the pub</status></presence>');
    expect(readPresence(parse(serializeElement(presence)))).toEqual({ type: undefined, show: 'away', status: 'At the pub' });
    expect(readPresence(parse('<message/>'))).toBeUndefined();
  });

  it('answers an iq request with service-unavailable', () => {
    const request = parse('<iq xmlns="jabber:client" type="get" id="q1" from="bob@desk" to="alice@laptop"><query xmlns="urn:unknown"/></iq>');
    expect(isIqRequest(request)).toBe(true);
    const reply = buildIqErrorReply(request, { from: 'alice@laptop' });
    expect(inStream(reply!)).toBe(
      '<iq type="error" id="q1" from="alice@laptop" to="bob@desk"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>',
    );
    expect(buildIqErrorReply(parse('<iq type="set"/>'))).toBeUndefined();
    expect(isIqRequest(parse('<iq type="result" id="1"/>'))).toBe(false);
    expect(inStream(buildIq({ type: 'result', id: 'x' }))).toBe('<iq type="result" id="x"/>');
  });
});

describe('Clique invitations', () => {
  const spec = `<message type="normal" from="alice@laptop" to="bob@desk">
  <body>You got a Clique chatroom invitation</body>
  <invite xmlns="http://telepathy.freedesktop.org/xmpp/clique">
    <roomname>lunch</roomname>
    <reason>join us</reason>
    <address>239.255.71.23</address>
    <port>40123</port>
  </invite>
</message>`;

  it('reads the §5.1 example', () => {
    expect(readInvitation(parse(spec))).toEqual({
      ok: true,
      invitation: { room: 'lunch', reason: 'join us', address: '239.255.71.23', port: 40123, extensions: [] },
    });
  });

  it("builds salut's shape: body before invite, reason only when non-empty", () => {
    const message = buildInvitationMessage({ room: 'lunch', address: '239.255.71.23', port: 40123, reason: 'join us' }, { from: 'alice@laptop', to: 'bob@desk' });
    expect(inStream(message)).toBe(
      '<message type="normal" from="alice@laptop" to="bob@desk"><body>You got a Clique chatroom invitation</body>' +
        `<invite xmlns="${NS_CLIQUE}"><roomname>lunch</roomname><reason>join us</reason><address>239.255.71.23</address><port>40123</port></invite></message>`,
    );
    const noReason = buildInvitationMessage({ room: 'r', address: '127.0.0.1', port: 1, reason: '' });
    expect(noReason.getChild('invite', NS_CLIQUE)!.getChild('reason')).toBeUndefined();
    expect(noReason.getChildText('body')).toBe(INVITATION_BODY);
  });

  it('a fallback body a plain XEP-0174 client can read: room, reason, how to join; the <invite> stays byte for byte', () => {
    const invitation = { room: 'Witchcraft', address: '239.255.71.23', port: 40123, reason: 'spells & <potions>' };
    const body = invitationBody(invitation, 'alice@laptop');
    expect(body).toBe(
      'alice@laptop invites you to the room "Witchcraft" (spells & <potions>). Join it with: clique join Witchcraft ' +
        '(or by address: clique join Witchcraft --address 239.255.71.23 --port 40123)',
    );
    expect(invitationBody({ ...invitation, room: "team's room", reason: '' }, 'a@b')).toBe(
      `a@b invites you to the room "team's room". Join it with: clique join 'team'\\''s room' (or by address: clique join 'team'\\''s room' --address 239.255.71.23 --port 40123)`,
    );
    const withBody = buildInvitationMessage(invitation, { from: 'alice@laptop', to: 'bob@desk' }, body);
    const plain = buildInvitationMessage(invitation, { from: 'alice@laptop', to: 'bob@desk' });
    expect(withBody.getChildText('body')).toBe(body);
    expect(inStream(withBody.getChild('invite', NS_CLIQUE)!)).toBe(inStream(plain.getChild('invite', NS_CLIQUE)!));
    expect(inStream(withBody)).toContain('(spells &amp; &lt;potions&gt;)');
  });

  it('accepts any child order, any namespace for the fields, and keeps unknown children', () => {
    const message = parse(`<message type="chat"><invite xmlns="${NS_CLIQUE}">
      <port> 5000 </port><properties xmlns="http://laptop.org/xmpp/activity-properties"><property name="color" type="str">#fff</property></properties>
      <address xmlns="">ff02::1</address><roomname xmlns="urn:whatever">r</roomname><future/></invite></message>`);
    const result = readInvitation(message);
    expect(result?.ok).toBe(true);
    if (!result?.ok) return;
    expect(result.invitation).toMatchObject({ room: 'r', address: 'ff02::1', port: 5000, reason: '' });
    expect(result.invitation.extensions.map((e) => e.name)).toEqual(['properties', 'future']);
    // Extensions survive a rebuild intact.
    const rebuilt = readInvitation(parse(serializeElement(buildInvitationMessage(result.invitation))));
    expect(rebuilt?.ok && rebuilt.invitation.extensions.map((e) => serializeElement(e))).toEqual(result.invitation.extensions.map((e) => serializeElement(e)));
  });

  it.each([
    ['<invite xmlns="NS"><address>1.2.3.4</address><port>1</port></invite>', 'missing or empty roomname'],
    ['<invite xmlns="NS"><roomname/><address>1.2.3.4</address><port>1</port></invite>', 'missing or empty roomname'],
    ['<invite xmlns="NS"><roomname>r</roomname><port>1</port></invite>', 'missing address'],
    ['<invite xmlns="NS"><roomname>r</roomname><address>1.2.3.4</address></invite>', 'missing port'],
    ['<invite xmlns="NS"><roomname>r</roomname><address>1.2.3.4</address><port>http</port></invite>', 'port "http" is not a decimal number'],
    ['<invite xmlns="NS"><roomname>r</roomname><address>1.2.3.4</address><port>0</port></invite>', 'port 0 out of range'],
    ['<invite xmlns="NS"><roomname>r</roomname><address>1.2.3.4</address><port>65536</port></invite>', 'port 65536 out of range'],
  ])('refuses %s', (invite, reason) => {
    expect(readInvitation(parse(`<message>${invite.replace('NS', NS_CLIQUE)}</message>`))).toEqual({ ok: false, reason });
  });

  it('ignores an invite in another namespace', () => {
    expect(readInvitation(parse('<message><invite xmlns="urn:other"><roomname>r</roomname></invite></message>'))).toBeUndefined();
    expect(readInvitation(el('message', NS_CLIENT))).toBeUndefined();
  });
});

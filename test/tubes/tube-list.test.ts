import { SPEC_TUBE_LIST_EXAMPLE } from '../support/spec-examples.js';
import { describe, expect, it } from 'vitest';
import { readRoomStanza } from '../../src/rooms/room-stanzas.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { buildTubeListMessage, buildTubesElement, localTubeProblem, readTubeList, tubesToAnnounce } from '../../src/tubes/tube-list.js';
import { TubeListError } from '../../src/tubes/tube-list-error.js';
import type { LocalTube, TubeList, TubeParameter } from '../../src/tubes/tube-types.js';
import { parseStanzaDocument, serializeStanzaDocument } from '../../src/xml/stanza-document.js';
import { readTextMessage } from '../../src/xml/stanzas.js';
import type { XmlElement } from '../../src/xml/xml-element.js';

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);
const parse = (s: string): XmlElement => parseStanzaDocument(encode(s));
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The §7.2 example, verbatim from the spec: bob's list in the room lunch. */
const SPEC_EXAMPLE = SPEC_TUBE_LIST_EXAMPLE;

/** The same stanza as wocky writes it on stream 0 (§4.1): declaration, newline, compact stanza, newline. */
const SPEC_EXAMPLE_BYTES =
  '<?xml version="1.0" encoding="utf-8"?>\n' +
  '<message xmlns="jabber:client" type="groupchat" from="bob@desk" to="lunch">' +
  '<tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes">' +
  '<tube service="com.example.Chess" id="1234567" type="dbus" stream-id="2" initiator="alice@laptop" dbus-name=":2.Ym9iQGRlc2sA">' +
  '<parameters><parameter name="board" type="uint">8</parameter></parameters></tube>' +
  '<tube service="whiteboard" id="7654321" type="stream"><parameters/></tube>' +
  '</tubes></message>\n';

/** Bob's tube table behind the spec example. */
const BOB_TABLE: LocalTube[] = [
  { type: 'dbus', id: 1234567, service: 'com.example.Chess', initiator: 'alice@laptop', streamId: 2, state: 'open', parameters: new Map([['board', { type: 'uint', value: 8 }]]) },
  { type: 'stream', id: 7654321, service: 'whiteboard', initiator: 'bob@desk', state: 'open', parameters: new Map() },
];

function list(stanza: XmlElement, sender: string): TubeList {
  const reading = readTubeList(stanza, sender);
  if (reading.kind !== 'list') throw new Error(`expected a list, got ${JSON.stringify(reading)}`);
  return reading.list;
}

/** A stream-0 message around `<tube>` entries written by hand (hostile peers write anything). */
function withEntries(...entries: string[]): XmlElement {
  return parse(`<message xmlns="jabber:client" type="groupchat" from="eve@evil" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes">${entries.join('')}</tubes></message>`);
}

const EVE_NAME = tubeDBusName('eve@evil');
const goodStream = (id: number, params = '<parameters/>'): string => `<tube service="s${id}" id="${id}" type="stream">${params}</tube>`;
const goodDBus = (id: number, streamId: number): string =>
  `<tube service="org.example.D${id}" id="${id}" type="dbus" stream-id="${streamId}" initiator="alice@laptop" dbus-name="${EVE_NAME}"><parameters/></tube>`;

describe('building our list in salut’s shape (§7.2)', () => {
  it('is byte for byte the spec example as wocky writes it', () => {
    const bytes = serializeStanzaDocument(buildTubeListMessage({ from: 'bob@desk', room: 'lunch', tubes: BOB_TABLE }));
    expect(decode(bytes)).toBe(SPEC_EXAMPLE_BYTES);
    // and the spec's indented form is the same document
    expect(`<?xml version="1.0" encoding="utf-8"?>\n${SPEC_EXAMPLE.replace(/>\s+</g, '><').replace(/"\s+/g, '" ')}\n`).toBe(SPEC_EXAMPLE_BYTES);
  });

  it('with no tubes is an empty <tubes/> (what every member sends on new senders)', () => {
    const bytes = serializeStanzaDocument(buildTubeListMessage({ from: 'bob@desk', room: 'lunch', tubes: [] }));
    expect(decode(bytes)).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n<message xmlns="jabber:client" type="groupchat" from="bob@desk" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/></message>\n',
    );
  });

  it('writes each parameter type as salut does: decimal, standard base64, 1/0', () => {
    const parameters = new Map<string, TubeParameter>([
      ['name', { type: 'str', value: 'a <b> & "c"' }],
      ['delta', { type: 'int', value: -2147483648 }],
      ['size', { type: 'uint', value: 4294967295 }],
      ['key', { type: 'bytes', value: new Uint8Array([0xfb, 0xff, 0x00, 0x41]) }],
      ['yes', { type: 'bool', value: true }],
      ['no', { type: 'bool', value: false }],
    ]);
    const tubes = buildTubesElement('bob@desk', [{ type: 'stream', id: 5, service: 'x', initiator: 'bob@desk', state: 'open', parameters }]);
    expect(decode(serializeStanzaDocument(tubes))).toContain(
      '<parameters>' +
        '<parameter name="name" type="str">a &lt;b&gt; &amp; "c"</parameter>' +
        '<parameter name="delta" type="int">-2147483648</parameter>' +
        '<parameter name="size" type="uint">4294967295</parameter>' +
        '<parameter name="key" type="bytes">+/8AQQ==</parameter>' +
        '<parameter name="yes" type="bool">1</parameter>' +
        '<parameter name="no" type="bool">0</parameter>' +
        '</parameters>',
    );
  });

  it('lists open tubes only: D-Bus tubes we take part in, stream tubes we offered', () => {
    const table: LocalTube[] = [
      { type: 'stream', id: 1, service: 'mine', initiator: 'bob@desk', state: 'open', parameters: new Map() },
      { type: 'stream', id: 2, service: 'pending', initiator: 'bob@desk', state: 'not-offered', parameters: new Map() },
      { type: 'dbus', id: 3, service: 'joined', initiator: 'alice@laptop', streamId: 7, state: 'open', parameters: new Map() },
      { type: 'dbus', id: 4, service: 'offered to us', initiator: 'alice@laptop', streamId: 8, state: 'local-pending', parameters: new Map() },
      // Salut sends no list at all while it holds this one (quirk 3); we leave out just this tube.
      { type: 'stream', id: 5, service: 'alice’s', initiator: 'alice@laptop', state: 'open', parameters: new Map() },
    ];
    expect(tubesToAnnounce('bob@desk', table).map((t) => t.id)).toEqual([1, 3]);
    const sent = buildTubesElement('bob@desk', table);
    expect(sent.getChildren('tube').map((t) => t.getAttr('id'))).toEqual(['1', '3']);
  });

  it('is a body-less groupchat message: salut shows nothing, our room layer sees a tube list', () => {
    const stanza = parseStanzaDocument(serializeStanzaDocument(buildTubeListMessage({ from: 'bob@desk', room: 'lunch', tubes: BOB_TABLE })));
    expect(readTextMessage(stanza)).toBeUndefined();
    expect(readRoomStanza(stanza)).toEqual({ type: 'ignored', reason: 'tubes' });
  });

  const open = (tube: Partial<LocalTube> & { type: LocalTube['type'] }): LocalTube =>
    ({ id: 9, service: 'svc', initiator: 'bob@desk', state: 'open', parameters: new Map(), streamId: 3, ...tube }) as LocalTube;

  it.each([
    ['id 0', open({ type: 'stream', id: 0 })],
    ['id above 32 bits', open({ type: 'stream', id: 2 ** 32 })],
    ['a fractional id', open({ type: 'stream', id: 1.5 })],
    ['an empty service', open({ type: 'stream', service: '' })],
    ['stream id 0 (XML)', open({ type: 'dbus', streamId: 0 })],
    ['stream id 65536', open({ type: 'dbus', streamId: 65536 })],
    ['an empty initiator', open({ type: 'dbus', initiator: '' })],
    ['an int out of range', open({ type: 'stream', parameters: new Map([['n', { type: 'int', value: 2 ** 31 }]]) })],
    ['a negative uint', open({ type: 'stream', parameters: new Map([['n', { type: 'uint', value: -1 }]]) })],
    ['a str XML cannot carry', open({ type: 'stream', parameters: new Map([['n', { type: 'str', value: 'nul\u0000' }]]) })],
    ['a huge str', open({ type: 'stream', parameters: new Map([['n', { type: 'str', value: 'é'.repeat(4097) }]]) })],
    ['an empty parameter name', open({ type: 'stream', parameters: new Map([['', { type: 'bool', value: true }]]) })],
  ])('refuses a table row peers would drop: %s', (_what, tube) => {
    expect(localTubeProblem(tube)).toBeDefined();
    expect(() => buildTubesElement('bob@desk', [tube])).toThrow(TubeListError);
  });

  it('refuses two tubes with one id, two D-Bus tubes on one stream, and more tubes than peers keep', () => {
    const a = open({ type: 'dbus', id: 1, streamId: 4 });
    const same = (code: string) => (f: () => unknown) => expect(f).toThrow(expect.objectContaining({ code }));
    same('invalid-tube')(() => buildTubesElement('bob@desk', [a, open({ type: 'stream', id: 1 })]));
    same('invalid-tube')(() => buildTubesElement('bob@desk', [a, open({ type: 'dbus', id: 2, streamId: 4 })]));
    const many = Array.from({ length: 65 }, (_, i) => open({ type: 'stream', id: i + 1 }));
    same('too-many-tubes')(() => buildTubesElement('bob@desk', many));
    expect(buildTubesElement('bob@desk', many.slice(0, 64)).getChildren('tube')).toHaveLength(64);
  });
});

describe('reading a list as salut sends it (§7.3)', () => {
  const expected = [
    {
      type: 'dbus',
      id: 1234567,
      service: 'com.example.Chess',
      initiator: 'alice@laptop',
      streamId: 2,
      dbusName: ':2.Ym9iQGRlc2sA',
      parameters: new Map([['board', { type: 'uint', value: 8 }]]),
    },
    // A member lists only stream tubes it offered: the initiator is the sender.
    { type: 'stream', id: 7654321, service: 'whiteboard', initiator: 'bob@desk', parameters: new Map() },
  ];

  it('reads salut’s bytes', () => {
    const got = list(parseStanzaDocument(encode(SPEC_EXAMPLE_BYTES)), 'bob@desk');
    expect([...got.tubes.values()]).toEqual(expected);
    expect(got.problems).toEqual([]);
    expect(got.unreadable.size).toBe(0);
  });

  it('reads the spec’s indented form the same way', () => {
    expect([...list(parse(SPEC_EXAMPLE), 'bob@desk').tubes.values()]).toEqual(expected);
  });

  it('reads every parameter type, with salut-tolerable spacing around numbers and base64', () => {
    const got = list(
      withEntries(
        goodStream(
          1,
          '<parameters>' +
            '<parameter name="s" type="str"> spaced </parameter>' +
            '<parameter name="e" type="str"></parameter>' +
            '<parameter name="i" type="int"> -2147483648 </parameter>' +
            '<parameter name="u" type="uint">+0004294967295</parameter>' +
            '<parameter name="b" type="bytes">+/8A\n QQ==</parameter>' +
            '<parameter name="z" type="bytes"/>' +
            '<parameter name="t" type="bool">1</parameter>' +
            '<parameter name="f" type="bool">0</parameter>' +
            '</parameters>',
        ),
      ),
      'eve@evil',
    );
    expect(got.problems).toEqual([]);
    expect(got.tubes.get(1)?.parameters).toEqual(
      new Map<string, TubeParameter>([
        ['s', { type: 'str', value: ' spaced ' }],
        // Salut skips empty values (quirk 19); for us an empty string is a value.
        ['e', { type: 'str', value: '' }],
        ['i', { type: 'int', value: -2147483648 }],
        ['u', { type: 'uint', value: 4294967295 }],
        ['b', { type: 'bytes', value: new Uint8Array([0xfb, 0xff, 0x00, 0x41]) }],
        ['z', { type: 'bytes', value: new Uint8Array() }],
        ['t', { type: 'bool', value: true }],
        ['f', { type: 'bool', value: false }],
      ]),
    );
  });

  it.each([
    ['a chat message', '<message xmlns="jabber:client" type="chat" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/></message>'],
    ['a message without type', '<message xmlns="jabber:client" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/></message>'],
    ['a presence', '<presence xmlns="jabber:client" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/></presence>'],
    ['a root without namespace (salut cannot tell its type either)', '<message type="groupchat" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/></message>'],
    ['<tubes> in another namespace', '<message xmlns="jabber:client" type="groupchat" to="lunch"><tubes><tube id="1" type="stream" service="x"/></tubes></message>'],
    ['a chat line', '<message xmlns="jabber:client" type="groupchat" to="lunch"><body>hi</body></message>'],
  ])('finds no list in %s', (_what, xml) => {
    expect(readTubeList(parse(xml), 'bob@desk')).toEqual({ kind: 'none' });
  });

  it('reads an empty list as "no tubes" (full state: everything the member had is gone)', () => {
    const got = list(withEntries(), 'eve@evil');
    expect(got.tubes.size).toBe(0);
    expect(got.problems).toEqual([]);
  });
});

describe('a hostile list costs only the bad tube (§7.3, quirk 18)', () => {
  const dbusWith = (attrs: string): string => `<tube service="org.example.D" id="50" type="dbus" ${attrs}><parameters/></tube>`;
  const ok = `stream-id="9" initiator="alice@laptop" dbus-name="${EVE_NAME}"`;

  it.each([
    // [entry, reason, id readable (the member still mentions that tube)]
    ['<tube service="s" type="stream"/>', 'missing-id', false],
    ['<tube service="s" id="" type="stream"/>', 'missing-id', false],
    ['<tube service="s" id="abc" type="stream"/>', 'bad-id', false],
    ['<tube service="s" id="0" type="stream"/>', 'bad-id', false],
    ['<tube service="s" id="-1" type="stream"/>', 'bad-id', false],
    ['<tube service="s" id="4294967296" type="stream"/>', 'bad-id', false],
    ['<tube service="s" id=" 5" type="stream"/>', 'bad-id', false],
    ['<tube service="s" id="1e3" type="stream"/>', 'bad-id', false],
    [`<tube service="s" id="${'9'.repeat(400)}" type="stream"/>`, 'bad-id', false],
    ['<tube id="50" type="stream"/>', 'missing-service', true],
    [`<tube service="${'s'.repeat(256)}" id="50" type="stream"/>`, 'bad-service', true],
    ['<tube service="s" id="50"/>', 'missing-type', true],
    ['<tube service="s" id="50" type="file"/>', 'unknown-type', true],
    [dbusWith(`initiator="alice@laptop" dbus-name="${EVE_NAME}"`), 'missing-stream-id', true], // crashes salut
    [dbusWith(`stream-id="0" initiator="alice@laptop" dbus-name="${EVE_NAME}"`), 'bad-stream-id', true],
    [dbusWith(`stream-id="65536" initiator="alice@laptop" dbus-name="${EVE_NAME}"`), 'bad-stream-id', true],
    [dbusWith(`stream-id="x" initiator="alice@laptop" dbus-name="${EVE_NAME}"`), 'bad-stream-id', true],
    [dbusWith(`stream-id="9" dbus-name="${EVE_NAME}"`), 'missing-initiator', true],
    [dbusWith(`stream-id="9" initiator="${'é'.repeat(128)}" dbus-name="${EVE_NAME}"`), 'bad-initiator', true],
    [dbusWith('stream-id="9" initiator="alice@laptop"'), 'missing-dbus-name', true],
    [dbusWith(`stream-id="9" initiator="alice@laptop" dbus-name="${tubeDBusName('bob@desk')}"`), 'dbus-name-mismatch', true],
    [dbusWith('stream-id="9" initiator="alice@laptop" dbus-name=":1.42"'), 'dbus-name-mismatch', true],
  ])('%s: dropped as %s, the good tubes stay', (entry, reason, readable) => {
    const got = list(withEntries(goodStream(1), entry, goodDBus(2, 3)), 'eve@evil');
    expect([...got.tubes.keys()]).toEqual([1, 2]);
    expect(got.problems).toEqual([readable ? { reason, tubeId: 50 } : { reason }]);
    expect([...got.unreadable]).toEqual(readable ? [50] : []);
  });

  it('accepts a well-formed D-Bus entry (the control for the cases above)', () => {
    const got = list(withEntries(dbusWith(ok)), 'eve@evil');
    expect(got.problems).toEqual([]);
    expect(got.tubes.get(50)).toMatchObject({ type: 'dbus', streamId: 9, initiator: 'alice@laptop', dbusName: EVE_NAME });
  });

  it('drops every entry of an id given twice (which one is meant is unknowable)', () => {
    const got = list(withEntries(goodStream(1), goodStream(7), goodDBus(7, 4), goodStream(2)), 'eve@evil');
    expect([...got.tubes.keys()]).toEqual([1, 2]);
    expect(got.problems).toEqual([{ reason: 'duplicate-id', tubeId: 7 }]);
    expect([...got.unreadable]).toEqual([7]);
  });

  it('drops every D-Bus tube claiming a stream id another one claims', () => {
    const got = list(withEntries(goodDBus(1, 5), goodDBus(2, 6), goodDBus(3, 5)), 'eve@evil');
    expect([...got.tubes.keys()]).toEqual([2]);
    expect(got.problems).toEqual([
      { reason: 'duplicate-stream-id', tubeId: 1 },
      { reason: 'duplicate-stream-id', tubeId: 3 },
    ]);
    expect([...got.unreadable].sort()).toEqual([1, 3]);
  });

  it('keeps the first 64 tubes of a longer list', () => {
    const entries = Array.from({ length: 70 }, (_, i) => goodStream(i + 1));
    const got = list(withEntries(...entries), 'eve@evil');
    expect(got.tubes.size).toBe(64);
    expect(got.tubes.has(64)).toBe(true);
    expect(got.tubes.has(65)).toBe(false);
    expect(got.problems.filter((p) => p.reason === 'too-many-tubes').map((p) => p.tubeId)).toEqual([65, 66, 67, 68, 69, 70]);
    expect(got.unreadable.size).toBe(0);
  });

  it('records at most 32 problems and counts the rest', () => {
    const entries = Array.from({ length: 500 }, () => '<tube service="s" id="x" type="stream"/>');
    const got = list(withEntries(goodStream(1), ...entries), 'eve@evil');
    expect([...got.tubes.keys()]).toEqual([1]);
    expect(got.problems).toHaveLength(32);
    expect(got.problemsOmitted).toBe(468);
  });
});

describe('a hostile parameter costs only that parameter (§7.1)', () => {
  const param = (xml: string): TubeList => list(withEntries(goodStream(1, `<parameters><parameter name="keep" type="bool">1</parameter>${xml}</parameters>`)), 'eve@evil');

  it.each([
    ['<parameter type="str">x</parameter>', 'missing-parameter-name'],
    [`<parameter name="${'n'.repeat(256)}" type="str">x</parameter>`, 'bad-parameter-name'],
    ['<parameter name="p">x</parameter>', 'missing-parameter-type'],
    ['<parameter name="p" type="float">1.5</parameter>', 'unknown-parameter-type'],
    ['<parameter name="p" type="int">abc</parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="int"></parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="int">2147483648</parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="int">-2147483649</parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="int">1.0</parameter>', 'bad-parameter-value'],
    [`<parameter name="p" type="int">${'1'.repeat(5000)}</parameter>`, 'bad-parameter-value'],
    ['<parameter name="p" type="uint">-1</parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="uint">4294967296</parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="uint">0x10</parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="bool">true</parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="bool"></parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="bytes">!!!!</parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="bytes">QQ</parameter>', 'bad-parameter-value'],
    ['<parameter name="p" type="bytes">QQ=A</parameter>', 'bad-parameter-value'],
    [`<parameter name="p" type="str">${'é'.repeat(4097)}</parameter>`, 'parameter-too-large'],
    [`<parameter name="p" type="bytes">${'AAAA'.repeat(2731)}</parameter>`, 'parameter-too-large'],
  ])('%s: dropped as %s', (xml, reason) => {
    const got = param(xml);
    expect(got.tubes.get(1)?.parameters).toEqual(new Map([['keep', { type: 'bool', value: true }]]));
    expect(got.problems).toEqual([{ reason, tubeId: 1, ...(reason === 'missing-parameter-name' ? {} : { parameter: reason === 'bad-parameter-name' ? 'n'.repeat(64) : 'p' }) }]);
  });

  it('drops every parameter of a name given twice', () => {
    const got = param('<parameter name="p" type="int">1</parameter><parameter name="p" type="int">2</parameter>');
    expect([...(got.tubes.get(1)?.parameters.keys() ?? [])]).toEqual(['keep']);
    expect(got.problems.map((p) => p.reason)).toEqual(['duplicate-parameter', 'duplicate-parameter']);
  });

  it('keeps the first 32 parameters', () => {
    const many = Array.from({ length: 40 }, (_, i) => `<parameter name="p${i}" type="uint">${i}</parameter>`).join('');
    const got = param(many);
    expect(got.tubes.get(1)?.parameters.size).toBe(32);
    expect(got.tubes.get(1)?.parameters.has('p30')).toBe(true);
    expect(got.tubes.get(1)?.parameters.has('p31')).toBe(false);
    expect(got.problems.map((p) => p.parameter)).toEqual(Array.from({ length: 9 }, (_, i) => `p${31 + i}`));
  });

  it('takes a missing <parameters> as none', () => {
    const got = list(withEntries('<tube service="s" id="3" type="stream"/>'), 'eve@evil');
    expect(got.tubes.get(3)?.parameters.size).toBe(0);
    expect(got.problems).toEqual([]);
  });
});

describe('a garbage list costs that list, nothing more', () => {
  it('refuses a stanza with two lists', () => {
    const stanza = parse(
      '<message xmlns="jabber:client" type="groupchat" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/></message>',
    );
    expect(readTubeList(stanza, 'eve@evil')).toMatchObject({ kind: 'rejected', reason: 'multiple-lists' });
  });

  it('refuses a list of more than 1024 entries', () => {
    const entries = Array.from({ length: 1025 }, (_, i) => goodStream(i + 1));
    expect(readTubeList(withEntries(...entries), 'eve@evil')).toMatchObject({ kind: 'rejected', reason: 'too-many-entries' });
    expect(readTubeList(withEntries(...entries.slice(0, 1024)), 'eve@evil')).toMatchObject({ kind: 'list' });
  });

  it('honours smaller limits given by the caller', () => {
    const got = readTubeList(withEntries(goodStream(1), goodStream(2), goodStream(3)), 'eve@evil', { maxTubes: 2, maxEntries: 3 });
    expect(got.kind === 'list' && [...got.list.tubes.keys()]).toEqual([1, 2]);
    expect(readTubeList(withEntries(goodStream(1), goodStream(2), goodStream(3)), 'eve@evil', { maxEntries: 2 })).toMatchObject({ kind: 'rejected' });
    expect(() => readTubeList(withEntries(), 'eve@evil', { maxTubes: 0 })).toThrow(RangeError);
  });
});

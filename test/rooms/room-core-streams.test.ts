import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import { SeededRandom } from '../../src/base/random.js';
import { simulatedRoomClock } from '../../src/rooms/room-clock.js';
import { RoomCore } from '../../src/rooms/room-core.js';
import type { RoomOutput } from '../../src/rooms/room-output.js';
import type { RoomSettings } from '../../src/rooms/room-setup.js';
import { NS_TUBES } from '../../src/xml/namespaces.js';
import { parseStanzaDocument } from '../../src/xml/stanza-document.js';
import { XmlElement } from '../../src/xml/xml-element.js';
import { propertySeed } from '../support/fast-check-seed.js';

/*
 * The room core's extension points for tubes (spec §7.2, §7.4): a body-less
 * groupchat message carrying a given element, data on streams 1..65535, and
 * what other members send of both. No sockets, no timers.
 */

const seed = propertySeed();
const SETTINGS: RoomSettings = {
  nick: undefined,
  status: 'avail',
  statusMessage: undefined,
  joinWaitMs: 5_000,
  maxStanzaBytes: 4096,
  maxQueuedSends: 4,
  maxQueuedBytes: 1000,
  maxStreamMessageBytes: 600,
  maxBufferedMessages: 100,
  lossWindowMs: 5_000,
};
const encoder = new TextEncoder();
const doc = (xml: string): Uint8Array => encoder.encode(`<?xml version="1.0" encoding="utf-8"?>\n${xml}\n`);

function harness(creator = true): { core: RoomCore; drain: () => RoomOutput[] } {
  const core = new RoomCore({
    name: 'lunch',
    selfName: 'me@here',
    address: '239.255.71.20',
    port: 5000,
    creator,
    advertises: false,
    mayMove: false,
    listed: () => undefined,
    contacts: undefined,
    settings: SETTINGS,
    time: simulatedRoomClock(() => 1_000_000, new SeededRandom(seed)),
    logger: silentLogger,
  });
  return { core, drain: () => core.drain() };
}

function member(creator = true): { core: RoomCore; drain: () => RoomOutput[] } {
  const h = harness(creator);
  h.core.groupConnected(h.core.groupId);
  h.core.membersJoined(h.core.groupId, ['bob@b']);
  h.drain();
  return h;
}

const transmits = (outputs: RoomOutput[]): Array<Extract<RoomOutput, { type: 'transmit' }>> => outputs.filter((o) => o.type === 'transmit');
const events = (outputs: RoomOutput[]): Array<Extract<RoomOutput, { type: 'event' }>> => outputs.filter((o) => o.type === 'event');

describe(`RoomCore tube extension points (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('sendElement: a body-less groupchat message on stream 0 carrying the element, in salut’s attribute order, once we are a member', () => {
    const h = harness(false);
    h.core.groupConnected(h.core.groupId);
    h.drain();
    const tubes = new XmlElement('tubes', NS_TUBES);
    const ticket = h.core.sendElement(tubes);
    // Changing the caller's element afterwards changes nothing queued.
    tubes.child('tube', NS_TUBES, { id: '1' });
    expect(transmits(h.drain())).toEqual([]);
    h.core.membersJoined(h.core.groupId, ['bob@b']);
    const [sent] = transmits(h.drain());
    expect(sent).toMatchObject({ ticket, streamId: 0 });
    expect(new TextDecoder().decode(sent!.bytes)).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n<message xmlns="jabber:client" type="groupchat" from="me@here" to="lunch"><tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/></message>\n',
    );
    h.core.transmitted(ticket, h.core.groupId);
    expect(h.drain()).toEqual([{ type: 'settled', ticket, result: undefined, error: undefined }]);
  });

  it('sendStream: one transmit on the given stream with a copy of the bytes; bad ids, empty and oversized data are refused', () => {
    const h = member();
    const data = Uint8Array.from([1, 2, 3]);
    const ticket = h.core.sendStream(7, data);
    data[0] = 99;
    const [sent] = transmits(h.drain());
    expect(sent).toMatchObject({ ticket, streamId: 7 });
    expect([...sent!.bytes]).toEqual([1, 2, 3]);
    h.core.transmitted(ticket, h.core.groupId);
    expect(h.drain()).toEqual([{ type: 'settled', ticket, result: undefined, error: undefined }]);
    expect(h.core.stats.sent).toBe(1);

    for (const id of [0, 65536, -1, 1.5, Number.NaN]) expect(() => h.core.sendStream(id, data)).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => h.core.sendStream(1, new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'bad-argument' }));
    expect(() => h.core.sendStream(1, new Uint8Array(601))).toThrow(expect.objectContaining({ code: 'too-large' }));
    expect(h.core.sendStream(65535, new Uint8Array(600))).toBeGreaterThan(0);
    expect(transmits(h.drain()).map((t) => t.streamId)).toEqual([65535]);
  });

  it('stream sends share the outgoing queue’s bounds: by count and by bytes', () => {
    const h = harness(false);
    h.core.groupConnected(h.core.groupId);
    h.drain();
    // Not a member yet: everything waits in the outbox.
    h.core.sendStream(1, new Uint8Array(350));
    h.core.sendStream(1, new Uint8Array(350));
    // 700 + 400 bytes exceed the 1000-byte budget.
    expect(() => h.core.sendStream(1, new Uint8Array(400))).toThrow(expect.objectContaining({ code: 'queue-full' }));
    h.core.sendStream(1, new Uint8Array(50));
    h.core.sendElement(new XmlElement('tubes', NS_TUBES));
    // Four waiting: the count bound.
    expect(() => h.core.sendStream(1, new Uint8Array(1))).toThrow(expect.objectContaining({ code: 'queue-full' }));
    expect(h.core.queued).toBe(4);
    h.core.membersJoined(h.core.groupId, ['bob@b']);
    const sent = transmits(h.drain());
    expect(sent.map((t) => [t.streamId, t.bytes.length])).toEqual([
      [1, 350],
      [1, 350],
      [1, 50],
      [0, expect.any(Number)],
    ]);
    // Taken by rMulticast: room again.
    for (const t of sent) h.core.transmitted(t.ticket, h.core.groupId);
    h.drain();
    expect(h.core.sendStream(2, new Uint8Array(600))).toBeGreaterThan(0);
  });

  it('data of another member on a stream 1..65535 is reported with sender, stream and bytes, and counted', () => {
    const h = member();
    const data = Uint8Array.from([9, 8, 7]);
    h.core.received(h.core.groupId, { sender: 'bob@b', streamId: 42, data });
    expect(events(h.drain())).toEqual([{ type: 'event', name: 'stream-data', args: [{ room: 'lunch', sender: 'bob@b', streamId: 42, data }] }]);
    expect(h.core.stats.streamReceived).toBe(1);
    expect(h.core.stats.received).toBe(0);
  });

  it('another member’s body-less tube list is reported with its <tubes> element; misaddressed or forged ones are refused instead', () => {
    const h = member();
    const list = '<tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"><tube service="x" id="5" type="stream"><parameters/></tube></tubes>';
    h.core.received(h.core.groupId, { sender: 'bob@b', streamId: 0, data: doc(`<message xmlns="jabber:client" type="groupchat" from="bob@b" to="lunch">${list}</message>`) });
    const [event] = events(h.drain());
    expect(event).toMatchObject({ name: 'tubes', args: [{ room: 'lunch', sender: 'bob@b' }] });
    const announcement = event!.name === 'tubes' ? event!.args[0] : undefined;
    expect(announcement?.element.is('tubes', NS_TUBES)).toBe(true);
    expect(announcement?.element.getChildren('tube').map((t) => t.getAttr('id'))).toEqual(['5']);
    expect(announcement?.stanza.name).toBe('message');

    h.core.received(h.core.groupId, { sender: 'bob@b', streamId: 0, data: doc(`<message xmlns="jabber:client" type="groupchat" from="bob@b" to="dinner">${list}</message>`) });
    h.core.received(h.core.groupId, { sender: 'bob@b', streamId: 0, data: doc(`<message xmlns="jabber:client" type="groupchat" from="eve@e" to="lunch">${list}</message>`) });
    expect(events(h.drain()).map((e) => [e.name, e.name === 'rejected' ? e.args[0].code : undefined])).toEqual([
      ['rejected', 'wrong-room'],
      ['rejected', 'forged-from'],
    ]);
    // A message with a body is text, whatever else it carries (§11 item 7).
    h.core.received(h.core.groupId, { sender: 'bob@b', streamId: 0, data: doc(`<message xmlns="jabber:client" type="groupchat" from="bob@b" to="lunch"><body>hi</body>${list}</message>`) });
    expect(events(h.drain()).map((e) => e.name)).toEqual(['message']);
  });

  it('another member’s body-less extension element (not a tube list) is reported as extension; with a body it is text; chat states stay typing', () => {
    const h = member();
    const share = '<share xmlns="urn:x-clique:files:0" id="s1" name="a.bin" size="3" sha256="00" stream="4"/>';
    h.core.received(h.core.groupId, { sender: 'bob@b', streamId: 0, data: doc(`<message xmlns="jabber:client" type="groupchat" from="bob@b" to="lunch">${share}</message>`) });
    const [event] = events(h.drain());
    expect(event).toMatchObject({ name: 'extension', args: [{ room: 'lunch', sender: 'bob@b' }] });
    const extension = event!.name === 'extension' ? event!.args[0] : undefined;
    expect(extension?.element.is('share', 'urn:x-clique:files:0')).toBe(true);
    expect(extension?.element.getAttr('stream')).toBe('4');
    expect(extension?.stanza.name).toBe('message');
    // Forged or misaddressed: refused like any stanza, never surfaced.
    h.core.received(h.core.groupId, { sender: 'bob@b', streamId: 0, data: doc(`<message xmlns="jabber:client" type="groupchat" from="eve@e" to="lunch">${share}</message>`) });
    expect(events(h.drain()).map((e) => e.name)).toEqual(['rejected']);
    // With a body it is a text message; a body-less one with only jabber:client children is nothing.
    h.core.received(h.core.groupId, { sender: 'bob@b', streamId: 0, data: doc(`<message xmlns="jabber:client" type="groupchat" from="bob@b" to="lunch"><body>hi</body>${share}</message>`) });
    h.core.received(h.core.groupId, { sender: 'bob@b', streamId: 0, data: doc(`<message xmlns="jabber:client" type="groupchat" from="bob@b" to="lunch"><thread>x</thread></message>`) });
    expect(events(h.drain()).map((e) => e.name)).toEqual(['message']);
  });

  it('a tube list parses back from what sendElement sent', () => {
    const h = member();
    const tubes = new XmlElement('tubes', NS_TUBES);
    tubes.child('tube', NS_TUBES, { service: 'chess', id: '9', type: 'stream' }).child('parameters', NS_TUBES);
    h.core.sendElement(tubes);
    const [sent] = transmits(h.drain());
    const stanza = parseStanzaDocument(sent!.bytes);
    expect(stanza.getChild('body')).toBeUndefined();
    expect(stanza.getChild('tubes', NS_TUBES)?.getChild('tube')?.getAttr('service')).toBe('chess');
  });
});

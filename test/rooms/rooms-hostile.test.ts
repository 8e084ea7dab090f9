import { afterEach, describe, expect, it } from 'vitest';
import type { EngineDriver } from '../../src/net/engine-driver.js';
import { openMulticastNode } from '../../src/net/multicast-node.js';
import type { RoomError } from '../../src/rooms/room-error.js';
import { capturingLogger, FAST_TIMING, LOOPBACK, record, runId, startClique, stopAll } from './room-test-kit.js';
import { waitFor } from '../support/wait.js';

/**
 * A hostile member (a bare rMulticast node, so it can put any bytes on
 * stream 0) in a room with two honest members: everything it sends that is
 * not a usable stanza for this room is refused with a typed, logged error;
 * the room keeps working throughout.
 */
const raw: EngineDriver[] = [];
afterEach(async () => {
  await Promise.all(raw.splice(0).map((d) => d.close()));
  await stopAll();
});

const encode = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('hostile stream-0 input', () => {
  it('is refused with typed errors, never delivered, and the room keeps working', async () => {
    const room = `hostile-${runId()}`;
    const { logger, records } = capturingLogger();
    const alice = await startClique('alice@test', { logger });
    const bob = await startClique('bob@test');
    const atAlice = await alice.join(room);
    const atBob = await bob.join(room, { address: atAlice.address, port: atAlice.port });
    const aliceLog = record(atAlice);
    const rejected: Array<{ code: string; cause: string | undefined; sender: string }> = [];
    atAlice.on('rejected', (error: RoomError, sender) => {
      rejected.push({ code: error.code, cause: (error.cause as { code?: string } | undefined)?.code, sender });
    });

    const mallory = await openMulticastNode({
      name: 'mallory@evil',
      group: atAlice.address,
      port: atAlice.port,
      interface: LOOPBACK,
      timing: FAST_TIMING,
      maxMessageSize: 64 * 1024 * 1024,
    });
    raw.push(mallory);
    await waitFor('mallory in the room', () => atAlice.member('mallory@evil') !== undefined && atBob.member('mallory@evil') !== undefined && mallory.members.length === 2);

    const bomb =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
      `<message xmlns="jabber:client" to="${room}" type="groupchat"><body>&lol3;</body></message>`;
    const stanza = (attrs: string, body = 'pwned'): string => `<message xmlns="jabber:client" ${attrs} type="groupchat"><body>${body}</body></message>`;
    const hostile: Array<[string, Uint8Array, string, string | undefined]> = [
      ['broken XML', encode(`<message xmlns="jabber:client" to="${room}"><body>x</message>`), 'bad-stanza', 'malformed'],
      ['entity bomb', encode(bomb), 'bad-stanza', 'dtd-forbidden'],
      ['undeclared entity', encode(stanza(`to="${room}"`, '&xxe;')), 'bad-stanza', 'entity-forbidden'],
      ['half a document', encode(`<message xmlns="jabber:client" to="${room}"><body>the rest comes`), 'bad-stanza', 'truncated'],
      ['two roots', encode(stanza(`to="${room}"`) + stanza(`to="${room}"`)), 'bad-stanza', 'multiple-roots'],
      ['invalid UTF-8', Uint8Array.from([...encode(`<message xmlns="jabber:client" to="${room}"><body>`), 0xff, 0xfe, ...encode('</body></message>')]), 'bad-stanza', 'invalid-utf8'],
      ['deep nesting', encode(`<message xmlns="jabber:client" to="${room}">${'<x>'.repeat(1000)}${'</x>'.repeat(1000)}</message>`), 'bad-stanza', 'too-deep'],
      ['300 KiB stanza', encode(stanza(`to="${room}"`, 'z'.repeat(300 * 1024))), 'bad-stanza', 'too-large'],
      ['empty message', new Uint8Array(0), 'bad-stanza', 'empty'],
      ['forged from', encode(stanza(`from="bob@test" to="${room}"`, 'I am bob')), 'forged-from', undefined],
      ['another room', encode(stanza('to="elsewhere"')), 'wrong-room', undefined],
      ['no to at all', encode(stanza('from="mallory@evil"')), 'wrong-room', undefined],
    ];
    for (const [, bytes] of hostile) mallory.send(0, bytes);
    // A usable message, then the same id again (a replay).
    mallory.send(0, encode(`<message xmlns="jabber:client" to="${room}" type="groupchat" id="dup-1"><body>first</body></message>`));
    mallory.send(0, encode(`<message xmlns="jabber:client" to="${room}" type="groupchat" id="dup-1"><body>replayed</body></message>`));
    // Tube data on another stream is not ours to read.
    mallory.send(7, encode('not xml at all'));

    await waitFor('all refusals', () => rejected.length === hostile.length + 1);
    expect(rejected.map((r) => [r.code, r.cause])).toEqual([...hostile.map(([, , code, cause]) => [code, cause]), ['duplicate', undefined]]);
    expect(rejected.every((r) => r.sender === 'mallory@evil')).toBe(true);
    expect(atAlice.stats.rejected).toBe(hostile.length + 1);
    // Delivered: only the one usable message, attributed to the real sender.
    expect(aliceLog.messages.map((m) => [m.sender, m.text])).toEqual([['mallory@evil', 'first']]);
    // Refusals are logged (warnings; a foreign room's traffic only at debug level, not captured here).
    const warned = records.filter((r) => r.message === 'stanza refused').map((r) => r.fields?.['code']);
    expect(warned).toContain('bad-stanza');
    expect(warned).toContain('forged-from');
    expect(warned).toContain('duplicate');

    // The room still works both ways.
    await atBob.send('still here');
    await waitFor('bob’s message at alice', () => aliceLog.messages.some((m) => m.text === 'still here'));
    await atAlice.send('me too');
    const bobLog = record(atBob);
    await waitFor('alice’s message at bob', () => bobLog.messages.some((m) => m.text === 'me too'));

    // A message beyond what the engine reassembles (1 MiB for rooms): the engine fails the sender,
    // which is reported gone; nothing of it is allocated or delivered.
    mallory.send(0, new Uint8Array(2 * 1024 * 1024).fill(0x41));
    await waitFor('mallory failed at alice and bob', () => atAlice.member('mallory@evil') === undefined && atBob.member('mallory@evil') === undefined);
    expect(aliceLog.left).toContain('mallory@evil');
    await atBob.send('after the flood');
    await waitFor('life goes on', () => aliceLog.messages.some((m) => m.text === 'after the flood'));
    expect(aliceLog.messages.filter((m) => m.sender === 'mallory@evil')).toHaveLength(1);
  });

  it("a salut peer's exact stanzas are displayed as salut means them", async () => {
    const room = `salut-${runId()}`;
    const alice = await startClique('alice@test');
    const atAlice = await alice.join(room);
    const aliceLog = record(atAlice);
    const salut = await openMulticastNode({ name: 'bob@desk', group: atAlice.address, port: atAlice.port, interface: LOOPBACK, timing: FAST_TIMING });
    raw.push(salut);
    await waitFor('bob in the room', () => atAlice.member('bob@desk') !== undefined);
    const doc = (inner: string, type = 'groupchat'): Uint8Array =>
      encode(`<?xml version="1.0" encoding="utf-8"?>\n<message xmlns="jabber:client" from="bob@desk" to="${room}" type="${type}">${inner}</message>\n`);
    const both = (text: string): string => `<body>${text}</body><html xmlns="http://jabber.org/protocol/xhtml-im"><body xmlns="http://www.w3.org/1999/xhtml">${text}</body></html>`;
    salut.send(0, doc('<tubes xmlns="http://telepathy.freedesktop.org/xmpp/tubes"/>')); // the join broadcast (§3.2 step 3)
    salut.send(0, doc(both('anyone for pizza?')));
    salut.send(0, doc(both('/me waves')));
    salut.send(0, doc(both('server restarting'), 'normal'));
    salut.send(0, doc(both('a &amp; b &lt;tag&gt;')));
    await waitFor('four messages', () => aliceLog.messages.length === 4);
    expect(aliceLog.messages.map((m) => [m.sender, m.kind, m.text])).toEqual([
      ['bob@desk', 'normal', 'anyone for pizza?'],
      ['bob@desk', 'action', 'waves'],
      ['bob@desk', 'notice', 'server restarting'],
      ['bob@desk', 'normal', 'a & b <tag>'],
    ]);
    // Salut sends no ids: each message still gets a distinct local one.
    expect(new Set(aliceLog.messages.map((m) => m.id)).size).toBe(4);
    expect(aliceLog.messages.every((m) => m.id.startsWith('local:'))).toBe(true);
    expect(atAlice.stats.rejected).toBe(0);

    // What we send is salut's shape: the bare node sees our body and XHTML copy, and no body in control stanzas.
    const atSalut: string[] = [];
    salut.on('message', (m) => atSalut.push(new TextDecoder().decode(m.data)));
    await atAlice.send('hi bob');
    await atAlice.setTopic('pizza');
    await atAlice.setTyping('composing');
    await waitFor('three stanzas at the salut node', () => atSalut.length === 3);
    expect(atSalut[0]).toContain(`<message xmlns="jabber:client" from="alice@test" to="${room}" type="groupchat"`);
    expect(atSalut[0]).toContain('<body>hi bob</body><html xmlns="http://jabber.org/protocol/xhtml-im"><body xmlns="http://www.w3.org/1999/xhtml">hi bob</body></html>');
    expect(atSalut.slice(1).every((s) => !s.includes('<body'))).toBe(true);
  });
});

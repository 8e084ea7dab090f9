import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DECLARATION, header, RawPeer, rawServer, StaticDirectory, STREAM_NS, startPeer, type TestPeer } from './xmpp-link-kit.js';
import { waitFor } from '../support/wait.js';

/**
 * Our streams against a hand-driven TCP peer: the exact bytes we send,
 * iChat-style peers, iq handling, spoofing, and hostile input. Bob is the
 * service under attack; alice is a well-behaved peer that must keep working.
 */
let directory: StaticDirectory;
let alice: TestPeer;
let bob: TestPeer;
const raws: RawPeer[] = [];

beforeEach(async () => {
  directory = new StaticDirectory();
  alice = await startPeer(directory, 'alice@laptop', '127.0.0.1', { timeouts: { idleMs: 60_000 } });
  bob = await startPeer(directory, 'bob@desk', '127.0.0.2', { timeouts: { idleMs: 60_000, headerMs: 1000, stanzaMs: 1000, closeMs: 1000 } });
  directory.add('mallory@evil', '127.0.0.6', 1); // a known contact that misbehaves (its port is never used)
  directory.add('ichat@mac', '127.0.0.5', 1);
});

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await Promise.all([alice.link.stop(), bob.link.stop()]);
});

async function connectToBob(from: string): Promise<RawPeer> {
  const raw = await RawPeer.connect(bob.port, '127.0.0.2', from);
  raws.push(raw);
  return raw;
}

/** Bob still serves well-behaved peers after whatever happened. */
async function bobStillWorks(): Promise<void> {
  const before = bob.messages.length;
  await alice.link.sendMessage('bob@desk', `still there? ${before}`);
  await waitFor('bob receives from alice', () => bob.texts('alice@laptop').includes(`still there? ${before}`));
  await bob.link.sendMessage('alice@laptop', `yes ${before}`);
  await waitFor('alice receives from bob', () => alice.texts('bob@desk').includes(`yes ${before}`));
}

const RESPONDER_PREFIX = `${DECLARATION}<stream:stream ${STREAM_NS}`;

describe('exact bytes on the wire', () => {
  it('initiator: declaration + header with to/from/version, waits for the answer, then features and the stanza', async () => {
    const server = await rawServer('127.0.0.4');
    directory.add('raw@peer', '127.0.0.4', server.port);
    try {
      let resolved = false;
      const sent = alice.link.sendMessage('raw@peer', 'hi & <bye>').then(() => {
        resolved = true;
      });
      await waitFor('connection and header', () => server.accepted.length === 1 && server.accepted[0]!.received.length > 0);
      const raw = server.accepted[0]!;
      const expectedHeader = `<?xml version='1.0' encoding='UTF-8'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to="raw@peer" from="alice@laptop" version="1.0">`;
      await raw.waitForText(expectedHeader);
      expect(raw.text).toBe(expectedHeader);
      expect(resolved).toBe(false); // nothing is sent before the peer's header

      await raw.write(`${DECLARATION}<stream:stream ${STREAM_NS} from="" version="1.0"><stream:features/>`);
      await sent;
      const message =
        '<message from="alice@laptop" to="raw@peer" type="chat"><body>hi &amp; &lt;bye&gt;</body>' +
        '<html xmlns="http://jabber.org/protocol/xhtml-im"><body xmlns="http://www.w3.org/1999/xhtml">hi &amp; &lt;bye&gt;</body></html></message>';
      await raw.waitForText(message);
      expect(raw.text).toBe(`${expectedHeader}<stream:features/>${message}`);

      // The peer closes: we answer with our close and the connection ends.
      await raw.write('</stream:stream>');
      await raw.waitForText(`${message}</stream:stream>`);
      await raw.waitClosed();
      await waitFor('alice sees the stream closed', () => alice.closed.length === 1);
      expect(alice.closed[0]).toEqual({ contact: 'raw@peer', direction: 'outgoing' });
    } finally {
      await server.close();
    }
  });

  it('responder: header with to = the peer, our from, version 1.0, then empty features', async () => {
    const raw = await connectToBob('127.0.0.6');
    await raw.write(header('mallory@evil', 'bob@desk'));
    const expected = `${RESPONDER_PREFIX} to="mallory@evil" from="bob@desk" version="1.0"><stream:features/>`;
    await raw.waitForText(expected);
    expect(raw.text).toBe(expected);
    // Stopping the service says goodbye on every stream.
    await bob.link.stop();
    await raw.waitForText(`${expected}</stream:stream>`);
    await raw.waitClosed();
  });

  it('an iChat peer (no from/to anywhere) is identified by its source address; partial composing messages are dropped', async () => {
    const raw = await connectToBob('127.0.0.5');
    await raw.write(header());
    await raw.waitForText(`${RESPONDER_PREFIX} from="bob@desk" version="1.0"><stream:features/>`);
    expect(raw.text).not.toContain(' to=');
    await raw.write('<message to="bob@desk" type="chat"><body>h</body><x xmlns="jabber:x:event"><composing/><id>1</id></x></message>');
    await raw.write('<message to="bob@desk"><body>hi</body><x xmlns="jabber:x:event"><composing/></x></message>');
    await raw.write('<message to="bob@desk" type="chat"><body>second</body></message>');
    await waitFor('bob gets the two complete messages', () => bob.messages.length === 2);
    expect(bob.messages.map((m) => [m.from, m.kind, m.text])).toEqual([
      ['ichat@mac', 'notice', 'hi'],
      ['ichat@mac', 'normal', 'second'],
    ]);
    // Bob's answer goes back over the same stream.
    await bob.link.sendMessage('ichat@mac', 'hello iChat');
    await raw.waitForText('<message from="bob@desk" to="ichat@mac" type="chat"><body>hello iChat</body>');
  });

  it('drops connections it cannot attribute: no from and unknown address, unknown from, our own name', async () => {
    for (const [source, from] of [
      ['127.0.0.7', undefined],
      ['127.0.0.6', 'stranger@nowhere'],
      ['127.0.0.6', 'bob@desk'],
    ] as const) {
      const raw = await connectToBob(source);
      await raw.write(header(from, 'bob@desk'));
      await raw.waitClosed();
      expect(raw.text).toBe(''); // not even a header back
    }
    await bobStillWorks();
  });
});

describe('stanza handling on an identified stream', () => {
  async function mallory(): Promise<RawPeer> {
    const raw = await connectToBob('127.0.0.6');
    await raw.write(header('mallory@evil', 'bob@desk'));
    await raw.waitForText('<stream:features/>');
    return raw;
  }

  it('answers iq get/set with service-unavailable and ignores iq without id', async () => {
    const raw = await mallory();
    await raw.write('<iq type="get"><query xmlns="urn:x"/></iq>');
    await raw.write('<iq type="set" id="q2" from="mallory@evil"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>');
    await raw.write('<iq type="result" id="q3"/>');
    await raw.waitForText('</iq>');
    await raw.write('<iq type="get" id="q4"><ping xmlns="urn:xmpp:ping"/></iq>');
    await raw.waitForText('id="q4"');
    const replies = raw.text.match(/<iq [^>]*>/g);
    expect(replies).toEqual(['<iq type="error" id="q2" from="bob@desk" to="mallory@evil">', '<iq type="error" id="q4" from="bob@desk" to="mallory@evil">']);
    expect(raw.text).toContain('<error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error></iq>');
  });

  it("drops stanzas whose from is not the stream's peer (our safe deviation from salut)", async () => {
    const raw = await mallory();
    await raw.write('<message from="alice@laptop" type="chat"><body>spoofed</body></message>');
    await raw.write('<message type="chat"><body>no from</body></message>');
    await raw.write('<message from="mallory@evil" type="chat"><body>own from</body></message>');
    await raw.write(`<message from="alice@laptop"><invite xmlns="http://telepathy.freedesktop.org/xmpp/clique"><roomname>r</roomname><address>1.2.3.4</address><port>5</port></invite></message>`);
    await waitFor('two genuine messages', () => bob.messages.length === 2);
    expect(bob.messages.map((m) => [m.from, m.text])).toEqual([
      ['mallory@evil', 'no from'],
      ['mallory@evil', 'own from'],
    ]);
    expect(bob.invitations).toEqual([]);
  });

  it('takes invitations from any message type, drops invalid ones silently, never shows them as chat', async () => {
    const raw = await mallory();
    const invite = (inner: string, type = 'normal'): string =>
      `<message type="${type}"><body>You got a Clique chatroom invitation</body><invite xmlns="http://telepathy.freedesktop.org/xmpp/clique">${inner}</invite></message>`;
    await raw.write(invite('<roomname>a</roomname><address>lunch.local</address><port>1</port>')); // not an IP literal
    await raw.write(invite('<roomname>b</roomname><address>1.2.3.4</address>')); // no port
    await raw.write(invite('<roomname></roomname><address>1.2.3.4</address><port>1</port>')); // empty room
    await raw.write(invite('<port>62472</port><address>239.255.71.249</address><roomname>my-room</roomname><reason>Inviting to this room</reason>', 'chat'));
    await raw.write('<message type="chat"><body>after</body></message>');
    await waitFor('the chat message after the invitations', () => bob.messages.length === 1);
    expect(bob.invitations.map((i) => [i.from, i.invitation.room, i.invitation.address, i.invitation.port, i.invitation.reason])).toEqual([
      ['mallory@evil', 'my-room', '239.255.71.249', 62472, 'Inviting to this room'],
    ]);
    expect(bob.texts()).toEqual(['after']);
  });
});

describe('hostile peers cost one stream only', () => {
  const identified = header('mallory@evil', 'bob@desk');
  const attacks: Array<[string, Array<string | Uint8Array>]> = [
    ['garbage before the header', ['\u0000\u0001GET / HTTP/1.1\r\n\r\n']],
    ['garbage after the header', [identified, '<<<>>>&&&']],
    ['not a stream root', ['<message><body>x</body></message>']],
    ['billion laughs in the prolog', [`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>`]],
    ['external entity / SYSTEM DTD', ['<?xml version="1.0"?><!DOCTYPE stream SYSTEM "file:///etc/passwd">']],
    ['entity reference in a stanza', [identified, '<message type="chat"><body>&xxe;</body></message>']],
    ['DOCTYPE inside the stream', [identified, '<!DOCTYPE x [<!ENTITY a "b">]>']],
    ['unbalanced tags', [identified, '<message><body></message>']],
    ['invalid UTF-8 split across chunks', [identified, '<message type="chat"><body>', new Uint8Array([0xe2]), new Uint8Array([0x28, 0xa1]), '</body></message>']],
    ['10 000-deep nesting', [identified, '<a>'.repeat(10_000)]],
    ['attribute bomb', [identified, `<message ${Array.from({ length: 5000 }, (_, i) => `a${i}="x"`).join(' ')}/>`]],
    ['2 MiB stanza', [identified, `<message type="chat"><body>${'x'.repeat(2 * 1024 * 1024)}</body></message>`]],
    ['oversize header', [`<stream:stream ${STREAM_NS} from="${'m'.repeat(100_000)}">`]],
  ];

  it.each(attacks)('%s: the connection is dropped and bob keeps serving', async (_name, parts) => {
    const raw = await connectToBob('127.0.0.6');
    for (const part of parts) await raw.write(part);
    await raw.waitClosed();
    // A stanza sent with the attack never reaches the application.
    expect(bob.messages).toEqual([]);
    await waitFor('no stream left for mallory', () => bob.link.streamsOf('mallory@evil').length === 0);
    await bobStillWorks();
  });

  it('a 100 MB stanza streamed in chunks is refused early, long before 100 MB arrive', async () => {
    const raw = await connectToBob('127.0.0.6');
    await raw.write(`${identified}<message type="chat"><body>`);
    const chunk = 'x'.repeat(64 * 1024);
    let sent = 0;
    while (raw.socket.writable && sent < 100 * 1024 * 1024) {
      await raw.write(chunk);
      sent += chunk.length;
      await new Promise((resolve) => setImmediate(resolve)); // let the socket notice the drop
    }
    await raw.waitClosed();
    if (process.env['CLIQUE_LOG'] === 'debug') process.stderr.write(`100 MB attack: ${sent} bytes written before the drop\n`);
    // Limit 1 MiB; what was written beyond that sat in socket buffers when the connection dropped.
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    await bobStillWorks();
  });

  it('slowloris: a header that never completes is dropped after the header timeout', async () => {
    const raw = await connectToBob('127.0.0.6');
    const trickle = setInterval(() => void raw.write('x'), 50);
    try {
      await raw.write(`${DECLARATION}<stream:stream ${STREAM_NS} from="mallory@evil" to="`);
      await raw.waitClosed();
    } finally {
      clearInterval(trickle);
    }
    expect(raw.text).toBe('');
    await bobStillWorks();
  });

  it('slowloris: a stanza trickling byte by byte is dropped after the stanza timeout', async () => {
    const raw = await connectToBob('127.0.0.6');
    await raw.write(`${identified}<message type="chat"><body>`);
    await raw.waitForText('<stream:features/>');
    const trickle = setInterval(() => void raw.write('y'), 50);
    try {
      await raw.waitClosed();
    } finally {
      clearInterval(trickle);
    }
    expect(bob.messages).toEqual([]);
    await bobStillWorks();
  });

  it('whitespace keepalives do not count as a started stanza', async () => {
    const raw = await connectToBob('127.0.0.6');
    await raw.write(identified);
    await raw.waitForText('<stream:features/>');
    for (let i = 0; i < 30; i++) {
      await raw.write(' ');
      await new Promise((resolve) => setTimeout(resolve, 50)); // 1.5 s in total, over the 1 s stanza timeout
    }
    expect(raw.closed).toBe(false);
    await raw.write('<message type="chat"><body>alive</body></message>');
    await waitFor('message after keepalives', () => bob.texts('mallory@evil').includes('alive'));
  });

  it('a peer vanishing mid-stanza loses only that stanza', async () => {
    const raw = await connectToBob('127.0.0.6');
    await raw.write(identified);
    await raw.waitForText('<stream:features/>');
    await raw.write('<message type="chat"><body>complete</body></message><message type="chat"><body>cut of');
    await waitFor('the complete message', () => bob.messages.length === 1);
    raw.destroy();
    await waitFor('bob notices', () => bob.closed.some((e) => e.contact === 'mallory@evil'));
    expect(bob.closed.find((e) => e.contact === 'mallory@evil')?.reason?.code).toBe('stream-closed');
    expect(bob.texts()).toEqual(['complete']);
    await bobStillWorks();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { LinkError } from '../../src/linklocal/link-error.js';
import { el } from '../../src/xml/xml-element.js';
import { rawServer, StaticDirectory, startPeer, type PeerOptions, type TestPeer } from './xmpp-link-kit.js';
import { sleep, waitFor } from '../support/wait.js';
import { rejectionOf } from '../support/rejection.js';

// Long idle timeout unless a test is about idling, so streams stay put while we look at them.
const STEADY: PeerOptions = { timeouts: { idleMs: 60_000 } };

let peers: TestPeer[] = [];
let cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(peers.map((p) => p.link.stop()));
  await Promise.all(cleanups.map((c) => c()));
  peers = [];
  cleanups = [];
});

async function start(directory: StaticDirectory, name: string, address: string, options: PeerOptions = STEADY): Promise<TestPeer> {
  const peer = await startPeer(directory, name, address, options);
  peers.push(peer);
  return peer;
}

describe('XEP-0174 1-1 chat between our own peers over TCP', () => {
  it('two peers chat both ways over one reused stream, with actions and notices', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1');
    const bob = await start(directory, 'bob@desk', '127.0.0.2');

    await alice.link.sendMessage('bob@desk', 'hello bob');
    await waitFor('bob gets the message', () => bob.messages.length === 1);
    expect(bob.messages[0]).toMatchObject({ from: 'alice@laptop', kind: 'normal', text: 'hello bob', type: 'chat' });

    await bob.link.sendMessage('alice@laptop', 'waves', { kind: 'action' });
    await bob.link.sendMessage(directory.get('alice@laptop')!, 'system notice', { kind: 'notice' });
    await waitFor('alice gets both', () => alice.messages.length === 2);
    expect(alice.messages.map((m) => [m.from, m.kind, m.text, m.type])).toEqual([
      ['bob@desk', 'action', 'waves', 'chat'],
      ['bob@desk', 'notice', 'system notice', 'normal'],
    ]);

    // Bob answered over alice's stream: one stream each side, opened once.
    expect(alice.opened).toEqual([{ contact: 'bob@desk', direction: 'outgoing' }]);
    expect(bob.opened).toEqual([{ contact: 'alice@laptop', direction: 'incoming' }]);
    expect(alice.link.streamsOf('bob@desk')).toHaveLength(1);
    expect(bob.link.streamsOf('alice@laptop')).toHaveLength(1);
    // The stream peer was identified from the header's from and the source address is bob's interface.
    expect(bob.link.streamsOf('alice@laptop')[0]!.remoteAddress).toBe('127.0.0.1');
  });

  it('three peers chat and invite each other; invitations carry reason and extensions', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1');
    const bob = await start(directory, 'bob@desk', '127.0.0.2');
    const carol = await start(directory, 'carol@tablet', '127.0.0.3');

    const properties = el('properties', 'http://laptop.org/xmpp/activity-properties', {}, el('property', 'http://laptop.org/xmpp/activity-properties', { name: 'color', type: 'str' }, '#ff0000,#00ff00'));
    await alice.link.sendInvitation('bob@desk', { room: 'lunch', address: '239.255.71.23', port: 40123, reason: 'join us', extensions: [properties] });
    await alice.link.sendInvitation('carol@tablet', { room: 'lunch', address: '239.255.71.23', port: 40123 });
    await bob.link.sendInvitation('carol@tablet', { room: 'tea', address: 'ff02::1', port: 5000, reason: 'or tea?' });
    await carol.link.sendMessage('alice@laptop', 'thanks');
    await carol.link.sendMessage('bob@desk', 'thanks too');

    await waitFor('everything delivered', () => bob.invitations.length === 1 && carol.invitations.length === 2 && alice.messages.length === 1 && bob.messages.length === 1);
    expect(bob.invitations[0]!.from).toBe('alice@laptop');
    expect(bob.invitations[0]!.invitation).toMatchObject({ room: 'lunch', address: '239.255.71.23', port: 40123, reason: 'join us' });
    expect(bob.invitations[0]!.invitation.extensions.map((e) => e.getChild('property')?.text())).toEqual(['#ff0000,#00ff00']);
    const carolGot = carol.invitations.map((i) => [i.from, i.invitation.room, i.invitation.address, i.invitation.port, i.invitation.reason]);
    expect(carolGot).toContainEqual(['alice@laptop', 'lunch', '239.255.71.23', 40123, '']);
    expect(carolGot).toContainEqual(['bob@desk', 'tea', 'ff02::1', 5000, 'or tea?']);
    // Invitations are never shown as chat text.
    expect(bob.messages.map((m) => m.text)).toEqual(['thanks too']);
    expect(alice.texts('carol@tablet')).toEqual(['thanks']);
  });

  it('refuses bad invitation parameters locally', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1');
    await start(directory, 'bob@desk', '127.0.0.2');
    expect((await rejectionOf(alice.link.sendInvitation('bob@desk', { room: 'x', address: 'desk.local', port: 1 }), LinkError)).code).toBe('invalid-argument');
    expect((await rejectionOf(alice.link.sendInvitation('bob@desk', { room: 'x', address: '1.2.3.4', port: 0 }), LinkError)).code).toBe('invalid-argument');
    expect((await rejectionOf(alice.link.sendInvitation('bob@desk', { room: '', address: '1.2.3.4', port: 1 }), LinkError)).code).toBe('invalid-argument');
  });

  it('delivers messages sent while the stream is still being opened, in order', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1');
    const bob = await start(directory, 'bob@desk', '127.0.0.2');
    const texts = Array.from({ length: 50 }, (_, i) => `message ${i}`);
    // Not awaited one by one: all are queued before the TCP connection even exists.
    await Promise.all(texts.map((t) => alice.link.sendMessage('bob@desk', t)));
    await waitFor('all queued messages arrive', () => bob.messages.length === texts.length);
    expect(bob.texts()).toEqual(texts);
    expect(alice.opened).toHaveLength(1);
  });

  it('simultaneous connects from both sides lose no message and settle on one stream', async () => {
    for (const [first, second] of [
      ['alice@laptop', 'bob@desk'],
      ['zed@laptop', 'amy@desk'], // the other name order, so the other side's stream wins
    ] as const) {
      const directory = new StaticDirectory();
      const a = await start(directory, first, '127.0.0.1');
      const b = await start(directory, second, '127.0.0.2');
      const count = 20;
      const sends: Array<Promise<void>> = [];
      for (let i = 0; i < count; i++) {
        sends.push(a.link.sendMessage(second, `a${i}`));
        sends.push(b.link.sendMessage(first, `b${i}`));
      }
      await Promise.all(sends);
      await waitFor(`all messages delivered (${first} / ${second})`, () => a.messages.length === count && b.messages.length === count);
      expect(b.texts()).toEqual(Array.from({ length: count }, (_, i) => `a${i}`));
      expect(a.texts()).toEqual(Array.from({ length: count }, (_, i) => `b${i}`));
      // Both sides really connected at once: each accepted the other's connection.
      expect(a.opened.some((e) => e.direction === 'incoming') && b.opened.some((e) => e.direction === 'incoming')).toBe(true);
      await waitFor(
        'each side settles on one stream',
        () => a.link.streamsOf(second).filter((s) => s.state === 'open').length === 1 && a.link.streamsOf(second).length === 1 && b.link.streamsOf(first).length === 1,
      );
      // After settling, both sides use the same connection: more messages open nothing new.
      const openedBefore = a.opened.length + b.opened.length;
      await a.link.sendMessage(second, 'after');
      await b.link.sendMessage(first, 'after');
      await waitFor('messages after settling', () => a.messages.length === count + 1 && b.messages.length === count + 1);
      expect(a.opened.length + b.opened.length).toBe(openedBefore);
      await Promise.all([a.link.stop(), b.link.stop()]);
    }
  });

  it('closes an unheld stream after the idle time and reopens on the next send; a held stream stays', async () => {
    const directory = new StaticDirectory();
    const idle: PeerOptions = { timeouts: { idleMs: 300 } };
    const alice = await start(directory, 'alice@laptop', '127.0.0.1', idle);
    const bob = await start(directory, 'bob@desk', '127.0.0.2', { timeouts: { idleMs: 60_000 } });

    await alice.link.sendMessage('bob@desk', 'one');
    await waitFor('idle stream closed on both sides', () => alice.closed.length === 1 && bob.closed.length === 1);
    expect(alice.closed[0]).toEqual({ contact: 'bob@desk', direction: 'outgoing' }); // orderly: no reason
    expect(alice.link.streamsOf('bob@desk')).toHaveLength(0);

    await alice.link.sendMessage('bob@desk', 'two');
    await waitFor('second message over a new stream', () => bob.messages.length === 2);
    expect(alice.opened).toHaveLength(2);

    // Holding: the stream outlives several idle periods, then closes once released.
    await waitFor('second stream idles out too', () => alice.closed.length === 2);
    const release = alice.link.holdStream('bob@desk');
    await alice.link.sendMessage('bob@desk', 'three');
    await sleep(1200); // four idle periods
    expect(alice.closed).toHaveLength(2);
    expect(alice.link.streamsOf('bob@desk').map((s) => s.state)).toEqual(['open']);
    release();
    await waitFor('released stream idles out', () => alice.closed.length === 3);
  });

  it('a throwing listener does not break the stream or the process', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1');
    const bob = await start(directory, 'bob@desk', '127.0.0.2');
    bob.link.on('message', (m) => {
      if (m.text === 'boom') throw new Error('listener bug');
    });
    bob.link.on('stream-opened', () => {
      throw new Error('listener bug');
    });
    await alice.link.sendMessage('bob@desk', 'boom');
    await alice.link.sendMessage('bob@desk', 'fine');
    await waitFor('both messages reach the other listener', () => bob.messages.length === 2);
    expect(bob.texts()).toEqual(['boom', 'fine']);
    expect(alice.link.streamsOf('bob@desk')).toHaveLength(1);
  });

  it('sends to ourselves are delivered locally', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1');
    await alice.link.sendMessage('alice@laptop', 'note to self');
    await alice.link.sendInvitation('alice@laptop', { room: 'r', address: '127.0.0.1', port: 4000 });
    await waitFor('loopback delivery', () => alice.messages.length === 1 && alice.invitations.length === 1);
    expect(alice.messages[0]).toMatchObject({ from: 'alice@laptop', text: 'note to self' });
    expect(alice.opened).toHaveLength(0);
  });

  it('async iterators yield messages and invitations and end on stop', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1');
    const bob = await start(directory, 'bob@desk', '127.0.0.2');
    const collected: string[] = [];
    const reading = (async () => {
      for await (const message of bob.link.messages()) collected.push(message.text);
    })();
    await alice.link.sendMessage('bob@desk', 'x');
    await alice.link.sendMessage('bob@desk', 'y');
    await waitFor('iterator yields', () => collected.length === 2);
    await bob.link.stop();
    await reading; // ends instead of hanging
    expect(collected).toEqual(['x', 'y']);
  });
});

describe('XEP-0174 send failures are typed', () => {
  it('unknown contact, unreachable contact, not started / stopped', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1');
    expect((await rejectionOf(alice.link.sendMessage('nobody@nowhere', 'x'), LinkError)).code).toBe('unknown-contact');

    // A port nobody listens on: take a free one and close it again.
    const server = await rawServer('127.0.0.9');
    await server.close();
    directory.add('gone@away', '127.0.0.9', server.port);
    expect((await rejectionOf(alice.link.sendMessage('gone@away', 'x'), LinkError)).code).toBe('unreachable');
    expect(alice.link.streamsOf('gone@away')).toHaveLength(0);

    await alice.link.stop();
    expect((await rejectionOf(alice.link.sendMessage('gone@away', 'x'), LinkError)).code).toBe('stopped');
  });

  it('a contact that accepts TCP but never answers the header: connect-timeout, queued messages all rejected', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1', { timeouts: { headerMs: 300, idleMs: 60_000 } });
    const silent = await rawServer('127.0.0.8');
    cleanups.push(() => silent.close());
    directory.add('silent@box', '127.0.0.8', silent.port);
    const results = await Promise.allSettled([alice.link.sendMessage('silent@box', 'a'), alice.link.sendMessage('silent@box', 'b')]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as LinkError).code : 'fulfilled'))).toEqual(['connect-timeout', 'connect-timeout']);
    // It did receive our header: the failure is the missing answer, not the connection.
    expect(silent.accepted[0]?.text).toContain('to="silent@box" from="alice@laptop"');
  });

  it('refuses with queue-full once too many bytes wait for a stream', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1', { timeouts: { headerMs: 500, idleMs: 60_000 }, maxBufferedBytes: 256 * 1024 });
    const silent = await rawServer('127.0.0.8');
    cleanups.push(() => silent.close());
    directory.add('silent@box', '127.0.0.8', silent.port);
    const big = 'x'.repeat(16 * 1024); // about 32 KiB on the wire: the body and its XHTML-IM copy
    // All queued synchronously while the stream is still connecting: 256 KiB hold fewer than 8 of them.
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => alice.link.sendMessage('silent@box', big)));
    const codes = results.map((r) => (r.status === 'rejected' ? (r.reason as LinkError).code : 'sent'));
    expect(codes.slice(0, 7)).toEqual(Array(7).fill('connect-timeout')); // queued, then the peer never answered
    expect(codes.slice(7)).toEqual(Array(13).fill('queue-full'));
  });

  it('tries the next address when the first one refuses', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1');
    const bob = await start(directory, 'bob@desk', '127.0.0.2');
    const dead = await rawServer('127.0.0.9');
    await dead.close();
    const contact = directory.get('bob@desk')!;
    contact.addresses = ['127.0.0.9', '127.0.0.2'];
    // Bob's port on 127.0.0.9 is closed (nothing listens there): the first attempt is refused.
    await alice.link.sendMessage('bob@desk', 'via the second address');
    await waitFor('delivered via second address', () => bob.messages.length === 1);
  });

  it('pending sends are rejected with stopped when the service stops mid-connect', async () => {
    const directory = new StaticDirectory();
    const alice = await start(directory, 'alice@laptop', '127.0.0.1', { timeouts: { headerMs: 10_000, closeMs: 500 } });
    const silent = await rawServer('127.0.0.8');
    cleanups.push(() => silent.close());
    directory.add('silent@box', '127.0.0.8', silent.port);
    const pending = rejectionOf(alice.link.sendMessage('silent@box', 'never'), LinkError);
    await waitFor('connection made', () => silent.accepted.length === 1);
    await alice.link.stop();
    expect((await pending).code).toBe('stopped');
    // Our side said goodbye properly even though the peer never answered.
    await silent.accepted[0]!.waitForText('</stream:stream>');
  });
});

import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { IqErrorAnswer } from '../../src/linklocal/iq-router.js';
import { buildContactTubeClose, buildContactTubeOffer, readContactTubeIq } from '../../src/tubes/contact-tube-iq.js';
import { ContactStreamTubes, type ContactTubeInvite } from '../../src/tubes/contact-stream-tubes.js';
import type { TubeLink } from '../../src/tubes/tube-link.js';
import { NS_TUBES } from '../../src/xml/namespaces.js';
import { parseStanzaDocument } from '../../src/xml/stanza-document.js';
import { buildIq } from '../../src/xml/stanzas.js';
import { el } from '../../src/xml/xml-element.js';
import { serializeElement } from '../../src/xml/xml-serialize.js';
import { propertySeed } from '../support/fast-check-seed.js';
import { waitFor } from '../support/wait.js';
import { roundTrip, startEchoServer } from '../support/tcp-echo.js';
import { StaticDirectory, startPeer, type TestPeer } from '../linklocal/xmpp-link-kit.js';
import { rejectionOf } from '../support/rejection.js';

/**
 * 1-1 stream tubes (spec §7.6): the iqs byte for byte, and both directions
 * over real XEP-0174 streams and TCP between two peers on 127.0.0.1 and
 * 127.0.0.2 (a static contact directory: no mDNS needed), with the hostile
 * cases: foreign sources, malformed and duplicate offers, floods, and a
 * salut-like peer that answers service-unavailable.
 */
const seed = propertySeed();
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('1-1 tube iqs (§7.6)', () => {
  it('builds the documented offer (parameters inside <tube>, where salut reads) and close', () => {
    const offer = buildContactTubeOffer({ id: 42, service: 'vnc', port: 5900, parameters: new Map([['screen', { type: 'uint', value: 1 }]]) });
    expect(serializeElement(offer)).toBe(
      '<iq xmlns="jabber:client" type="set"><tube xmlns="http://telepathy.freedesktop.org/xmpp/tubes" type="stream" service="vnc" id="42">' +
        '<parameters><parameter name="screen" type="uint">1</parameter></parameters><transport port="5900"/></tube></iq>',
    );
    expect(serializeElement(buildContactTubeClose(42))).toBe('<iq xmlns="jabber:client" type="set"><close xmlns="http://telepathy.freedesktop.org/xmpp/tubes" id="42"/></iq>');
    expect(readContactTubeIq(offer)).toEqual({ kind: 'offer', offer: { id: 42, service: 'vnc', port: 5900, parameters: new Map([['screen', { type: 'uint', value: 1 }]]) } });
  });

  it('reads the documented example too, with <parameters> beside <tube>', () => {
    const doc = parseStanzaDocument(
      new TextEncoder().encode(
      '<iq xmlns="jabber:client" type="set" id="1"><tube xmlns="http://telepathy.freedesktop.org/xmpp/tubes" type="stream" service="S" id="7"><transport port="4000"/></tube>' +
        '<parameters xmlns="http://telepathy.freedesktop.org/xmpp/tubes"><parameter name="n" type="str">v</parameter></parameters></iq>',
      ),
    );
    expect(readContactTubeIq(doc)).toEqual({ kind: 'offer', offer: { id: 7, service: 'S', port: 4000, parameters: new Map([['n', { type: 'str', value: 'v' }]]) } });
  });

  it('malformed is bad-request: ids outside 1..4294967295, no port, not a stream tube', () => {
    const offer = (attrs: Record<string, string>, port?: string) =>
      buildIq({ type: 'set' }, el('tube', NS_TUBES, { type: 'stream', service: 's', id: '1', ...attrs }, ...(port !== undefined ? [el('transport', NS_TUBES, { port })] : [])));
    for (const id of ['0', '4294967296', '-1', 'x', '']) expect(readContactTubeIq(offer({ id }, '1')).kind).toBe('bad-request');
    expect(readContactTubeIq(offer({ id: '4294967295' }, '1')).kind).toBe('offer');
    expect(readContactTubeIq(offer({})).kind).toBe('bad-request');
    expect(readContactTubeIq(offer({}, '65536')).kind).toBe('bad-request');
    expect(readContactTubeIq(offer({ type: 'dbus' }, '1')).kind).toBe('bad-request');
    expect(readContactTubeIq(offer({ service: '' }, '1')).kind).toBe('bad-request');
    expect(readContactTubeIq(buildIq({ type: 'set' }, el('close', NS_TUBES, { id: '0' }))).kind).toBe('bad-request');
  });

  it(`never throws on any attributes (seed ${seed})`, () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('type', 'service', 'id'), fc.string()), fc.option(fc.string()), fc.boolean(), (attrs, port, close) => {
        const iq = close
          ? buildIq({ type: 'set' }, el('close', NS_TUBES, attrs))
          : buildIq({ type: 'set' }, el('tube', NS_TUBES, attrs, ...(port !== null ? [el('transport', NS_TUBES, { port })] : [])));
        const read = readContactTubeIq(iq);
        if (read.kind === 'offer') expect(read.offer.id).toBeGreaterThanOrEqual(1);
      }),
      { seed },
    );
  });
});

interface Side {
  peer: TestPeer;
  link: TubeLink & { interfaceAddress: string };
  tubes: ContactStreamTubes;
  invites: ContactTubeInvite[];
}

async function pair(options: { maxInvites?: number } = {}): Promise<{ alice: Side; bob: Side; directory: StaticDirectory }> {
  const directory = new StaticDirectory();
  const side = async (name: string, address: string): Promise<Side> => {
    // Streams idle out after 300 ms: an open tube must hold its stream (bob connects long after the offer).
    const peer = await startPeer(directory, name, address, { timeouts: { idleMs: 300 } });
    cleanups.push(() => peer.link.stop());
    const link = {
      name,
      interfaceAddress: address,
      contacts: directory,
      requestIq: peer.link.requestIq.bind(peer.link),
      handleIq: peer.link.handleIq.bind(peer.link),
      streamAddresses: peer.link.streamAddresses.bind(peer.link),
      holdStream: peer.link.holdStream.bind(peer.link),
    };
    const tubes = new ContactStreamTubes(link, { ...options });
    cleanups.push(() => tubes.stop());
    const s: Side = { peer, link, tubes, invites: [] };
    tubes.on('tube-offered', (i) => s.invites.push(i));
    return s;
  };
  return { alice: await side('alice@laptop', '127.0.0.1'), bob: await side('bob@desk', '127.0.0.2'), directory };
}

async function echo(): Promise<number> {
  const server = await startEchoServer();
  cleanups.push(() => server.close());
  return server.port;
}

describe('1-1 stream tubes over real XEP-0174 streams and TCP', () => {
  it('alice offers her echo service, bob accepts: 4 MB round trip; parameters arrive; alice closes and bob hears it', async () => {
    const { alice, bob } = await pair();
    const port = await echo();
    const offered = alice.tubes.offer('bob@desk', { service: 'echo', target: { host: '127.0.0.1', port }, parameters: { motd: { type: 'str', value: 'hi' } } });
    await waitFor('the invite at bob', () => bob.invites.length === 1, 10_000);
    expect(bob.invites[0]).toMatchObject({ contact: 'alice@laptop', service: 'echo', parameters: new Map([['motd', { type: 'str', value: 'hi' }]]) });
    const accepted = await bob.tubes.accept('alice@laptop', bob.invites[0]!.id);
    const out = await offered;
    expect(out).toMatchObject({ contact: 'bob@desk', direction: 'outgoing', host: '127.0.0.1' });
    expect(accepted).toMatchObject({ contact: 'alice@laptop', direction: 'incoming', host: '127.0.0.1', id: out.id });

    await new Promise((r) => setTimeout(r, 1000)); // longer than the idle timeout
    expect(bob.peer.link.streamAddresses('alice@laptop')).toBeDefined();
    const data = randomBytes(4 * 1024 * 1024);
    const back = await roundTrip(accepted.port, data);
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));

    const closedAtBob = new Promise((resolve) => bob.tubes.once('tube-closed', (t, reason) => resolve([t.id, reason])));
    expect(await alice.tubes.close('bob@desk', out.id)).toBe(true);
    expect(await closedAtBob).toEqual([out.id, 'closed-by-contact']);
    expect(bob.tubes.tubes()).toEqual([]);
    expect(alice.tubes.tubes()).toEqual([]);
  }, 60_000);

  it('the other direction, and a decline: bob offers, alice declines (forbidden), then accepts a second offer', async () => {
    const { alice, bob } = await pair();
    const port = await echo();
    const first = bob.tubes.offer('alice@laptop', { service: 'echo', target: { host: '127.0.0.1', port } });
    await waitFor('the first invite', () => alice.invites.length === 1, 10_000);
    expect(alice.tubes.decline('bob@desk', alice.invites[0]!.id)).toBe(true);
    expect((await rejectionOf(first, IqErrorAnswer)).condition).toBe('forbidden');
    const second = bob.tubes.offer('alice@laptop', { service: 'echo', target: { host: '127.0.0.1', port } });
    await waitFor('the second invite', () => alice.invites.length === 2, 10_000);
    const accepted = await alice.tubes.accept('bob@desk', alice.invites[1]!.id);
    await second;
    expect((await roundTrip(accepted.port, Buffer.from('both ways'))).toString()).toBe('both ways');
  }, 60_000);

  it('hostile: a foreign source on the offer port is dropped; bad, duplicate and flooding offers are refused; unknown close is item-not-found', async () => {
    const { alice, bob } = await pair({ maxInvites: 3 });
    const port = await echo();
    const offered = alice.tubes.offer('bob@desk', { service: 'echo', target: { host: '127.0.0.1', port } });
    await waitFor('the invite', () => bob.invites.length === 1, 10_000);
    await bob.tubes.accept('alice@laptop', bob.invites[0]!.id);
    const out = await offered;
    // 127.0.0.3 is nobody's advertised address: alice closes it without a byte.
    const foreign = await new Promise<number>((resolve) => {
      let got = 0;
      const s = net.connect({ host: out.host, port: out.port, localAddress: '127.0.0.3' });
      s.on('data', (c: Buffer) => (got += c.length));
      s.on('error', () => undefined);
      s.on('close', () => resolve(got));
      s.write('let me in');
    });
    expect(foreign).toBe(0);

    const ask = (iq: ReturnType<typeof buildIq>) => rejectionOf(bob.peer.link.requestIq('alice@laptop', iq, { timeoutMs: 10_000 }), IqErrorAnswer).then((e) => e.condition);
    expect(await ask(buildIq({ type: 'set' }, el('tube', NS_TUBES, { type: 'stream', service: 's', id: '0' }, el('transport', NS_TUBES, { port: '1' }))))).toBe('bad-request');
    expect(await ask(buildIq({ type: 'set' }, el('close', NS_TUBES, { id: '999' })))).toBe('item-not-found');
    // Bob floods alice with offers: three wait for her answer, the rest are refused at once.
    const flood = Array.from({ length: 6 }, (_, i) => bob.peer.link.requestIq('alice@laptop', buildContactTubeOffer({ id: 1000 + i, service: 'x', port: 1, parameters: new Map() }), { timeoutMs: 60_000 }).catch((e: unknown) => e));
    await waitFor('three invites at alice', () => alice.tubes.pendingInvites().length === 3, 10_000);
    const refused = await Promise.all(flood.slice(3));
    expect(refused.map((e) => (e as IqErrorAnswer).condition)).toEqual(['resource-constraint', 'resource-constraint', 'resource-constraint']);
    // An id already waiting is a conflict.
    expect(await ask(buildContactTubeOffer({ id: 1000, service: 'x', port: 1, parameters: new Map() }))).toBe('conflict');
    alice.tubes.stop();
    expect((await Promise.all(flood.slice(0, 3))).map((e) => (e as IqErrorAnswer).condition)).toEqual(['service-unavailable', 'service-unavailable', 'service-unavailable']);
  }, 60_000);

  it('a peer without 1-1 tubes (like salut, which leaves them disabled) answers service-unavailable', async () => {
    const directory = new StaticDirectory();
    const alice = await startPeer(directory, 'alice@laptop', '127.0.0.1', { timeouts: { idleMs: 60_000 } });
    const salutLike = await startPeer(directory, 'carol@old', '127.0.0.2', { timeouts: { idleMs: 60_000 } });
    cleanups.push(() => alice.link.stop(), () => salutLike.link.stop());
    const tubes = new ContactStreamTubes({
      name: 'alice@laptop',
      interfaceAddress: '127.0.0.1',
      contacts: directory,
      requestIq: alice.link.requestIq.bind(alice.link),
      handleIq: alice.link.handleIq.bind(alice.link),
      streamAddresses: alice.link.streamAddresses.bind(alice.link),
    });
    cleanups.push(() => tubes.stop());
    const port = await echo();
    const error = await rejectionOf(tubes.offer('carol@old', { service: 'echo', target: { host: '127.0.0.1', port } }), IqErrorAnswer);
    expect(error.condition).toBe('service-unavailable');
    expect(tubes.tubes()).toEqual([]);
  }, 30_000);
});

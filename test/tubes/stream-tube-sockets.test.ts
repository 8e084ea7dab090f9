import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import type { Clique } from '../../src/rooms/clique.js';
import type { LinkLocalService } from '../../src/linklocal/link-local-service.js';
import { IqErrorAnswer } from '../../src/linklocal/iq-router.js';
import { RoomTubes } from '../../src/tubes/room-tubes.js';
import { StreamTubeAcceptor } from '../../src/tubes/stream-tube-acceptor.js';
import { StreamTubeHost } from '../../src/tubes/stream-tube-host.js';
import { buildOobIq, buildSiRequest, NS_SI } from '../../src/tubes/stream-tube-si.js';
import type { TubeLink } from '../../src/tubes/tube-link.js';
import { buildIq } from '../../src/xml/stanzas.js';
import { el } from '../../src/xml/xml-element.js';
import { runId, startClique, stopAll } from '../rooms/room-test-kit.js';
import { waitFor } from '../support/wait.js';
import { roundTrip, startEchoServer, type EchoServer } from '../support/tcp-echo.js';

/**
 * Room stream tubes over real parts (run inside `unshare -n`): two cliques
 * with presence on loopback (mDNS, XEP-0174 TCP, rMulticast), an echo
 * service shared by alice and reached by bob through the tube, and the
 * hostile cases of §7.5: SIs for tubes not offered, malformed SIs, OOB iqs
 * for no set-up, OOB URLs naming another host, foreign sources on the OOB
 * port, floods of connections.
 */
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await stopAll();
});

interface Pair {
  room: string;
  alice: { clique: Clique; link: LinkLocalService; tubes: RoomTubes };
  bob: { clique: Clique; link: LinkLocalService; tubes: RoomTubes };
}

async function pair(): Promise<Pair> {
  const id = runId();
  const room = `tube-${id}`;
  const [a, b] = await Promise.all([startClique(`alice-${id}@test`, { presence: true, tcpPort: 0 }), startClique(`bob-${id}@test`, { presence: true, tcpPort: 0 })]);
  const aliceRoom = await a.join(room);
  const bobRoom = await b.join(room, { address: aliceRoom.address, port: aliceRoom.port });
  await aliceRoom.waitForMembers(1, { timeoutMs: 30_000 });
  await bobRoom.waitForMembers(1, { timeoutMs: 30_000 });
  const link = (c: Clique): LinkLocalService => c.link!;
  await link(a).waitForContact(b.link!.name, { timeoutMs: 20_000 });
  await link(b).waitForContact(a.link!.name, { timeoutMs: 20_000 });
  return {
    room,
    alice: { clique: a, link: link(a), tubes: new RoomTubes(aliceRoom, { logger: silentLogger }) },
    bob: { clique: b, link: link(b), tubes: new RoomTubes(bobRoom, { logger: silentLogger }) },
  };
}

async function echoServer(): Promise<EchoServer> {
  const server = await startEchoServer();
  closers.push(() => server.close());
  return server;
}

/** Connects and resolves when the connection ends (by either side), with what it received. */
function connectAndWait(port: number): Promise<{ received: number }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = 0;
    socket.on('data', (c: Buffer) => (received += c.length));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ received }));
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function offered(p: Pair, service: string): Promise<number> {
  const tube = p.alice.tubes.offerStreamTube({ service });
  await waitFor(`bob sees ${service}`, () => p.bob.tubes.tube(tube.id) !== undefined, 20_000);
  return tube.id;
}

/** Alice offers an echo service in the room and shares it through a StreamTubeHost. */
async function sharedEcho(p: Pair, hostOptions: { maxConnectionsPerTube?: number } = {}, share: Parameters<StreamTubeHost['share']>[3] = {}): Promise<{ echo: EchoServer; host: StreamTubeHost; id: number }> {
  const echo = await echoServer();
  const host = new StreamTubeHost(p.alice.link, { logger: silentLogger, ...hostOptions });
  closers.push(() => host.close());
  const id = await offered(p, 'echo');
  host.share(p.alice.tubes, id, { host: '127.0.0.1', port: echo.port }, share);
  return { echo, host, id };
}

describe('room stream tubes over XEP-0174 SI + OOB and TCP (real sockets)', () => {
  it('an echo service shared by alice carries 10 MB both ways, intact, for bob; several connections at once', async () => {
    const p = await pair();
    const { echo, host, id } = await sharedEcho(p, {}, { mayConnect: (n) => n === p.bob.link.name });
    const acceptor = await StreamTubeAcceptor.open(p.bob.link, p.bob.tubes, id, { logger: silentLogger });
    closers.push(() => acceptor.close());
    expect(p.bob.tubes.tube(id)?.state).toBe('open');

    const big = randomBytes(10 * 1024 * 1024);
    const back = await roundTrip(acceptor.address.port, big);
    expect(back.length).toBe(big.length);
    expect(sha(back)).toBe(sha(big));

    const small = await Promise.all([1, 2, 3].map((n) => roundTrip(acceptor.address.port, Buffer.from(`line ${n}\n`.repeat(1000)))));
    expect(small.map((b) => b.toString())).toEqual([1, 2, 3].map((n) => `line ${n}\n`.repeat(1000)));
    expect(echo.connections()).toBe(4);
    await waitFor('relays counted', () => acceptor.stats.connections === 4 && host.stats.connections === 4, 10_000);
    expect(acceptor.stats.failed).toBe(0);
    await waitFor('every relay closed at alice', () => host.connectionsOf(p.room, id) === 0, 10_000);
  }, 120_000);

  it('closing the offer cuts live connections; bob keeps his tube until he closes it', async () => {
    const p = await pair();
    const { echo, host, id } = await sharedEcho(p);
    const acceptor = await StreamTubeAcceptor.open(p.bob.link, p.bob.tubes, id, { logger: silentLogger });
    closers.push(() => acceptor.close());
    const live = connectAndWait(acceptor.address.port);
    await waitFor('the connection through', () => host.connectionsOf(p.room, id) === 1 && echo.connections() === 1, 20_000);
    p.alice.tubes.closeTube(id);
    await live; // resolves only once the connection is cut
    expect(host.connectionsOf(p.room, id)).toBe(0);
    expect(p.bob.tubes.tube(id)?.state).toBe('open');
    // A new connection now finds no tube at alice: the SI is declined and the connection closed.
    await connectAndWait(acceptor.address.port);
    await waitFor('the refused set-up counted', () => acceptor.stats.failed === 1, 10_000);
    expect(host.stats.siRefused.declined).toBe(1);
  }, 120_000);

  it('refuses like salut: SI for a tube not offered, malformed SI, wrong profile; an OOB iq for no set-up', async () => {
    const p = await pair();
    const host = new StreamTubeHost(p.alice.link, { logger: silentLogger });
    closers.push(() => host.close());
    const alice = p.alice.link.name;
    const bob = p.bob.link.name;
    const ask = async (iq: ReturnType<typeof buildIq>): Promise<string | undefined> => {
      try {
        await p.bob.link.requestIq(alice, iq, { timeoutMs: 10_000 });
        return 'result';
      } catch (error) {
        expect(error).toBeInstanceOf(IqErrorAnswer);
        const answer = (error as IqErrorAnswer).answer;
        const si = answer.getChild('error')?.getChildren(undefined, NS_SI)[0]?.name;
        return `${(error as IqErrorAnswer).condition}${si !== undefined ? `+${si}` : ''}`;
      }
    };
    const request = { from: bob, to: alice, iqId: '', siId: '9', room: p.room, tubeId: 12345 };
    expect(await ask(buildSiRequest(request))).toBe('forbidden');
    const stranger = await offered(p, 'not-shared'); // offered, but nothing shares it
    expect(await ask(buildSiRequest({ ...request, tubeId: stranger }))).toBe('forbidden');
    const badProfile = buildSiRequest(request);
    badProfile.getChild('si', NS_SI)!.setAttr('profile', 'http://jabber.org/protocol/si/profile/file-transfer');
    expect(await ask(badProfile)).toBe('bad-request+bad-profile');
    const noMuc = buildSiRequest(request);
    noMuc.getChild('si', NS_SI)!.children.pop();
    expect(await ask(noMuc)).toBe('bad-request');
    expect(await ask(buildIq({ type: 'set' }, el('si', NS_SI)))).toBe('bad-request');
    expect(await ask(buildOobIq(bob, alice, '', '9', 'desk.local', 4000))).toBe('item-not-found');
    expect(host.stats.siRefused).toMatchObject({ declined: 2, 'bad-profile': 1, 'bad-request': 2 });
  }, 120_000);

  it('the OOB URL cannot send alice elsewhere, and the OOB port drops sources the initiator never advertised', async () => {
    const p = await pair();
    const { echo, host, id } = await sharedEcho(p);
    // Bob's link, seen through a wrapper that rewrites his OOB URL's host and, before sending it,
    // connects to his OOB port from 127.0.0.3, an address alice never advertised.
    const foreign: Array<Promise<boolean>> = [];
    const wrapped: TubeLink = {
      name: p.bob.link.name,
      contacts: p.bob.link.contacts,
      handleIq: (h) => p.bob.link.handleIq(h),
      streamAddresses: (c) => p.bob.link.streamAddresses(c),
      requestIq: (contact, iq, options) => {
        const url = iq.getChild('query')?.getChild('url');
        if (url !== undefined) {
          const port = Number(/:([0-9]+)$/.exec(url.text())![1]);
          url.children.splice(0, url.children.length, `x-tcp://attacker.example:${port}`);
          foreign.push(
            new Promise<boolean>((resolve) => {
              const s = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.3' });
              s.on('error', () => resolve(true));
              s.on('close', () => resolve(true));
              s.on('data', () => resolve(false));
            }),
          );
        }
        return p.bob.link.requestIq(contact, iq, options);
      },
    };
    const acceptor = await StreamTubeAcceptor.open(wrapped, p.bob.tubes, id, { logger: silentLogger });
    closers.push(() => acceptor.close());
    const back = await roundTrip(acceptor.address.port, Buffer.from('through the tube'));
    expect(back.toString()).toBe('through the tube');
    expect(foreign.length).toBe(1);
    expect(await foreign[0]).toBe(true); // closed without a byte
    await waitFor('the foreign source counted', () => acceptor.stats.foreignSources === 1, 10_000);
    expect(acceptor.stats.connections).toBe(1);
  }, 120_000);

  it('a flood of connections costs only the budget: alice holds at most her limit, refusals are counted', async () => {
    const p = await pair();
    const { echo, host, id } = await sharedEcho(p, { maxConnectionsPerTube: 3 });
    const acceptor = await StreamTubeAcceptor.open(p.bob.link, p.bob.tubes, id, { logger: silentLogger, maxConnections: 5 });
    closers.push(() => acceptor.close());
    const sockets: net.Socket[] = [];
    const closed: Array<Promise<void>> = [];
    let closedSockets = 0;
    const closedCount = (): number => closedSockets;
    for (let i = 0; i < 12; i++) {
      const s = net.connect({ host: '127.0.0.1', port: acceptor.address.port });
      s.on('error', () => undefined);
      closed.push(new Promise((resolve) => s.on('close', () => resolve())));
      s.on('close', () => (closedSockets += 1));
      sockets.push(s);
    }
    // Bob takes at most 5 at once (others are closed at once); alice relays at most 3 and answers busy to the rest.
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, host.connectionsOf(p.room, id))), 5);
    closers.push(() => clearInterval(watch));
    await waitFor('three live relays', () => host.connectionsOf(p.room, id) === 3 && echo.connections() === 3, 20_000);
    await waitFor('every other connection refused or closed', () => closedCount() === 9, 20_000);
    expect(most).toBe(3);
    expect(host.stats.siRefused.busy).toBeGreaterThanOrEqual(2);
    expect(acceptor.stats.failed).toBe(host.stats.siRefused.busy);
    expect(host.stats.siAccepted + host.stats.siRefused.busy).toBeLessThanOrEqual(12);
    expect(host.stats.siAccepted).toBe(3);
    for (const s of sockets) s.destroy();
    await Promise.all(closed);
    await waitFor('all released', () => host.connectionsOf(p.room, id) === 0, 20_000);
    // The tube still works after the flood.
    expect((await roundTrip(acceptor.address.port, Buffer.from('after'))).toString()).toBe('after');
  }, 120_000);
});

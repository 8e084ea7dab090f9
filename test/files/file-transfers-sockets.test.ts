/**
 * 1-1 file transfer over real sockets: two XEP-0174 messengers on 127.0.0.1
 * (alice) and 127.0.0.2 (bob), our HTTP server and fetcher between them.
 * Run inside a private network namespace (see README, Tests).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingOfferInfo, TransferInfo } from '../../src/files/index.js';
import { buildOobOffer } from '../../src/files/oob-stanzas.js';
import { IqErrorAnswer } from '../../src/linklocal/iq-router.js';
import { waitFor } from '../support/wait.js';
import { FileKit, fileLink, sha256 } from './file-kit.js';
import { FileTransfers } from '../../src/files/file-transfers.js';
import { startPeer } from '../linklocal/xmpp-link-kit.js';

let kit = new FileKit();
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) s.closeAllConnections(), s.close();
  await kit.close();
  kit = new FileKit();
});

async function pair() {
  const alice = await kit.side('alice@laptop', '127.0.0.1');
  const bob = await kit.side('bob@desk', '127.0.0.2');
  const offers: IncomingOfferInfo[] = [];
  bob.files.on('offer', (o) => offers.push(o));
  return { alice, bob, offers };
}

/** A hostile HTTP server on alice's address, answering every GET with `respond`. */
async function hostileServer(respond: Parameters<typeof createServer>[1]): Promise<number> {
  const server = createServer(respond);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return (server.address() as AddressInfo).port;
}

describe('FileTransfers between two peers (real TCP and HTTP)', () => {
  it('an accepted offer arrives complete with the offered hash; both sides see progress and the outcome', async () => {
    const { alice, bob, offers } = await pair();
    const src = kit.file('holiday photos.bin', 8 * 1024 * 1024 + 123);
    const dir = kit.dir();
    const sent = await alice.files.offer('bob@desk', src.path, { desc: 'the photos' });
    const outProgress: number[] = [];
    sent.on('progress', (p) => outProgress.push(p.sent));
    const inProgress: TransferInfo[] = [];
    bob.files.on('progress', (p) => inProgress.push(p));
    await waitFor('bob to see the offer', () => offers.length === 1);
    expect(offers[0]).toMatchObject({ from: 'alice@laptop', name: 'holiday photos.bin', size: src.bytes.length, desc: 'the photos', sha256: src.sha256, state: 'offered' });
    const received = await bob.files.accept(offers[0]!.id, { dir });
    expect(received).toEqual({ state: 'received', path: `${dir}/holiday photos.bin` });
    expect(sha256(readFileSync(`${dir}/holiday photos.bin`))).toBe(src.sha256);
    expect(await sent.done).toEqual({ state: 'accepted' });
    expect(outProgress.at(-1)).toBe(src.bytes.length);
    expect(inProgress.length).toBeGreaterThan(1);
    expect(readdirSync(dir)).toEqual(['holiday photos.bin']);
    expect(bob.files.list()).toMatchObject([{ direction: 'in', state: 'received', received: src.bytes.length }]);
    expect(alice.files.list()).toMatchObject([{ direction: 'out', state: 'accepted', sent: src.bytes.length }]);
  });

  it('a second file of the same name takes a new name, and the offers iterator yields offers', async () => {
    const { alice, bob } = await pair();
    const dir = kit.dir();
    const iterator = bob.files.offers();
    for (const content of ['first', 'second']) {
      const src = kit.file('same.txt', 10);
      const sent = await alice.files.offer('bob@desk', src.path);
      const { value } = await iterator.next();
      expect((await bob.files.accept(value!.id, { dir })).state, content).toBe('received');
      expect((await sent.done).state).toBe('accepted');
    }
    await iterator.return?.();
    expect(readdirSync(dir).sort()).toEqual(['same (1).txt', 'same.txt']);
  });

  it('a declined offer reads as declined (406) to the sender, and its URL is no longer served', async () => {
    const { alice, bob, offers } = await pair();
    const src = kit.file('no.txt', 100);
    const sent = await alice.files.offer('bob@desk', src.path);
    await waitFor('the offer', () => offers.length === 1);
    bob.files.decline(offers[0]!.id);
    expect(await sent.done).toEqual({ state: 'declined' });
    expect(() => bob.files.decline(offers[0]!.id)).toThrow(/no pending file offer/);
    await expect(bob.files.accept(offers[0]!.id, { dir: kit.dir() })).rejects.toMatchObject({ code: 'file-not-found' });
  });

  it('the sender cancelling mid-way: sender cancelled, receiver failed, no file and no .part left', async () => {
    const { alice, bob, offers } = await pair();
    const src = kit.file('big.bin', 64 * 1024 * 1024);
    const dir = kit.dir();
    const sent = await alice.files.offer('bob@desk', src.path);
    await waitFor('the offer', () => offers.length === 1);
    bob.files.on('progress', (p) => {
      if (p.direction === 'in' && p.received > 0) sent.cancel();
    });
    const outcome = await bob.files.accept(offers[0]!.id, { dir });
    expect(outcome.state).toBe('failed');
    expect(await sent.done).toEqual({ state: 'cancelled' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('the receiver cancelling mid-way: cancelled, nothing left, and the sender learns it failed (404)', async () => {
    const { alice, bob, offers } = await pair();
    const src = kit.file('big.bin', 64 * 1024 * 1024);
    const dir = kit.dir();
    const sent = await alice.files.offer('bob@desk', src.path);
    await waitFor('the offer', () => offers.length === 1);
    bob.files.on('progress', (p) => {
      if (p.direction === 'in' && p.received > 0) bob.files.cancel(p.id);
    });
    expect(await bob.files.accept(offers[0]!.id, { dir })).toEqual({ state: 'cancelled' });
    const done = await sent.done;
    expect(done.state).toBe('failed');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a receiver that breaks off its download and never answers (crashed) fails the offer after the grace time', async () => {
    const alice = await kit.side('alice@laptop', '127.0.0.1', { abandonedAfterMs: 300 });
    const bob = await startPeer(kit.directory, 'bob@desk', '127.0.0.2', { timeouts: { idleMs: 60_000 } });
    let cut = 0;
    // Bob takes the offer, reads the first chunk from his own address, then drops the connection and stays silent.
    bob.link.handleIq((request) => {
      const url = request.getChild('query', 'jabber:iq:oob')?.getChildText('url', 'jabber:iq:oob');
      if (url === undefined) return undefined;
      const req = httpRequest(url, { localAddress: '127.0.0.2', agent: false }, (res) => res.once('data', () => {
        cut += 1;
        req.destroy();
      }));
      req.on('error', () => undefined);
      req.end();
      return new Promise(() => undefined);
    });
    const src = kit.file('crash.bin', 16 * 1024 * 1024);
    const sent = await alice.files.offer('bob@desk', src.path);
    const done = await sent.done;
    expect(cut).toBe(1);
    expect(done.state === 'failed' && done.error.code).toBe('file-http-failed');
    await bob.link.stop();
  });

  it('an offer to a receiver that goes offline before fetching fails instead of waiting for the offer timeout', async () => {
    const directory = kit.directory;
    const alicePeer = await startPeer(directory, 'alice@laptop', '127.0.0.1', { timeouts: { idleMs: 60_000 } });
    const bob = await startPeer(directory, 'bob@desk', '127.0.0.2', { timeouts: { idleMs: 60_000 } });
    bob.link.handleIq(() => new Promise(() => undefined)); // takes the offer, never fetches or answers
    let bobOnline = true;
    const link = fileLink(alicePeer, directory);
    const files = await FileTransfers.start({ ...link, contacts: { ...directory, get: (n) => (n === 'bob@desk' && !bobOnline ? undefined : directory.get(n)), findByAddress: (a) => directory.findByAddress(a), list: () => directory.list() } }, { contactCheckMs: 50 });
    const sent = await files.offer('bob@desk', kit.file('x.bin', 10).path);
    await waitFor('bob to hold the offer', () => bob.opened.length > 0);
    bobOnline = false;
    const done = await sent.done;
    expect(done.state === 'failed' && done.error.message).toMatch(/went offline/);
    await files.close();
    await bob.link.stop();
    await alicePeer.link.stop();
  });

  it('auto-accept receives every offer into its directory', async () => {
    const dir = kit.dir();
    const alice = await kit.side('alice@laptop', '127.0.0.1');
    const bob = await kit.side('bob@desk', '127.0.0.2', { autoAcceptDir: dir });
    const src = kit.file('auto.txt', 1000);
    const sent = await alice.files.offer('bob@desk', src.path);
    expect(await sent.done).toEqual({ state: 'accepted' });
    expect(readFileSync(`${dir}/auto.txt`)).toEqual(src.bytes);
    expect(bob.files.list()[0]).toMatchObject({ state: 'received' });
  });
});

describe('hostile senders cost only their transfer', () => {
  async function offerFrom(alice: Awaited<ReturnType<typeof pair>>['alice'], url: string, size: number, sha?: string) {
    return alice.link.requestIq('bob@desk', buildOobOffer({ url, size, ...(sha !== undefined ? { sha256: sha } : {}) })).catch((e: unknown) => e);
  }

  it('more bytes than declared, a hash mismatch, an endless body and a silent server each fail alone', async () => {
    const { alice, bob, offers } = await pair();
    const dir = kit.dir();
    const port = await hostileServer((req, res) => {
      if (req.url === '/more/x') res.end(Buffer.alloc(200));
      else if (req.url === '/hash/x') res.end(Buffer.from('abc'));
      else if (req.url === '/endless/x') {
        res.writeHead(200);
        const pump = (): void => {
          while (res.write(Buffer.alloc(64 * 1024)));
          res.once('drain', pump);
        };
        pump();
      } else if (req.url === '/silent/x') res.writeHead(200).flushHeaders();
      else res.writeHead(404).end();
    });
    const cases: Array<[string, number, string | undefined, string]> = [
      ['more', 100, undefined, 'file-too-large'],
      ['hash', 3, sha256(Buffer.from('abd')), 'file-hash-mismatch'],
      ['endless', 1024 * 1024, undefined, 'file-too-large'],
      ['missing', 10, undefined, 'file-http-failed'],
    ];
    for (const [path, size, sha, code] of cases) {
      const answer = offerFrom(alice, `http://127.0.0.1:${port}/${path}/x`, size, sha);
      await waitFor(`offer ${path}`, () => offers.some((o) => o.state === 'offered'));
      const offer = offers.find((o) => o.state === 'offered')!;
      offers.splice(offers.indexOf(offer), 1);
      const outcome = await bob.files.accept(offer.id, { dir });
      expect(outcome.state, path).toBe('failed');
      expect(outcome.state === 'failed' && outcome.error.code, path).toBe(code);
      const error = await answer;
      expect(error, path).toBeInstanceOf(IqErrorAnswer);
      expect((error as IqErrorAnswer).condition).toBe('item-not-found');
    }
    expect(readdirSync(dir)).toEqual([]);
    // And a genuine offer afterwards still works.
    const src = kit.file('fine.txt', 1000);
    const sent = await alice.files.offer('bob@desk', src.path);
    await waitFor('the good offer', () => offers.length === 1);
    expect((await bob.files.accept(offers[0]!.id, { dir })).state).toBe('received');
    expect((await sent.done).state).toBe('accepted');
  });

  it('a silent server is given up after the idle timeout', async () => {
    const alice = await kit.side('alice@laptop', '127.0.0.1');
    const bob = await kit.side('bob@desk', '127.0.0.2', { idleTimeoutMs: 300 });
    const offers: IncomingOfferInfo[] = [];
    bob.files.on('offer', (o) => offers.push(o));
    const port = await hostileServer((_req, res) => res.writeHead(200).flushHeaders());
    void alice.link.requestIq('bob@desk', buildOobOffer({ url: `http://127.0.0.1:${port}/s/x`, size: 10 })).catch(() => undefined);
    await waitFor('the offer', () => offers.length === 1);
    const outcome = await bob.files.accept(offers[0]!.id, { dir: kit.dir() });
    expect(outcome.state === 'failed' && outcome.error.code).toBe('file-http-failed');
  });

  it('an offer whose URL is not at the offerer, or a directory, is refused and never fetched', async () => {
    const { alice, offers } = await pair();
    const elsewhere = await offerFrom(alice, 'http://127.0.0.9:80/x/y', 10);
    expect((elsewhere as IqErrorAnswer).condition).toBe('bad-request');
    const dirOffer = buildOobOffer({ url: 'http://127.0.0.1:80/x/y', size: 10 });
    dirOffer.getChild('query')!.getChild('url')!.setAttr('type', 'directory');
    const refused = await alice.link.requestIq('bob@desk', dirOffer).catch((e: unknown) => e);
    expect((refused as IqErrorAnswer).condition).toBe('feature-not-implemented');
    expect(offers).toEqual([]);
  });
});

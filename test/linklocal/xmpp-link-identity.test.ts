import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkLocalMessenger } from '../../src/linklocal/link-local-messenger.js';
import { identifyPeer } from '../../src/linklocal/peer-identity.js';
import { StreamAdmission, type Admission } from '../../src/linklocal/stream-admission.js';
import { waitFor } from '../support/wait.js';
import { header, RawPeer, StaticDirectory, startPeer, type TestPeer } from './xmpp-link-kit.js';

/**
 * Which contact is talking on an incoming stream (spec §6.5, tightened as
 * salut checks its bytestreams): the source address must be one the claimed
 * contact advertises. And fairness: one host cannot take every slot.
 */

describe('identifyPeer (pure)', () => {
  const directory = new StaticDirectory();
  directory.add('dan@lab', '127.0.0.1', 5298);
  directory.add('eve@lab', '::1', 5298);
  directory.add('me@here', '127.0.0.9', 5298);

  it('believes a from only at an address that contact advertises', () => {
    expect(identifyPeer({ from: 'dan@lab' }, '127.0.0.1', directory, 'me@here')).toEqual({ kind: 'accept', peer: 'dan@lab' });
    expect(identifyPeer({ from: 'dan@lab' }, '::ffff:127.0.0.1', directory, 'me@here')).toEqual({ kind: 'accept', peer: 'dan@lab' });
    expect(identifyPeer({ from: 'dan@lab' }, '::FFFF:127.0.0.1', directory, 'me@here')).toEqual({ kind: 'accept', peer: 'dan@lab' });
    expect(identifyPeer({ from: 'eve@lab' }, '::1', directory, 'me@here')).toEqual({ kind: 'accept', peer: 'eve@lab' });
    expect(identifyPeer({ from: 'dan@lab' }, '127.0.0.2', directory, 'me@here')).toEqual({ kind: 'wait', reason: 'address-mismatch', claimed: 'dan@lab' });
    expect(identifyPeer({ from: 'dan@lab' }, '::ffff:127.0.0.2', directory, 'me@here')).toMatchObject({ kind: 'wait', reason: 'address-mismatch' });
    expect(identifyPeer({ from: 'eve@lab' }, '127.0.0.1', directory, 'me@here')).toMatchObject({ kind: 'wait', reason: 'address-mismatch' });
  });

  it('waits for unknown names and unknown addresses; refuses our own name', () => {
    expect(identifyPeer({ from: 'stranger@x' }, '127.0.0.1', directory, 'me@here')).toEqual({ kind: 'wait', reason: 'unknown-contact', claimed: 'stranger@x' });
    expect(identifyPeer({}, '127.0.0.7', directory, 'me@here')).toEqual({ kind: 'wait', reason: 'no-contact-at-address' });
    expect(identifyPeer({ from: 'me@here' }, '127.0.0.9', directory, 'me@here')).toMatchObject({ kind: 'refuse' });
    expect(identifyPeer({}, '127.0.0.9', directory, 'me@here')).toMatchObject({ kind: 'refuse' });
  });

  it('identifies header-less (iChat) peers by address, IPv4-mapped or not', () => {
    expect(identifyPeer({}, '127.0.0.1', directory, 'me@here')).toEqual({ kind: 'accept', peer: 'dan@lab' });
    expect(identifyPeer({ from: '' }, '::ffff:127.0.0.1', directory, 'me@here')).toEqual({ kind: 'accept', peer: 'dan@lab' });
  });
});

describe('StreamAdmission (pure)', () => {
  it('limits per source, keeps slots for known sources, and frees them on release', () => {
    const admission = new StreamAdmission({ maxIncoming: 10, reservedForKnown: 4, perKnownSource: 5, perUnknownSource: 2 });
    const held: Admission[] = [];
    const admit = (source: string, known: boolean): boolean => {
      const result = admission.admit(source, known);
      if (typeof result === 'string') return false;
      held.push(result);
      return true;
    };
    expect([admit('a', false), admit('a', false), admit('a', false)]).toEqual([true, true, false]); // 2 per unknown source
    expect([admit('b', false), admit('b', false), admit('c', false), admit('c', false), admit('d', false)]).toEqual([true, true, true, true, false]); // 6 = 10 - 4 unknown in all
    expect([admit('k', true), admit('k', true), admit('k', true), admit('k', true), admit('k', true), admit('k', true)]).toEqual([true, true, true, true, false, false]); // total 10 reached first
    expect(admission.counts()).toEqual({ total: 10, unknown: 6, sources: 4 });
    for (const a of held.splice(0)) admission.release(a);
    expect(admission.counts()).toEqual({ total: 0, unknown: 0, sources: 0 });
    // An unknown stream identified later moves to the known share.
    const first = admission.admit('x', false) as Admission;
    admission.promote(first);
    expect(admission.counts()).toEqual({ total: 1, unknown: 0, sources: 1 });
    admission.release(first);
    expect(admission.counts()).toEqual({ total: 0, unknown: 0, sources: 0 });
  });
});

describe('a forged from on a real TCP stream is refused', () => {
  let directory: StaticDirectory;
  const peers: TestPeer[] = [];
  const raws: RawPeer[] = [];
  const extra: LinkLocalMessenger[] = [];

  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.destroy();
    await Promise.all([...peers.splice(0).map((p) => p.link.stop()), ...extra.splice(0).map((l) => l.stop())]);
  });

  async function connect(port: number, host: string, localAddress: string): Promise<RawPeer> {
    const raw = await RawPeer.connect(port, host, localAddress);
    raws.push(raw);
    return raw;
  }

  it("a stream from 127.0.0.2 claiming dan (who advertises 127.0.0.1) is closed unanswered and its message never shows as dan's", async () => {
    directory = new StaticDirectory();
    const bob = await startPeer(directory, 'bob@desk', '127.0.0.5', { timeouts: { identifyMs: 300 } });
    const dan = await startPeer(directory, 'dan@lab', '127.0.0.1');
    peers.push(bob, dan);

    const forger = await connect(bob.port, '127.0.0.5', '127.0.0.2');
    await forger.write(`${header('dan@lab', 'bob@desk')}<message type="chat"><body>forged</body></message>`);
    await forger.waitClosed();
    expect(forger.text).toBe(''); // not even a header back
    const warning = bob.logs.find((r) => r.level === 'warn' && r.message.includes('does not advertise'));
    expect(warning?.fields).toMatchObject({ remote: '127.0.0.2', claimed: 'dan@lab', advertised: ['127.0.0.1'] });

    // The real dan, from his advertised address, still gets through, and only his message is shown as his.
    await dan.link.sendMessage('bob@desk', 'genuine');
    await waitFor('the genuine message', () => bob.messages.length === 1);
    expect(bob.messages.map((m) => [m.from, m.text])).toEqual([['dan@lab', 'genuine']]);
  });

  it('on a dual-stack listener (IPv4-mapped sources) the same rule holds', async () => {
    directory = new StaticDirectory();
    directory.add('dan@lab', '127.0.0.1', 1);
    const link = new LinkLocalMessenger({ selfName: 'bob@desk', contacts: directory, port: 0, timeouts: { identifyMs: 300 } });
    extra.push(link);
    const { port } = await link.start(); // all interfaces: IPv4 peers appear as ::ffff:a.b.c.d
    const messages: string[] = [];
    link.on('message', (m) => messages.push(`${m.from}: ${m.text}`));

    const forger = await connect(port, '127.0.0.1', '127.0.0.2');
    await forger.write(`${header('dan@lab', 'bob@desk')}<message type="chat"><body>forged</body></message>`);
    await forger.waitClosed();
    expect(forger.text).toBe('');

    const genuine = await connect(port, '127.0.0.1', '127.0.0.1');
    expect(genuine.socket.localAddress).toBe('127.0.0.1');
    await genuine.write(`${header('dan@lab', 'bob@desk')}<message type="chat"><body>genuine</body></message>`);
    await genuine.waitForText('<stream:features/>');
    await waitFor('the genuine message', () => messages.length === 1);
    expect(messages).toEqual(['dan@lab: genuine']);
  });

  it('a contact resolved just after its stream arrived is accepted (what it sent meanwhile is delivered); one never resolved is refused', async () => {
    directory = new StaticDirectory();
    const bob = await startPeer(directory, 'bob@desk', '127.0.0.5', { timeouts: { identifyMs: 3000 } });
    peers.push(bob);

    const late = await connect(bob.port, '127.0.0.5', '127.0.0.8');
    await late.write(`${header('late@lab', 'bob@desk')}<message type="chat"><body>sent before bob knew me</body></message>`);
    const never = await connect(bob.port, '127.0.0.5', '127.0.0.9');
    await never.write(`${header('late@lab', 'bob@desk')}<message type="chat"><body>not late</body></message>`);
    // Bob reads the headers, holds both streams, and delivers nothing while it cannot tell who they are.
    await waitFor('both streams wait', () => bob.logs.filter((r) => r.message.includes('waits for its contact')).length === 2);
    expect(late.text).toBe('');
    expect(bob.messages).toEqual([]);

    directory.add('late@lab', '127.0.0.8', 1); // its mDNS records arrive
    await late.waitForText('<stream:features/>');
    await waitFor('the message sent while waiting', () => bob.messages.length === 1);
    expect(bob.messages.map((m) => [m.from, m.text])).toEqual([['late@lab', 'sent before bob knew me']]);

    // The other one claims late@lab from an address late@lab does not advertise: refused when the wait ends.
    await never.waitClosed();
    expect(never.text).toBe('');
    expect(bob.texts()).toEqual(['sent before bob knew me']);
  });
});

describe('one host cannot block 1-1 chat', () => {
  let directory: StaticDirectory;
  let alice: TestPeer;
  let bob: TestPeer;
  const raws: RawPeer[] = [];

  afterEach(async () => {
    for (const raw of raws.splice(0)) raw.destroy();
    await Promise.all([alice?.link.stop(), bob?.link.stop()]);
  });

  it('a half-open stream from an address nobody advertises is dropped sooner than one from a contact', async () => {
    directory = new StaticDirectory();
    bob = await startPeer(directory, 'bob@desk', '127.0.0.5', { timeouts: { headerMs: 60_000, unknownSourceHeaderMs: 300 } });
    alice = await startPeer(directory, 'alice@laptop', '127.0.0.1');
    const fromContact = await RawPeer.connect(bob.port, '127.0.0.5', '127.0.0.1');
    const fromStranger = await RawPeer.connect(bob.port, '127.0.0.5', '127.0.0.3');
    raws.push(fromContact, fromStranger);
    await fromStranger.waitClosed();
    expect(fromContact.closed).toBe(false);
  });

  it('slots kept for contacts: unknown sources fill their share, a contact still connects', async () => {
    directory = new StaticDirectory();
    bob = await startPeer(directory, 'bob@desk', '127.0.0.5', {
      admission: { maxIncoming: 8, reservedForKnown: 4, perUnknownSource: 3, perKnownSource: 4 },
      timeouts: { unknownSourceHeaderMs: 60_000 },
    });
    alice = await startPeer(directory, 'alice@laptop', '127.0.0.1');
    for (const source of ['127.0.0.3', '127.0.0.4', '127.0.0.6']) {
      for (let i = 0; i < 3; i++) raws.push(await RawPeer.connect(bob.port, '127.0.0.5', source));
    }
    // 9 tried, 4 admitted (8 - 4 kept); the others were closed at once.
    await waitFor('the surplus closed', () => raws.filter((r) => r.closed).length === 5);
    expect(bob.link.incomingConnections()).toEqual({ total: 4, unknown: 4, sources: 2 });
    await alice.link.sendMessage('bob@desk', 'through');
    await waitFor('alice gets through', () => bob.texts('alice@laptop').includes('through'));
  });

  it('500 half-open streams from one host, reconnecting as they are closed, do not stop a contact', async () => {
    directory = new StaticDirectory();
    bob = await startPeer(directory, 'bob@desk', '127.0.0.5', { timeouts: { idleMs: 60_000 } });
    alice = await startPeer(directory, 'alice@laptop', '127.0.0.1');
    const attack = halfOpenFlood({ port: bob.port, host: '127.0.0.5', source: '127.0.0.3', streams: 500, maxMs: 30_000 });
    let maxHeld = 0;
    const watch = setInterval(() => (maxHeld = Math.max(maxHeld, bob.link.incomingConnections().unknown)), 5);
    try {
      await waitFor('the flood is running', () => attack.stats.connects >= 1000);
      for (let i = 0; i < 5; i++) {
        await alice.link.sendMessage('bob@desk', `ping ${i}`);
        await waitFor(`ping ${i} arrives during the flood`, () => bob.texts('alice@laptop').includes(`ping ${i}`));
        await bob.link.sendMessage('alice@laptop', `pong ${i}`);
        await waitFor(`pong ${i} arrives during the flood`, () => alice.texts('bob@desk').includes(`pong ${i}`));
      }
      expect(attack.running()).toBe(true);
    } finally {
      clearInterval(watch);
      await attack.stop();
    }
    if (process.env['CLIQUE_LOG'] === 'debug') process.stderr.write(`flood: ${JSON.stringify(attack.stats)}, held at most ${maxHeld}\n`);
    expect(maxHeld).toBeLessThanOrEqual(4); // the per-source limit for unknown addresses
    // The flood is visible in the log once, not once per connection.
    const warnings = bob.logs.filter((r) => r.level === 'warn' && r.message.includes('too many at once'));
    expect(warnings.map((r) => r.fields?.['remote'])).toEqual(['127.0.0.3']);
    expect(bob.messages.every((m) => m.from === 'alice@laptop')).toBe(true);
    await waitFor('the flood leaves nothing behind', () => bob.link.incomingConnections().unknown === 0);
  });
});

/**
 * Keeps `streams` connections from `source` open without ever sending a
 * header, opening a new one whenever one is closed, until stopped or `maxMs`.
 */
function halfOpenFlood(options: { port: number; host: string; source: string; streams: number; maxMs: number }): {
  stats: { connects: number; closedByPeer: number };
  running(): boolean;
  stop(): Promise<void>;
} {
  const stats = { connects: 0, closedByPeer: 0 };
  const sockets = new Set<net.Socket>();
  let stopped = false;
  const deadline = setTimeout(() => (stopped = true), options.maxMs);
  const open = (): void => {
    if (stopped) return;
    const socket = net.connect({ port: options.port, host: options.host, localAddress: options.source });
    sockets.add(socket);
    stats.connects += 1;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      if (stopped) return;
      stats.closedByPeer += 1;
      setImmediate(open);
    });
  };
  for (let i = 0; i < options.streams; i++) open();
  return {
    stats,
    running: () => !stopped,
    stop: async () => {
      stopped = true;
      clearTimeout(deadline);
      for (const socket of sockets) socket.destroy();
      await waitFor('flood sockets closed', () => sockets.size === 0);
    },
  };
}

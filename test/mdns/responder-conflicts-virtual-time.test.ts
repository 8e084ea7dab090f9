import { afterEach, describe, expect, it } from 'vitest';
import { MdnsError } from '../../src/mdns/mdns-error.js';
import { PresencePublisher } from '../../src/linklocal/presence-publisher.js';
import { CONFLICT_BACKOFF_MS, CONFLICT_BURST } from '../../src/mdns/conflict-limiter.js';
import { propertySeed } from '../support/fast-check-seed.js';
import { endWorld, forgedAnswer, newWorld, person, probesFrom, virtualResponder, type World } from './virtual-world.js';

/**
 * Name conflicts on virtual time, to the letter of RFC 6762: the §8.2
 * tie-break picks the lexicographically later data, §8.1's back-off holds
 * under a rival that claims every name we try, §9's defence survives a
 * throwing listener and still says goodbye, and cached records are kept
 * alive by refresh queries. One seed per run, printed.
 */
const seed = propertySeed();
console.log(`mdns conflicts virtual-time seed ${seed} (replay with CLIQUE_SEED=${seed})`);

let world: World | undefined;

function setUp(testSeed: number): World {
  world = newWorld(testSeed);
  return world;
}

afterEach(async () => {
  if (world === undefined) return;
  const w = world;
  world = undefined;
  await endWorld(w);
});

const OLGA = /^olga(-\d+)?@lab\._presence\._tcp\.local$/i;

describe(`mDNS name conflicts on virtual time (seed ${seed})`, () => {
  it('simultaneous probes (§8.2): the host whose data is lexicographically later keeps the name, whoever starts first', async () => {
    for (let round = 0; round < 5; round++) {
      const w = setUp(seed + 100 + round);
      // Same user and host name on two machines: the instance records agree, the host's A records differ,
      // and 10.0.0.2 sorts after 10.0.0.1.
      const first = round % 2 === 0 ? '10.0.0.1' : '10.0.0.2';
      const second = first === '10.0.0.1' ? '10.0.0.2' : '10.0.0.1';
      const [p, q] = await Promise.all([person(w, first, 'olga', 'lab'), person(w, second, 'olga', 'lab')]);
      const byAddress = new Map([
        [first, p],
        [second, q],
      ]);
      expect(byAddress.get('10.0.0.2')!.name, `round ${round}`).toBe('olga@lab');
      expect(byAddress.get('10.0.0.1')!.name, `round ${round}`).toBe('olga@lab-2');
      world = undefined;
      await endWorld(w);
    }
  });

  it('a rival claiming every name we try: after fifteen conflicts each further probe round waits five seconds (§8.1), then we give up', async () => {
    const w = setUp(seed + 1);
    const rival = w.link.attach('10.0.0.77');
    rival.onMessage((message) => {
      if (message.response) return;
      for (const q of message.questions) {
        const match = OLGA.exec(q.name);
        if (match !== null) void rival.send(forgedAnswer(q.name.slice(0, q.name.indexOf('._presence')), 'rival', '10.0.0.77'));
      }
    });
    const responder = await virtualResponder(w, '10.0.0.1');
    const maxRenames = CONFLICT_BURST + 5;
    const publisher = new PresencePublisher(responder, { user: 'olga', host: 'lab', port: 5298, info: { status: 'avail' }, maxRenames });
    const renamedAt: number[] = [];
    publisher.on('name-changed', () => renamedAt.push(w.clock.now()));
    let outcome: unknown;
    publisher.start().then(
      (name) => (outcome = name),
      (error: unknown) => (outcome = error),
    );
    await w.clock.until('the publisher gives up', () => outcome !== undefined, 300_000, 250);
    expect(outcome).toBeInstanceOf(MdnsError);
    expect((outcome as MdnsError).code).toBe('mdns-conflict');
    expect(renamedAt).toHaveLength(maxRenames);
    const gaps = renamedAt.slice(1).map((t, i) => t - renamedAt[i]!);
    // The rival answers at once, so the first conflicts come fast…
    expect(Math.max(...gaps.slice(0, CONFLICT_BURST - 2))).toBeLessThan(CONFLICT_BACKOFF_MS);
    // …and from the fifteenth on every probe round waits at least five seconds.
    for (const gap of gaps.slice(CONFLICT_BURST - 1)) expect(gap).toBeGreaterThanOrEqual(CONFLICT_BACKOFF_MS);
    // Bounded traffic: at most three probes per name tried.
    expect(probesFrom(w, '10.0.0.1').length).toBeLessThanOrEqual(3 * (maxRenames + 1));
    await responder.close();
  });

  it('a listener that throws on name-contested does not stop the defence', async () => {
    const w = setUp(seed + 2);
    const olga = await person(w, '10.0.0.1', 'olga', 'lab');
    const bob = await person(w, '10.0.0.2', 'bob', 'desk');
    await w.clock.until('bob sees olga', () => bob.contacts.get('olga@lab') !== undefined);
    let heard = 0;
    olga.on('name-contested', () => {
      heard++;
      throw new Error('a broken application listener');
    });
    for (let i = 0; i < 3; i++) w.link.inject(forgedAnswer('olga@lab', 'lab', '10.0.0.66'), { address: '10.0.0.66', port: 5353 });
    await w.clock.advance(10_000);
    expect(heard).toBe(1);
    expect(olga.name).toBe('olga@lab');
    await w.clock.until('bob sees olga at her own address again', () => bob.contacts.get('olga@lab')?.addresses.join() === '10.0.0.1');
  });

  it('stopping while re-probing a contested name still says goodbye', async () => {
    const w = setUp(seed + 3);
    const olga = await person(w, '10.0.0.1', 'olga', 'lab');
    const bob = await person(w, '10.0.0.2', 'bob', 'desk');
    await w.clock.until('bob sees olga', () => bob.contacts.get('olga@lab') !== undefined);
    let contested = false;
    olga.on('name-contested', () => (contested = true));
    w.link.inject(forgedAnswer('olga@lab', 'lab', '10.0.0.66'), { address: '10.0.0.66', port: 5353 });
    await w.clock.until('olga is re-probing', () => contested, 1_000, 1);
    w.people.splice(w.people.indexOf(olga), 1);
    const stopped = olga.stop();
    // A goodbye takes a contact away within about a second (RFC 6762 §10.1); without one her PTR lives 4500 s.
    await w.clock.until('bob drops olga after her goodbye', () => bob.contacts.get('olga@lab') === undefined, 3_000);
    await stopped;
  });

  it('a live host with a short TTL stays listed for many TTL periods: refresh queries at 80-95 % are answered', async () => {
    const w = setUp(seed + 4);
    const ttls = { host: 4, other: 4 };
    const olga = await person(w, '10.0.0.1', 'olga', 'lab', ttls);
    const bob = await person(w, '10.0.0.2', 'bob', 'desk', ttls);
    await w.clock.until('bob sees olga', () => bob.contacts.get(olga.name) !== undefined);
    const queriesBefore = w.link.sent.length;
    // Five TTL periods, looking every 100 ms: she must never drop out.
    for (let t = 0; t < 20_000; t += 100) {
      await w.clock.advance(100);
      expect(bob.contacts.get(olga.name), `olga listed at +${t + 100} ms`).toBeDefined();
    }
    // What kept her: queries for her records or for the presence PTR (answered with her SRV/TXT/A as
    // additionals), sent by the caches' refresh points, since the browse interval has grown past the TTL.
    const olgaNames = new Set(['olga@lab._presence._tcp.local', 'lab.local', '_presence._tcp.local']);
    const refreshes = w.link.sent
      .slice(queriesBefore)
      .filter((s) => !s.message.response && s.message.authorities.length === 0 && s.message.questions.some((q) => olgaNames.has(q.name.toLowerCase())));
    expect(refreshes.length).toBeGreaterThanOrEqual(5);
  });
});

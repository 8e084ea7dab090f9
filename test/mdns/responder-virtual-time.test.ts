import { describe, expect, it } from 'vitest';
import { PRESENCE_SERVICE_TYPE } from '../../src/linklocal/presence-publisher.js';
import { serviceInstanceName } from '../../src/mdns/records.js';
import { propertySeed } from '../support/fast-check-seed.js';
import { forgedAnswer, person, worldPerTest } from './virtual-world.js';

/**
 * The mDNS responder on virtual time: probing races, tie-breaks, conflicts,
 * defence of a name against forged announcements (RFC 6762 §9), expiry and
 * goodbyes, all replayable from one seed.
 */
const seed = propertySeed();
console.log(`mdns virtual-time seed ${seed} (replay with CLIQUE_SEED=${seed})`);

const setUp = worldPerTest();

describe(`mDNS responder on virtual time (seed ${seed})`, () => {
  it('two hosts probing the same name at once: one keeps it, the other renames', async () => {
    const w = setUp(seed);
    const [a, b] = await Promise.all([person(w, '10.0.0.1', 'olga', 'lab'), person(w, '10.0.0.2', 'olga', 'lab')]);
    const names = [a.name, b.name].sort();
    expect(names[0]).toBe('olga@lab');
    expect(names[1]).not.toBe('olga@lab');
    expect(names[1]).toMatch(/^olga(-2)?@lab(-2)?$/);
    // Each sees the other under its final name.
    await w.clock.until('each sees the other', () => a.contacts.get(b.name) !== undefined && b.contacts.get(a.name) !== undefined);
  });

  it('a one-shot burst of forged announcements does not take our name; we warn and re-announce', async () => {
    const w = setUp(seed + 1);
    const olga = await person(w, '10.0.0.1', 'olga', 'lab');
    const bob = await person(w, '10.0.0.2', 'bob', 'desk');
    await w.clock.until('bob sees olga', () => bob.contacts.get('olga@lab')?.addresses.includes('10.0.0.1') === true);
    const contested: Array<[string, string]> = [];
    const renamed: string[] = [];
    olga.on('name-contested', (name, from) => contested.push([name, from]));
    olga.on('name-changed', (name) => renamed.push(name));
    for (let i = 0; i < 3; i++) w.link.inject(forgedAnswer('olga@lab', 'lab', '10.0.0.66'), { address: '10.0.0.66', port: 5353 });
    await w.clock.advance(10_000);
    expect(renamed).toEqual([]);
    expect(olga.name).toBe('olga@lab');
    expect(contested.length).toBeGreaterThanOrEqual(1);
    expect(contested[0]).toEqual(['olga@lab', '10.0.0.66']);
    // Our re-announcement (cache-flush) puts the right address back in everyone's cache.
    await w.clock.until('bob sees olga at her own address again', () => {
      const c = bob.contacts.get('olga@lab');
      return c !== undefined && c.addresses.length === 1 && c.addresses[0] === '10.0.0.1';
    });
  });

  it('a rival that answers our probes takes the name: we rename', async () => {
    const w = setUp(seed + 2);
    const olga = await person(w, '10.0.0.1', 'olga', 'lab');
    const renamed: string[] = [];
    olga.on('name-changed', (name) => renamed.push(name));
    // The rival holds olga@lab on host rival: it answers every probe for the name, as a real owner does.
    const instance = serviceInstanceName('olga@lab', PRESENCE_SERVICE_TYPE).toLowerCase();
    const rival = w.link.attach('10.0.0.77');
    rival.onMessage((message) => {
      if (message.response || !message.questions.some((q) => q.name.toLowerCase() === instance)) return;
      void rival.send(forgedAnswer('olga@lab', 'rival', '10.0.0.77'));
    });
    void rival.send(forgedAnswer('olga@lab', 'rival', '10.0.0.77'));
    await w.clock.until('olga renames', () => renamed.length > 0, 30_000);
    expect(olga.name).toBe('olga-2@lab');
  });

  it('repeated one-shot bursts (every 2 s for 30 s) never rename us; each is answered by a defence', async () => {
    const w = setUp(seed + 3);
    const olga = await person(w, '10.0.0.1', 'olga', 'lab');
    const renamed: string[] = [];
    let contested = 0;
    olga.on('name-changed', (name) => renamed.push(name));
    olga.on('name-contested', () => contested++);
    for (let i = 0; i < 15; i++) {
      for (let k = 0; k < 3; k++) w.link.inject(forgedAnswer('olga@lab', 'lab', '10.0.0.66'), { address: '10.0.0.66', port: 5353 });
      await w.clock.advance(2_000);
    }
    expect(renamed).toEqual([]);
    expect(olga.name).toBe('olga@lab');
    expect(contested).toBe(15);
  });

  it('records expire after their TTL when a host vanishes without goodbye, and go at once on goodbye', async () => {
    const w = setUp(seed + 4);
    const short = { host: 4, other: 4 };
    const olga = await person(w, '10.0.0.1', 'olga', 'lab', short);
    const dan = await person(w, '10.0.0.3', 'dan', 'attic', short);
    const bob = await person(w, '10.0.0.2', 'bob', 'desk', short);
    await w.clock.until('bob sees both', () => bob.contacts.get(olga.name) !== undefined && bob.contacts.get(dan.name) !== undefined);
    // Dan says goodbye: gone from bob's list within about a second (RFC 6762 §10.1).
    const stopped = dan.stop();
    await w.clock.until('dan removed after his goodbye', () => bob.contacts.get(dan.name) === undefined, 3_000);
    await stopped;
    w.people.splice(w.people.indexOf(dan), 1);
    // Olga vanishes without a word: her records expire (bob's cache queries at 80-95 % of the TTL, nobody answers).
    const olgaName = olga.name;
    const vanished = olga.stop({ goodbye: false });
    await w.clock.advance(100);
    await vanished;
    w.people.splice(w.people.indexOf(olga), 1);
    expect(bob.contacts.get(olgaName)).toBeDefined();
    await w.clock.until('olga expired', () => bob.contacts.get(olgaName) === undefined, 15_000);
  });
});

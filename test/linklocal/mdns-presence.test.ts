import { afterEach, describe, expect, it } from 'vitest';
import { MdnsResponder } from '../../src/mdns/responder.js';
import { LinkLocalPresence } from '../../src/linklocal/presence-service.js';
import { LOOPBACK, runId } from './mdns-test-helpers.js';
import { sleep, waitFor } from '../support/wait.js';

const open: LinkLocalPresence[] = [];

async function peer(user: string, host: string, port: number, extra: Partial<Parameters<typeof LinkLocalPresence.start>[0]> = {}): Promise<LinkLocalPresence> {
  const p = await LinkLocalPresence.start({ interface: LOOPBACK, user, host, port, ...extra });
  open.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((p) => p.stop()));
});

describe('link-local presence over real mDNS on loopback', () => {
  it('two peers see each other with alias, address and port, but not themselves', async () => {
    const id = runId();
    const host = `cq${id}`;
    const [a, b] = await Promise.all([
      peer(`ann${id}`, host, 40001, { info: { first: 'Ann', last: 'Lee' } }),
      peer(`bob${id}`, host, 40002, { info: { nick: 'Bobby', first: 'Robert' } }),
    ]);
    expect(a.name).toBe(`ann${id}@${host}`);
    expect(b.name).toBe(`bob${id}@${host}`);
    await waitFor('a sees b', () => a.contacts.get(b.name) !== undefined);
    await waitFor('b sees a', () => b.contacts.get(a.name) !== undefined);
    const seenByA = a.contacts.get(b.name)!;
    expect(seenByA).toMatchObject({ name: b.name, port: 40002, status: 'avail', alias: 'Bobby' });
    expect(seenByA.addresses).toContain(LOOPBACK);
    expect(seenByA.txt).toMatchObject({ txtvers: '1', 'port.p2pj': '40002', nick: 'Bobby', '1st': 'Robert', status: 'avail' });
    expect(b.contacts.get(a.name)).toMatchObject({ alias: 'Ann Lee', port: 40001 });
    expect(a.contacts.get(a.name)).toBeUndefined();
    expect(b.contacts.get(b.name)).toBeUndefined();
    expect(a.contacts.findByAddress('::ffff:127.0.0.1')).toBeDefined();
  });

  it('status, message and nick changes reach the other peer; stop() sends goodbyes', async () => {
    const id = runId();
    const host = `cq${id}`;
    const [a, b] = await Promise.all([peer(`ann${id}`, host, 40011), peer(`bob${id}`, host, 40012)]);
    await waitFor('a sees b', () => a.contacts.get(b.name) !== undefined);
    const updates: string[] = [];
    a.on('contact-updated', (c) => updates.push(`${c.status}/${c.message ?? ''}`));

    b.setStatus('away', 'At the pub');
    await waitFor('away seen', () => a.contacts.get(b.name)?.status === 'away');
    expect(a.contacts.get(b.name)?.message).toBe('At the pub');
    expect(a.contacts.get(b.name)?.txt['msg']).toBe('At the pub');

    b.setStatus('dnd');
    await waitFor('dnd seen', () => a.contacts.get(b.name)?.status === 'dnd');
    expect(a.contacts.get(b.name)?.message).toBeUndefined();
    expect(a.contacts.get(b.name)?.txt['msg']).toBeUndefined();

    b.setNick('B-man');
    await waitFor('nick seen', () => a.contacts.get(b.name)?.alias === 'B-man');
    expect(updates).toContain('away/At the pub');

    const removed: string[] = [];
    a.on('contact-removed', (c) => removed.push(c.name));
    const bName = b.name;
    await b.stop();
    open.splice(open.indexOf(b), 1);
    await waitFor('b gone after goodbye', () => a.contacts.get(bName) === undefined);
    expect(removed).toEqual([bName]);
  });

  it('three peers see each other; one leaving disappears from both others', async () => {
    const id = runId();
    const host = `cq${id}`;
    const peers = await Promise.all([peer(`p1${id}`, host, 40021), peer(`p2${id}`, host, 40022), peer(`p3${id}`, host, 40023)]);
    for (const p of peers) {
      for (const q of peers) if (p !== q) await waitFor(`${p.name} sees ${q.name}`, () => p.contacts.get(q.name) !== undefined);
    }
    const [p1, p2, p3] = peers as [LinkLocalPresence, LinkLocalPresence, LinkLocalPresence];
    const mine = p1.contacts.list().map((c) => c.name).filter((n) => n.endsWith(`${id}@${host}`));
    expect(mine.sort()).toEqual([p2.name, p3.name].sort());
    const gone = p3.name;
    await p3.stop();
    open.splice(open.indexOf(p3), 1);
    await waitFor('p1 drops p3', () => p1.contacts.get(gone) === undefined);
    await waitFor('p2 drops p3', () => p2.contacts.get(gone) === undefined);
    expect(p1.contacts.get(p2.name)).toBeDefined();
  });

  it('a peer that vanishes without goodbye expires with its TTL, while a live one is kept by refresh queries', async () => {
    const id = runId();
    const host = `cq${id}`;
    const ttls = { host: 2, other: 2 };
    const [watcher, live, doomed] = await Promise.all([
      peer(`w${id}`, host, 40031, { ttls }),
      peer(`live${id}`, host, 40032, { ttls }),
      peer(`doomed${id}`, host, 40033, { ttls }),
    ]);
    await waitFor('watcher sees both', () => watcher.contacts.get(live.name) !== undefined && watcher.contacts.get(doomed.name) !== undefined);
    const doomedName = doomed.name;
    await doomed.stop({ goodbye: false });
    open.splice(open.indexOf(doomed), 1);
    await waitFor('doomed expires', () => watcher.contacts.get(doomedName) === undefined);
    // Three TTL periods later the live peer is still there: the watcher's 80 % refresh queries got answers.
    await sleep(6000);
    expect(watcher.contacts.get(live.name)).toBeDefined();
  });
});

describe('presence name conflicts (RFC 6762 probing)', () => {
  it('a second process claiming a taken user@host renames itself and reports the new name', async () => {
    const id = runId();
    const host = `cq${id}`;
    const first = await peer(`dup${id}`, host, 40041);
    const second = await peer(`dup${id}`, host, 40042);
    expect(first.name).toBe(`dup${id}@${host}`);
    expect(second.name).toBe(`dup${id}-2@${host}`);
    await waitFor('first sees renamed second', () => first.contacts.get(second.name)?.port === 40042);
    await waitFor('second sees first', () => second.contacts.get(first.name)?.port === 40041);
  });

  it('two processes probing the same name at once end with two different names', async () => {
    const id = runId();
    const host = `cq${id}`;
    const [x, y] = await Promise.all([peer(`same${id}`, host, 40051), peer(`same${id}`, host, 40052)]);
    expect(new Set([x.name, y.name]).size).toBe(2);
    expect([x.name, y.name].sort()).toEqual([`same${id}-2@${host}`, `same${id}@${host}`]);
    await waitFor('x sees y', () => x.contacts.get(y.name) !== undefined);
    await waitFor('y sees x', () => y.contacts.get(x.name) !== undefined);
  });

  it('an established name taken over later (conflicting announcement) is renamed and reported by an event', async () => {
    const id = runId();
    const host = `cq${id}`;
    const victim = await peer(`late${id}`, host, 40061);
    const changes: Array<[string, string]> = [];
    victim.on('name-changed', (name, previous) => changes.push([name, previous]));
    const intruder = await MdnsResponder.open({ interface: LOOPBACK });
    try {
      const fqdn = `late${id}@${host}._presence._tcp.local`;
      // Announced without probing, as a misbehaving or partitioned host would.
      intruder.register(
        [{ unique: true, record: { name: fqdn, type: 'SRV', ttl: 120, cacheFlush: true, data: { priority: 0, weight: 0, port: 49999, target: `${host}.local` } } }],
        { probe: false },
      );
      await waitFor('victim renamed', () => changes.length > 0);
      expect(changes[0]).toEqual([`late${id}-2@${host}`, `late${id}@${host}`]);
      expect(victim.name).toBe(`late${id}-2@${host}`);
    } finally {
      await intruder.close();
    }
  });
});

import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeTxt } from '../../src/mdns/records.js';
import { MdnsResponder } from '../../src/mdns/responder.js';
import type { RoomAddress } from '../../src/linklocal/room-advertiser.js';
import { RoomDirectory } from '../../src/linklocal/room-directory.js';
import { LOOPBACK, runId } from './mdns-test-helpers.js';
import { sleep, waitFor } from '../support/wait.js';

const open: Array<{ close(): Promise<void> }> = [];

async function directory(): Promise<RoomDirectory> {
  const d = await RoomDirectory.open({ interface: LOOPBACK });
  open.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((d) => d.close()));
});

function randomRoom(prefix: string): RoomAddress {
  return {
    name: `${prefix}-${runId()}`,
    address: `239.255.71.${1 + Math.floor(Math.random() * 253)}`,
    port: 1024 + Math.floor(Math.random() * 64000),
  };
}

describe('rooms on _clique._udp over real mDNS on loopback', () => {
  it('publishes exactly the records of spec §2.1', async () => {
    const advertiser = await directory();
    const room = randomRoom('lunch');
    expect(await advertiser.advertise(room)).toBe('advertised');
    const raw = await MdnsResponder.open({ interface: LOOPBACK });
    open.push(raw);
    const browser = raw.browse('_clique._udp');
    await waitFor('raw browser resolves room', () => browser.services().some((s) => s.instance === room.name));
    const fqdn = `${room.name}._clique._udp.local`;
    const srv = raw.cache.lookup(fqdn, 'SRV').map((e) => e.record);
    expect(srv).toHaveLength(1);
    expect(srv[0]).toMatchObject({ type: 'SRV', ttl: 120, cacheFlush: true, data: { priority: 0, weight: 0, port: room.port, target: fqdn } });
    const a = raw.cache.lookup(fqdn, 'A').map((e) => e.record);
    expect(a).toEqual([{ name: fqdn, type: 'A', ttl: 120, cacheFlush: false, data: room.address }]);
    const txt = raw.cache.lookup(fqdn, 'TXT').map((e) => e.record);
    expect(txt).toHaveLength(1);
    expect(txt[0]?.type === 'TXT' ? txt[0].data.map((s) => Buffer.from(s).toString()) : undefined).toEqual(['txtvers=0']);
    expect(txt[0]?.ttl).toBe(4500);
    const ptr = raw.cache.lookup('_clique._udp.local', 'PTR').map((e) => e.record);
    expect(ptr).toContainEqual({ name: '_clique._udp.local', type: 'PTR', ttl: 4500, cacheFlush: false, data: fqdn });
    raw.sendQuery([{ name: '_services._dns-sd._udp.local', type: 'PTR' }]);
    await waitFor('meta PTR', () => raw.cache.lookup('_services._dns-sd._udp.local', 'PTR').some((e) => e.record.data === '_clique._udp.local'));
    expect(decodeTxt(txt[0]?.type === 'TXT' ? txt[0].data : [])).toEqual({ txtvers: '0' });
  });

  it('lists remote rooms and our own, and drops a room when its only advertiser withdraws', async () => {
    const [a, observer] = await Promise.all([directory(), directory()]);
    const room = randomRoom('solo');
    const removed: string[] = [];
    observer.on('room-removed', (r) => removed.push(r.name));
    expect(await a.advertise(room)).toBe('advertised');
    await waitFor('observer lists room', () => observer.get(room.name) !== undefined);
    expect(observer.get(room.name)).toEqual(room);
    expect(a.get(room.name)).toEqual(room);
    expect(a.advertised()).toEqual([room]);
    await a.withdraw(room.name);
    await waitFor('room removed at observer', () => observer.get(room.name) === undefined);
    expect(removed).toEqual([room.name]);
    await waitFor('room removed at former advertiser', () => a.get(room.name) === undefined);
  });

  it('two members advertise identical records cooperatively; the room stays while one is left', async () => {
    const [a, b, observer] = await Promise.all([directory(), directory(), directory()]);
    // A listener that never queries: only announcements can keep records in its cache.
    const listener = await MdnsResponder.open({ interface: LOOPBACK });
    open.push(listener);
    const room = randomRoom('coop');
    const fqdn = `${room.name}._clique._udp.local`;
    const cached = (): string[] =>
      [
        ...listener.cache.lookup('_clique._udp.local', 'PTR').filter((e) => e.record.data === fqdn),
        ...listener.cache.lookup(fqdn, 'SRV'),
        ...listener.cache.lookup(fqdn, 'TXT'),
        ...listener.cache.lookup(fqdn, 'A'),
      ].map((e) => e.record.type);
    const conflicts: string[] = [];
    for (const d of [a, b]) d.on('advertise-conflict', (r) => conflicts.push(r.name));
    const removed: string[] = [];
    // Only this room: other test files may run in the same network namespace.
    observer.on('room-removed', (r) => (r.name === room.name ? removed.push(r.name) : undefined));
    expect(await a.advertise(room)).toBe('advertised');
    // Identical records from another host are not a conflict and are never renamed.
    expect(await b.advertise(room)).toBe('advertised');
    await waitFor('observer lists room', () => observer.get(room.name) !== undefined);
    await waitFor('listener cached the room', () => cached().length === 4);
    // Let the announcement repeats pass, so that only re-announcements can answer A's goodbyes.
    await sleep(1500);

    await a.withdraw(room.name);
    // A's goodbyes give caches a one-second grace; B re-announces when it hears them.
    await sleep(3000);
    expect(observer.get(room.name)).toEqual(room);
    expect(cached().sort()).toEqual(['A', 'PTR', 'SRV', 'TXT']);
    expect(b.get(room.name)).toEqual(room);
    expect(a.get(room.name)).toEqual(room);
    expect(removed).toEqual([]);

    await b.withdraw(room.name);
    await waitFor('room gone once the last member left', () => observer.get(room.name) === undefined);
    expect(removed).toEqual([room.name]);
    expect(conflicts).toEqual([]);
  });

  it('a room name held with another group/port is not advertised, not renamed, and reported', async () => {
    const [a, b, observer] = await Promise.all([directory(), directory(), directory()]);
    const room = randomRoom('clash');
    const conflicts: RoomAddress[] = [];
    b.on('advertise-conflict', (r) => conflicts.push(r));
    expect(await a.advertise(room)).toBe('advertised');
    const other = { ...room, port: room.port === 65000 ? 65001 : 65000 };
    expect(await b.advertise(other)).toBe('conflict');
    expect(conflicts).toEqual([other]);
    expect(b.advertised()).toEqual([]);
    await waitFor('observer lists the first', () => observer.get(room.name) !== undefined);
    await sleep(1500);
    expect(observer.list().filter((r) => r.name.startsWith(room.name))).toEqual([room]);
  });

  it('advertises an IPv6 group as an AAAA record', async () => {
    const [a, observer] = await Promise.all([directory(), directory()]);
    const room = { ...randomRoom('six'), address: 'ff15::71:23' };
    expect(await a.advertise(room)).toBe('advertised');
    await waitFor('observer lists room', () => observer.get(room.name) !== undefined);
    expect(observer.get(room.name)).toEqual(room);
  });

  it('answers a one-shot query from another port (legacy unicast, RFC 6762 §6.7) by unicast with the query id', async () => {
    const advertiser = await directory();
    const room = randomRoom('legacy');
    expect(await advertiser.advertise(room)).toBe('advertised');
    const socket = createSocket({ type: 'udp4' });
    open.push({ close: () => new Promise<void>((r) => socket.close(() => r())) });
    await new Promise<void>((r) => socket.bind(0, '0.0.0.0', () => r()));
    socket.setMulticastInterface(LOOPBACK);
    socket.setMulticastTTL(1);
    const replies: Buffer[] = [];
    socket.on('message', (m) => replies.push(m));
    const labels = [room.name, '_clique', '_udp', 'local'];
    const question = Buffer.concat([
      ...labels.map((l) => Buffer.concat([Buffer.of(Buffer.byteLength(l)), Buffer.from(l)])),
      Buffer.of(0, 0, 33, 0, 1), // SRV, IN
    ]);
    const header = Buffer.from([0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    const portBytes = Buffer.from([room.port >> 8, room.port & 0xff]);
    // A one-shot resolver retries; so do we (the query may hit a rate limit after our own announcement).
    for (let attempt = 0; attempt < 10 && !replies.some((r) => r.includes(portBytes)); attempt++) {
      socket.send(Buffer.concat([header, question]), 5353, '224.0.0.251');
      await sleep(1000);
    }
    const reply = replies.find((r) => r.includes(portBytes));
    expect(reply).toBeDefined();
    expect(reply!.readUInt16BE(0)).toBe(0x1234);
    expect(reply!.readUInt16BE(2) & 0x8000).toBe(0x8000);
    expect(reply!.readUInt16BE(4)).toBe(1); // the question is echoed
    expect(reply!.readUInt16BE(6)).toBeGreaterThanOrEqual(1);
  });
});

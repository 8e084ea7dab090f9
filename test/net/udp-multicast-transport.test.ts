import { afterEach, describe, expect, it } from 'vitest';
import { TransportError } from '../../src/net/transport-error.js';
import { randomMulticastPort, UdpMulticastTransport } from '../../src/net/udp-multicast-transport.js';
import { randomGroupAddress } from '../../src/rooms/group-address.js';
import { SeededRandom } from '../../src/base/random.js';
import { LOOPBACK, rawSender, testGroup } from '../support/multicast-helpers.js';
import { sleep, waitFor } from '../support/wait.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

const open: UdpMulticastTransport[] = [];
async function transport(options: { group: string; port: number }): Promise<UdpMulticastTransport> {
  const t = await UdpMulticastTransport.open({ ...options, interfaceAddress: LOOPBACK });
  open.push(t);
  return t;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('UdpMulticastTransport (loopback multicast)', () => {
  it('multicasts to every member of the group, the sender included', async () => {
    const where = testGroup();
    const a = await transport(where);
    const b = await transport(where);
    const gotA: string[] = [];
    const gotB: string[] = [];
    a.onDatagram((bytes) => gotA.push(decode(bytes)));
    b.onDatagram((bytes) => gotB.push(decode(bytes)));
    a.send(text('from a'));
    b.send(text('from b'));
    await waitFor('both datagrams at both sockets', () => gotA.length === 2 && gotB.length === 2);
    expect(gotA.sort()).toEqual(['from a', 'from b']);
    expect(gotB.sort()).toEqual(['from a', 'from b']);
    expect(a.stats.sent).toBe(1);
  });

  it('does not hear another group on another port', async () => {
    const one = testGroup();
    const other = { group: one.group === '239.255.71.1' ? '239.255.71.2' : '239.255.71.1', port: one.port + 1 };
    const a = await transport(one);
    const b = await transport(other);
    let heard = 0;
    b.onDatagram(() => heard++);
    const gotA: Uint8Array[] = [];
    a.onDatagram((bytes) => gotA.push(bytes));
    a.send(text('x'));
    await waitFor('loopback of our own datagram', () => gotA.length === 1);
    await sleep(50);
    expect(heard).toBe(0);
  });

  it('drops arriving datagrams above 1500 bytes and keeps ones of exactly 1500', async () => {
    const where = testGroup();
    const a = await transport(where);
    const sizes: number[] = [];
    a.onDatagram((bytes) => sizes.push(bytes.length));
    const raw = await rawSender();
    try {
      await raw.send(new Uint8Array(1501), where.group, where.port);
      await raw.send(new Uint8Array(1500), where.group, where.port);
      await waitFor('the 1500-byte datagram and one oversized drop', () => sizes.length === 1 && a.stats.oversized === 1);
    } finally {
      raw.close();
    }
    expect(sizes).toEqual([1500]);
  });

  it('reports a datagram above its send limit as a typed error instead of throwing', async () => {
    const a = await transport(testGroup());
    const errors: TransportError[] = [];
    a.onError((e) => errors.push(e));
    expect(() => a.send(new Uint8Array(1441))).not.toThrow();
    expect(errors.map((e) => e.code)).toEqual(['datagram-too-large']);
    expect(a.stats.sent).toBe(0);
  });

  it('rejects bad addresses and options with typed errors', async () => {
    const { port } = testGroup();
    await expect(UdpMulticastTransport.open({ group: '10.0.0.1', port, interfaceAddress: LOOPBACK })).rejects.toMatchObject({ code: 'bad-address' });
    await expect(UdpMulticastTransport.open({ group: 'not an address', port, interfaceAddress: LOOPBACK })).rejects.toBeInstanceOf(TransportError);
    await expect(UdpMulticastTransport.open({ group: '239.255.71.9', port: 70000, interfaceAddress: LOOPBACK })).rejects.toMatchObject({ code: 'bad-address' });
    await expect(UdpMulticastTransport.open({ group: '239.255.71.9', port, interfaceAddress: '::1' })).rejects.toMatchObject({ code: 'bad-address' });
    await expect(UdpMulticastTransport.open({ group: '239.255.71.9', port, interfaceAddress: LOOPBACK, maxDatagramSize: 100 })).rejects.toMatchObject({ code: 'bad-option' });
  });

  it('fails to join on an address that is not one of ours', async () => {
    // 192.0.2.1 is TEST-NET-1: never a local address, and joining sends nothing.
    await expect(UdpMulticastTransport.open({ ...testGroup(), interfaceAddress: '192.0.2.1' })).rejects.toMatchObject({ code: 'membership-failed' });
  });

  it('closes idempotently and ignores sends afterwards', async () => {
    const a = await transport(testGroup());
    await a.close();
    await a.close();
    expect(() => a.send(text('late'))).not.toThrow();
    expect(a.stats.sent).toBe(0);
  });

  it('draws room groups and ports from the original ranges', () => {
    const random = new SeededRandom(7);
    for (let i = 0; i < 1000; i++) {
      const group = randomGroupAddress(random);
      const last = Number(group.split('.')[3]);
      expect(group.startsWith('239.255.71.')).toBe(true);
      expect(last >= 1 && last < 254).toBe(true);
      const port = randomMulticastPort(random);
      expect(port >= 1024 && port < 65535).toBe(true);
    }
  });
});

import { createSocket, type Socket } from 'node:dgram';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareProbeSets, decodeTxt, type MdnsRecord } from '../../src/mdns/records.js';
import { MdnsResponder } from '../../src/mdns/responder.js';
import { RoomBrowser } from '../../src/linklocal/room-browser.js';
import { RoomAdvertiser } from '../../src/linklocal/room-advertiser.js';
import { LOOPBACK, runId } from './mdns-test-helpers.js';
import { waitFor } from '../support/wait.js';

const seed = process.env.CLIQUE_SEED !== undefined && process.env.CLIQUE_SEED !== '' ? Number(process.env.CLIQUE_SEED) | 0 : (Math.random() * 2 ** 32) | 0;
function withSeed<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\nreplay with CLIQUE_SEED=${seed}`, { cause: error });
  }
}

const MAX_CACHE = 256;
let victim: MdnsResponder;
let sender: Socket;

/** Multicast on loopback only (NETWORK SAFETY): every mDNS socket on this host sees it, ours included. */
function send(packet: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => sender.send(packet, 5353, '224.0.0.251', (e) => (e ? reject(e) : resolve())));
}

function header(fields: { id?: number; flags?: number; qd?: number; an?: number; ns?: number; ar?: number }): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(fields.id ?? 0, 0);
  b.writeUInt16BE(fields.flags ?? 0x8400, 2);
  b.writeUInt16BE(fields.qd ?? 0, 4);
  b.writeUInt16BE(fields.an ?? 0, 6);
  b.writeUInt16BE(fields.ns ?? 0, 8);
  b.writeUInt16BE(fields.ar ?? 0, 10);
  return b;
}

function name(labels: string[]): Buffer {
  return Buffer.concat([...labels.map((l) => Buffer.concat([Buffer.of(Buffer.byteLength(l)), Buffer.from(l)])), Buffer.of(0)]);
}

function ptrAnswer(owner: string[], target: string[], ttl = 4500): Buffer {
  const rdata = name(target);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(12, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([name(owner), fixed, rdata]);
}

function validResponse(): Buffer {
  return Buffer.concat([header({ an: 1 }), ptrAnswer(['_hostile', '_udp', 'local'], [`x${runId()}`, '_hostile', '_udp', 'local'])]);
}

beforeAll(async () => {
  victim = await MdnsResponder.open({ interface: LOOPBACK, maxCacheRecords: MAX_CACHE });
  sender = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => sender.bind(0, '0.0.0.0', () => r()));
  sender.setMulticastInterface(LOOPBACK);
  sender.setMulticastTTL(1);
});

afterAll(async () => {
  sender.close();
  await victim.close();
});

/** The victim still works: a fresh room it advertises is seen by a fresh browser. */
async function victimStillWorks(): Promise<void> {
  const room = { name: `alive-${runId()}`, address: '239.255.71.9', port: 4242 };
  const advertiser = new RoomAdvertiser(victim);
  expect(await advertiser.advertise(room)).toBe('advertised');
  const other = await MdnsResponder.open({ interface: LOOPBACK });
  try {
    const browser = new RoomBrowser(other);
    await waitFor('room of the victim seen', () => browser.get(room.name) !== undefined);
  } finally {
    await other.close();
    await advertiser.withdraw(room.name);
  }
}

describe('hostile mDNS packets', () => {
  it('survives crafted malformed packets', async () => {
    const before = victim.stats.malformed;
    const valid = validResponse();
    const crafted: Buffer[] = [
      Buffer.alloc(0),
      Buffer.of(1, 2, 3),
      header({ qd: 65535, an: 65535, ns: 65535, ar: 65535 }),
      Buffer.concat([header({ an: 65535 }), ptrAnswer(['a', 'local'], ['b', 'local'])]),
      // Compression pointer to itself, to a later offset, and two pointers pointing at each other.
      Buffer.concat([header({ qd: 1 }), Buffer.of(0xc0, 12, 0, 12, 0, 1)]),
      Buffer.concat([header({ qd: 1 }), Buffer.of(0xc0, 40, 0, 12, 0, 1), Buffer.alloc(40)]),
      Buffer.concat([header({ qd: 1 }), Buffer.of(0xc0, 14, 0xc0, 12, 0, 12, 0, 1)]),
      // Label longer than the packet, reserved label type 0x40, name over 255 bytes.
      Buffer.concat([header({ qd: 1 }), Buffer.of(63, 0x61)]),
      Buffer.concat([header({ qd: 1 }), Buffer.of(0x41, 0x61, 0, 0, 1, 0, 1)]),
      Buffer.concat([header({ qd: 1 }), name(new Array<string>(60).fill('abcd')), Buffer.of(0, 12, 0, 1)]),
      // TXT whose inner string length runs past its rdata.
      Buffer.concat([header({ an: 1 }), name(['t', 'local']), Buffer.of(0, 16, 0, 1, 0, 0, 0, 10, 0, 2, 200, 0x61)]),
      // Every truncation of a valid packet.
      ...Array.from({ length: valid.length - 1 }, (_, i) => valid.subarray(0, i + 1)),
      // Oversized datagram of zeros.
      Buffer.alloc(9000),
    ];
    for (const p of crafted) await send(p);
    await waitFor('malformed packets counted', () => victim.stats.malformed - before >= 10);
    await victimStillWorks();
  });

  it('survives random garbage and random mutations of valid packets (fast-check)', async () => {
    const valid = validResponse();
    const packets = withSeed(() =>
      fc.sample(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 600 }),
          fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, v]) => {
            const b = Buffer.from(valid);
            b[i] = v;
            return new Uint8Array(b);
          }),
          fc.uint8Array({ minLength: 0, maxLength: 300 }).map((tail) => new Uint8Array(Buffer.concat([header({ qd: 3, an: 3, ar: 3 }), tail]))),
        ),
        { seed, numRuns: 400 },
      ),
    );
    for (const p of packets) await send(p);
    await victimStillWorks();
  });

  it('keeps its cache bounded under a flood of well-formed records', async () => {
    const id = runId();
    for (let packet = 0; packet < 60; packet++) {
      const answers = Array.from({ length: 20 }, (_, i) => ptrAnswer(['_flood', '_udp', 'local'], [`f${id}-${packet}-${i}`, '_flood', '_udp', 'local'], 3600));
      await send(Buffer.concat([header({ an: answers.length }), ...answers]));
    }
    await waitFor('flood arrived', () => victim.cache.lookup('_flood._udp.local', 'PTR').length > MAX_CACHE / 2);
    expect(victim.cache.size).toBeLessThanOrEqual(MAX_CACHE);
    await victimStillWorks();
  });
});

describe('pure helpers under random input', () => {
  it('decodeTxt never throws, lower-cases keys, keeps the first value, has no prototype', () => {
    withSeed(() =>
      fc.assert(
        fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), (strings) => {
          const txt = decodeTxt(strings);
          expect(Object.getPrototypeOf(txt)).toBeNull();
          for (const key of Object.keys(txt)) expect(key).toBe(key.replace(/[A-Z]/g, (c) => c.toLowerCase()));
        }),
        { seed, numRuns: 300 },
      ),
    );
    const txt = decodeTxt([Buffer.from('__proto__=x'), Buffer.from('A=1'), Buffer.from('a=2'), Buffer.from('=z'), Buffer.from('flag')]);
    expect(Object.entries(txt)).toEqual([
      ['__proto__', 'x'],
      ['a', '1'],
      ['flag', ''],
    ]);
  });

  it('probe tie-break is antisymmetric and zero only for equal sets', () => {
    const srv = fc.record({ port: fc.nat(65535), target: fc.constantFrom('a.local', 'b.local') }).map(
      ({ port, target }): MdnsRecord => ({ name: 'x.local', type: 'SRV', ttl: 120, cacheFlush: true, data: { priority: 0, weight: 0, port, target } }),
    );
    const a = fc.ipV4().map((data): MdnsRecord => ({ name: 'x.local', type: 'A', ttl: 120, cacheFlush: true, data }));
    const set = fc.array(fc.oneof(srv, a), { minLength: 1, maxLength: 3 });
    withSeed(() =>
      fc.assert(
        fc.property(set, set, (x, y) => {
          expect(Math.sign(compareProbeSets(x, y))).toBe(-Math.sign(compareProbeSets(y, x)));
          expect(compareProbeSets(x, x)).toBe(0);
        }),
        { seed, numRuns: 300 },
      ),
    );
  });
});

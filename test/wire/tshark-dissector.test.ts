import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePacket, encodePacket } from '../../src/wire/codec.js';
import { PacketError } from '../../src/wire/packet-error.js';
import { PacketTypeCode, type Packet } from '../../src/wire/packet.js';
import { propertySeed } from '../support/fast-check-seed.js';
import { packetArbitraries } from '../support/packet-arbitraries.js';

/**
 * Interop with Wireshark's own Clique dissector (`clique-rm`, heuristic UDP
 * dissector `clique_rm_udp`), an independent decoder of the original's format:
 * our encodings go into a pcap file, tshark decodes it, and every field it
 * exposes must match what our decoder says about the same bytes.
 */

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const TSHARK = findOnPath('tshark');
const SKIP_REASON = 'tshark is not on PATH (install it: apt-get install -y tshark; .ci/run does so in CI)';
if (!TSHARK) console.warn(`test/wire/tshark-dissector.test.ts skipped: ${SKIP_REASON}`);

const seed = propertySeed();
const PORT = 41000;

// --- pcap writing (classic libpcap format, Ethernet / IPv4 / UDP) ---

function ipv4Checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i]! << 8) | header[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** One Ethernet frame carrying `payload` as a UDP datagram to 239.255.71.<groupLow>. */
function udpFrame(payload: Uint8Array, groupLow: number): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 8 + payload.length);
  const view = new DataView(frame.buffer);
  // IPv4 multicast MAC 01:00:5e + low 23 bits of the group; locally administered source.
  frame.set([0x01, 0x00, 0x5e, 0x7f, 0x47, groupLow, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01], 0);
  view.setUint16(12, 0x0800);
  const ip = 14;
  frame[ip] = 0x45;
  view.setUint16(ip + 2, 20 + 8 + payload.length);
  view.setUint16(ip + 6, 0x4000); // DF
  frame[ip + 8] = 1; // TTL 1, as the original sends
  frame[ip + 9] = 17; // UDP
  frame.set([192, 0, 2, 1], ip + 12); // TEST-NET-1 source: this file never touches a network
  frame.set([239, 255, 71, groupLow], ip + 16);
  view.setUint16(ip + 10, ipv4Checksum(frame.subarray(ip, ip + 20)));
  const udp = ip + 20;
  view.setUint16(udp, PORT);
  view.setUint16(udp + 2, PORT);
  view.setUint16(udp + 4, 8 + payload.length); // checksum 0 = none
  frame.set(payload, udp + 8);
  return frame;
}

function pcapFile(datagrams: Uint8Array[]): Uint8Array {
  const header = new Uint8Array(24);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, 0xa1b2c3d4, true);
  hv.setUint16(4, 2, true);
  hv.setUint16(6, 4, true);
  hv.setUint32(16, 65535, true); // snaplen
  hv.setUint32(20, 1, true); // LINKTYPE_ETHERNET
  const parts: Uint8Array[] = [header];
  datagrams.forEach((datagram, i) => {
    const frame = udpFrame(datagram, 1 + (i % 253));
    const record = new Uint8Array(16);
    const rv = new DataView(record.buffer);
    rv.setUint32(0, 1_700_000_000 + i, true);
    rv.setUint32(8, frame.length, true);
    rv.setUint32(12, frame.length, true);
    parts.push(record, frame);
  });
  return Buffer.concat(parts);
}

// --- running tshark ---

const FIELDS = [
  'clique_rm.version',
  'clique_rm.type',
  'clique_rm.sender',
  'clique_rm.packet_id',
  'clique_rm.depends',
  'clique_rm.depends.sender',
  'clique_rm.depends.packet_id',
  'clique_rm.failures',
  'clique_rm.failures.sender',
  'clique_rm.attempt_join',
  'clique_rm.attempt_join.sender',
  'clique_rm.join_failures',
  'clique_rm.join_failures.sender',
  'clique_rm.data.flags',
  'clique_rm.data.stream_id',
  'clique_rm.data.size',
  'clique_rm.data.data',
  'clique_rm.whois_request.id',
  'clique_rm.whois_reply.length',
  'clique_rm.whois_reply.name',
  'clique_rm.repair_request.sender_id',
  'clique_rm.repair_request.packet_id',
] as const;
type Field = (typeof FIELDS)[number];
type View = Partial<Record<Field, Array<number | string>>>;

const STRING_FIELDS = new Set<Field>(['clique_rm.data.data', 'clique_rm.whois_reply.name']);

// Created on first use, so a skipped run leaves nothing behind.
let workDir: string | undefined;
afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});
let fileCounter = 0;

/** Decode datagrams with tshark; one View per frame (fields it did not show are absent). */
function tsharkViews(datagrams: Uint8Array[]): Promise<View[]> {
  workDir ??= mkdtempSync(join(tmpdir(), 'clique-tshark-'));
  const file = join(workDir, `packets-${fileCounter++}.pcap`);
  writeFileSync(file, pcapFile(datagrams));
  const args = ['-n', '-r', file, '-o', 'udp.try_heuristic_first:TRUE', '-T', 'fields', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  args.push('-e', 'frame.number', ...FIELDS.flatMap((f) => ['-e', f]));
  return new Promise((resolve, reject) => {
    execFile(TSHARK!, args, { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`tshark failed: ${error.message}\n${stderr}`));
      const views: View[] = [];
      for (const line of stdout.split('\n')) {
        if (line === '') continue;
        const [frameNumber, ...values] = line.split('\t');
        const view: View = {};
        FIELDS.forEach((field, i) => {
          const raw = values[i] ?? '';
          if (raw === '') return;
          view[field] = STRING_FIELDS.has(field) ? [raw] : raw.split(',').map(Number);
        });
        views[Number(frameNumber) - 1] = view;
      }
      expect(views.length).toBe(datagrams.length);
      resolve(views);
    });
  });
}

/** What tshark should show for these bytes, according to our decoder. */
function ourView(datagram: Uint8Array): View {
  const p: Packet = decodePacket(datagram);
  const view: View = {
    'clique_rm.version': [1],
    'clique_rm.type': [PacketTypeCode[p.type]],
    'clique_rm.sender': [p.sender],
  };
  const list = (count: Field, entries: Field, ids: number[]): void => {
    view[count] = [ids.length];
    if (ids.length > 0) view[entries] = ids;
  };
  const positions = (list: Array<{ senderId: number; packetId: number }>): void => {
    view['clique_rm.depends'] = [list.length];
    if (list.length > 0) {
      view['clique_rm.depends.sender'] = list.map((d) => d.senderId);
      view['clique_rm.depends.packet_id'] = list.map((d) => d.packetId);
    }
  };
  switch (p.type) {
    case 'whois-request':
      view['clique_rm.whois_request.id'] = [p.queriedId];
      break;
    case 'whois-reply':
      // The length byte is not part of our Packet (the name may be cut at a NUL).
      view['clique_rm.whois_reply.length'] = [datagram[12]!];
      if (p.name !== '') view['clique_rm.whois_reply.name'] = [p.name];
      break;
    case 'repair-request':
      view['clique_rm.repair_request.sender_id'] = [p.originalSender];
      view['clique_rm.repair_request.packet_id'] = [p.packetId];
      break;
    case 'session':
      positions(p.positions);
      break;
    default:
      view['clique_rm.packet_id'] = [p.packetId];
      positions(p.depends);
      switch (p.type) {
        case 'data':
          view['clique_rm.data.flags'] = [p.flags];
          view['clique_rm.data.stream_id'] = [p.streamId];
          view['clique_rm.data.size'] = [p.totalSize];
          if (p.payload.length > 0) view['clique_rm.data.data'] = [Buffer.from(p.payload).toString('hex')];
          break;
        case 'failure':
          list('clique_rm.failures', 'clique_rm.failures.sender', p.ids);
          break;
        case 'attempt-join':
          list('clique_rm.attempt_join', 'clique_rm.attempt_join.sender', p.ids);
          break;
        case 'join':
          list('clique_rm.join_failures', 'clique_rm.join_failures.sender', p.ids);
          break;
        case 'no-data':
        case 'bye':
          break;
      }
  }
  return view;
}

// --- the packets ---

const hex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));

// Spec rmulticast.md §2.7 E1–E13 (all ten types).
const SPEC_VECTORS = [
  '436c69717565010000000000 1a2b3c4d',
  '436c6971756501001111111122222222',
  '436c69717565010122222222 05 63726f6e65',
  '436c69717565010f11111111 00000100 02 2222222200000050 3333333300abcdef 03 0000 00000005 68656c6c6f',
  '436c69717565010233333333 11111111 00000101',
  '436c69717565010311111111 02 1111111100000102 2222222200000051',
  '436c69717565011011111111 00000102 01 2222222200000051',
  '436c69717565011244444444 fffffffe 00 02 11111111 22222222',
  '436c69717565011211111111 00000103 02 2222222200000051 44444444ffffffff 00',
  '436c69717565011311111111 00000104 02 2222222200000051 4444444400000001 01 33333333',
  '436c69717565011122222222 00000052 02 1111111100000105 3333333300abcdf0 01 33333333',
  '436c69717565011411111111 00000106 00',
].map(hex);

function e5Fragments(): Uint8Array[] {
  const message = new Uint8Array(3000).map((_, i) => i % 256);
  const base = { type: 'data' as const, sender: 0x11111111, streamId: 7, totalSize: 3000 };
  return [
    encodePacket({ ...base, packetId: 0x200, depends: [{ senderId: 0x22222222, packetId: 0x60 }], flags: 1, payload: message.subarray(0, 1408) }, 1440),
    encodePacket({ ...base, packetId: 0x201, depends: [], flags: 0, payload: message.subarray(1408, 2824) }, 1440),
    encodePacket({ ...base, packetId: 0x202, depends: [], flags: 2, payload: message.subarray(2824) }, 1440),
  ];
}

const positions = (n: number) => Array.from({ length: n }, (_, i) => ({ senderId: 0xffffffff - i, packetId: i * 0x01010101 }));
const ids = (n: number) => Array.from({ length: n }, (_, i) => (i * 0x9e3779b9) >>> 0);

const EDGE_PACKETS: Packet[] = [
  { type: 'data', sender: 0xffffffff, packetId: 0xffffffff, depends: [], flags: 0xff, streamId: 0xffff, totalSize: 0xffffffff, payload: new Uint8Array([0]) },
  { type: 'data', sender: 1, packetId: 0, depends: positions(3), flags: 3, streamId: 1, totalSize: 0, payload: new Uint8Array(0) },
  { type: 'session', sender: 0, positions: positions(255) },
  { type: 'failure', sender: 5, packetId: 6, depends: positions(255), ids: ids(255) },
  { type: 'attempt-join', sender: 5, packetId: 6, depends: [], ids: ids(255) },
  { type: 'join', sender: 5, packetId: 6, depends: positions(1), ids: [] },
  { type: 'no-data', sender: 7, packetId: 0x80000000, depends: positions(175) },
  { type: 'whois-reply', sender: 9, name: '' },
  { type: 'whois-reply', sender: 9, name: 'x'.repeat(254) },
  { type: 'whois-reply', sender: 9, name: 'user@host-1.local, room #7' },
];

// tshark shows names as ASCII text; keep random names printable ASCII so both sides spell them alike.
const asciiName = fc.stringMatching(/^[A-Za-z0-9@._ #,()+=-]{0,254}$/);
const tsharkFriendlyPacket: fc.Arbitrary<Packet> = fc.oneof(
  ...Object.values(packetArbitraries).filter((a) => a !== packetArbitraries['whois-reply']),
  fc.record({ type: fc.constant('whois-reply' as const), sender: fc.integer({ min: 0, max: 0xffffffff }), name: asciiName }),
);

const TITLE = TSHARK
  ? `Wireshark clique-rm dissector vs our codec (seed ${seed}; replay with CLIQUE_SEED=${seed})`
  : `Wireshark clique-rm dissector vs our codec — skipped: ${SKIP_REASON}`;

describe.skipIf(!TSHARK)(TITLE, () => {
  it('decodes spec vectors E1–E13, E5 fragments, edge cases and random packets field by field like we do', async () => {
    const random = fc.sample(tsharkFriendlyPacket, { seed, numRuns: 150 });
    const datagrams = [
      ...SPEC_VECTORS,
      ...e5Fragments(),
      ...EDGE_PACKETS.map((p) => encodePacket(p)),
      // A WHOIS name with an embedded NUL: both decoders stop there.
      hex('436c69717565010122222222 05 6372006f6e'),
      ...random.map((p) => encodePacket(p)),
    ];
    // Every type is covered.
    const types = new Set(datagrams.map((d) => d[7]));
    expect([...types].sort((a, b) => a! - b!)).toEqual(Object.values(PacketTypeCode).sort((a, b) => a - b));

    const views = await tsharkViews(datagrams);
    datagrams.forEach((datagram, i) => {
      const label = `frame ${i + 1}: ${Buffer.from(datagram).toString('hex').slice(0, 120)}`;
      expect(views[i], label).toEqual(ourView(datagram));
    });
  });

  it('the name with an embedded NUL reads as "cr" on both sides', async () => {
    const datagram = hex('436c69717565010122222222 05 6372006f6e');
    const [view] = await tsharkViews([datagram]);
    expect(view?.['clique_rm.whois_reply.name']).toEqual(['cr']);
    expect(decodePacket(datagram)).toEqual({ type: 'whois-reply', sender: 0x22222222, name: 'cr' });
  });

  it('does not claim datagrams whose header we reject (short, wrong prefix, version ≠ 1)', async () => {
    const rejected = [
      hex('436c69717565011411111111 00').subarray(0, 11),
      hex('636c69717565011411111111 0000010600'), // "clique"
      hex('436c69717565021411111111 0000010600'), // version 2
      hex('436c69717565001411111111 0000010600'), // version 0
    ];
    const views = await tsharkViews(rejected);
    for (const [i, datagram] of rejected.entries()) {
      expect(views[i], `frame ${i + 1}`).toEqual({});
      expect(() => decodePacket(datagram)).toThrow(PacketError);
    }
  });
});

import { randomBytes, randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RoomShares, type RoomShareInfo } from '../src/files/room-shares.js';
import { Clique } from '../src/rooms/clique.js';
import { RoomTubes } from '../src/tubes/room-tubes.js';

/**
 * A room share (issue 12 item 2) against what LocalSend does, in one run:
 * one file to 3 members on loopback, sent once by `RoomShares.share` (every
 * member writes it to disk, SHA-256 checked), against one HTTP copy per
 * member, one after the other (Node's http, streamed to disk). Everything
 * runs in this one process (4 rMulticast members share its thread), a
 * pessimistic figure for the share. Wire volume: every UDP payload byte any
 * member sends during the share (data, repairs, acknowledgements), over the
 * file size: an upper bound on what the sender alone puts on the wire.
 */
export interface ShareFigures {
  bytes: number;
  shareMs: number;
  httpMs: number;
  /** share time / three sequential HTTP copies. */
  ratio: number;
  /** UDP payload bytes of all members during the share / file size. */
  wireRatio: number;
  /** The same bytes by raw UDP multicast in 1440-byte datagrams to 3 sockets of this process: no reliability, no disk, no hash. */
  rawFloorMs: number;
  /** rawFloorMs / httpMs: no share over 1440-byte datagrams on this machine can go below it. */
  rawFloorRatio: number;
}

const MB = 1024 * 1024;

export async function shareRun(totalBytes = 100 * MB): Promise<ShareFigures> {
  const id = randomBytes(3).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'clique-share-bench-'));
  const src = join(dir, 'file.bin');
  writeFileSync(src, randomBytes(totalBytes));
  const cliques = await Promise.all(
    ['alice', 'bob', 'carol', 'dave'].map((name) => Clique.start({ name: `${name}-${id}@bench`, interface: '127.0.0.1', presence: false, discovery: false, history: false })),
  );
  try {
    const room = `share-bench-${id}`;
    const first = await cliques[0]!.join(room, { address: `239.255.74.${randomInt(1, 254)}`, port: randomInt(20000, 60000) });
    const rooms = [first, ...(await Promise.all(cliques.slice(1).map((c) => c.join(room, { address: first.address, port: first.port }))))];
    while (rooms.some((r) => r.members.length < 4)) await new Promise((r) => setTimeout(r, 50));
    const done: RoomShareInfo[] = [];
    const shares = rooms.map((r, i) => {
      const shares = new RoomShares({ autoAcceptDir: () => (i === 0 ? undefined : mkdtempSync(join(dir, `in-${i}-`))) });
      shares.attach(r, new RoomTubes(r));
      shares.on('done', (d) => d.direction === 'in' && done.push(d));
      return shares;
    });

    let wireBytes = 0;
    const send = dgram.Socket.prototype.send;
    dgram.Socket.prototype.send = function (this: dgram.Socket, msg: unknown, ...rest: unknown[]) {
      wireBytes += Array.isArray(msg) ? msg.reduce((n: number, b: Uint8Array) => n + b.length, 0) : (msg as Uint8Array).length;
      return (send as (...args: unknown[]) => void).apply(this, [msg, ...rest]);
    } as typeof send;
    const started = performance.now();
    let shareMs: number;
    try {
      await shares[0]!.share(room, src);
      while (done.length < 3) await new Promise((r) => setTimeout(r, 20));
      shareMs = performance.now() - started;
    } finally {
      dgram.Socket.prototype.send = send;
    }
    if (done.some((d) => d.state !== 'received')) throw new Error(`a member did not get the share: ${JSON.stringify(done)}`);

    const server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(totalBytes) });
      createReadStream(src).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const httpStarted = performance.now();
    for (let i = 1; i <= 3; i++) {
      await new Promise<void>((resolve, reject) => {
        http.get({ host: '127.0.0.1', port, path: '/file.bin' }, (res) => void pipeline(res, createWriteStream(join(dir, `http-${i}.bin`))).then(resolve, reject)).on('error', reject);
      });
    }
    const httpMs = performance.now() - httpStarted;
    server.close();
    const rawFloorMs = await rawMulticastFloor(readFileSync(src));
    return { bytes: totalBytes, shareMs, httpMs, ratio: shareMs / httpMs, wireRatio: wireBytes / totalBytes, rawFloorMs, rawFloorRatio: rawFloorMs / httpMs };
  } finally {
    await Promise.all(cliques.map((c) => c.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** rMulticast's datagram limit (the original reads into 1500 bytes). */
const DATAGRAM = 1440;
/** Datagrams the sender may be ahead of the slowest receiver: ~1.4 MB, well inside each 4 MiB receive buffer. */
const RAW_AHEAD = 1000;

/**
 * The floor under any share in 1440-byte datagrams on this machine: raw UDP
 * multicast carrying `data` from one socket to three receiving sockets of
 * this one process (as the share bench's four members share it), receivers
 * only counting bytes, paced so that nothing is dropped. Pinned to loopback
 * (TTL 1); a run that still lost datagrams throws rather than report a floor
 * it did not carry.
 */
async function rawMulticastFloor(data: Uint8Array): Promise<number> {
  const group = `239.255.75.${randomInt(1, 254)}`;
  const port = randomInt(20000, 60000);
  const open = async (receive: boolean): Promise<dgram.Socket> => {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve) => socket.bind(receive ? port : 0, '0.0.0.0', resolve));
    if (receive) {
      socket.addMembership(group, '127.0.0.1');
      socket.setRecvBufferSize(4 * MB);
    }
    socket.setMulticastInterface('127.0.0.1');
    socket.setMulticastTTL(1);
    return socket;
  };
  const receivers = await Promise.all([open(true), open(true), open(true)]);
  const sender = await open(false);
  // Connected, as our transport's send socket: Node then sends at once instead of resolving the address per datagram.
  await new Promise<void>((resolve) => sender.connect(port, group, resolve));
  const counts = receivers.map(() => ({ datagrams: 0, bytes: 0 }));
  receivers.forEach((r, i) => r.on('message', (m) => {
    counts[i]!.datagrams++;
    counts[i]!.bytes += m.length;
  }));
  const datagrams = Math.ceil(data.length / DATAGRAM);
  try {
    const started = performance.now();
    for (let i = 0; i < datagrams; i++) {
      while (i - Math.min(...counts.map((c) => c.datagrams)) > RAW_AHEAD) await new Promise((r) => setImmediate(r));
      sender.send(data.subarray(i * DATAGRAM, (i + 1) * DATAGRAM));
    }
    const deadline = performance.now() + 10_000;
    while (counts.some((c) => c.datagrams < datagrams) && performance.now() < deadline) await new Promise((r) => setImmediate(r));
    const elapsed = performance.now() - started;
    if (counts.some((c) => c.bytes !== data.length)) throw new Error(`raw UDP floor lost datagrams: ${JSON.stringify(counts)} of ${datagrams}`);
    return elapsed;
  } finally {
    for (const s of [sender, ...receivers]) s.close();
  }
}

// `node build/bench/share-bench.js`: this line alone.
if (process.argv[1]?.endsWith('share-bench.js')) {
  const f = await shareRun();
  console.log(`room share, ${f.bytes / MB} MB to 3 members: ${(f.shareMs / 1000).toFixed(1)} s shared once, ${(f.httpMs / 1000).toFixed(1)} s as 3 HTTP copies one after the other; share_vs_3_http=${f.ratio.toFixed(3)} share_wire_ratio=${f.wireRatio.toFixed(3)}; raw UDP floor ${(f.rawFloorMs / 1000).toFixed(2)} s, share_raw_udp_floor_vs_3_http=${f.rawFloorRatio.toFixed(3)}`);
  process.exit(0);
}

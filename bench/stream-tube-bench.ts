import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import { Clique } from '../src/rooms/clique.js';
import { RoomTubes } from '../src/tubes/room-tubes.js';
import { StreamTubeAcceptor } from '../src/tubes/stream-tube-acceptor.js';
import { StreamTubeHost } from '../src/tubes/stream-tube-host.js';

/**
 * Room stream tube throughput (spec §7.5) against a direct loopback TCP
 * connection, measured in one run: a sink counts bytes; a client sends the
 * same bytes once straight to it and once through a tube (bob's acceptor →
 * TCP → alice's host → the sink). Everything runs in this one process, so
 * the tube's two relays share one thread with the client and the sink: a
 * pessimistic figure (between two machines each relay has its own CPU).
 */
export interface StreamTubeFigures {
  bytes: number;
  directMbPerS: number;
  tubeMbPerS: number;
  /** tube / direct, median of the runs. */
  ratio: number;
}

const MB = 1024 * 1024;

export async function streamTubeRun(totalBytes = 64 * MB, runs = 3): Promise<StreamTubeFigures> {
  const id = randomBytes(3).toString('hex');
  const start = (name: string): Promise<Clique> =>
    Clique.start({ name: `${name}-${id}@bench`, interface: '127.0.0.1', presence: true, tcpPort: 0, discovery: false, history: false });
  const [alice, bob] = await Promise.all([start('alice'), start('bob')]);
  const sink = net.createServer((socket) => {
    socket.on('error', () => undefined);
    socket.resume();
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkPort = (sink.address() as net.AddressInfo).port;
  try {
    const room = `tube-bench-${id}`;
    const aliceRoom = await alice.join(room, { address: `239.255.73.${randomInt(1, 254)}`, port: randomInt(20000, 60000) });
    const bobRoom = await bob.join(room, { address: aliceRoom.address, port: aliceRoom.port });
    await bobRoom.waitForMembers(1, { timeoutMs: 30_000 });
    await alice.link!.waitForContact(bob.link!.name, { timeoutMs: 20_000 });
    await bob.link!.waitForContact(alice.link!.name, { timeoutMs: 20_000 });
    const aliceTubes = new RoomTubes(aliceRoom);
    const bobTubes = new RoomTubes(bobRoom);
    const host = new StreamTubeHost(alice.link!);
    const tube = aliceTubes.offerStreamTube({ service: 'bench' });
    host.share(aliceTubes, tube.id, { host: '127.0.0.1', port: sinkPort });
    const deadline = Date.now() + 20_000;
    while (bobTubes.tube(tube.id) === undefined) {
      if (Date.now() > deadline) throw new Error('the tube offer did not arrive');
      await new Promise((r) => setTimeout(r, 20));
    }
    const acceptor = await StreamTubeAcceptor.open(bob.link!, bobTubes, tube.id);
    const chunk = randomBytes(256 * 1024);
    const direct: number[] = [];
    const viaTube: number[] = [];
    await send(sinkPort, chunk, 8 * MB); // warm-up
    await send(acceptor.address.port, chunk, 8 * MB);
    for (let i = 0; i < runs; i++) {
      direct.push(await send(sinkPort, chunk, totalBytes));
      viaTube.push(await send(acceptor.address.port, chunk, totalBytes));
    }
    await acceptor.close();
    host.close();
    const rate = (ms: number): number => totalBytes / MB / (ms / 1000);
    const ratios = direct.map((d, i) => d / viaTube[i]!);
    return { bytes: totalBytes, directMbPerS: rate(median(direct)), tubeMbPerS: rate(median(viaTube)), ratio: median(ratios) };
  } finally {
    sink.close();
    await Promise.all([alice.stop(), bob.stop()]);
  }
}

/** Writes `total` bytes with back-pressure, half-closes, and resolves with the ms until the far end closes. */
function send(port: number, chunk: Buffer, total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      socket.end();
    };
    socket.once('connect', pump);
    socket.on('error', reject);
    socket.resume();
    // The sink reads to the end, then its side closes: every byte went through.
    socket.on('close', () => resolve(performance.now() - started));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

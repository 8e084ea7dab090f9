import { createSocket } from 'node:dgram';
import { SEND_WINDOW } from '../src/rmcast/engine-defaults.js';
import { openMulticastNode } from '../src/net/multicast-node.js';
import { absoluteNow, type FromPeer, type PeerSetup, type RunCommand, type RunReport, type ToPeer } from './bench-protocol.js';

/**
 * One benchmark peer process. 'raw': a bare UDP multicast socket, no
 * reliability (the baseline). 'clique': our engine over the same kind of
 * socket. Everything is pinned to 127.0.0.1 (never the real network).
 */
const INTERFACE = '127.0.0.1';
const LATENCY_SAMPLES = 20_000;

function reply(message: FromPeer): void {
  process.send?.(message);
}

function waitForCommand(): Promise<ToPeer> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as ToPeer)));
}

function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function stamp(seq: number, size: number): Uint8Array {
  const payload = new Uint8Array(Math.max(size, 16));
  const view = new DataView(payload.buffer);
  view.setFloat64(0, absoluteNow());
  view.setUint32(8, seq);
  return payload.subarray(0, Math.max(size, 16));
}

function emptyReport(setup: PeerSetup): RunReport {
  return {
    kind: 'report', name: setup.name, role: setup.role, received: 0, bytes: 0, first: 0, last: 0,
    latencies: [], rssBytes: 0, heapUsedBytes: 0, datagramsOut: 0, datagramsIn: 0, cpuMicros: 0,
  };
}

/** Count one arrival; its first 8 bytes carry the send time, for latency. */
function recordArrival(report: RunReport, data: Uint8Array): void {
  const now = absoluteNow();
  if (report.received === 0) report.first = now;
  report.last = now;
  report.received++;
  report.bytes += data.length;
  if (report.latencies.length < LATENCY_SAMPLES) {
    report.latencies.push(now - new DataView(data.buffer, data.byteOffset).getFloat64(0));
  }
}

function finish(report: RunReport): void {
  const memory = process.memoryUsage();
  report.rssBytes = memory.rss;
  report.heapUsedBytes = memory.heapUsed;
  reply(report);
}

/** Say ready, then answer each 'run' with a report until 'stop'. */
async function serveRuns(setup: PeerSetup, run: (command: RunCommand) => Promise<RunReport>): Promise<void> {
  reply({ kind: 'ready', name: setup.name });
  for (;;) {
    const command = await waitForCommand();
    if (command.cmd === 'stop') return;
    if (command.cmd === 'run') {
      const cpuBefore = process.cpuUsage();
      const report = await run(command);
      const cpu = process.cpuUsage(cpuBefore);
      report.cpuMicros = cpu.user + cpu.system;
      finish(report);
    }
  }
}

async function runRaw(setup: PeerSetup): Promise<void> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(setup.port, '0.0.0.0', resolve));
  socket.addMembership(setup.group, INTERFACE);
  socket.setMulticastInterface(INTERFACE);
  socket.setMulticastTTL(1);
  socket.setMulticastLoopback(true);
  // The same buffer sizes as our transport asks for, so the baseline is fair.
  socket.setRecvBufferSize(4 * 1024 * 1024);
  socket.setSendBufferSize(4 * 1024 * 1024);
  let report = emptyReport(setup);
  let expected = 0;
  let done: (() => void) | undefined;
  socket.on('message', (msg) => {
    report.datagramsIn++;
    if (setup.role !== 'receiver' || msg.length < 16 || msg[12] !== 0x42) return;
    recordArrival(report, msg);
    if (report.received >= expected) done?.();
  });
  await serveRuns(setup, async (command) => {
    report = emptyReport(setup);
    if (setup.role === 'receiver') {
      expected = command.count;
      // Raw UDP loses datagrams under load: stop at the expected count or when traffic stops.
      await new Promise<void>((resolve) => {
        let lastCount = -1;
        const idle = setInterval(() => {
          if (report.received === lastCount && report.received > 0) done?.();
          lastCount = report.received;
        }, 500);
        done = () => {
          clearInterval(idle);
          resolve();
        };
      });
    } else {
      await sendRaw(socket, command, setup.group, setup.port, report, setup.mode === 'raw-listening');
    }
    return report;
  });
  socket.close();
}

async function sendRaw(
  socket: ReturnType<typeof createSocket>,
  command: RunCommand,
  group: string,
  port: number,
  report: RunReport,
  listening: boolean,
): Promise<void> {
  report.first = absoluteNow();
  let inFlight = 0;
  for (let seq = 0; seq < command.count; seq++) {
    const payload = Buffer.from(stamp(seq, command.size));
    payload[12] = 0x42; // marks benchmark data
    while (inFlight >= 64) await yieldToIo();
    inFlight++;
    socket.send(payload, port, group, () => inFlight--);
    report.datagramsOut++;
    if (command.intervalMs > 0) await new Promise((r) => setTimeout(r, command.intervalMs));
    // The clique sender's cadence: libuv reads at most 32 datagrams per loop turn.
    else if (listening && seq % 32 === 31) await yieldToIo();
  }
  while (inFlight > 0) await yieldToIo();
  report.last = absoluteNow();
}

async function runClique(setup: PeerSetup): Promise<void> {
  const driver = await openMulticastNode({ name: setup.name, group: setup.group, port: setup.port, interface: INTERFACE });
  const engine = driver.engine;
  driver.on('error', (error) => reply({ kind: 'error', name: setup.name, message: error.message }));
  let report = emptyReport(setup);
  let expected = Infinity;
  let done: (() => void) | undefined;
  driver.on('message', (message) => {
    if (message.sender !== 'sender') return;
    recordArrival(report, message.data);
    if (report.received >= expected) done?.();
  });
  // Ready once every peer is in our view (2 others).
  await new Promise<void>((resolve) => {
    const check = (): void => {
      if (driver.members.length >= 2) resolve();
      else setTimeout(check, 50);
    };
    check();
  });
  await serveRuns(setup, async (command) => {
    report = emptyReport(setup);
    if (setup.role === 'receiver') {
      expected = command.count;
      const before = driver.stats.datagramsOut;
      const inBefore = driver.stats.datagramsIn;
      await new Promise<void>((resolve) => (done = resolve));
      done = undefined;
      report.datagramsOut = driver.stats.datagramsOut - before;
      report.datagramsIn = driver.stats.datagramsIn - inBefore;
    } else {
      const before = driver.stats.datagramsOut;
      const inBefore = driver.stats.datagramsIn;
      report.first = absoluteNow();
      for (let seq = 0; seq < command.count; seq++) {
        if (engine.unacknowledgedPackets > SEND_WINDOW) await driver.whenUnacknowledgedAtMost(SEND_WINDOW / 2);
        driver.send(1, stamp(seq, command.size));
        if (command.intervalMs > 0) await new Promise((r) => setTimeout(r, command.intervalMs));
        else if (seq % 32 === 31) await yieldToIo();
      }
      report.last = absoluteNow();
      report.datagramsOut = driver.stats.datagramsOut - before;
      report.datagramsIn = driver.stats.datagramsIn - inBefore;
    }
    return report;
  });
  await driver.leave();
}

/** Join with default timing and report every change of our view until 'stop' (then leave). */
async function runMember(setup: PeerSetup): Promise<void> {
  const driver = await openMulticastNode({ name: setup.name, group: setup.group, port: setup.port, interface: INTERFACE });
  driver.on('error', (error) => reply({ kind: 'error', name: setup.name, message: error.message }));
  driver.on('members-joined', () => reply({ kind: 'view', name: setup.name, members: [...driver.members], lost: [], at: absoluteNow() }));
  driver.on('members-lost', (names) =>
    reply({ kind: 'view', name: setup.name, members: [...driver.members], lost: [...names], at: absoluteNow() }),
  );
  reply({ kind: 'ready', name: setup.name, at: absoluteNow() });
  for (;;) {
    const command = await waitForCommand();
    if (command.cmd === 'stop') break;
  }
  await driver.leave();
}

const setup = (await waitForCommand()) as PeerSetup;
try {
  if (setup.mode === 'raw' || setup.mode === 'raw-listening') await runRaw(setup);
  else if (setup.mode === 'member') await runMember(setup);
  else await runClique(setup);
} catch (error) {
  reply({ kind: 'error', name: setup.name, message: error instanceof Error ? error.stack ?? error.message : String(error) });
}
process.exit(0);

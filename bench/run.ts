import { randomInt } from 'node:crypto';
import type { RunCommand, RunReport } from './bench-protocol.js';
import { membershipRun, type MembershipRun } from './membership-bench.js';
import { next, startPeer, stopPeers, type Peer } from './peer-process.js';
import { runJoinSimulation, runSimulation, type SimFigures } from './sim-bench.js';
import { streamTubeRun } from './stream-tube-bench.js';
import { shareRun } from './share-bench.js';
import { describeLanRun, lanShareRun, lanSkipReason } from './share-lan-bench.js';

/**
 * `npm run bench`: rMulticast throughput and latency for 3 members on real
 * loopback multicast, as ratios against raw UDP multicast measured in the same
 * run, plus membership times (join, crash detection) of real processes and
 * simulator figures. Everything is pinned to 127.0.0.1 (TTL 1). The last line
 * is machine-readable (SUMMARY ...).
 */
const THROUGHPUT = { count: 20_000, size: 1000 };
const SMALL = { count: 100_000, size: 64 };
const LATENCY = { count: 2000, size: 64, intervalMs: 1 };
/** Join and crash-detection runs of three real processes (each run ~30 s with default timing). */
const MEMBERSHIP_RUNS = 3;
/** 100 simulated members at 10% loss; the simulator is slower than real time at this size, hence a cap. */
const SIM_JOIN = { nodes: 100, loss: 0.1, capMs: 60_000 };
/** `npm run bench -- --throughput`: only the real-socket throughput and latency part (for iterating on the hot path). */
const THROUGHPUT_ONLY = process.argv.includes('--throughput');

async function withGroup<T>(mode: 'raw' | 'raw-listening' | 'clique', body: (sender: Peer, receivers: Peer[]) => Promise<T>): Promise<T> {
  const group = `239.255.71.${randomInt(1, 254)}`;
  const port = randomInt(20000, 60000);
  const peers = [
    startPeer({ cmd: 'setup', mode, role: 'sender', name: 'sender', group, port }),
    startPeer({ cmd: 'setup', mode, role: 'receiver', name: 'receiver1', group, port }),
    startPeer({ cmd: 'setup', mode, role: 'receiver', name: 'receiver2', group, port }),
  ];
  try {
    await Promise.all(peers.map((p) => next(p, 'ready', 60_000)));
    return await body(peers[0]!, peers.slice(1));
  } finally {
    await stopPeers(peers);
  }
}

async function measure(sender: Peer, receivers: Peer[], run: Omit<RunCommand, 'cmd'>, timeoutMs: number) {
  for (const r of receivers) r.child.send({ cmd: 'run', ...run });
  await new Promise((r) => setTimeout(r, 100));
  sender.child.send({ cmd: 'run', ...run });
  const senderReport = await next(sender, 'report', timeoutMs);
  const receiverReports = await Promise.all(receivers.map((r) => next(r, 'report', timeoutMs)));
  return { senderReport, receiverReports };
}

interface Throughput {
  mbPerS: number;
  msgsPerS: number;
  deliveredFraction: number;
  /** Messages in the run. */
  count: number;
  /** The run's reports: the sender's, then each receiver's. */
  reports: RunReport[];
}

/** Goodput to every member: the slowest receiver's bytes over the time from the first send to its last delivery. */
function throughput(senderReport: RunReport, receiverReports: RunReport[], count: number): Throughput {
  let worst = Infinity;
  let worstMsgs = Infinity;
  let fraction = 1;
  for (const r of receiverReports) {
    const seconds = (r.last - senderReport.first) / 1000;
    worst = Math.min(worst, r.bytes / seconds / 1e6);
    worstMsgs = Math.min(worstMsgs, r.received / seconds);
    fraction = Math.min(fraction, r.received / count);
  }
  return { mbPerS: worst, msgsPerS: worstMsgs, deliveredFraction: fraction, count, reports: [senderReport, ...receiverReports] };
}

/**
 * The machine is shared (and a VM: other tenants steal CPU), so one run can be
 * far off, and the load changes within seconds. Raw UDP and clique therefore
 * run in alternation (raw, clique, raw, clique, ...) after a warm-up (WARM_UP),
 * and the ratio is the median of the pairs' ratios: both sides of a pair see
 * about the same machine.
 */
const REPEATS = 5;

interface Group {
  sender: Peer;
  receivers: Peer[];
}

interface Paired {
  raw: Throughput;
  clique: Throughput;
  /** Per pair: clique over raw, in messages per second. */
  ratios: number[];
  /** Per pair: clique receivers' CPU per message over raw receivers'. */
  cpuRatios: number[];
}

/**
 * Unmeasured runs of each group before any measured pair, so the JIT and the
 * heap settle. One run of the measured size was not enough: a receiver sends
 * its acknowledgement once per 64 messages, and that path (and the sender's
 * handling of it) was still running unoptimised code, or being compiled,
 * through the first measured 1000-byte runs (about 0.7 µs per message of
 * baseline-tier code and 0.5 µs of compiling at each receiver, per perf).
 * The 64-byte runs, measured after 120 000 messages, did not show it.
 * Raw UDP gets the same runs.
 */
const WARM_UP: ReadonlyArray<Omit<RunCommand, 'cmd'>> = [
  { ...SMALL, intervalMs: 0 },
  { ...THROUGHPUT, intervalMs: 0 },
];

async function warmUp(raw: Group, clique: Group): Promise<void> {
  for (const run of WARM_UP) {
    await measure(raw.sender, raw.receivers, run, 120_000);
    await measure(clique.sender, clique.receivers, run, 300_000);
  }
}

async function pairedThroughput(raw: Group, clique: Group, run: Omit<RunCommand, 'cmd'>): Promise<Paired> {
  const raws: Throughput[] = [];
  const cliques: Throughput[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const r = await measure(raw.sender, raw.receivers, run, 120_000);
    raws.push(throughput(r.senderReport, r.receiverReports, run.count));
    const c = await measure(clique.sender, clique.receivers, run, 300_000);
    cliques.push(throughput(c.senderReport, c.receiverReports, run.count));
  }
  const ratios = cliques.map((c, i) => c.msgsPerS / raws[i]!.msgsPerS);
  const cpuRatios = cliques.map((c, i) => receiverCpuRatio(c, raws[i]!));
  const middle = (runs: Throughput[]): Throughput => [...runs].sort((a, b) => a.msgsPerS - b.msgsPerS)[Math.floor(runs.length / 2)]!;
  return { raw: middle(raws), clique: middle(cliques), ratios, cpuRatios };
}

function rangeText(values: number[]): string {
  return `pairs ${[...values].sort((a, b) => a - b).map((v) => fmt(v, 2)).join(' ')}`;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** "sender 11.2 µs, receivers 4.1 / 4.3 µs" */
function cpuText(t: Throughput): string {
  const [sender, ...receivers] = t.reports.map((r) => r.cpuMicros / t.count);
  return `CPU per message: sender ${fmt(sender ?? NaN, 1)} µs, receivers ${receivers.map((r) => fmt(r, 1)).join(' / ')} µs`;
}

/** Mean receiver CPU per message of `clique` over that of `raw`. */
function receiverCpuRatio(clique: Throughput, raw: Throughput): number {
  const perMessage = (t: Throughput): number => {
    const receivers = t.reports.slice(1);
    return receivers.reduce((sum, r) => sum + r.cpuMicros / Math.max(1, r.received), 0) / receivers.length;
  };
  return perMessage(clique) / perMessage(raw);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

async function main(): Promise<void> {
  console.log('clique benchmark: 3 processes on loopback multicast (127.0.0.1), Node', process.version);
  console.log('');

  const { raw, clique, listening } = await withGroup('raw', (rawSender, rawReceivers) =>
    withGroup('clique', (sender, receivers) => withGroup('raw-listening', async (listeningSender, listeningReceivers) => {
      const rawGroup = { sender: rawSender, receivers: rawReceivers };
      const cliqueGroup = { sender, receivers };
      const listeningGroup = { sender: listeningSender, receivers: listeningReceivers };
      await warmUp(rawGroup, cliqueGroup);
      for (const run of WARM_UP) await measure(listeningSender, listeningReceivers, run, 120_000);
      const big = await pairedThroughput(rawGroup, cliqueGroup, { ...THROUGHPUT, intervalMs: 0 });
      const small = await pairedThroughput(rawGroup, cliqueGroup, { ...SMALL, intervalMs: 0 });
      const listeningBig = await pairedThroughput(listeningGroup, cliqueGroup, { ...THROUGHPUT, intervalMs: 0 });
      const listeningSmall = await pairedThroughput(listeningGroup, cliqueGroup, { ...SMALL, intervalMs: 0 });
      // The two raw senders against each other: what reading every echo alone costs, with no protocol at all.
      const echoBig = await pairedThroughput(rawGroup, listeningGroup, { ...THROUGHPUT, intervalMs: 0 });
      const echoSmall = await pairedThroughput(rawGroup, listeningGroup, { ...SMALL, intervalMs: 0 });
      const rawLat = await measure(rawSender, rawReceivers, LATENCY, 120_000);
      const lat = await measure(sender, receivers, LATENCY, 120_000);
      return {
        raw: { big: big.raw, small: small.raw, latencies: rawLat.receiverReports.flatMap((r) => r.latencies) },
        clique: {
          big: big.clique,
          small: small.clique,
          bigPairs: big,
          smallPairs: small,
          latencies: lat.receiverReports.flatMap((r) => r.latencies),
          rss: [big.clique.reports[0]!, ...lat.receiverReports].map((r) => r.rssBytes),
          heap: [lat.senderReport, ...lat.receiverReports].map((r) => r.heapUsedBytes),
          datagramsPerMessage: big.clique.reports[0]!.datagramsOut / THROUGHPUT.count,
        },
        listening: { big: listeningBig, small: listeningSmall, echoBig, echoSmall },
      };
    })),
  );

  const ratio = median(clique.bigPairs.ratios);
  const ratioSmall = median(clique.smallPairs.ratios);
  console.log(`throughput, ${THROUGHPUT.count} x ${THROUGHPUT.size} B messages, delivered to every member (${REPEATS} raw/clique pairs after warm-up runs; median run and median ratio):`);
  console.log(`  raw UDP multicast  ${fmt(raw.big.mbPerS)} MB/s  (${fmt(raw.big.deliveredFraction * 100, 1)}% of datagrams arrived, no reliability)`);
  console.log(`  clique rMulticast  ${fmt(clique.big.mbPerS)} MB/s  (100% delivered, causally ordered)  ratio ${fmt(ratio, 3)} (${rangeText(clique.bigPairs.ratios)})`);
  console.log(`    raw ${cpuText(raw.big)}`);
  console.log(`    clique ${cpuText(clique.big)}`);
  console.log(`small messages, ${SMALL.count} x ${SMALL.size} B from one sender (${REPEATS} raw/clique pairs after warm-up runs; median run and median ratio):`);
  console.log(`  raw UDP multicast  ${fmt(raw.small.msgsPerS, 0)} msg/s  (${fmt(raw.small.deliveredFraction * 100, 1)}% arrived)`);
  console.log(`  clique rMulticast  ${fmt(clique.small.msgsPerS, 0)} msg/s  ratio ${fmt(ratioSmall, 3)} (${rangeText(clique.smallPairs.ratios)})`);
  console.log(`    raw ${cpuText(raw.small)}`);
  console.log(`    clique ${cpuText(clique.small)}`);
  console.log(`latency, ${LATENCY.count} messages at ~${1000 / LATENCY.intervalMs}/s, one way:`);
  console.log(`  raw UDP multicast  p50 ${fmt(percentile(raw.latencies, 50), 3)} ms  p99 ${fmt(percentile(raw.latencies, 99), 3)} ms`);
  const p99 = percentile(clique.latencies, 99);
  console.log(`  clique rMulticast  p50 ${fmt(percentile(clique.latencies, 50), 3)} ms  p99 ${fmt(p99, 3)} ms`);
  console.log(`memory: clique peer processes RSS ${clique.rss.map((b) => fmt(b / 2 ** 20, 1)).join(' / ')} MiB; heap ${clique.heap.map((b) => fmt(b / 2 ** 20, 1)).join(' / ')} MiB`);
  console.log(`datagrams per 1000-byte message at the sender: ${fmt(clique.datagramsPerMessage, 3)}`);
  // Why the sender is the bottleneck: it reads its own multicast echoes (see RunReport.datagramsIn).
  const senderReads = (t: Throughput): string => fmt(t.reports[0]!.datagramsIn / t.count, 2);
  console.log(
    `datagrams the sender read from its socket per message (its own echoes included): 1000 B raw ${senderReads(raw.big)}, clique ${senderReads(clique.big)}; ` +
      `64 B raw ${senderReads(raw.small)}, clique ${senderReads(clique.small)}`,
  );
  const receiverDatagrams = (t: Throughput): string => t.reports.slice(1).map((r) => fmt((1000 * r.datagramsOut) / t.count, 1)).join(' / ');
  console.log(`datagrams sent by each clique receiver per 1000 messages (acknowledgements, SESSIONs, repairs): 1000 B ${receiverDatagrams(clique.big)}, 64 B ${receiverDatagrams(clique.small)}`);
  const listeningRatio = median(listening.big.ratios);
  const listeningSmallRatio = median(listening.small.ratios);
  console.log(
    `against raw UDP whose sender reads its socket as a member must (all its echoes; ${REPEATS} pairs each): ` +
      `1000 B ratio ${fmt(listeningRatio, 3)} (${rangeText(listening.big.ratios)}; its ${cpuText(listening.big.raw)}; its sender read ${senderReads(listening.big.raw)} per message), ` +
      `64 B ratio ${fmt(listeningSmallRatio, 3)} (${rangeText(listening.small.ratios)}; its ${cpuText(listening.small.raw)}; read ${senderReads(listening.small.raw)})`,
  );
  console.log(`throughput_vs_listening_udp=${fmt(listeningRatio, 3)} small_vs_listening_udp=${fmt(listeningSmallRatio, 3)}`);
  const echoRatio = median(listening.echoBig.ratios);
  const echoSmallRatio = median(listening.echoSmall.ratios);
  console.log(
    `raw UDP whose sender reads all its echoes, against plain raw UDP (no protocol on either side; ${REPEATS} pairs each): ` +
      `1000 B ratio ${fmt(echoRatio, 3)} (${rangeText(listening.echoBig.ratios)}), 64 B ratio ${fmt(echoSmallRatio, 3)} (${rangeText(listening.echoSmall.ratios)})`,
  );
  console.log(`listening_udp_vs_udp=${fmt(echoRatio, 3)} small_listening_udp_vs_udp=${fmt(echoSmallRatio, 3)}`);
  const cpuBig = median(clique.bigPairs.cpuRatios);
  const cpuSmall = median(clique.smallPairs.cpuRatios);
  const recvCpu = Math.max(cpuBig, cpuSmall);
  console.log(
    `receiver CPU per message, clique over raw UDP (median of pairs): 1000 B ${fmt(cpuBig, 2)}x (${rangeText(clique.bigPairs.cpuRatios)}), ` +
      `64 B ${fmt(cpuSmall, 2)}x (${rangeText(clique.smallPairs.cpuRatios)}); the worse of the two:`,
  );
  console.log(`recv_cpu_vs_udp=${fmt(recvCpu, 3)}`);
  console.log('');
  if (THROUGHPUT_ONLY) {
    console.log(`SUMMARY throughput_vs_udp=${fmt(ratio, 3)} msgs_per_s=${fmt(clique.small.msgsPerS, 0)} p99_ms=${fmt(p99, 3)} small_vs_udp=${fmt(ratioSmall, 3)}`);
    return;
  }

  const seed = 20261125;
  const sims: SimFigures[] = [runSimulation(20, 0, 10, seed), runSimulation(20, 0.1, 10, seed)];
  for (const s of sims) {
    console.log(
      `simulator: ${s.nodes} members, ${s.loss * 100}% loss, ${s.messages} messages: ${s.datagrams} datagrams ` +
        `(${s.dataDatagrams} DATA), ${fmt(s.virtualMs / 1000, 1)} s virtual in ${fmt(s.wallMs, 0)} ms, ` +
        `~${fmt(s.heapPerMemberBytes / 1024, 0)} KiB heap per member`,
    );
  }
  const overhead = sims[1]!.datagrams / sims[0]!.datagrams;
  console.log(`  cost of 10% loss: ${fmt(overhead, 3)}x the datagrams of the lossless run`);

  const joinSeed = process.env['CLIQUE_SEED'] !== undefined ? Number(process.env['CLIQUE_SEED']) : randomInt(1, 2 ** 31);
  const join = runJoinSimulation(SIM_JOIN.nodes, SIM_JOIN.loss, joinSeed, SIM_JOIN.capMs);
  const joinText = join.virtualMs !== undefined
    ? `one view after ${fmt(join.virtualMs / 1000, 2)} s virtual`
    : `NO one view within ${fmt(join.capMs / 1000, 0)} s virtual (${join.complete} members saw everyone; largest view ${join.largestView})`;
  console.log(
    `simulator join: ${join.nodes} members started together, ${join.loss * 100}% loss, seed ${join.seed} (CLIQUE_SEED=${join.seed} replays): ` +
      `${joinText}; ${join.datagrams} datagrams, ${fmt(join.wallMs, 0)} ms wall`,
  );
  console.log('');

  const runs: MembershipRun[] = [];
  for (let i = 0; i < MEMBERSHIP_RUNS; i++) runs.push(await membershipRun());
  const joinMs = median(runs.map((r) => r.joinMs));
  const crashMs = median(runs.map((r) => r.crashDetectMs));
  console.log(`membership, 3 processes on loopback multicast, default timing (median of ${MEMBERSHIP_RUNS} runs):`);
  console.log(
    `  join: third process started -> all three see each other ${fmt(joinMs, 0)} ms ` +
      `(runs ${runs.map((r) => fmt(r.joinMs, 0)).join(' / ')} ms; from its node open ${runs.map((r) => fmt(r.joinAfterOpenMs, 0)).join(' / ')} ms)`,
  );
  console.log(
    `  crash: SIGKILL -> both survivors report it lost ${fmt(crashMs, 0)} ms (runs ${runs.map((r) => fmt(r.crashDetectMs, 0)).join(' / ')} ms)`,
  );
  console.log('');
  const tube = await streamTubeRun();
  console.log(
    `stream tube (spec §7.5), ${tube.bytes / 1024 / 1024} MB one way, one process (both relays share its thread): ` +
      `${fmt(tube.tubeMbPerS, 0)} MB/s through the tube, ${fmt(tube.directMbPerS, 0)} MB/s direct loopback TCP (median of 3 pairs)`,
  );
  console.log(`stream_tube_vs_tcp=${fmt(tube.ratio, 3)}`);
  const share = await shareRun();
  console.log(`room share, ${share.bytes / 1024 / 1024} MB to 3 members, one process: ${fmt(share.shareMs / 1000, 1)} s shared once, ${fmt(share.httpMs / 1000, 1)} s as 3 HTTP copies one after the other`);
  console.log(
    `  raw UDP multicast, same process, 1440-byte datagrams to 3 sockets, no reliability, disk or hash: ${fmt(share.rawFloorMs / 1000, 2)} s ` +
      `(the floor under any share at rMulticast's datagram size on this machine)`,
  );
  console.log(`share_vs_3_http=${fmt(share.ratio, 3)} share_wire_ratio=${fmt(share.wireRatio, 3)} share_raw_udp_floor_vs_3_http=${fmt(share.rawFloorRatio, 3)}`);
  const lanSkip = lanSkipReason();
  if (lanSkip === undefined) {
    for (const rate of ['100mbit', '1gbit']) {
      // A testbed that breaks (no tbf in this kernel, say) costs this line, not the SUMMARY the whole run is for.
      try {
        console.log(describeLanRun(await lanShareRun(rate, 100 * 1024 * 1024)));
      } catch (error) {
        console.log(`room share over a ${rate} LAN: failed (${String(error).split('\n')[0]})`);
      }
    }
  } else {
    console.log(`room share over a shaped LAN: skipped (${lanSkip})`);
  }
  console.log('');
  const simJoin = join.virtualMs !== undefined ? fmt(join.virtualMs, 0) : `timeout>${join.capMs}`;
  console.log(
    `SUMMARY throughput_vs_udp=${fmt(ratio, 3)} msgs_per_s=${fmt(clique.small.msgsPerS, 0)} p99_ms=${fmt(p99, 3)} ` +
      `sim20_loss10_overhead=${fmt(overhead, 3)} small_vs_udp=${fmt(ratioSmall, 3)} join_ms_udp3=${fmt(joinMs, 0)} ` +
      `join_ms_sim100_loss10=${simJoin} crash_detect_ms=${fmt(crashMs, 0)}`,
  );
}

await main();
process.exit(0);

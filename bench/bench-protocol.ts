/** Messages between the benchmark orchestrator and its peer processes (IPC). */
export type PeerRole = 'sender' | 'receiver';

export interface PeerSetup {
  cmd: 'setup';
  mode: 'raw' | 'clique';
  role: PeerRole;
  name: string;
  group: string;
  port: number;
}

export interface RunCommand {
  cmd: 'run';
  /** Messages to send (sender) or expect (receiver). */
  count: number;
  size: number;
  /** Milliseconds between messages; 0 = as fast as flow control allows. */
  intervalMs: number;
}

export type ToPeer = PeerSetup | RunCommand | { cmd: 'stop' };

export interface RunReport {
  kind: 'report';
  name: string;
  role: PeerRole;
  received: number;
  bytes: number;
  /** Absolute times (ms since the epoch, sub-ms resolution) of the first and last message. */
  first: number;
  last: number;
  /** One-way latencies in ms (receivers, when messages carry a send time). */
  latencies: number[];
  rssBytes: number;
  heapUsedBytes: number;
  datagramsOut: number;
  /** CPU time (user + system) this process spent during the run, in microseconds. */
  cpuMicros: number;
}

export type FromPeer = { kind: 'ready'; name: string } | RunReport | { kind: 'error'; name: string; message: string };

/** Wall-clock time with sub-millisecond resolution, comparable across processes on one host. */
export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

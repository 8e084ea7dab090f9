/** Messages between the benchmark orchestrator and its peer processes (IPC). */
export type PeerRole = 'sender' | 'receiver';

export interface PeerSetup {
  cmd: 'setup';
  /**
   * 'member': only joins the group and reports its view (join and failure-detection times).
   * 'raw-listening': raw UDP whose sender, like any member that must hear the
   * group, turns to its socket after every 32 sends, so it reads all its own
   * echoes (the plain 'raw' sender reads half: see RunReport.datagramsIn).
   */
  mode: 'raw' | 'raw-listening' | 'clique' | 'member';
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
  /**
   * Datagrams this process read from its group socket during the run, all
   * kinds (a sender's own multicast echoes included: Linux hands every local
   * group socket a copy; a reliable member must read them all, while a raw
   * sender whose queue overflows loses some unread).
   */
  datagramsIn: number;
  /** CPU time (user + system) this process spent during the run, in microseconds. */
  cpuMicros: number;
}

/** A 'member' peer's view after a members-joined or members-lost event, with its absolute time. */
export interface ViewReport {
  kind: 'view';
  name: string;
  members: string[];
  lost: string[];
  at: number;
}

/** `at`: absolute time the peer was ready ('member' peers: their node open). */
export type FromPeer = { kind: 'ready'; name: string; at?: number } | RunReport | ViewReport | { kind: 'error'; name: string; message: string };

/** Wall-clock time with sub-millisecond resolution, comparable across processes on one host. */
export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

import { randomInt } from 'node:crypto';
import { absoluteNow } from './bench-protocol.js';
import { next, startPeer, stopPeers, type Peer } from './peer-process.js';

/**
 * Membership on real loopback multicast (127.0.0.1, TTL 1), three processes
 * with default timing: how long the third takes to join, and how long the
 * survivors take to notice a member killed with SIGKILL.
 */
export interface MembershipRun {
  /** From forking the third process until all three see each other. */
  joinMs: number;
  /** From the third's node being open (Node started, socket bound) until all three see each other. */
  joinAfterOpenMs: number;
  /** From SIGKILL of the third member until both survivors report it lost. */
  crashDetectMs: number;
}

const JOIN_TIMEOUT_MS = 60_000;
const CRASH_TIMEOUT_MS = 180_000;
/** How long the group has heard the member it then kills (see the comment where it is used). */
const HEARD_BEFORE_CRASH_MS = 20_000;

function startMember(name: string, group: string, port: number): Peer {
  return startPeer({ cmd: 'setup', mode: 'member', role: 'receiver', name, group, port });
}

/** The time `peer` first reports a view holding all of `others`. */
async function seesAll(peer: Peer, others: string[], timeoutMs: number): Promise<number> {
  return (await next(peer, 'view', timeoutMs, (v) => others.every((o) => v.members.includes(o)))).at;
}

/** The time `peer` reports `name` lost. */
async function loses(peer: Peer, name: string, timeoutMs: number): Promise<number> {
  return (await next(peer, 'view', timeoutMs, (v) => v.lost.includes(name))).at;
}

/** One run in a fresh group: two members form it, a third joins, then the third is SIGKILLed. */
export async function membershipRun(): Promise<MembershipRun> {
  const group = `239.255.72.${randomInt(1, 254)}`;
  const port = randomInt(20000, 60000);
  const a = startMember('a', group, port);
  const b = startMember('b', group, port);
  const peers = [a, b];
  try {
    await Promise.all([seesAll(a, ['b'], JOIN_TIMEOUT_MS), seesAll(b, ['a'], JOIN_TIMEOUT_MS)]);
    const started = absoluteNow();
    const c = startMember('c', group, port);
    peers.push(c);
    const ready = await next(c, 'ready', JOIN_TIMEOUT_MS);
    const views = await Promise.all([
      seesAll(a, ['b', 'c'], JOIN_TIMEOUT_MS),
      seesAll(b, ['a', 'c'], JOIN_TIMEOUT_MS),
      seesAll(c, ['a', 'b'], JOIN_TIMEOUT_MS),
    ]);
    const joinedAt = Math.max(...views);
    // Members earn their silence limit from the SESSIONs they heard (silence-rule.ts): one that
    // crashes seconds after joining is given up to ~15 s, one heard for 20 s under 10 s.
    await new Promise((resolve) => setTimeout(resolve, HEARD_BEFORE_CRASH_MS));
    const killedAt = absoluteNow();
    c.child.kill('SIGKILL');
    const lostAt = await Promise.all([loses(a, 'c', CRASH_TIMEOUT_MS), loses(b, 'c', CRASH_TIMEOUT_MS)]);
    return {
      joinMs: joinedAt - started,
      joinAfterOpenMs: joinedAt - (ready.at ?? started),
      crashDetectMs: Math.max(...lostAt) - killedAt,
    };
  } finally {
    await stopPeers(peers);
  }
}

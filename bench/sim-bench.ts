import { SimulatedNetwork, SimulationError } from '../src/testing/simulated-network.js';
import { RMulticastEngine } from '../src/rmcast/rmulticast-engine.js';

export interface SimFigures {
  nodes: number;
  loss: number;
  messages: number;
  datagrams: number;
  dataDatagrams: number;
  virtualMs: number;
  wallMs: number;
  heapPerMemberBytes: number;
}

/**
 * 20 simulated members each send `perNode` messages once the group has formed;
 * counts every datagram sent until all are delivered everywhere. Run at 0% and
 * at 10% loss with the same seed, the ratio of datagrams is the cost of loss.
 */
export function runSimulation(nodes: number, loss: number, perNode: number, seed: number): SimFigures {
  const heapBefore = process.memoryUsage().heapUsed;
  const net = new SimulatedNetwork({ seed, link: { loss, delay: [1, 5] }, maxEventsPerRun: 50_000_000 });
  const members = Array.from({ length: nodes }, (_, i) =>
    net.addNode(`n${i}`, (random, name) => new RMulticastEngine({ name, random })),
  );
  net.runUntil(() => members.every((m) => m.members.length === nodes - 1), { timeoutMs: 600_000, what: 'group formation' });
  const formedAt = net.now;
  const sentBefore = net.stats.datagramsSent;
  const dataBefore = net.stats.sentByType.get('data') ?? 0;
  const started = performance.now();
  for (let round = 0; round < perNode; round++) {
    for (const m of members) m.send(0, new TextEncoder().encode(`${m.name}:${round}`));
    net.runFor(20);
  }
  const expected = (nodes - 1) * perNode;
  net.runUntil(() => members.every((m) => m.delivered.length >= expected), { timeoutMs: 600_000, what: 'delivery' });
  const wallMs = performance.now() - started;
  const heapPerMemberBytes = Math.max(0, process.memoryUsage().heapUsed - heapBefore) / nodes;
  return {
    nodes,
    loss,
    messages: nodes * perNode,
    datagrams: net.stats.datagramsSent - sentBefore,
    dataDatagrams: (net.stats.sentByType.get('data') ?? 0) - dataBefore,
    virtualMs: net.now - formedAt,
    wallMs,
    heapPerMemberBytes,
  };
}

export interface JoinFigures {
  nodes: number;
  loss: number;
  seed: number;
  /** Virtual time from the start of all members until every one sees all the others; undefined if not within `capMs`. */
  virtualMs: number | undefined;
  capMs: number;
  /** Members whose view held all the others when the run ended. */
  complete: number;
  /** The largest view (members seen by one member, itself included) when the run ended. */
  largestView: number;
  wallMs: number;
  datagrams: number;
}

/**
 * `nodes` simulated members all start at time 0 on links losing `loss` of the
 * datagrams; the figure is the virtual time until every member's view holds
 * all the others (one view). Stops at `capMs` of virtual time (the simulator
 * runs slower than real time at this size, so the bench must stay bounded).
 */
export function runJoinSimulation(nodes: number, loss: number, seed: number, capMs: number): JoinFigures {
  const net = new SimulatedNetwork({ seed, link: { loss, delay: [1, 5] }, maxEventsPerRun: 50_000_000 });
  const members = Array.from({ length: nodes }, (_, i) =>
    net.addNode(`n${i}`, (random, name) => new RMulticastEngine({ name, random })),
  );
  const started = performance.now();
  // The predicate runs after every event: walk a cursor over the members that
  // already see everyone, and check all of them again only once it reaches the end.
  let cursor = 0;
  const oneView = (): boolean => {
    while (cursor < nodes && members[cursor]!.members.length === nodes - 1) cursor++;
    if (cursor < nodes) return false;
    if (members.every((m) => m.members.length === nodes - 1)) return true;
    cursor = 0;
    return false;
  };
  let virtualMs: number | undefined;
  try {
    net.runUntil(oneView, { timeoutMs: capMs, what: `one view of ${nodes} members` });
    virtualMs = net.now;
  } catch (error) {
    if (!(error instanceof SimulationError) || (error.code !== 'timeout' && error.code !== 'runaway')) throw error;
  }
  return {
    nodes,
    loss,
    seed,
    virtualMs,
    capMs,
    complete: members.filter((m) => m.members.length === nodes - 1).length,
    largestView: Math.max(...members.map((m) => m.members.length + 1)),
    wallMs: performance.now() - started,
    datagrams: net.stats.datagramsSent,
  };
}

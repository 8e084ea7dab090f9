import { SimulatedNetwork } from '../src/testing/simulated-network.js';
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

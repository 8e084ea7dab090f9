import { SimulatedNetwork, SimulationError, type SimNode } from '../src/testing/simulated-network.js';
import { RMulticastEngine } from '../src/rmcast/rmulticast-engine.js';
import type { EngineTiming } from '../src/rmcast/engine-types.js';
import { decodePacket } from '../src/wire/codec.js';
import type { History } from '../src/testing/delivery-history.js';
import { isReliable } from '../src/wire/packet.js';

/**
 * Where a run's datagrams went, by packet type and, for reliable packets and
 * repair requests, by cause: a reliable packet's first copy is its original
 * send, later copies are repairs (by its originator or by another holder); a
 * REPAIR_REQUEST is the first for its (sender, id) or a repeat (by the same
 * member or by another one).
 */
export interface DatagramBreakdown {
  byType: Record<string, number>;
  originals: number;
  repairsByOriginator: number;
  repairsByOthers: number;
  /** Repairs of an id by a member beyond the first repair of that id within REPAIR_BURST_MS (several holders answered). */
  duplicateRepairs: number;
  /** Repairs sent when every other member had already received the packet. */
  uselessRepairs: number;
  firstNaks: number;
  /** NAKs for an id the same member already asked for. */
  repeatedNaks: number;
  /** NAKs for an id another member already asked for. */
  othersNaks: number;
}

/** Repairs of one id closer together than this count as answers to the same request round. */
const REPAIR_BURST_MS = 300;

export interface LatencyFigures {
  p50: number;
  p99: number;
  max: number;
}

export interface SimFigures {
  nodes: number;
  loss: number;
  messages: number;
  datagrams: number;
  dataDatagrams: number;
  virtualMs: number;
  wallMs: number;
  heapPerMemberBytes: number;
  breakdown: DatagramBreakdown;
  /** Virtual ms from a message's send to its delivery, over every delivery. */
  latency: LatencyFigures;
  /** What every member sent, delivered and saw, for the delivery checker. */
  history: History;
}

/** Count every datagram the members send from now on into a breakdown. */
function watchDatagrams(net: SimulatedNetwork, members: readonly SimNode[]): DatagramBreakdown {
  const b: DatagramBreakdown = {
    byType: {}, originals: 0, repairsByOriginator: 0, repairsByOthers: 0, duplicateRepairs: 0, uselessRepairs: 0,
    firstNaks: 0, repeatedNaks: 0, othersNaks: 0,
  };
  const origin = new Map<string, { node: string; lastRepair: number }>();
  const askers = new Map<string, Set<string>>();
  const holders = new Map<string, Set<string>>();
  const keyOf = (datagram: Uint8Array): string | undefined => {
    try {
      const packet = decodePacket(datagram);
      return isReliable(packet) ? `${packet.sender}:${packet.packetId}` : undefined;
    } catch {
      return undefined;
    }
  };
  for (const member of members) {
    member.dropIncoming = (datagram) => {
      const key = keyOf(datagram);
      if (key !== undefined) {
        let set = holders.get(key);
        if (set === undefined) holders.set(key, (set = new Set()));
        set.add(member.name);
      }
      return false;
    };
    member.dropOutgoing = (datagram) => {
      let packet;
      try {
        packet = decodePacket(datagram);
      } catch {
        b.byType['unparsable'] = (b.byType['unparsable'] ?? 0) + 1;
        return false;
      }
      b.byType[packet.type] = (b.byType[packet.type] ?? 0) + 1;
      if (isReliable(packet)) {
        const key = `${packet.sender}:${packet.packetId}`;
        const first = origin.get(key);
        if (first === undefined) {
          origin.set(key, { node: member.name, lastRepair: -Infinity });
          b.originals++;
        } else {
          if (first.node === member.name) b.repairsByOriginator++;
          else b.repairsByOthers++;
          const got = holders.get(key);
          const others = (got?.size ?? 0) - (got?.has(first.node) === true ? 1 : 0);
          if (others >= members.length - 1) b.uselessRepairs++;
          if (net.now - first.lastRepair < REPAIR_BURST_MS) b.duplicateRepairs++;
          else first.lastRepair = net.now;
        }
      } else if (packet.type === 'repair-request') {
        const key = `${packet.originalSender}:${packet.packetId}`;
        let who = askers.get(key);
        if (who === undefined) {
          askers.set(key, (who = new Set()));
          b.firstNaks++;
        } else if (who.has(member.name)) {
          b.repeatedNaks++;
        } else {
          b.othersNaks++;
        }
        who.add(member.name);
      }
      return false;
    };
  }
  return b;
}

function latencyOf(members: readonly SimNode[]): LatencyFigures {
  const sentAt = new Map<string, number>();
  for (const m of members) for (const s of m.sent) sentAt.set(`${m.name}|${new TextDecoder().decode(s.data)}`, s.time);
  const lat: number[] = [];
  for (const m of members) {
    for (const d of m.delivered) {
      const t = sentAt.get(`${d.sender}|${new TextDecoder().decode(d.data)}`);
      if (t !== undefined) lat.push(d.time - t);
    }
  }
  lat.sort((x, y) => x - y);
  const at = (q: number): number => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0;
  return { p50: at(0.5), p99: at(0.99), max: lat[lat.length - 1] ?? 0 };
}

/**
 * 20 simulated members each send `perNode` messages once the group has formed;
 * counts every datagram sent until all are delivered everywhere. Run at 0% and
 * at 10% loss with the same seed, the ratio of datagrams is the cost of loss.
 */
export function runSimulation(
  nodes: number,
  loss: number,
  perNode: number,
  seed: number,
  timing?: Partial<EngineTiming>,
): SimFigures {
  const heapBefore = process.memoryUsage().heapUsed;
  const net = new SimulatedNetwork({ seed, link: { loss, delay: [1, 5] }, maxEventsPerRun: 50_000_000 });
  const members = Array.from({ length: nodes }, (_, i) =>
    net.addNode(`n${i}`, (random, name) => new RMulticastEngine({ name, random, ...(timing && { timing }) })),
  );
  net.runUntil(() => members.every((m) => m.members.length === nodes - 1), { timeoutMs: 600_000, what: 'group formation' });
  const formedAt = net.now;
  const sentBefore = net.stats.datagramsSent;
  const dataBefore = net.stats.sentByType.get('data') ?? 0;
  const breakdown = watchDatagrams(net, members);
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
    breakdown,
    latency: latencyOf(members),
    history: net.history(),
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

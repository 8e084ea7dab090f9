import { describe, expect, it } from 'vitest';
import { assertHistory, testPayload } from '../../src/testing/delivery-checker.js';
import { SimulatedNetwork, type SimNode } from '../../src/testing/simulated-network.js';
import { addStaggered, allDelivered, decode, rmcast, scenarioSeeds, sendRounds, viewIs, withSeed } from '../support/scenario.js';

/**
 * Faults and churn on the simulated network with the real engine: crashes,
 * partitions, late joiners, a 1 MB message, simultaneous starts, graceful
 * leave. Every run ends with the delivery checker; seeds are in the test names
 * (CLIQUE_SEED replays one).
 */
const factory = rmcast();
const lossy = { loss: 0.1, duplicate: 0.05, delay: [1, 15] as const, reorder: 0.1, reorderDelay: 60 };

function lostEvents(node: SimNode): string[] {
  return node.eventsOf('members-lost').flatMap((e) => e.names);
}

/** Names each node delivered from `sender`, as payload texts (first field of testPayload). */
function deliveredFrom(node: SimNode, sender: string): string[] {
  return node.deliveredNow.filter((d) => d.sender === sender).map((d) => decode(d.data).split('|')[0]!);
}

describe('scenarios: faults and churn', () => {
  for (const seed of scenarioSeeds(4)) {
    it(`a node crashing mid-stream is reported lost; survivors agree on what it sent (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: lossy });
        const nodes = addStaggered(net, ['n0', 'n1', 'n2', 'n3', 'n4'], factory, 300);
        net.runUntil(viewIs(nodes), { timeoutMs: 120_000, what: 'the 5-node view' });
        const [victim, ...survivors] = [nodes[4]!, ...nodes.slice(0, 4)];
        for (let i = 0; i < 20; i++) {
          if (i === 10) net.crash(victim);
          for (const node of nodes) if (node.alive) node.send(0, testPayload(node.name, i));
          net.runFor(100);
        }
        // Default silence timeout (30 s) and a failure round.
        net.runUntil(() => survivors.every((n) => lostEvents(n).includes('n4')), { timeoutMs: 120_000, what: 'every survivor to report n4 lost' });
        net.runUntil(allDelivered(survivors, survivors), { timeoutMs: 60_000, what: 'survivor messages everywhere' });
        net.runFor(2000);
        assertHistory(net.history());
        // Virtual synchrony: all survivors delivered the same prefix of the crashed node's messages.
        const prefixes = survivors.map((n) => deliveredFrom(n, 'n4').join(','));
        expect(new Set(prefixes).size, `n4 prefixes per survivor: ${prefixes.join(' / ')}`).toBe(1);
        expect(deliveredFrom(survivors[0]!, 'n4').length).toBeLessThanOrEqual(10);
      });
    });
  }

  for (const seed of scenarioSeeds(4)) {
    it(`a node that crashes and restarts under the same name replaces its old incarnation (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: lossy });
        const nodes = addStaggered(net, ['n0', 'n1', 'n2', 'n3'], factory, 300);
        net.runUntil(viewIs(nodes), { timeoutMs: 120_000, what: 'the 4-node view' });
        sendRounds(net, nodes, 3, 100);
        const phoenix = nodes[3]!;
        net.crash(phoenix);
        net.runFor(2000); // well below the silence timeout: the others still count the old incarnation in
        net.restart(phoenix);
        net.runUntil(() => viewIs(nodes)() && nodes.slice(0, 3).every((n) => n.eventsOf('members-joined').flatMap((e) => e.names).filter((x) => x === 'n3').length === 2), {
          timeoutMs: 120_000,
          what: 'the new n3 in everybody’s view',
        });
        for (const node of nodes.slice(0, 3)) expect(lostEvents(node), node.name).toEqual(['n3']);
        const before = new Map(nodes.map((n) => [n, n.sent.length]));
        sendRounds(net, nodes, 3, 100);
        const newMessagesFrom = (receiver: SimNode, sender: SimNode): number =>
          receiver.deliveredNow.filter((d) => d.sender === sender.name && d.seq > sender.sent[before.get(sender)!]!.seq - 1).length;
        net.runUntil(() => nodes.every((r) => nodes.every((s) => s === r || newMessagesFrom(r, s) >= 3)), {
          timeoutMs: 60_000,
          what: 'every message of the new view',
        });
        net.runFor(2000);
        assertHistory(net.history());
      });
    });
  }

  for (const seed of scenarioSeeds(4)) {
    it(`a long partition splits the group, both sides go on, and the healed group merges without duplicates (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: lossy });
        const nodes = addStaggered(net, ['a0', 'a1', 'a2', 'b0', 'b1', 'b2'], factory, 300);
        net.runUntil(viewIs(nodes), { timeoutMs: 120_000, what: 'the 6-node view' });
        const sideA = nodes.slice(0, 3);
        const sideB = nodes.slice(3);
        net.partition([sideA, sideB]);
        net.runUntil(() => viewIs(sideA)() && viewIs(sideB)(), { timeoutMs: 180_000, what: 'each side to drop the other' });
        for (const node of nodes) expect(lostEvents(node).sort()).toEqual((sideA.includes(node) ? sideB : sideA).map((n) => n.name).sort());
        // Each side keeps talking among itself.
        sendRounds(net, nodes, 4, 200);
        net.runUntil(() => allDelivered(sideA, sideA)() && allDelivered(sideB, sideB)(), { timeoutMs: 60_000, what: 'delivery within each side' });
        net.heal();
        net.runUntil(viewIs(nodes), { timeoutMs: 300_000, what: 'the healed 6-node view' });
        for (const node of nodes) {
          const joins = node.eventsOf('members-joined').flatMap((e) => e.names);
          for (const other of nodes) {
            if (other === node) continue;
            const expected = sideA.includes(node) === sideA.includes(other) ? 1 : 2; // the other side: lost, then rejoined
            expect(joins.filter((n) => n === other.name).length, `${node.name}: joins of ${other.name}`).toBe(expected);
          }
        }
        const before = new Map(nodes.map((n) => [n, n.sent.length]));
        sendRounds(net, nodes, 4, 200);
        net.runUntil(
          () => nodes.every((r) => nodes.every((s) => s === r || r.deliveredNow.filter((d) => d.sender === s.name).length >= s.sent.length - (sideA.includes(r) === sideA.includes(s) ? 0 : before.get(s)!))),
          { timeoutMs: 60_000, what: 'post-merge delivery' },
        );
        net.runFor(2000);
        assertHistory(net.history());
      });
    });
  }

  for (const seed of scenarioSeeds(4)) {
    it(`a short partition (below the failure timeout) loses nobody and repairs everything after healing (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: lossy });
        const nodes = addStaggered(net, ['n0', 'n1', 'n2', 'n3'], factory, 300);
        net.runUntil(viewIs(nodes), { timeoutMs: 120_000, what: 'the 4-node view' });
        net.partition([[nodes[0]!, nodes[1]!], [nodes[2]!, nodes[3]!]]);
        sendRounds(net, nodes, 5, 300);
        net.runFor(3000);
        net.heal();
        net.runUntil(allDelivered(nodes, nodes), { timeoutMs: 60_000, what: 'every message after healing' });
        net.runFor(2000);
        for (const node of nodes) expect(lostEvents(node), node.name).toEqual([]);
        assertHistory(net.history());
      });
    });
  }

  for (const seed of scenarioSeeds(4)) {
    it(`a node joins while the others are sending (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: lossy });
        const old = addStaggered(net, ['n0', 'n1', 'n2', 'n3'], factory, 300);
        net.runUntil(viewIs(old), { timeoutMs: 120_000, what: 'the 4-node view' });
        let newcomer: SimNode | undefined;
        for (let i = 0; i < 120; i++) {
          if (i === 10) newcomer = net.addNode('late', factory);
          for (const node of old.slice(0, 3)) node.send(0, testPayload(node.name, i));
          net.runFor(100);
        }
        const all = [...old, newcomer!];
        net.runUntil(viewIs(all), { timeoutMs: 120_000, what: 'the newcomer in everybody’s view' });
        sendRounds(net, all, 3, 100);
        net.runUntil(() => allDelivered(old, all)(), { timeoutMs: 60_000, what: 'delivery among old members' });
        net.runFor(5000);
        assertHistory(net.history());
        // The newcomer gets a gap-free suffix of each sender's stream, ending with the last message.
        for (const sender of old.slice(0, 3)) {
          const got = deliveredFrom(newcomer!, sender.name).map((t) => Number(t.split('#')[1]));
          expect(got.length, `late got nothing from ${sender.name}`).toBeGreaterThan(0);
          const first = got[0]!;
          expect(got, `late from ${sender.name}`).toEqual(Array.from({ length: sender.sent.length - first }, (_, i) => first + i));
        }
      });
    });
  }

  for (const seed of scenarioSeeds(2)) {
    it(`a 1 MB message crosses a lossy link intact (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { ...lossy, loss: 0.2 } });
        const [a, b, c] = addStaggered(net, ['a', 'b', 'c'], factory, 300) as [SimNode, SimNode, SimNode];
        net.runUntil(viewIs([a, b, c]), { timeoutMs: 120_000, what: 'the 3-node view' });
        const big = testPayload('a', 0, 1024 * 1024, seed);
        a.send(0, big);
        b.send(0, testPayload('b', 0));
        net.runUntil(allDelivered([a, b, c], [a, b, c]), { timeoutMs: 600_000, what: 'the 1 MB message at b and c' });
        assertHistory(net.history()); // compares every byte
        expect(b.deliveredNow.find((d) => d.sender === 'a')!.data.length).toBe(1024 * 1024);
      });
    });
  }

  for (const seed of scenarioSeeds(4)) {
    it(`nodes started at the same instant find each other (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: lossy });
        const nodes = ['s0', 's1', 's2', 's3', 's4'].map((name) => net.addNode(name, factory));
        net.runUntil(viewIs(nodes), { timeoutMs: 120_000, what: 'the 5-node view of simultaneous starters' });
        sendRounds(net, nodes, 3, 100);
        net.runUntil(allDelivered(nodes, nodes), { timeoutMs: 60_000, what: 'every message' });
        net.runFor(2000);
        assertHistory(net.history());
      });
    });

    it(`several nodes joining an existing group at the same instant (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: lossy });
        const old = addStaggered(net, ['o0', 'o1'], factory, 300);
        net.runUntil(viewIs(old), { timeoutMs: 120_000, what: 'the first two' });
        const fresh = ['j0', 'j1', 'j2'].map((name) => net.addNode(name, factory));
        const nodes = [...old, ...fresh];
        net.runUntil(viewIs(nodes), { timeoutMs: 120_000, what: 'the 5-node view' });
        sendRounds(net, nodes, 3, 100);
        net.runUntil(allDelivered(nodes, nodes), { timeoutMs: 60_000, what: 'every message' });
        net.runFor(2000);
        assertHistory(net.history());
      });
    });
  }

  for (const seed of scenarioSeeds(4)) {
    it(`a graceful leave: the others report it lost and keep everything it sent (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: lossy });
        const nodes = addStaggered(net, ['n0', 'n1', 'n2', 'n3'], factory, 300);
        net.runUntil(viewIs(nodes), { timeoutMs: 120_000, what: 'the 4-node view' });
        const leaver = nodes[3]!;
        const stay = nodes.slice(0, 3);
        sendRounds(net, nodes, 5, 100);
        leaver.leave();
        net.runUntil(() => leaver.status === 'left', { timeoutMs: 10_000, what: 'the leaver to disconnect' });
        net.runUntil(() => stay.every((n) => lostEvents(n).includes('n3')), { timeoutMs: 60_000, what: 'everybody to report n3 lost' });
        net.runUntil(allDelivered(stay, nodes), { timeoutMs: 60_000, what: 'all messages, the leaver’s included' });
        for (const node of stay) {
          expect(lostEvents(node)).toEqual(['n3']);
          // Everything the leaver sent arrived before it was reported lost.
          const lostAt = node.eventsOf('members-lost')[0]!.time;
          expect(node.deliveredNow.filter((d) => d.sender === 'n3' && d.time <= lostAt)).toHaveLength(5);
        }
        assertHistory(net.history());
      });
    });
  }
});

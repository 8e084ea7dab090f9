import { describe, expect, it } from 'vitest';
import { assertHistory } from '../../src/testing/delivery-checker.js';
import { SimulatedNetwork, type SimNode } from '../../src/testing/simulated-network.js';
import { addStaggered, decode, rmcast, scenarioSeeds, text, viewIs, withSeed } from '../support/scenario.js';

/**
 * The engine under loss, with large messages, causal chains, crashes and FAIL,
 * on the simulated network (links of 1-5 ms). Seeds are in the test names;
 * CLIQUE_SEED replays one.
 */
const factory = rmcast();
const link = { delay: [1, 5] as const };

function texts(node: SimNode): string[] {
  return node.deliveredNow.map((d) => decode(d.data));
}

describe('engine under loss', () => {
  for (const loss of [0, 0.1, 0.3]) {
    // 1788913749 at 30 %: a newcomer stuck behind a freed packet failed the whole group (newcomer-repairs.test.ts).
    const replayed = loss === 0.3 && !process.env['CLIQUE_SEED'] ? [1788913749] : [];
    for (const seed of [...scenarioSeeds(3), ...replayed]) {
      it(`5 nodes at ${loss * 100}% loss converge and deliver in order (seed ${seed})`, () => {
        withSeed(seed, () => {
          const net = new SimulatedNetwork({ seed, link: { ...link, loss } });
          const nodes = addStaggered(net, ['node0', 'node1', 'node2', 'node3', 'node4'], factory, 700);
          net.runUntil(viewIs(nodes), { timeoutMs: 120_000, what: 'membership to converge' });
          for (let i = 0; i < 10; i++) {
            nodes[0]!.send(0, text(String(i)));
            net.runFor(100);
          }
          net.runUntil(() => nodes.slice(1).every((n) => n.deliveredNow.length >= 10), { timeoutMs: 60_000, what: 'all delivered' });
          net.runFor(3000);
          for (const n of nodes.slice(1)) {
            expect(texts(n), n.name).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
          }
          assertHistory(net.history());
          nodes[4]!.leave();
          net.runUntil(() => !nodes[0]!.members.includes('node4'), { timeoutMs: 60_000, what: 'node0 to see node4 leave' });
        });
      });
    }
  }

  for (const seed of scenarioSeeds(2)) {
    it(`fragments a large message and reassembles it at 10% loss (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { ...link, loss: 0.1 } });
        const [a, b] = addStaggered(net, ['a', 'b'], factory, 500) as [SimNode, SimNode];
        net.runUntil(viewIs([a, b]), { timeoutMs: 60_000, what: 'a and b to see each other' });
        const big = new Uint8Array(200_000);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
        a.send(7, big);
        net.runUntil(() => b.deliveredNow.length > 0, { timeoutMs: 120_000, what: 'b to deliver the large message' });
        const msg = b.deliveredNow[0]!;
        expect(msg.streamId).toBe(7);
        expect(Buffer.from(msg.data).equals(Buffer.from(big))).toBe(true);
      });
    });
  }

  for (const seed of scenarioSeeds(3)) {
    it(`causal order: a reply is never delivered before the message it answers (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link });
        const nodes = addStaggered(net, ['n0', 'n1', 'n2', 'n3'], factory, 300);
        // n3 loses half of what it sends and receives (its links are set as soon as it exists).
        const lossy = nodes[3]!;
        for (const other of nodes) if (other !== lossy) net.setLinkBoth(lossy, other, { ...link, loss: 0.5 });
        net.runUntil(viewIs(nodes), { timeoutMs: 180_000, what: 'the 4-node view' });
        // n0..n2 pass a counter round-robin: each sends value+1 after delivering value.
        let value = 0;
        nodes[0]!.send(0, text(String(value)));
        for (let step = 1; step <= 30; step++) {
          const sender = nodes[step % 3]!;
          net.runUntil(() => texts(sender).includes(String(value)), { timeoutMs: 30_000, what: `${sender.name} to deliver ${value} (step ${step})` });
          value++;
          sender.send(0, text(String(value)));
        }
        net.runUntil(() => lossy.deliveredNow.length >= 31, { timeoutMs: 120_000, what: 'n3 to deliver the 31 messages' });
        expect(texts(lossy).map(Number)).toEqual(Array.from({ length: 31 }, (_, i) => i));
        assertHistory(net.history());
      });
    });
  }

  for (const seed of scenarioSeeds(2)) {
    it(`a crashed member is reported lost by the silence detector (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link });
        const nodes = addStaggered(net, ['n0', 'n1', 'n2'], rmcast({ timing: { silenceTimeout: 5000 } }), 400);
        net.runUntil(viewIs(nodes), { timeoutMs: 60_000, what: 'the 3-node view' });
        net.crash(nodes[2]!);
        net.runUntil(() => nodes.slice(0, 2).every((n) => !n.members.includes('n2')), { timeoutMs: 120_000, what: 'n0 and n1 to drop n2' });
        nodes[0]!.send(0, text('after'));
        net.runUntil(() => texts(nodes[1]!).includes('after'), { timeoutMs: 10_000, what: 'n1 to deliver "after"' });
      });
    });
  }

  for (const seed of scenarioSeeds(2)) {
    it(`FAIL of a live member makes it reset and rejoin (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link });
        const nodes = addStaggered(net, ['n0', 'n1', 'n2'], factory, 400);
        net.runUntil(viewIs(nodes), { timeoutMs: 60_000, what: 'the 3-node view' });
        const oldId = nodes[2]!.engine.senderId;
        nodes[1]!.failMember('n2');
        net.runUntil(() => !nodes[0]!.members.includes('n2'), { timeoutMs: 120_000, what: 'n0 to drop n2' });
        net.runUntil(() => viewIs(nodes)() && nodes[2]!.engine.senderId !== oldId, { timeoutMs: 120_000, what: 'n2 to rejoin with a new id' });
        nodes[2]!.send(0, text('back'));
        net.runUntil(() => texts(nodes[0]!).includes('back'), { timeoutMs: 10_000, what: 'n0 to deliver "back"' });
      });
    });
  }
});

describe('large groups starting together', () => {
  // Bounding a gathering to 64 strangers (issue 15) split any group of more than 65 members that
  // started together into pieces that never merged; the bound is now the wire's list limit.
  for (const seed of scenarioSeeds(1)) {
    it(`80 members started at once form one view (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link, maxEventsPerRun: 20_000_000 });
        const nodes = Array.from({ length: 80 }, (_, i) => net.addNode(`n${i}`, factory));
        net.runUntil(() => nodes.every((n) => n.members.length === nodes.length - 1), { timeoutMs: 60_000, what: 'one view of 80 members' });
        expect(Math.max(...nodes.map((n) => n.members.length))).toBe(79);
      });
    }, 120_000);
  }
});

import { describe, it } from 'vitest';
import { assertHistory } from '../../src/testing/delivery-checker.js';
import { SimulatedNetwork } from '../../src/testing/simulated-network.js';
import { addStaggered, allDelivered, rmcast, scenarioSeeds, sendRounds, viewIs, withSeed } from '../support/scenario.js';

/**
 * Groups of 2, 5 and 20 real engines on the simulated network at 0, 10 and 30 %
 * loss, always with duplication and reordering: the group converges, everybody
 * sends, everybody delivers everything once, in FIFO and causal order
 * (delivery checker). Seeds are printed in the test names; CLIQUE_SEED replays.
 */
const factory = rmcast();

interface Case {
  nodes: number;
  loss: number;
  messagesEach: number;
  runs: number;
}

const cases: Case[] = [
  { nodes: 2, loss: 0, messagesEach: 20, runs: 4 },
  { nodes: 2, loss: 0.1, messagesEach: 20, runs: 4 },
  { nodes: 2, loss: 0.3, messagesEach: 20, runs: 4 },
  { nodes: 5, loss: 0, messagesEach: 8, runs: 3 },
  { nodes: 5, loss: 0.1, messagesEach: 8, runs: 3 },
  { nodes: 5, loss: 0.3, messagesEach: 8, runs: 3 },
  { nodes: 20, loss: 0, messagesEach: 3, runs: 2 },
  { nodes: 20, loss: 0.1, messagesEach: 3, runs: 2 },
  { nodes: 20, loss: 0.3, messagesEach: 3, runs: 2 },
];

describe('scenarios: group size and loss', () => {
  for (const c of cases) {
    for (const seed of scenarioSeeds(c.runs)) {
      it(`${c.nodes} nodes, ${c.loss * 100}% loss, duplication and reordering (seed ${seed})`, () => {
        withSeed(seed, () => {
          const net = new SimulatedNetwork({
            seed,
            link: { loss: c.loss, duplicate: 0.05, delay: [1, 15], reorder: 0.1, reorderDelay: 60 },
          });
          const names = Array.from({ length: c.nodes }, (_, i) => `node${i}`);
          const nodes = addStaggered(net, names, factory, 300);
          net.runUntil(viewIs(nodes), { timeoutMs: 300_000, what: 'every node to list all others' });
          sendRounds(net, nodes, c.messagesEach, 150);
          net.runUntil(allDelivered(nodes, nodes), { timeoutMs: 120_000, what: 'every message at every node' });
          net.runFor(3000);
          assertHistory(net.history());
        });
      });
    }
  }
});

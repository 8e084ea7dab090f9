import { describe, expect, it } from 'vitest';
import { SimulatedNetwork, type SimNode } from '../../src/testing/simulated-network.js';
import { addStaggered, rmcast, scenarioSeeds, viewIs, withSeed } from '../support/scenario.js';

/**
 * Why a member left our view travels with 'members-lost': 'left' for one that
 * said BYE, 'failed' for one lost by silence (crashed, or alive but no longer
 * heard). Real engine on the simulated network; seeds are in the test names
 * (CLIQUE_SEED replays one). The links lose nothing, so a leaver's BYEs arrive.
 */
const factory = rmcast();
const link = { delay: [1, 15] as const, duplicate: 0.05, reorder: 0.1, reorderDelay: 40 };

/** Every 'members-lost' a node reported, as `name:reason`. */
function lost(node: SimNode): string[] {
  return node.eventsOf('members-lost').flatMap((e) => e.names.map((name) => `${name}:${e.reason}`));
}

function formGroup(seed: number, names: string[]): { net: SimulatedNetwork; nodes: SimNode[] } {
  const net = new SimulatedNetwork({ seed, link });
  const nodes = addStaggered(net, names, factory, 300);
  net.runUntil(viewIs(nodes), { timeoutMs: 120_000, what: `the ${names.length}-node view` });
  return { net, nodes };
}

describe("'members-lost' says why", () => {
  for (const seed of scenarioSeeds(3)) {
    it(`a member that leaves with BYE is lost with reason 'left' (seed ${seed})`, () => {
      withSeed(seed, () => {
        const { net, nodes } = formGroup(seed, ['n0', 'n1', 'n2', 'n3']);
        const [leaver, ...stay] = [nodes[3]!, ...nodes.slice(0, 3)];
        leaver.leave();
        net.runUntil(() => stay.every((n) => lost(n).length > 0), { timeoutMs: 30_000, what: 'every member to lose the leaver' });
        net.runFor(5_000);
        for (const node of stay) expect(lost(node), node.name).toEqual(['n3:left']);
      });
    });
  }

  for (const seed of scenarioSeeds(3)) {
    it(`a member that crashes is lost with reason 'failed' (seed ${seed})`, () => {
      withSeed(seed, () => {
        const { net, nodes } = formGroup(seed, ['n0', 'n1', 'n2', 'n3']);
        const [victim, ...stay] = [nodes[3]!, ...nodes.slice(0, 3)];
        net.crash(victim);
        net.runUntil(() => stay.every((n) => lost(n).length > 0), { timeoutMs: 120_000, what: 'every member to lose the crashed one' });
        net.runFor(5_000);
        for (const node of stay) expect(lost(node), node.name).toEqual(['n3:failed']);
      });
    });
  }

  for (const seed of scenarioSeeds(3)) {
    it(`a member still running whose packets no longer reach anyone is lost with reason 'failed' (seed ${seed})`, () => {
      withSeed(seed, () => {
        const { net, nodes } = formGroup(seed, ['n0', 'n1', 'n2']);
        const [mute, ...stay] = [nodes[2]!, ...nodes.slice(0, 2)];
        mute.dropOutgoing = () => true;
        net.runUntil(() => stay.every((n) => lost(n).length > 0), { timeoutMs: 120_000, what: 'every member to lose the silent one' });
        for (const node of stay) expect(lost(node), node.name).toEqual(['n2:failed']);
      });
    });
  }

  for (const seed of scenarioSeeds(3)) {
    it(`one member leaving while another crashes: each is lost with its own reason (seed ${seed})`, () => {
      withSeed(seed, () => {
        const { net, nodes } = formGroup(seed, ['n0', 'n1', 'n2', 'n3', 'n4']);
        const stay = nodes.slice(0, 3);
        net.crash(nodes[4]!);
        nodes[3]!.leave();
        net.runUntil(() => stay.every((n) => lost(n).length === 2), { timeoutMs: 180_000, what: 'every member to lose both' });
        net.runFor(5_000);
        for (const node of stay) expect(lost(node).sort(), node.name).toEqual(['n3:left', 'n4:failed']);
      });
    });
  }
});

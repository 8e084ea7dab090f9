import { randomInt } from 'node:crypto';
import type { EngineTiming } from '../../src/rmcast/engine-types.js';
import { RMulticastEngine } from '../../src/rmcast/rmulticast-engine.js';
import { testPayload } from '../../src/testing/delivery-checker.js';
import type { EngineFactory, SimNode, SimulatedNetwork } from '../../src/testing/simulated-network.js';

/**
 * Helpers shared by the scenario tests (test/net/scenarios-*.test.ts): seeds
 * that print and replay, the real engine as a simulator factory, and
 * predicates over a group of simulated nodes.
 */

/**
 * `count` fresh random seeds, or just CLIQUE_SEED when it is set (replay).
 * CLIQUE_SCENARIO_RUNS=N asks for N seeds per scenario instead (soak runs).
 */
export function scenarioSeeds(count: number): number[] {
  const env = process.env['CLIQUE_SEED'];
  if (env !== undefined && env !== '') return [Number(env) >>> 0];
  const runs = Number(process.env['CLIQUE_SCENARIO_RUNS'] ?? count);
  return Array.from({ length: Number.isInteger(runs) && runs > 0 ? runs : count }, () => randomInt(0, 2 ** 32 - 1));
}

/** Run a scenario body; any failure is re-thrown with the seed and how to replay it. */
export function withSeed(seed: number, body: () => void): void {
  try {
    body();
  } catch (error) {
    if (error instanceof Error && !error.message.includes(`seed ${seed}`)) {
      error.message = `seed ${seed} (replay with CLIQUE_SEED=${seed}): ${error.message}`;
    }
    throw error;
  }
}

/** The real engine as a simulator factory; `imitateOriginal` models an original (C) member (EngineOptions). */
export function rmcast(options: { timing?: Partial<EngineTiming>; maxDatagramSize?: number; imitateOriginal?: boolean } = {}): EngineFactory {
  return (random, name) =>
    new RMulticastEngine({
      name,
      random,
      ...(options.imitateOriginal !== undefined ? { imitateOriginal: options.imitateOriginal } : {}),
      ...(options.timing !== undefined ? { timing: options.timing } : {}),
      ...(options.maxDatagramSize !== undefined ? { maxDatagramSize: options.maxDatagramSize } : {}),
    });
}

/** Every node lists exactly the others as members. */
export function viewIs(nodes: readonly SimNode[]): () => boolean {
  return () =>
    nodes.every((n) => {
      const members = n.members;
      return members.length === nodes.length - 1 && nodes.every((m) => m === n || members.includes(m.name));
    });
}

/** Add nodes one after the other, `spacingMs` apart. */
export function addStaggered(net: SimulatedNetwork, names: string[], factory: EngineFactory, spacingMs: number): SimNode[] {
  const nodes: SimNode[] = [];
  names.forEach((name, i) => {
    if (i > 0) net.runFor(spacingMs);
    nodes.push(net.addNode(name, factory));
  });
  return nodes;
}

/**
 * Each sender sends `count` unique payloads at `spacingMs` intervals (with the
 * network's time running in between). Returns how many each receiver expects.
 */
export function sendRounds(net: SimulatedNetwork, senders: readonly SimNode[], count: number, spacingMs: number, size = 0): void {
  const next = new Map<SimNode, number>();
  for (let round = 0; round < count; round++) {
    for (const sender of senders) {
      const index = next.get(sender) ?? sender.sent.length;
      next.set(sender, index + 1);
      sender.send(0, testPayload(sender.name, index, size));
    }
    net.runFor(spacingMs);
  }
}

/** Every node in `receivers` delivered every message that every other node in `senders` sent. */
export function allDelivered(receivers: readonly SimNode[], senders: readonly SimNode[]): () => boolean {
  return () =>
    receivers.every((r) => {
      const expected = senders.reduce((sum, s) => sum + (s === r ? 0 : s.sent.filter((m) => m.incarnation === s.incarnation).length), 0);
      return r.deliveredNow.length >= expected;
    });
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

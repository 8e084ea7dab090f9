import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/base/random.js';
import { SimulatedNetwork, type SimNode } from '../../src/testing/simulated-network.js';
import { decodePacket, encodePacket } from '../../src/wire/codec.js';
import type { IdListPacket } from '../../src/wire/packet.js';
import { addRawNode, type RawNode } from '../support/simulated-network-hooks.js';
import { addStaggered, rmcast, scenarioSeeds, withSeed } from '../support/scenario.js';
import { randomId } from './hostile-support.js';

/**
 * A SESSION from a named stranger we have no start for starts a gathering
 * (ours, spec Q8), once: the stranger either joins or is dropped by the join
 * phase. That "once" was per sender id for the engine's lifetime, so two nodes
 * that dropped each other in a failed join phase (e.g. their ATTEMPT_JOIN
 * answers lost) stayed alone until a keepalive minutes later (seen in a
 * died-node run). It is now once per sender record: a
 * dropped stranger heard again is gathered with again.
 */

const factory = rmcast();

/** ATTEMPT_JOINs `node` sent that the raw node heard after `from` (an index into what it received). */
function attemptJoinsOf(raw: RawNode, node: SimNode, from: number): IdListPacket[] {
  return raw.engine.received
    .slice(from)
    .map(({ datagram }) => decodePacket(datagram))
    .filter((p): p is IdListPacket => p.type === 'attempt-join' && p.sender === node.engine.senderId);
}

describe('a SESSION from a named stranger we have no start for (spec Q8, ours)', () => {
  for (const seed of scenarioSeeds(2)) {
    it(`starts a gathering again after a join phase dropped the stranger (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { delay: [1, 5] } });
        const [a] = addStaggered(net, ['a'], factory, 0) as [SimNode];
        net.runFor(3000);
        const stranger = addRawNode(net, 'stranger');
        const id = randomId(new SeededRandom(seed ^ 0x5e55));
        const announce = (): void => {
          stranger.inject(encodePacket({ type: 'whois-reply', sender: id, name: 'stranger@lab' }));
          net.runFor(10);
          stranger.inject(encodePacket({ type: 'session', sender: id, positions: [] }));
        };
        const asked = (from: number): boolean => attemptJoinsOf(stranger, a, from).some((p) => p.ids.includes(id));
        let mark = stranger.engine.received.length;
        announce();
        net.runFor(1000);
        expect(asked(mark), 'a asks the stranger for its position').toBe(true);
        // It never answers: the join phase (gathering quiet, about 5 s) drops it.
        net.runFor(10_000);
        expect(a.members).toEqual([]);
        // Its next SESSION (it is still there, e.g. its answers were lost) starts over.
        mark = stranger.engine.received.length;
        announce();
        net.runFor(1000);
        expect(asked(mark), 'a asks again').toBe(true);
      });
    });
  }
});

import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/base/random.js';
import type { RMulticastEngine } from '../../src/rmcast/rmulticast-engine.js';
import { assertHistory } from '../../src/testing/delivery-checker.js';
import { SimulatedNetwork, type SimNode } from '../../src/testing/simulated-network.js';
import { addRawNode } from '../support/simulated-network-hooks.js';
import { addStaggered, rmcast, scenarioSeeds, sendRounds, viewIs, withSeed } from '../support/scenario.js';
import { attackDatagram, countOutgoing, honestHistory, sumCounts } from './hostile-support.js';

/**
 * Regression for issue 15, Found item 1: two forged NO_DATA packets, each
 * naming 170 random sender ids in its depends, used to make every id a
 * gathering member, overflow the ATTEMPT_JOIN/JOIN lists (342 > 255 entries),
 * throw out of `tick` half-updated, and leave both members sending ~1,050
 * WHOIS_REQUESTs in 3 s with the room dead for good. Seeds are in the test
 * names; CLIQUE_SEED replays one.
 */

const factory = rmcast();

function engineOf(node: SimNode): RMulticastEngine {
  return node.engine as RMulticastEngine;
}

describe('the two-datagram attack (issue 15)', () => {
  for (const seed of scenarioSeeds(3)) {
    it(`members stay joined, messages keep flowing exactly once, a newcomer joins, WHOIS stays bounded (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { delay: [1, 5] } });
        const [a, b] = addStaggered(net, ['a', 'b'], factory, 300) as [SimNode, SimNode];
        net.runUntil(viewIs([a, b]), { timeoutMs: 60_000, what: 'the 2-node view' });
        sendRounds(net, [a, b], 5, 200);
        const attacker = addRawNode(net, 'attacker');
        const counts = [countOutgoing(a), countOutgoing(b)];
        const random = new SeededRandom(seed ^ 0x5a5a5a5a);
        const first = attackDatagram(random);
        const second = attackDatagram(random);
        expect([first.length, second.length]).toEqual([1377, 1377]);
        attacker.inject(first);
        net.runFor(1);
        attacker.inject(second);
        // The first 3 s after the attack: the trial counted ~1,050 WHOIS_REQUESTs per member here.
        sendRounds(net, [a, b], 15, 200);
        const whois = sumCounts(counts, 'whois-request');
        // Only the forged sender itself is asked for (ids it merely mentions are not): at most
        // 3 at once plus 3/s per id (RATE_LIMITS.whoisRequest) per member.
        expect(whois, 'WHOIS_REQUESTs of both members in the 3 s after the attack').toBeLessThanOrEqual(2 * (3 + 3 * 3));
        sendRounds(net, [a, b], 50, 200);
        for (const node of [a, b]) {
          const engine = engineOf(node);
          expect(engine.stats.internalErrors, node.name).toBe(0);
          // The 340 mentioned ids never became sender records: us, the other member, the forger at most.
          expect(engine.footprint.senderRecords, node.name).toBeLessThanOrEqual(3);
        }
        const c = net.addNode('c', factory);
        net.runUntil(viewIs([a, b, c]), { timeoutMs: 60_000, what: 'a newcomer to join after the attack' });
        sendRounds(net, [a, b, c], 10, 200);
        net.runUntil(() => [a, b, c].every((r) => [a, b, c].every((s) => s === r || r.deliveredNow.filter((d) => d.sender === s.name).length >= s.sent.length - (r === c ? s.sent.length - 10 : 0))), {
          timeoutMs: 30_000,
          what: 'the last rounds to be delivered',
        });
        for (const node of [a, b]) {
          expect(node.eventsOf('members-lost'), `${node.name} lost nobody`).toEqual([]);
          expect(node.eventsOf('reset'), `${node.name} never reset`).toEqual([]);
        }
        assertHistory(honestHistory(net.history(), ['attacker']), { group: ['a', 'b', 'c'] });
      });
    });
  }
});

import { describe, expect, it } from 'vitest';
import { Logger } from '../../src/base/logger.js';
import { assertHistory } from '../../src/testing/delivery-checker.js';
import { SimulatedNetwork, type EngineFactory, type SimNode } from '../../src/testing/simulated-network.js';
import { RMulticastEngine } from '../../src/rmcast/rmulticast-engine.js';
import { addStaggered, decode, rmcast, scenarioSeeds, text, viewIs, withSeed } from '../support/scenario.js';

/** CLIQUE_DEBUG=1 prints the engines' and the simulator's debug logs with virtual times. */
function debugLogger(now: () => number): Logger | undefined {
  if (process.env['CLIQUE_DEBUG'] !== '1') return undefined;
  return new Logger({ level: 'debug', sink: (r) => console.log(now(), r.scope, r.message, JSON.stringify(r.fields ?? {})) });
}

describe('RMulticastEngine basics', () => {
  for (const seed of scenarioSeeds(1)) {
    it(`two nodes connect, join and exchange a message (seed ${seed})`, () => {
      withSeed(seed, () => {
        const logger = debugLogger(() => net.now);
        const net = new SimulatedNetwork({ seed, link: { delay: [1, 5] }, ...(logger !== undefined ? { logger } : {}) });
        const factory: EngineFactory = logger === undefined ? rmcast() : (random, name) => new RMulticastEngine({ name, random, logger });
        const [a, b] = addStaggered(net, ['alice', 'bob'], factory, 3000) as [SimNode, SimNode];
        net.runUntil(viewIs([a, b]), { timeoutMs: 60_000, what: 'alice and bob to see each other' });
        a.send(0, text('hello'));
        net.runFor(2000);
        expect(b.deliveredNow.map((d) => ({ sender: d.sender, text: decode(d.data), stream: d.streamId }))).toEqual([
          { sender: 'alice', text: 'hello', stream: 0 },
        ]);
        b.leave();
        net.runUntil(() => a.members.length === 0, { timeoutMs: 10_000, what: 'alice to see bob leave' });
        assertHistory(net.history());
      });
    });
  }
});

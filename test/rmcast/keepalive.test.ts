import { describe, expect, it } from 'vitest';
import { SimulatedNetwork } from '../../src/testing/simulated-network.js';
import { DEFAULT_TIMING } from '../../src/rmcast/engine-defaults.js';
import { addStaggered, rmcast, scenarioSeeds, viewIs } from '../support/scenario.js';

/**
 * Keepalive (spec §5.6): a member that sends nothing reliable for `keepalive`
 * ms sends a NO_DATA; every packet with depends pushes that deadline back.
 */
describe('keepalive NO_DATA', () => {
  for (const seed of scenarioSeeds(2)) {
    it(`comes one keepalive period after the last packet, and each send moves it (seed ${seed})`, () => {
      const net = new SimulatedNetwork({ seed });
      const [alice, bob] = addStaggered(net, ['alice', 'bob'], rmcast(), 500);
      net.runUntil(viewIs([alice!, bob!]), { timeoutMs: 60_000, what: 'alice and bob to see each other' });
      const noData: number[] = [];
      alice!.dropOutgoing = (_datagram, header) => {
        if (header?.type === 'no-data') noData.push(net.now);
        return false;
      };
      // Let the joining traffic settle, then send twice, 100 s apart.
      net.runFor(DEFAULT_TIMING.keepalive + 10_000);
      noData.length = 0;
      const first = net.now;
      alice!.send(0, new Uint8Array([1]));
      net.runFor(100_000);
      const second = net.now;
      alice!.send(0, new Uint8Array([2]));
      net.runFor(DEFAULT_TIMING.keepalive - 1);
      expect(noData, `no keepalive before ${second} + keepalive`).toEqual([]);
      net.runFor(2);
      expect(noData).toEqual([second + DEFAULT_TIMING.keepalive]);
      expect(second - first).toBe(100_000);
      // And it keeps coming while alice stays quiet.
      net.runFor(DEFAULT_TIMING.keepalive);
      expect(noData).toEqual([second + DEFAULT_TIMING.keepalive, second + 2 * DEFAULT_TIMING.keepalive]);
    });
  }
});

import { describe, expect, it } from 'vitest';
import { SimulatedNetwork } from '../../src/testing/simulated-network.js';
import { rmcast, viewIs } from '../support/scenario.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * A packet that waits causally on another sender's packet is delivered in the
 * very call that brings the missing packet, whichever of the two senders the
 * receiver's table visits first (processAll must look again after progress
 * when a record waits on another; it may stop after one pass otherwise).
 */
describe('causal release within one receive', () => {
  for (const [first, second] of [['alice', 'bob'], ['bob', 'alice']] as const) {
    it(`delivers ${second}'s message, held for ${first}'s, together with ${first}'s`, () => {
      const net = new SimulatedNetwork({ seed: 7, link: { delay: [1, 1] } });
      const nodes = ['alice', 'bob', 'carol'].map((name) => net.addNode(name, rmcast()));
      net.runUntil(viewIs(nodes), { timeoutMs: 60_000, what: 'group formation' });
      const [earlier, later] = [net.node(first), net.node(second)];
      const carol = net.node('carol');
      let withheld: Uint8Array | undefined;
      carol.dropIncoming = (bytes, header) => {
        if (withheld !== undefined || header?.type !== 'data' || header.sender !== earlier.engine.senderId) return false;
        withheld = bytes;
        return true;
      };
      earlier.send(0, text(`from ${first}`));
      net.runFor(20);
      expect(withheld).toBeDefined();
      // `later` has delivered it, so its next message depends on it (and waits at carol).
      later.send(0, text(`from ${second}, after ${first}`));
      net.runFor(20); // well before carol would ask for a repair (150-250 ms)
      const before = carol.delivered.length;
      carol.dropIncoming = undefined;
      carol.engine.receive(withheld!, net.now);
      const events = carol.engine.drain().events.flatMap((e) => (e.type === 'message' ? [new TextDecoder().decode(e.data)] : []));
      expect(carol.delivered.length).toBe(before);
      expect(events).toEqual([`from ${first}`, `from ${second}, after ${first}`]);
    });
  }
});

import { describe, expect, it } from 'vitest';
import { assertHistory } from '../../src/testing/delivery-checker.js';
import { SimulatedNetwork, type SimNode } from '../../src/testing/simulated-network.js';
import { DATA_FRAGMENT_PAYLOAD, SEND_WINDOW } from '../../src/rmcast/engine-defaults.js';
import { addStaggered, rmcast, scenarioSeeds, viewIs, withSeed } from '../support/scenario.js';

/**
 * Receivers acknowledge by packets, not by messages: a sender that keeps its
 * window (SEND_WINDOW packets unacknowledged, as the rooms' flow control does)
 * must never wait for the receivers' 1 s acknowledgement timer in a steady
 * stream, whatever the message size. Before, receivers acknowledged every 64
 * messages: 64 messages of three fragments or more filled the window first,
 * and large messages crawled at about 190 packets a second (room shares,
 * issue 12). Virtual time, so the bounds are the protocol's, not the machine's.
 */
function stream(seed: number, size: number, count: number): { ms: number; delivered: number } {
  const net = new SimulatedNetwork({ seed, link: { delay: [1, 3] } });
  const [a, b, c] = addStaggered(net, ['alice', 'bob', 'carol'], rmcast(), 100) as [SimNode, SimNode, SimNode];
  net.runUntil(viewIs([a, b, c]), { timeoutMs: 60_000, what: 'the group' });
  const fragments = Math.ceil(size / DATA_FRAGMENT_PAYLOAD);
  // Each message unique (the delivery checker tells them apart by content).
  const payload = (n: number): Uint8Array => {
    const bytes = new Uint8Array(size).fill(9);
    new DataView(bytes.buffer).setUint32(0, n);
    return bytes;
  };
  const start = net.now;
  const before = [b, c].map((n) => n.deliveredNow.length);
  let sent = 0;
  const delivered = (): number => Math.min(...[b, c].map((n, i) => n.deliveredNow.length - before[i]!));
  while (delivered() < count && net.now - start < 120_000) {
    // The rooms' rule (flow-controlled-sender.ts): send while the window has room for every fragment.
    while (sent < count && a.engine.unacknowledgedPackets + fragments <= SEND_WINDOW) {
      a.send(3, payload(sent));
      sent++;
    }
    net.runFor(1);
  }
  assertHistory(net.history());
  return { ms: net.now - start, delivered: delivered() };
}

describe('acknowledgements keep a steady stream of large messages moving', () => {
  for (const seed of scenarioSeeds(2)) {
    it(`messages of 1, 3, 12 and 47 fragments stream at the same packet rate (seed ${seed})`, () => {
      withSeed(seed, () => {
        const packets = 2400;
        const rates = [DATA_FRAGMENT_PAYLOAD, 3 * DATA_FRAGMENT_PAYLOAD, 12 * DATA_FRAGMENT_PAYLOAD, 47 * DATA_FRAGMENT_PAYLOAD].map((size) => {
          const count = Math.ceil(packets / Math.ceil(size / DATA_FRAGMENT_PAYLOAD));
          const run = stream(seed, size, count);
          expect(run.delivered).toBe(count);
          return { size, ms: run.ms };
        });
        // 2400 packets with a 192-packet window and 2-6 ms round trips: well under a second of virtual time
        // each; waiting for the 1 s ack timer once per window would take about 12 s.
        for (const r of rates) expect(r.ms, `messages of ${r.size} bytes`).toBeLessThan(2000);
      });
    }, 120_000);
  }
});

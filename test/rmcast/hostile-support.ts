import type { RandomSource } from '../../src/base/random.js';
import type { History } from '../../src/testing/delivery-history.js';
import type { SimNode } from '../../src/testing/simulated-network.js';
import { encodePacket } from '../../src/wire/codec.js';
import type { SenderPosition } from '../../src/wire/packet.js';

/**
 * Shared by the hostile-input tests (issue 15): the exact two-datagram attack
 * found by the hostile-peer trial, and a way to check honest delivery while
 * a raw node injects forged datagrams (its injections count as sends in the
 * simulator's history).
 */

/** Non-zero random u32. */
export function randomId(random: RandomSource): number {
  for (;;) {
    const id = random.nextUint32();
    if (id !== 0) return id;
  }
}

/**
 * The attack of issue 15, Found item 1: a NO_DATA packet (spec §2.4) from a
 * sender id nobody knows, packet id 1, with 170 depends entries naming random
 * sender ids: 17 + 8 * 170 = 1,377 bytes. Two of them killed a room for good.
 */
export function attackDatagram(random: RandomSource): Uint8Array {
  const depends: SenderPosition[] = Array.from({ length: 170 }, () => ({ senderId: randomId(random), packetId: random.nextUint32() }));
  return encodePacket({ type: 'no-data', sender: randomId(random), packetId: 1, depends });
}

/** The history without the raw node's injections, for the delivery checker. */
export function honestHistory(history: History, injectors: readonly string[]): History {
  return {
    ...history,
    sends: history.sends.filter((s) => !injectors.includes(s.node)),
    deliveries: history.deliveries.filter((d) => !injectors.includes(d.node)),
    viewChanges: history.viewChanges.filter((v) => !injectors.includes(v.node)),
    finalNodes: history.finalNodes.filter((n) => !injectors.includes(n.name)),
  };
}

/** Count what a node sends, by packet type, without dropping anything (chains with an existing filter). */
export function countOutgoing(node: SimNode): Map<string, number> {
  const counts = new Map<string, number>();
  const before = node.dropOutgoing;
  node.dropOutgoing = (datagram, header) => {
    if (before?.(datagram, header) === true) return true;
    const type = header?.type ?? 'malformed';
    counts.set(type, (counts.get(type) ?? 0) + 1);
    counts.set('total', (counts.get('total') ?? 0) + 1);
    return false;
  };
  return counts;
}

export function sumCounts(counts: Iterable<Map<string, number>>, type: string): number {
  let total = 0;
  for (const c of counts) total += c.get(type) ?? 0;
  return total;
}

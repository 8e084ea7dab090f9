import { describe, expect, it } from 'vitest';
import { assertHistory, checkHistory, DeliveryCheckError, testPayload, type Violation } from '../../src/testing/delivery-checker.js';
import type { History, HistoryDelivery, HistorySend, HistoryViewChange } from '../../src/testing/delivery-history.js';
import { SimulatedNetwork } from '../../src/testing/simulated-network.js';
import { floodingFactory } from '../support/flooding-engine.js';

/** Hand-written histories: each step gets the next time and seq. */
class Script {
  private seq = 0;
  private readonly sends: HistorySend[] = [];
  private readonly deliveries: HistoryDelivery[] = [];
  private readonly views: HistoryViewChange[] = [];
  private readonly counts = new Map<string, number>();

  joined(node: string, ...names: string[]): this {
    return this.view(node, 'joined', names);
  }

  lost(node: string, ...names: string[]): this {
    return this.view(node, 'lost', names);
  }

  /** Every node sees every other one. */
  group(...nodes: string[]): this {
    for (const node of nodes) this.joined(node, ...nodes.filter((n) => n !== node));
    return this;
  }

  send(node: string, index: number, incarnation = 0, data = testPayload(node, index)): this {
    const seq = this.seq++;
    this.sends.push({
      node,
      incarnation,
      time: seq,
      seq,
      streamId: 0,
      data,
      deliveredBefore: this.counts.get(`${node}#${incarnation}`) ?? 0,
    });
    return this;
  }

  deliver(node: string, sender: string, index: number, data = testPayload(sender, index), incarnation = 0): this {
    const seq = this.seq++;
    this.deliveries.push({ node, incarnation, time: seq, seq, sender, streamId: 0, data });
    const key = `${node}#${incarnation}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    return this;
  }

  history(live: Record<string, string[]>): History {
    return {
      seed: 42,
      endTime: this.seq,
      sends: this.sends,
      deliveries: this.deliveries,
      viewChanges: this.views,
      finalNodes: Object.entries(live).map(([name, members]) => ({ name, incarnation: 0, live: true, members })),
    };
  }

  private view(node: string, change: 'joined' | 'lost', names: string[]): this {
    const seq = this.seq++;
    this.views.push({ node, incarnation: 0, time: seq, seq, change, names });
    return this;
  }
}

const trio = { a: ['b', 'c'], b: ['a', 'c'], c: ['a', 'b'] };
const kinds = (violations: Violation[]): string[] => violations.map((v) => v.kind);

describe('delivery checker', () => {
  it('accepts a correct history', () => {
    const h = new Script()
      .group('a', 'b', 'c')
      .send('a', 0)
      .deliver('b', 'a', 0)
      .send('b', 0) // depends on a:0
      .deliver('c', 'a', 0)
      .deliver('c', 'b', 0)
      .deliver('a', 'b', 0)
      .history(trio);
    expect(checkHistory(h)).toEqual([]);
    expect(() => assertHistory(h)).not.toThrow();
  });

  it('finds a duplicate delivery', () => {
    const h = new Script().group('a', 'b').send('a', 0).deliver('b', 'a', 0).deliver('b', 'a', 0).history({ a: ['b'], b: ['a'] });
    const violations = checkHistory(h);
    expect(kinds(violations)).toEqual(['duplicate']);
    expect(violations[0]!.node).toBe('b');
    expect(violations[0]!.message).toMatch(/delivered a's message 0 \("a#0\|"/);
  });

  it('finds corrupted payloads and says where they differ', () => {
    const good = testPayload('a', 0, 64);
    const bad = good.slice();
    bad[40] = bad[40]! ^ 1;
    const history = new Script().group('a', 'b').send('a', 0, 0, good).deliver('b', 'a', 0, bad).history({ a: ['b'], b: ['a'] });
    const violations = checkHistory(history);
    expect(kinds(violations)).toContain('unknown-message');
    expect(violations.find((v) => v.kind === 'unknown-message')!.message).toMatch(/differs first at byte 40: corrupted/);
  });

  it('finds a FIFO violation', () => {
    const h = new Script().group('a', 'b').send('a', 0).send('a', 1).deliver('b', 'a', 1).deliver('b', 'a', 0).history({ a: ['b'], b: ['a'] });
    expect(kinds(checkHistory(h))).toEqual(['fifo']);
  });

  it('finds a causal-order violation (effect before cause, different senders)', () => {
    const h = new Script()
      .group('a', 'b', 'c')
      .send('a', 0)
      .deliver('b', 'a', 0)
      .send('b', 0)
      .deliver('c', 'b', 0) // b:0 depends on a:0
      .deliver('c', 'a', 0)
      .deliver('a', 'b', 0)
      .history(trio);
    const violations = checkHistory(h);
    expect(kinds(violations)).toEqual(['causal-order']);
    expect(violations[0]!.message).toMatch(/^delivered b's message 0 .* before a's message 0 .*happened-before/);
  });

  it('finds a causal gap while the sender was in view, but not for messages sent before the view', () => {
    const gap = new Script()
      .group('a', 'b', 'c')
      .send('a', 0)
      .deliver('b', 'a', 0)
      .send('b', 0)
      .deliver('c', 'b', 0) // never a:0
      .deliver('a', 'b', 0)
      .history(trio);
    expect(kinds(checkHistory(gap, { liveness: false }))).toEqual(['causal-gap']);

    // c joins after a:0 was sent: it cannot get a:0 and is right to deliver b:0 alone.
    const late = new Script()
      .group('a', 'b')
      .send('a', 0)
      .deliver('b', 'a', 0)
      .joined('c', 'a', 'b')
      .joined('a', 'c')
      .joined('b', 'c')
      .send('b', 0)
      .deliver('c', 'b', 0)
      .deliver('a', 'b', 0)
      .history(trio);
    expect(checkHistory(late)).toEqual([]);
  });

  it('finds deliveries from non-members and own messages', () => {
    const h = new Script().joined('b', 'a').send('a', 0).send('c', 0).deliver('b', 'a', 0).deliver('b', 'c', 0).history({ a: [], b: ['a'], c: [] });
    const violations = checkHistory(h, { membership: false, liveness: false });
    expect(kinds(violations)).toEqual(['not-member']);
    expect(violations[0]!.message).toMatch(/while c was not in its view/);
  });

  it('finds messages never delivered once the final view was shared', () => {
    const h = new Script().group('a', 'b').send('a', 0).send('a', 1).deliver('b', 'a', 0).history({ a: ['b'], b: ['a'] });
    const violations = checkHistory(h);
    expect(kinds(violations)).toEqual(['missing']);
    expect(violations[0]!.message).toMatch(/never delivered 1 message\(s\).*a's message 1/);
  });

  it('finds membership that did not converge and events that disagree with the engine', () => {
    const h = new Script().group('a', 'b').joined('c', 'a').history({ a: ['b'], b: ['a'], c: ['a', 'b'] });
    const violations = checkHistory(h, { liveness: false });
    expect(kinds(violations)).toEqual(['membership', 'membership', 'membership']);
    expect(violations.map((v) => v.node)).toEqual(['a', 'b', 'c']);
    expect(violations[2]!.message).toMatch(/events add up to \[a\] but the engine lists \[a, b\]/);
    // Restricting the group to a and b ignores c.
    expect(checkHistory(h, { group: ['a', 'b'] })).toEqual([]);
  });

  it('flags a loss report for someone who was not a member', () => {
    const h = new Script().group('a', 'b').lost('a', 'z').history({ a: ['b'], b: ['a'] });
    expect(kinds(checkHistory(h))).toEqual(['view-event']);
  });

  it('prints the seed and every violation in the thrown error', () => {
    const h = new Script().group('a', 'b').send('a', 0).send('a', 1).deliver('b', 'a', 1).deliver('b', 'a', 0).history({ a: ['b'], b: ['a'] });
    let error: unknown;
    try {
      assertHistory(h);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeliveryCheckError);
    expect((error as Error).message).toMatch(/seed 42, replay with CLIQUE_SEED=42.*\n {2}\[fifo\] b: /);
  });

  it('accepts a lossless flooding run and catches the same engine once the network loses and reorders', () => {
    const run = (link: { loss?: number; delay?: [number, number] }): Violation[] => {
      const net = new SimulatedNetwork({ seed: 99, link });
      const nodes = ['a', 'b', 'c'].map((n) => net.addNode(n, floodingFactory({ heartbeatMs: 200 })));
      net.runFor(1000);
      let index = 0;
      for (let round = 0; round < 30; round++) {
        for (const node of nodes) net.at(net.now + round * 10, () => node.send(0, testPayload(node.name, index++)));
      }
      net.runFor(5000);
      return checkHistory(net.history());
    };
    expect(run({ delay: [1, 1] })).toEqual([]);
    expect(kinds(run({ loss: 0.2 }))).toContain('missing');
    const reordered = kinds(run({ delay: [1, 100] }));
    expect(reordered).toContain('fifo');
    expect(reordered).toContain('causal-order');
  });
});

import { describe, expect, it } from 'vitest';
import type { EngineOutput, MulticastEngine } from '../../src/rmcast/engine-types.js';
import { SimulatedNetwork, SimulationError, type SimNode } from '../../src/testing/simulated-network.js';
import { FloodingEngine, floodingFactory } from '../support/flooding-engine.js';

const flooding = floodingFactory();
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

function messagesFrom(node: SimNode, sender: string): string[] {
  return node.delivered.filter((d) => d.sender === sender).map((d) => decode(d.data));
}

describe('SimulatedNetwork', () => {
  it('delivers between nodes after the link delay, in virtual time', () => {
    const net = new SimulatedNetwork({ seed: 1, link: { delay: [10, 20] } });
    const a = net.addNode('a', flooding);
    const b = net.addNode('b', flooding);
    a.send(0, text('hello'));
    net.runFor(9);
    expect(b.delivered).toHaveLength(0);
    net.runFor(12);
    expect(messagesFrom(b, 'a')).toEqual(['hello']);
    const delivery = b.delivered[0]!;
    expect(delivery.time).toBeGreaterThanOrEqual(10);
    expect(delivery.time).toBeLessThanOrEqual(20);
    expect(net.now).toBe(21);
  });

  it('runs a minute of protocol time (heartbeats every second) and records events with their time', () => {
    const net = new SimulatedNetwork({ seed: 2, loopback: false });
    const a = net.addNode('a', floodingFactory({ heartbeatMs: 1000 }));
    const b = net.addNode('b', flooding);
    net.runFor(60_000);
    expect(a.engine.members).toEqual(['b']);
    expect(a.eventsOf('connected')).toHaveLength(1);
    expect(a.eventsOf('members-joined')[0]!.time).toBeLessThanOrEqual(1);
    const heartbeatsFromA = (b.engine as FloodingEngine).received.length;
    expect(heartbeatsFromA).toBeGreaterThan(40);
    expect(heartbeatsFromA).toBeLessThan(100);
  });

  it('honours the loss probability over many datagrams', () => {
    const net = new SimulatedNetwork({ seed: 3, link: { loss: 0.3 } });
    const a = net.addNode('a', floodingFactory({ heartbeatMs: 1e9 }));
    const b = net.addNode('b', floodingFactory({ heartbeatMs: 1e9 }));
    for (let i = 0; i < 2000; i++) a.send(0, text(`m${i}`));
    net.runFor(100);
    const got = messagesFrom(b, 'a').length;
    // 2000 trials at p=0.7: mean 1400, sd ~20; the bounds are ~7 sd wide.
    expect(got).toBeGreaterThan(1260);
    expect(got).toBeLessThan(1540);
    expect(net.stats.lost).toBeGreaterThanOrEqual(2000 - got);
  });

  it('honours the duplication probability and reorders with random delays', () => {
    const net = new SimulatedNetwork({ seed: 4, link: { duplicate: 0.2, delay: [1, 50] } });
    const a = net.addNode('a', floodingFactory({ heartbeatMs: 1e9 }));
    const b = net.addNode('b', floodingFactory({ heartbeatMs: 1e9 }));
    for (let i = 0; i < 2000; i++) {
      a.send(0, text(String(i)));
      net.runFor(1);
    }
    net.runFor(100);
    const got = messagesFrom(b, 'a').map(Number);
    expect(got.length).toBeGreaterThan(2000 * 1.14);
    expect(got.length).toBeLessThan(2000 * 1.26);
    let inversions = 0;
    for (let i = 1; i < got.length; i++) if (got[i]! < got[i - 1]!) inversions++;
    expect(inversions).toBeGreaterThan(100);
  });

  it('loops a node’s own datagrams back to it unless loopback is off', () => {
    for (const loopback of [true, false]) {
      const net = new SimulatedNetwork({ seed: 5, loopback });
      const a = net.addNode('a', floodingFactory({ heartbeatMs: 1e9 }));
      a.send(0, text('x'));
      net.runFor(10);
      const own = (a.engine as FloodingEngine).received.length;
      expect(own).toBe(loopback ? 2 : 0); // initial heartbeat + the message
    }
  });

  it('applies per-link parameters to one direction only', () => {
    const net = new SimulatedNetwork({ seed: 6 });
    const a = net.addNode('a', floodingFactory({ heartbeatMs: 1e9 }));
    const b = net.addNode('b', floodingFactory({ heartbeatMs: 1e9 }));
    net.setLink(a, b, 'down');
    a.send(0, text('a->b'));
    b.send(0, text('b->a'));
    net.runFor(10);
    expect(messagesFrom(b, 'a')).toEqual([]);
    expect(messagesFrom(a, 'b')).toEqual(['b->a']);
  });

  it('blocks traffic across a partition, including datagrams in flight, until healed', () => {
    const net = new SimulatedNetwork({ seed: 7, link: { delay: [5, 5] } });
    const [a, b, c] = ['a', 'b', 'c'].map((n) => net.addNode(n, floodingFactory({ heartbeatMs: 1e9 }))) as [SimNode, SimNode, SimNode];
    net.runFor(10);
    a.send(0, text('in flight'));
    net.runFor(2);
    net.partition([[a, b], [c]]);
    a.send(0, text('during'));
    net.runFor(10);
    expect(messagesFrom(b, 'a')).toEqual(['in flight', 'during']);
    expect(messagesFrom(c, 'a')).toEqual([]);
    net.heal();
    a.send(0, text('after'));
    net.runFor(10);
    expect(messagesFrom(c, 'a')).toEqual(['after']);
    expect(net.stats.blockedByPartition).toBeGreaterThanOrEqual(2);
  });

  it('a crashed node stops receiving, sending and ticking; a restart is a new incarnation', () => {
    const net = new SimulatedNetwork({ seed: 8 });
    const factory = floodingFactory({ heartbeatMs: 500, silenceMs: 2000 });
    const a = net.addNode('a', factory);
    const b = net.addNode('b', factory);
    net.runFor(1000);
    const crashedEngine = b.engine as FloodingEngine;
    net.crash(b);
    const receivedAtCrash = crashedEngine.received.length;
    a.send(0, text('ignored'));
    net.runFor(5000);
    expect(crashedEngine.received.length).toBe(receivedAtCrash);
    expect(a.eventsOf('members-lost').map((e) => e.names)).toEqual([['b']]);
    expect(() => b.send(0, text('x'))).toThrow(SimulationError);

    net.restart(b);
    expect(b.incarnation).toBe(1);
    expect(b.engine).not.toBe(crashedEngine);
    net.runFor(1000);
    expect(a.engine.members).toEqual(['b']);
    expect(b.eventsOf('connected')).toHaveLength(1); // of the current incarnation
    expect(b.events.filter((e) => e.event.type === 'connected')).toHaveLength(2);
  });

  it('a node that leaves stops when its engine reports disconnected', () => {
    const net = new SimulatedNetwork({ seed: 9 });
    const a = net.addNode('a', flooding);
    const b = net.addNode('b', flooding);
    net.runFor(100);
    b.leave();
    expect(b.status).toBe('left');
    net.runFor(100);
    expect(a.eventsOf('members-lost').map((e) => e.names)).toEqual([['b']]);
    expect(net.liveNodes().map((n) => n.name)).toEqual(['a']);
  });

  it('drops a node’s outgoing datagrams through a test hook', () => {
    const net = new SimulatedNetwork({ seed: 10 });
    const a = net.addNode('a', floodingFactory({ heartbeatMs: 1e9 }));
    const b = net.addNode('b', floodingFactory({ heartbeatMs: 1e9 }));
    a.dropOutgoing = (datagram) => decode(datagram).includes('secret');
    a.send(0, text('secret 1'));
    a.send(0, text('public'));
    net.runFor(10);
    expect(messagesFrom(b, 'a')).toEqual(['public']);
    expect(net.stats.filtered).toBe(1);
  });

  it('runs scheduled actions at their virtual time', () => {
    const net = new SimulatedNetwork({ seed: 11 });
    const a = net.addNode('a', flooding);
    const b = net.addNode('b', flooding);
    for (let i = 0; i < 5; i++) net.at(100 * (i + 1), () => a.send(0, text(String(i))));
    net.runUntil(() => b.delivered.length === 5, { timeoutMs: 10_000 });
    expect(b.delivered.map((d) => d.time)).toEqual([101, 201, 301, 401, 501]);
  });

  it('is deterministic: the same seed gives the same event log, another seed a different one', () => {
    const run = (seed: number): string[] => {
      const net = new SimulatedNetwork({ seed, link: { loss: 0.2, duplicate: 0.1, delay: [1, 30], reorder: 0.1, reorderDelay: 100 } });
      const factory = floodingFactory({ heartbeatMs: 300, silenceMs: 1000 });
      const nodes = ['a', 'b', 'c', 'd'].map((n) => net.addNode(n, factory));
      for (let i = 0; i < 50; i++) {
        net.at(i * 37, () => {
          if (nodes[i % 4]!.alive) nodes[i % 4]!.send(0, text(`m${i}`));
        });
      }
      net.at(900, () => net.crash(nodes[3]!));
      net.at(1500, () => net.partition([[nodes[0]!], [nodes[1]!, nodes[2]!]]));
      net.at(2500, () => net.heal());
      net.at(3000, () => net.restart(nodes[3]!));
      net.runFor(5000);
      return [...net.log, JSON.stringify([...net.stats.sentByType]), String(net.stats.lost)];
    };
    const first = run(12345);
    expect(first.length).toBeGreaterThan(100);
    expect(run(12345)).toEqual(first);
    expect(run(54321)).not.toEqual(first);
  });

  it('stops a runaway engine with a clear error', () => {
    const net = new SimulatedNetwork({ seed: 13, maxEventsPerRun: 10_000 });
    net.addNode('busy', () => busyEngine());
    expect(() => net.runFor(10)).toThrow(/seed 13: more than 10000 events/);
  });

  it('reports a timeout with the seed and the state of every node', () => {
    const net = new SimulatedNetwork({ seed: 14 });
    net.addNode('a', flooding);
    let error: unknown;
    try {
      net.runUntil(() => false, { timeoutMs: 5000, what: 'the impossible' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SimulationError);
    expect((error as SimulationError).code).toBe('timeout');
    expect((error as Error).message).toMatch(/seed 14: timed out after 5000 ms .* the impossible\n {2}a: running/);
    expect(net.now).toBe(5000);
  });

  it('turns an exception inside an engine into a SimulationError naming node and time', () => {
    const net = new SimulatedNetwork({ seed: 15 });
    const a = net.addNode('a', flooding);
    net.addNode('bad', (random, name) => {
      const engine = new FloodingEngine({ name, random });
      engine.receive = () => {
        throw new Error('boom');
      };
      return engine;
    });
    a.send(0, text('x'));
    expect(() => net.runFor(10)).toThrow(/seed 15: engine of bad threw in receive at t=0\.00\ds: boom/);
  });

  it('rejects bad link parameters', () => {
    expect(() => new SimulatedNetwork({ seed: 1, link: { loss: 1.5 } })).toThrow(SimulationError);
    expect(() => new SimulatedNetwork({ seed: 1, link: { delay: [5, 1] } })).toThrow(SimulationError);
  });
});

/** Always wants a tick right now: the simulator must not loop forever. */
function busyEngine(): MulticastEngine {
  return {
    state: 'connected',
    senderId: 1,
    name: 'busy',
    unacknowledgedPackets: 0,
    members: [],
    start() {},
    receive() {},
    send() {},
    tick() {},
    leave() {},
    failMember() {},
    drain(): EngineOutput {
      return { datagrams: [], events: [] };
    },
    nextDeadline(): number {
      return 0;
    },
  };
}

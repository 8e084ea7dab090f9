import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom, type RandomSource } from '../../src/base/random.js';
import { assertHistory } from '../../src/testing/delivery-checker.js';
import { SimulatedNetwork, type SimNode } from '../../src/testing/simulated-network.js';
import { decodePacket, encodePacket } from '../../src/wire/codec.js';
import { RMulticastEngine } from '../../src/rmcast/rmulticast-engine.js';
import { EngineError } from '../../src/rmcast/engine-error.js';
import { MAX_SENDER_RECORDS } from '../../src/rmcast/engine-defaults.js';
import { addStaggered, decode, rmcast, scenarioSeeds, text, viewIs, withSeed } from '../support/scenario.js';
import { addRawNode, dropOnLink } from '../support/simulated-network-hooks.js';

/**
 * Spec behaviours of one engine (id probing, hostile input) driven by hand,
 * and reliability details on the simulated network (links of 1-5 ms unless a
 * test says otherwise). Seeds are in the test names; CLIQUE_SEED replays one.
 */
const factory = rmcast();
const link = { delay: [1, 5] as const };

/** Replays fixed values first, then another random source. */
class ScriptedRandom implements RandomSource {
  constructor(
    private readonly script: number[],
    private readonly rest: RandomSource,
  ) {}
  nextUint32(): number {
    return this.script.length > 0 ? this.script.shift()! : this.rest.nextUint32();
  }
}

function messages(node: SimNode): Array<{ sender: string; text: string; stream: number }> {
  return node.deliveredNow.map((d) => ({ sender: d.sender, text: decode(d.data), stream: d.streamId }));
}

/** Packets retained in the engine's sender records (own and others'), for repair. */
function cachedPackets(node: SimNode): number {
  const table = (node.engine as unknown as { table: { records: Map<number, { cache: Map<number, unknown> }> } }).table;
  return [...table.records.values()].reduce((sum, r) => sum + r.cache.size, 0);
}

describe('id probing (spec §4.1)', () => {
  for (const k of [1, 2, 3]) {
    for (const seed of scenarioSeeds(1)) {
      it(`a competing probe after probe ${k} restarts probing: ${3 + k} probes, then another id (seed ${seed})`, () => {
        withSeed(seed, () => {
          const engine = new RMulticastEngine({ name: 'prober', random: new SeededRandom(seed) });
          engine.start(0);
          let now = 0;
          let probes = 0;
          let contested: number | undefined;
          let connectedId: number | undefined;
          while (now < 10_000 && connectedId === undefined) {
            now = engine.nextDeadline() ?? now + 10;
            engine.tick(now);
            const out = engine.drain();
            for (const d of out.datagrams) {
              const p = decodePacket(d);
              if (p.type === 'whois-request' && p.sender === 0) {
                probes++;
                engine.receive(d, now); // multicast loopback
                if (probes === k) {
                  contested = p.queriedId;
                  engine.receive(d, now); // somebody else probes the same id
                }
              }
            }
            for (const e of out.events) if (e.type === 'connected') connectedId = e.senderId;
            for (const e of engine.drain().events) if (e.type === 'connected') connectedId = e.senderId;
          }
          expect(probes).toBe(3 + k);
          expect(connectedId).toBeDefined();
          expect(connectedId).not.toBe(contested);
        });
      });
    }
  }

  for (const seed of scenarioSeeds(1)) {
    it(`the owner of an id answers a probe for it with a WHOIS_REPLY in its name (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link });
        const owner = net.addNode('owner', factory);
        net.runFor(2000);
        const id = owner.engine.senderId!;
        expect(id, 'owner connected').toBeDefined();
        const prober = addRawNode(net, 'prober');
        prober.inject(encodePacket({ type: 'whois-request', sender: 0, queriedId: id }));
        // The reply is due within the WHOIS reply delay ([50, 200) ms) plus the links.
        const replies = () => prober.engine.received.map((r) => decodePacket(r.datagram)).filter((p) => p.type === 'whois-reply');
        net.runUntil(() => replies().length > 0, { timeoutMs: 300, what: 'a WHOIS_REPLY' });
        expect(replies()[0]).toEqual({ type: 'whois-reply', sender: id, name: 'owner' });
      });
    });
  }
});

describe('hostile and malformed input', () => {
  for (const seed of scenarioSeeds(1)) {
    it(`random and mutated datagrams never throw out of receive (seed ${seed})`, () => {
      withSeed(seed, () => {
        const engine = new RMulticastEngine({ name: 'target', random: new SeededRandom(seed) });
        engine.start(0);
        engine.tick(1300);
        engine.drain();
        let now = 1300;
        const prefix = new Uint8Array([0x43, 0x6c, 0x69, 0x71, 0x75, 0x65, 0x01]);
        fc.assert(
          fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0x14 }), fc.boolean(), (bytes, type, withPrefix) => {
            const datagram = withPrefix ? new Uint8Array([...prefix, type, ...bytes]) : bytes;
            now += 7;
            engine.receive(datagram, now);
            engine.tick(now);
            engine.drain();
          }),
          { seed, numRuns: 3000 },
        );
        expect(engine.state).toBe('connected');
        expect(engine.stats.malformed).toBeGreaterThan(0);
      });
    });
  }

  for (const seed of scenarioSeeds(1)) {
    it(`a flood of forged sender ids is bounded by the sender table limit (seed ${seed})`, () => {
      withSeed(seed, () => {
        const engine = new RMulticastEngine({ name: 'target', random: new SeededRandom(seed) });
        engine.start(0);
        engine.tick(1300);
        for (let i = 1; i <= MAX_SENDER_RECORDS * 3; i++) {
          engine.receive(encodePacket({ type: 'session', sender: 0x10000000 + i, positions: [] }), 1300 + i / 100);
        }
        const records = (engine as unknown as { table: { records: Map<number, unknown> } }).table.records.size;
        expect(records).toBeLessThanOrEqual(MAX_SENDER_RECORDS);
      });
    });
  }

  for (const seed of scenarioSeeds(1)) {
    it(`refuses to send above the maximum message size with a typed error (seed ${seed})`, () => {
      withSeed(seed, () => {
        const engine = new RMulticastEngine({ name: 'me', random: new SeededRandom(seed), maxMessageSize: 1000 });
        expect(() => engine.send(0, new Uint8Array(1), 0)).toThrowError(EngineError);
        engine.start(0);
        engine.tick(1300);
        expect(() => engine.send(0, new Uint8Array(1001), 1300)).toThrowError(/exceeds the maximum/);
        expect(() => engine.send(70000, new Uint8Array(1), 1300)).toThrowError(EngineError);
      });
    });
  }

  for (const seed of scenarioSeeds(1)) {
    it(`a member announcing a 4 GB message is failed without allocating it (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link });
        const [a, b] = addStaggered(net, ['a', 'b'], factory, 400) as [SimNode, SimNode];
        net.runUntil(viewIs([a, b]), { timeoutMs: 60_000, what: 'a and b to see each other' });
        // The forger reaches b only, and speaks as a: a START fragment claiming 4 GB, with a's next packet id.
        const forger = addRawNode(net, 'forger');
        net.setLink(forger.node, a, 'down');
        const own = (a.engine as unknown as { table: { own: { nextInput: number } } }).table.own;
        const forged = encodePacket({
          type: 'data', sender: a.engine.senderId!, packetId: own.nextInput, depends: [], flags: 1, streamId: 0,
          totalSize: 0xffffffff, payload: new Uint8Array(100),
        });
        const before = process.memoryUsage().arrayBuffers;
        forger.inject(forged);
        net.runUntil(() => !b.members.includes('a'), { timeoutMs: 120_000, what: 'b to fail a' });
        expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
      });
    });
  }
});

describe('reliability details', () => {
  for (const seed of scenarioSeeds(1)) {
    it(`delivers across packet id wrap-around (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { ...link, loss: 0.1 } });
        // a's first random draw is its initial packet id: 16 below the wrap.
        const a = net.addNode('a', (random, name) => new RMulticastEngine({ name, random: new ScriptedRandom([0xfffffff0], random) }));
        net.runFor(300);
        const b = net.addNode('b', factory);
        net.runUntil(viewIs([a, b]), { timeoutMs: 60_000, what: 'a and b to see each other' });
        const dataIds = new Set<number>();
        a.dropOutgoing = (datagram, header) => {
          if (header?.type === 'data') {
            const p = decodePacket(datagram);
            if (p.type === 'data') dataIds.add(p.packetId);
          }
          return false;
        };
        for (let i = 0; i < 40; i++) {
          a.send(0, text(`m${i}`));
          net.runFor(20);
        }
        net.runUntil(() => b.deliveredNow.length >= 40, { timeoutMs: 60_000, what: 'b to deliver 40 messages' });
        expect(messages(b).map((m) => m.text)).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
        expect(dataIds.has(0xffffffff) && dataIds.has(0), `a's DATA packet ids crossed the wrap: ${[...dataIds].join(',')}`).toBe(true);
        assertHistory(net.history());
      });
    });
  }

  for (const seed of scenarioSeeds(1)) {
    it(`a packet the originator never resends is repaired by another member (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link });
        const [a, b, c] = addStaggered(net, ['a', 'b', 'c'], factory, 300) as [SimNode, SimNode, SimNode];
        net.runUntil(viewIs([a, b, c]), { timeoutMs: 60_000, what: 'the 3-node view' });
        // c never hears a's DATA directly, and a never answers repairs: only b can help.
        let droppedData = 0;
        let dropped = 0;
        dropOnLink(net, a, c, (header) => {
          if (header?.type !== 'data') return false;
          droppedData++;
          return true;
        }, link);
        dropOnLink(net, c, a, (header) => {
          if (header?.type !== 'repair-request') return false;
          dropped++;
          return true;
        }, link);
        a.send(0, text('via b'));
        net.runUntil(() => c.deliveredNow.length === 1, { timeoutMs: 30_000, what: 'c to deliver the message' });
        expect(messages(c)[0]).toEqual({ sender: 'a', text: 'via b', stream: 0 });
        expect(droppedData, 'DATA from a to c dropped').toBeGreaterThan(0);
        expect(dropped, 'repair requests from c to a dropped').toBeGreaterThan(0);
      });
    });
  }

  for (const seed of scenarioSeeds(1)) {
    it(`duplicated and reordered datagrams are delivered exactly once, in order (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { duplicate: 0.3, delay: [1, 80] } });
        const [a, b] = addStaggered(net, ['a', 'b'], factory, 300) as [SimNode, SimNode];
        net.runUntil(viewIs([a, b]), { timeoutMs: 60_000, what: 'a and b to see each other' });
        for (let i = 0; i < 100; i++) a.send(i % 3, text(String(i)));
        net.runUntil(() => b.deliveredNow.length >= 100, { timeoutMs: 60_000, what: 'b to deliver 100 messages' });
        net.runFor(5000);
        expect(messages(b).map((m) => m.text)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
        expect(messages(b).map((m) => m.stream)).toEqual(Array.from({ length: 100 }, (_, i) => i % 3));
        expect(net.stats.duplicated, 'the network duplicated datagrams').toBeGreaterThan(0);
        assertHistory(net.history());
      });
    });
  }

  for (const seed of scenarioSeeds(1)) {
    it(`frees retained packets once every member has acknowledged them (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link });
        const nodes = addStaggered(net, ['a', 'b', 'c'], factory, 300) as [SimNode, SimNode, SimNode];
        const [a, b] = nodes;
        net.runUntil(viewIs(nodes), { timeoutMs: 60_000, what: 'the 3-node view' });
        for (let i = 0; i < 500; i++) a.send(0, text('x'.repeat(100)));
        net.runFor(10_000);
        expect(b.deliveredNow.length).toBe(500);
        for (const n of nodes) expect(cachedPackets(n), n.name).toBeLessThan(50);
      });
    });
  }
});

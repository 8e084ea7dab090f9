import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom, type RandomSource } from '../../src/base/random.js';
import { decodePacket, encodePacket } from '../../src/wire/codec.js';
import { RMulticastEngine } from '../../src/rmcast/rmulticast-engine.js';
import { EngineError } from '../../src/rmcast/engine-error.js';
import { MAX_SENDER_RECORDS } from '../../src/rmcast/engine-defaults.js';
import { MiniMesh, type MiniNode } from './mini-mesh.js';

function seed(): number {
  const env = process.env['CLIQUE_SEED'];
  return env !== undefined ? Number(env) : (Math.random() * 2 ** 32) >>> 0;
}

function allSee(nodes: MiniNode[]): boolean {
  return nodes.every((n) => nodes.every((m) => m === n || n.engine.members.includes(m.name)));
}

/** Replays fixed values first, then a seeded stream. */
class ScriptedRandom implements RandomSource {
  private readonly rest: SeededRandom;
  constructor(private readonly script: number[], s: number) {
    this.rest = new SeededRandom(s);
  }
  nextUint32(): number {
    return this.script.length > 0 ? this.script.shift()! : this.rest.nextUint32();
  }
}

describe('id probing (spec §4.1)', () => {
  for (const k of [1, 2, 3]) {
    it(`a competing probe after probe ${k} restarts probing: ${3 + k} probes, then another id`, () => {
      const engine = new RMulticastEngine({ name: 'prober', random: new SeededRandom(seed()) });
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
  }

  it('the owner of an id answers a probe for it with a WHOIS_REPLY in its name', () => {
    const mesh = new MiniMesh(seed());
    const a = mesh.add('owner');
    mesh.run(2000);
    const id = a.engine.senderId!;
    a.engine.receive(encodePacket({ type: 'whois-request', sender: 0, queriedId: id }), mesh.now);
    let reply;
    for (let t = 0; t < 300 && reply === undefined; t += 10) {
      a.engine.tick(mesh.now + t);
      for (const d of a.engine.drain().datagrams) {
        const p = decodePacket(d);
        if (p.type === 'whois-reply') reply = p;
      }
    }
    expect(reply).toEqual({ type: 'whois-reply', sender: id, name: 'owner' });
  });
});

describe('hostile and malformed input', () => {
  it('random and mutated datagrams never throw out of receive', () => {
    const s = seed();
    const engine = new RMulticastEngine({ name: 'target', random: new SeededRandom(s) });
    engine.start(0);
    engine.tick(1300);
    engine.drain();
    let now = 1300;
    const prefix = new Uint8Array([0x43, 0x6c, 0x69, 0x71, 0x75, 0x65, 0x01]);
    try {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 0x14 }), fc.boolean(), (bytes, type, withPrefix) => {
          const datagram = withPrefix ? new Uint8Array([...prefix, type, ...bytes]) : bytes;
          now += 7;
          engine.receive(datagram, now);
          engine.tick(now);
          engine.drain();
        }),
        { seed: s, numRuns: 3000 },
      );
    } catch (error) {
      throw new Error(`replay with CLIQUE_SEED=${s}: ${String(error)}`);
    }
    expect(engine.state).toBe('connected');
    expect(engine.stats.malformed).toBeGreaterThan(0);
  });

  it('a flood of forged sender ids is bounded by the sender table limit', () => {
    const engine = new RMulticastEngine({ name: 'target', random: new SeededRandom(seed()) });
    engine.start(0);
    engine.tick(1300);
    for (let i = 1; i <= MAX_SENDER_RECORDS * 3; i++) {
      engine.receive(encodePacket({ type: 'session', sender: 0x10000000 + i, positions: [] }), 1300 + i / 100);
    }
    const records = (engine as unknown as { table: { records: Map<number, unknown> } }).table.records.size;
    expect(records).toBeLessThanOrEqual(MAX_SENDER_RECORDS);
  });

  it('refuses to send above the maximum message size with a typed error', () => {
    const engine = new RMulticastEngine({ name: 'me', random: new SeededRandom(seed()), maxMessageSize: 1000 });
    expect(() => engine.send(0, new Uint8Array(1), 0)).toThrowError(EngineError);
    engine.start(0);
    engine.tick(1300);
    expect(() => engine.send(0, new Uint8Array(1001), 1300)).toThrowError(/exceeds the maximum/);
    expect(() => engine.send(70000, new Uint8Array(1), 1300)).toThrowError(EngineError);
  });

  it('a member announcing a 4 GB message is failed without allocating it', () => {
    const s = seed();
    const mesh = new MiniMesh(s);
    const a = mesh.add('a');
    const b = mesh.add('b', 400);
    expect(mesh.runUntil(() => allSee([a, b]), 60_000), `seed ${s}`).toBe(true);
    // Forge a's START fragment claiming 4 GB, with a's next packet id.
    const own = (a.engine as unknown as { table: { own: { nextInput: number } } }).table.own;
    const forged = encodePacket({
      type: 'data', sender: a.engine.senderId!, packetId: own.nextInput, depends: [], flags: 1, streamId: 0,
      totalSize: 0xffffffff, payload: new Uint8Array(100),
    });
    const before = process.memoryUsage().arrayBuffers;
    b.engine.receive(forged, mesh.now);
    const lost = mesh.runUntil(() => !b.engine.members.includes('a'), 120_000);
    expect(lost, `seed ${s}`).toBe(true);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('reliability details', () => {
  it('delivers across packet id wrap-around', () => {
    const s = seed();
    const mesh = new MiniMesh(s);
    mesh.loss = 0.1;
    const a = mesh.add('a');
    (a as { engine: RMulticastEngine }).engine = new RMulticastEngine({ name: 'a', random: new ScriptedRandom([0xfffffff0], s) });
    const b = mesh.add('b', 300);
    expect(mesh.runUntil(() => allSee([a, b]), 60_000), `seed ${s}`).toBe(true);
    for (let i = 0; i < 40; i++) {
      mesh.send(a, `m${i}`);
      mesh.run(20);
    }
    expect(mesh.runUntil(() => mesh.messages(b).length >= 40, 60_000), `seed ${s}`).toBe(true);
    expect(mesh.messages(b).map((m) => m.text)).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`));
  });

  it('a packet the originator never resends is repaired by another member', () => {
    const s = seed();
    const mesh = new MiniMesh(s);
    const [a, b, c] = ['a', 'b', 'c'].map((n, i) => mesh.add(n, i * 300)) as [MiniNode, MiniNode, MiniNode];
    expect(mesh.runUntil(() => allSee([a, b, c]), 60_000), `seed ${s}`).toBe(true);
    let dropped = 0;
    // c never hears a's DATA directly, and a never answers repairs: only b can help.
    mesh.filter = (from, to, bytes) => {
      if (from === a && to === c && bytes[7] === 0x0f) return false;
      if (from === c && to === a && bytes[7] === 0x02) {
        dropped++;
        return false;
      }
      return true;
    };
    mesh.send(a, 'via b');
    expect(mesh.runUntil(() => mesh.messages(c).length === 1, 30_000), `seed ${s}`).toBe(true);
    expect(mesh.messages(c)[0]).toEqual({ sender: 'a', text: 'via b', stream: 0 });
    expect(dropped).toBeGreaterThan(0);
  });

  it('duplicated and reordered datagrams are delivered exactly once, in order', () => {
    const s = seed();
    const mesh = new MiniMesh(s);
    mesh.duplicate = 0.3;
    mesh.delay = [1, 80];
    const [a, b] = ['a', 'b'].map((n, i) => mesh.add(n, i * 300)) as [MiniNode, MiniNode];
    expect(mesh.runUntil(() => allSee([a, b]), 60_000), `seed ${s}`).toBe(true);
    for (let i = 0; i < 100; i++) mesh.send(a, String(i), i % 3);
    expect(mesh.runUntil(() => mesh.messages(b).length >= 100, 60_000), `seed ${s}`).toBe(true);
    mesh.run(5000);
    expect(mesh.messages(b).map((m) => m.text)).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    expect(mesh.messages(b).map((m) => m.stream)).toEqual(Array.from({ length: 100 }, (_, i) => i % 3));
  });

  it('frees retained packets once every member has acknowledged them', () => {
    const s = seed();
    const mesh = new MiniMesh(s);
    const [a, b, c] = ['a', 'b', 'c'].map((n, i) => mesh.add(n, i * 300)) as [MiniNode, MiniNode, MiniNode];
    expect(mesh.runUntil(() => allSee([a, b, c]), 60_000), `seed ${s}`).toBe(true);
    for (let i = 0; i < 500; i++) mesh.send(a, 'x'.repeat(100));
    mesh.run(10_000);
    const cached = (n: MiniNode): number =>
      [...(n.engine as unknown as { table: { records: Map<number, { cache: Map<number, unknown> }> } }).table.records.values()]
        .reduce((sum, r) => sum + r.cache.size, 0);
    expect(mesh.messages(b).length).toBe(500);
    for (const n of [a, b, c]) expect(cached(n), `${n.name} seed ${s}`).toBeLessThan(50);
  });
});

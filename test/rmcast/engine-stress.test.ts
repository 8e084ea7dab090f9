import { describe, expect, it } from 'vitest';
import { MiniMesh, type MiniNode } from './mini-mesh.js';

function seeds(n: number): number[] {
  const env = process.env['CLIQUE_SEED'];
  if (env !== undefined) return [Number(env)];
  return Array.from({ length: n }, () => (Math.random() * 2 ** 32) >>> 0);
}

function allSee(nodes: MiniNode[]): boolean {
  return nodes.every((n) => nodes.every((m) => m === n || n.engine.members.includes(m.name)));
}

describe('engine under loss', () => {
  for (const loss of [0, 0.1, 0.3]) {
    it(`5 nodes at ${loss * 100}% loss converge and deliver in order`, () => {
      for (const seed of seeds(3)) {
        const mesh = new MiniMesh(seed);
        mesh.loss = loss;
        const nodes = [0, 1, 2, 3, 4].map((i) => mesh.add(`node${i}`, i * 700));
        const ok = mesh.runUntil(() => allSee(nodes), 120_000);
        expect(ok, `membership did not converge, seed ${seed}, members ${nodes.map((n) => n.engine.members.join(',')).join(' | ')}`).toBe(true);
        for (let i = 0; i < 10; i++) {
          mesh.send(nodes[0]!, String(i));
          mesh.run(100);
        }
        const done = mesh.runUntil(() => nodes.slice(1).every((n) => mesh.messages(n).length >= 10), 60_000);
        expect(done, `not all delivered, seed ${seed}`).toBe(true);
        mesh.run(3000);
        for (const n of nodes.slice(1)) {
          expect(mesh.messages(n).map((m) => m.text), `seed ${seed} ${n.name}`).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
        }
        mesh.leave(nodes[4]!);
        const left = mesh.runUntil(() => !nodes[0]!.engine.members.includes('node4'), 60_000);
        expect(left, `leave not seen, seed ${seed}`).toBe(true);
      }
    });
  }

  it('fragments a large message and reassembles it at 10% loss', () => {
    for (const seed of seeds(2)) {
      const mesh = new MiniMesh(seed);
      mesh.loss = 0.1;
      const a = mesh.add('a');
      const b = mesh.add('b', 500);
      expect(mesh.runUntil(() => allSee([a, b]), 60_000), `seed ${seed}`).toBe(true);
      const big = new Uint8Array(200_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
      mesh.send(a, big, 7);
      const got = mesh.runUntil(() => b.events.some((e) => e.event.type === 'message'), 120_000);
      expect(got, `seed ${seed}`).toBe(true);
      const msg = b.events.find((e) => e.event.type === 'message')!.event;
      expect(msg.type === 'message' && msg.streamId).toBe(7);
      expect(msg.type === 'message' && Buffer.from(msg.data).equals(Buffer.from(big))).toBe(true);
    }
  });

  it('causal order: a reply is never delivered before the message it answers', () => {
    for (const seed of seeds(3)) {
      const mesh = new MiniMesh(seed);
      const nodes = [0, 1, 2, 3].map((i) => mesh.add(`n${i}`, i * 300));
      mesh.lossTo.set('n3', 0.5);
      expect(mesh.runUntil(() => allSee(nodes), 180_000), `seed ${seed}`).toBe(true);
      // n0..n2 pass a counter round-robin: each sends value+1 after delivering value.
      let value = 0;
      mesh.send(nodes[0]!, String(value));
      for (let step = 1; step <= 30; step++) {
        const sender = nodes[step % 3]!;
        const ok = mesh.runUntil(() => mesh.messages(sender).some((m) => m.text === String(value)), 30_000);
        expect(ok, `seed ${seed} step ${step}`).toBe(true);
        value++;
        mesh.send(sender, String(value));
      }
      expect(mesh.runUntil(() => mesh.messages(nodes[3]!).length >= 31, 120_000), `seed ${seed}`).toBe(true);
      expect(mesh.messages(nodes[3]!).map((m) => Number(m.text)), `seed ${seed}`).toEqual(Array.from({ length: 31 }, (_, i) => i));
    }
  });

  it('a crashed member is reported lost by the silence detector', () => {
    for (const seed of seeds(2)) {
      const mesh = new MiniMesh(seed, { silenceTimeout: 5000 });
      const nodes = [0, 1, 2].map((i) => mesh.add(`n${i}`, i * 400));
      expect(mesh.runUntil(() => allSee(nodes), 60_000), `seed ${seed}`).toBe(true);
      mesh.crash(nodes[2]!);
      const lost = mesh.runUntil(() => nodes.slice(0, 2).every((n) => !n.engine.members.includes('n2')), 120_000);
      expect(lost, `seed ${seed}`).toBe(true);
      mesh.send(nodes[0]!, 'after');
      expect(mesh.runUntil(() => mesh.messages(nodes[1]!).some((m) => m.text === 'after'), 10_000), `seed ${seed}`).toBe(true);
    }
  });

  it('FAIL of a live member makes it reset and rejoin', () => {
    for (const seed of seeds(2)) {
      const mesh = new MiniMesh(seed);
      const nodes = [0, 1, 2].map((i) => mesh.add(`n${i}`, i * 400));
      expect(mesh.runUntil(() => allSee(nodes), 60_000), `seed ${seed}`).toBe(true);
      const oldId = nodes[2]!.engine.senderId;
      nodes[1]!.engine.failMember('n2', mesh.now);
      expect(mesh.runUntil(() => !nodes[0]!.engine.members.includes('n2'), 120_000), `seed ${seed}`).toBe(true);
      expect(mesh.runUntil(() => allSee(nodes) && nodes[2]!.engine.senderId !== oldId, 120_000), `rejoin, seed ${seed}`).toBe(true);
      mesh.send(nodes[2]!, 'back');
      expect(mesh.runUntil(() => mesh.messages(nodes[0]!).some((m) => m.text === 'back'), 10_000), `seed ${seed}`).toBe(true);
    }
  });
});
